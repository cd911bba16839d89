//! The derives' view of the input: the parsed attributes next to the syn nodes they came from
//! (`original`), so later passes can point errors at the user's tokens.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::symbol::{MODEL, RELATIONSHIP};

/// A struct deriving `Model`.
pub(crate) struct Model<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::container::Container,
    pub(crate) fields: Vec<Field<'a>>,
    /// Whether the input is a struct with named fields (else `fields` is empty and the reason
    /// has been reported).
    pub(crate) named: bool,
}

/// A field of a model.
pub(crate) struct Field<'a> {
    pub(crate) original: &'a syn::Field,
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    /// The column's value type, as its handle has it: `T` of a `Deferred<T>` field, else `ty`.
    pub(crate) value_ty: &'a Type,
    pub(crate) attrs: attr::field::Field,
    /// The column's SQL name (`column = "..."`, else the field's name).
    pub(crate) column: String,
    /// Set when the field is a relationship (`#[relationship(...)]`), not a column.
    pub(crate) relationship: Option<Relationship>,
}

/// A relationship field: `#[relationship(...)]` on a field of type `Related<X>`.
pub(crate) struct Relationship {
    /// The attribute, when its kind and target could be read.
    pub(crate) parsed: Option<attr::relationship::Relationship>,
}

impl Field<'_> {
    /// Whether the field maps to a column (it is neither skipped nor a relationship).
    pub(crate) fn is_column(&self) -> bool {
        self.attrs.skip.is_none()
            && self.relationship.is_none()
            && self.attrs.column_property.is_none()
    }

    /// Whether the field is a column property (`column_property = path`): loaded from an
    /// expression selected after the columns, never written.
    pub(crate) fn is_property(&self) -> bool {
        self.attrs.skip.is_none()
            && self.relationship.is_none()
            && self.attrs.column_property.is_some()
    }

    /// Whether the field is part of the primary key.
    pub(crate) fn is_primary_key(&self) -> bool {
        self.is_column() && self.attrs.primary_key.is_some()
    }

    /// Whether an `INSERT` sends the field (it is not server-generated).
    pub(crate) fn is_inserted(&self) -> bool {
        self.is_column() && self.attrs.generated.is_none() && !self.is_computed()
    }

    /// Whether the field is a stored generated column (`computed = "..."`): never written.
    pub(crate) fn is_computed(&self) -> bool {
        self.is_column() && self.attrs.computed.is_some()
    }

    /// Whether the field is a deferred column (`deferred`, a `Deferred<T>` field).
    pub(crate) fn is_deferred(&self) -> bool {
        self.is_column() && self.attrs.deferred.is_some()
    }

    /// The span errors about the column's name point at: the `column = "..."` literal, else the
    /// field's name.
    pub(crate) fn column_span(&self) -> Span {
        self.attrs
            .column
            .as_ref()
            .map_or_else(|| self.ident.span(), syn::LitStr::span)
    }

    /// The field's name as written, without `r#`.
    pub(crate) fn name(&self) -> String {
        self.ident.unraw().to_string()
    }
}

impl<'a> Model<'a> {
    /// Reads the input. Anything but a struct with named fields is reported and read as a model
    /// without fields (so the fallback can still name the type); generic structs are reported but
    /// still read, so their other errors show too.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Model<'a> {
        let attrs = attr::container::Container::from_ast(cx, input);
        if let (Some(path), true) = (
            &attrs.criteria,
            attrs.inherits.is_some() || matches!(input.data, syn::Data::Enum(_)),
        ) {
            cx.error_spanned_by(
                path,
                "`criteria` is not supported on an inheritance hierarchy yet; add the condition \
                 to the session or database handle with `with_criteria`",
            );
        }
        reject_generics(cx, input, "#[derive(Model)]", "a model maps to one table");
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Some(&named.named),
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        fields,
                        "#[derive(Model)] needs a struct with named fields: each field's name is its column's name",
                    );
                    None
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "#[derive(Model)] needs a struct with named fields, one per column",
                    );
                    None
                }
            },
            // Enums are read by `ModelEnum` (inheritance); `derive` dispatches them there.
            Data::Enum(_) => None,
            Data::Union(data) => {
                cx.error_at(
                    data.union_token.span,
                    "#[derive(Model)] only supports structs with named fields, and enums of single-table inheritance",
                );
                None
            }
        };
        let fields = named
            .into_iter()
            .flatten()
            .filter_map(|field| Field::from_ast(cx, &input.ident, field))
            .collect();
        Model {
            original: input,
            ident: &input.ident,
            attrs,
            fields,
            named: named.is_some(),
        }
    }

    /// Columns past the fields: the discriminator of a variant struct (`inherits`), else none.
    pub(crate) fn width_extra(&self) -> usize {
        usize::from(self.attrs.inherits.is_some())
    }

    /// The subtype table of a joined-table variant (`inherits` with its own `table`).
    pub(crate) fn joined_table(&self) -> Option<&str> {
        (self.attrs.inherits.is_some() && self.attrs.table_span.is_some())
            .then_some(self.attrs.table.as_str())
    }

    /// The table holding `field`'s column when it is not the model's table: a joined-table
    /// variant's own (not `shared`, not key) column lives in the variant's table.
    pub(crate) fn home_of(&self, field: &Field) -> Option<&str> {
        self.joined_table()
            .filter(|_| !field.is_primary_key() && field.attrs.shared.is_none())
    }

    /// The fields that are columns, in declaration (= column) order.
    pub(crate) fn columns(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.is_column())
    }

    /// The column of the column field an attribute names (`r#type` or `type`).
    pub(crate) fn column_of(&self, ident: &syn::Ident) -> Option<&str> {
        let name = syn::ext::IdentExt::unraw(ident).to_string();
        self.columns()
            .find(|f| f.name() == name)
            .map(|f| f.column.as_str())
    }

    /// The column properties, in declaration order (selected after the columns).
    pub(crate) fn properties(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.is_property())
    }

    /// The primary-key fields, in declaration order.
    pub(crate) fn primary_key(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.is_primary_key())
    }

    /// The relationship fields whose attribute could be read, with it.
    pub(crate) fn relationships(
        &self,
    ) -> impl Iterator<Item = (&Field<'a>, &attr::relationship::Relationship)> {
        self.fields.iter().filter_map(|f| {
            f.relationship
                .as_ref()
                .and_then(|r| r.parsed.as_ref())
                .map(|r| (f, r))
        })
    }
}

impl<'a> Field<'a> {
    fn from_ast(cx: &Ctxt, model: &Ident, field: &'a syn::Field) -> Option<Field<'a>> {
        // Named fields always have an identifier.
        let ident = field.ident.as_ref()?;
        let relationship_attrs: Vec<&Attribute> = field
            .attrs
            .iter()
            .filter(|a| a.path() == RELATIONSHIP)
            .collect();
        let (attrs, relationship) = match relationship_attrs.first() {
            Some(_) => {
                // Not a column: `#[model(...)]` options have nothing to apply to.
                for attr in field.attrs.iter().filter(|a| a.path() == MODEL) {
                    cx.error_spanned_by(
                        attr,
                        format!(
                            "field `{}` is a relationship, not a column: it takes no #[model(...)] attributes",
                            ident.unraw()
                        ),
                    );
                }
                let parsed = attr::relationship::Relationship::from_ast(
                    cx,
                    model,
                    field,
                    &relationship_attrs,
                );
                (attr::field::Field::default(), Some(Relationship { parsed }))
            }
            None => {
                let attrs = attr::field::Field::from_ast(cx, field);
                if attrs.skip.is_none() && attr::relationship::related_value(&field.ty).is_some() {
                    cx.error_spanned_by(
                        &field.ty,
                        format!(
                            "field `{}` holds related rows, not a column: declare the relationship with #[relationship(...)], e.g. `#[relationship(has_many = Order, foreign_key = \"user_id\")]`",
                            ident.unraw()
                        ),
                    );
                }
                (attrs, None)
            }
        };
        let column = attrs
            .column
            .as_ref()
            .map_or_else(|| ident.unraw().to_string(), syn::LitStr::value);
        let deferred_value = attr::relationship::deferred_value(&field.ty);
        let value_ty = match (attrs.deferred, deferred_value) {
            (Some(_), Some(inner)) => inner,
            (Some(_), None) => {
                cx.error_spanned_by(
                    &field.ty,
                    format!(
                        "a `deferred` field holds `Deferred<T>`, which can be not loaded: write `{}: Deferred<...>`",
                        ident.unraw()
                    ),
                );
                &field.ty
            }
            (None, Some(_)) if attrs.skip.is_none() && relationship.is_none() => {
                cx.error_spanned_by(
                    &field.ty,
                    format!(
                        "field `{}` is `Deferred<T>`: mark the column #[model(deferred)] so queries leave it out until asked",
                        ident.unraw()
                    ),
                );
                &field.ty
            }
            _ => &field.ty,
        };
        Some(Field {
            original: field,
            ident,
            ty: &field.ty,
            value_ty,
            attrs,
            column,
            relationship,
        })
    }
}

/// An enum deriving `Model`: the base of a single-table inheritance hierarchy, each variant
/// wrapping a struct that derives `Model` with `#[model(inherits = ...)]`.
pub(crate) struct ModelEnum<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::container::Container,
    pub(crate) variants: Vec<ModelVariant<'a>>,
}

/// A variant of an inheritance enum: `#[model(value = "manager")] Manager(Manager)`.
pub(crate) struct ModelVariant<'a> {
    pub(crate) original: &'a syn::Variant,
    pub(crate) ident: &'a Ident,
    /// The wrapped struct, when the variant has exactly one unnamed field.
    pub(crate) ty: Option<&'a Type>,
    /// The discriminator value.
    pub(crate) value: Option<syn::LitStr>,
    /// `relationships(...)` on the variant: its struct's relationships the enum exposes.
    pub(crate) relationships: Vec<Ident>,
}

impl<'a> ModelEnum<'a> {
    /// Reads an enum deriving `Model`. The shape of each variant (one unnamed field) is checked
    /// here; the rules across variants in `check`.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput, data: &'a syn::DataEnum) -> Self {
        let attrs = attr::container::Container::from_ast(cx, input);
        if let (Some(path), true) = (
            &attrs.criteria,
            attrs.inherits.is_some() || matches!(input.data, syn::Data::Enum(_)),
        ) {
            cx.error_spanned_by(
                path,
                "`criteria` is not supported on an inheritance hierarchy yet; add the condition \
                 to the session or database handle with `with_criteria`",
            );
        }
        reject_generics(
            cx,
            input,
            "#[derive(Model)]",
            "an inheritance enum maps to one table",
        );
        // An enum of unit variants is a PostgreSQL enum type, not a hierarchy of models: one
        // error saying so, not one per variant.
        let unit_only = !data.variants.is_empty()
            && data
                .variants
                .iter()
                .all(|v| matches!(v.fields, Fields::Unit));
        if unit_only {
            cx.error_spanned_by(
                &input.ident,
                "#[derive(Model)] on an enum is single-table inheritance, whose variants wrap structs (`Manager(Manager)`); for a PostgreSQL enum type use #[derive(DbEnum)]",
            );
        }
        let variants = data
            .variants
            .iter()
            .map(|variant| {
                let ty = match &variant.fields {
                    Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                        fields.unnamed.first().map(|f| &f.ty)
                    }
                    _ if unit_only => None,
                    _ => {
                        cx.error_spanned_by(
                            variant,
                            format!(
                                "a variant of an inheritance enum wraps one struct: `{0}({0})`, where `{0}` derives Model with #[model(inherits = {1})]",
                                variant.ident.unraw(),
                                input.ident.unraw()
                            ),
                        );
                        None
                    }
                };
                let attrs = attr::variant::ModelVariant::from_ast(cx, variant);
                ModelVariant {
                    original: variant,
                    ident: &variant.ident,
                    ty,
                    value: attrs.value,
                    relationships: attrs.relationships,
                }
            })
            .collect();
        ModelEnum {
            original: input,
            ident: &input.ident,
            attrs,
            variants,
        }
    }
}

/// An enum deriving `DbEnum`.
pub(crate) struct DbEnum<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::container::EnumContainer,
    pub(crate) variants: Vec<Variant<'a>>,
}

/// A variant of a `DbEnum`.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    /// The label in the database (`rename = "..."`, else the variant's name in snake_case).
    pub(crate) label: String,
    /// Where the label comes from: the `rename` literal, else the variant's name.
    pub(crate) label_span: Span,
}

impl<'a> DbEnum<'a> {
    /// Reads the input. Anything but an enum is reported and read as an enum without variants
    /// (so the fallback can still name the type).
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> DbEnum<'a> {
        let attrs = attr::container::EnumContainer::from_ast(cx, input);
        reject_generics(
            cx,
            input,
            "#[derive(DbEnum)]",
            "it maps to one database type",
        );
        let data = match &input.data {
            Data::Enum(data) => Some(data),
            Data::Struct(data) => {
                cx.error_at(
                    data.struct_token.span,
                    "#[derive(DbEnum)] only supports enums whose variants have no fields",
                );
                None
            }
            Data::Union(data) => {
                cx.error_at(
                    data.union_token.span,
                    "#[derive(DbEnum)] only supports enums whose variants have no fields",
                );
                None
            }
        };
        if data.is_some_and(|data| data.variants.is_empty()) {
            cx.error_spanned_by(
                &input.ident,
                "#[derive(DbEnum)] needs at least one variant: each variant is a label of the enum type",
            );
        }
        let variants = data
            .into_iter()
            .flat_map(|data| &data.variants)
            .map(|variant| {
                if !matches!(variant.fields, Fields::Unit) {
                    cx.error_spanned_by(
                        &variant.fields,
                        format!(
                            "DbEnum variants cannot have fields: `{}` maps to a label of a PostgreSQL enum, which holds no data",
                            variant.ident
                        ),
                    );
                }
                let attrs = attr::variant::Variant::from_ast(cx, variant);
                let (label, label_span) = match &attrs.rename {
                    Some(lit) => (lit.value(), lit.span()),
                    None => (
                        crate::case::snake_case(&variant.ident.unraw().to_string()),
                        variant.ident.span(),
                    ),
                };
                Variant {
                    ident: &variant.ident,
                    label,
                    label_span,
                }
            })
            .collect();
        DbEnum {
            original: input,
            ident: &input.ident,
            attrs,
            variants,
        }
    }
}

/// A type deriving `SqlType` through its `CustomType` impl.
pub(crate) struct CustomTypeInput<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::sql_type::Container,
    /// Whether the type has generic parameters (reported; nothing is generated).
    pub(crate) generic: bool,
    /// With `composite = "..."`: the struct's named fields, in order (empty, and reported,
    /// when the input is not a struct with named fields).
    pub(crate) fields: Vec<&'a syn::Field>,
}

impl<'a> CustomTypeInput<'a> {
    /// Reads the input: any struct or enum without generic parameters; a struct with named
    /// fields for a composite type.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> CustomTypeInput<'a> {
        let attrs = attr::sql_type::Container::from_ast(cx, input);
        reject_generics(
            cx,
            input,
            "#[derive(SqlType)]",
            "it maps to one column type; implement `SqlType` by hand for a generic type",
        );
        let mut fields = Vec::new();
        if let Some(composite) = &attrs.composite {
            const NAMED: &str = "a composite type (`#[sql_type(composite = ...)]`) is a struct with named fields, one per attribute";
            match &input.data {
                Data::Struct(data) => match &data.fields {
                    Fields::Named(named) => {
                        fields = named.named.iter().collect();
                        if fields.is_empty() {
                            cx.error_at(composite.span, format!("{NAMED}; this struct has none"));
                        }
                    }
                    Fields::Unnamed(unnamed) => cx.error_spanned_by(
                        unnamed,
                        format!("{NAMED}: the fields' names are the attributes' names"),
                    ),
                    Fields::Unit => cx.error_spanned_by(&input.ident, NAMED),
                },
                Data::Enum(e) => cx.error_at(
                    e.enum_token.span,
                    format!("{NAMED}; for an `ENUM` type derive `DbEnum`"),
                ),
                Data::Union(u) => cx.error_at(u.union_token.span, NAMED),
            }
        }
        CustomTypeInput {
            ident: &input.ident,
            attrs,
            generic: !input.generics.params.is_empty(),
            fields,
        }
    }
}

/// A struct deriving `FromRow`: a query result that is not a table.
pub(crate) struct RowStruct<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::from_row::Container,
    pub(crate) fields: Vec<RowField<'a>>,
    /// Whether the input is a struct with named fields (else `fields` is empty and the reason
    /// has been reported).
    pub(crate) named: bool,
}

/// A field of a `FromRow` struct.
pub(crate) struct RowField<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: attr::from_row::Field,
}

impl RowField<'_> {
    /// The field's name as written, without `r#`.
    pub(crate) fn name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// Whether the field reads columns (it is not skipped).
    pub(crate) fn reads_columns(&self) -> bool {
        self.attrs.skip.is_none()
    }
}

impl<'a> RowStruct<'a> {
    /// Reads the input. Anything but a struct with named fields is reported and read as a struct
    /// without fields (so the fallback can still name the type).
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> RowStruct<'a> {
        const DERIVE: &str = "#[derive(FromRow)]";
        let attrs = attr::from_row::Container::from_ast(cx, input);
        reject_generics(
            cx,
            input,
            DERIVE,
            "a row type is decoded the same way for every row",
        );
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Some(&named.named),
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        fields,
                        format!(
                            "{DERIVE} needs a struct with named fields, which take the selected columns in declaration order; a tuple `(A, B, ...)` already decodes columns by position"
                        ),
                    );
                    None
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        format!("{DERIVE} needs a struct with named fields, one per column"),
                    );
                    None
                }
            },
            Data::Enum(data) => {
                cx.error_at(
                    data.enum_token.span,
                    format!("{DERIVE} only supports structs with named fields"),
                );
                None
            }
            Data::Union(data) => {
                cx.error_at(
                    data.union_token.span,
                    format!("{DERIVE} only supports structs with named fields"),
                );
                None
            }
        };
        let fields = named
            .into_iter()
            .flatten()
            .filter_map(|field| {
                // Named fields always have an identifier.
                let ident = field.ident.as_ref()?;
                Some(RowField {
                    ident,
                    ty: &field.ty,
                    attrs: attr::from_row::Field::from_ast(cx, field),
                })
            })
            .collect();
        RowStruct {
            original: input,
            ident: &input.ident,
            attrs,
            fields,
            named: named.is_some(),
        }
    }
}

/// Reports generic parameters (lifetimes, types or consts).
fn reject_generics(cx: &Ctxt, input: &DeriveInput, derive: &str, why: &str) {
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            format!("{derive} does not support generic parameters: {why}"),
        );
    }
}

/// Whether the type is written `Option<T>` (also `std::option::Option<T>`). A syntactic test,
/// for error messages only: nullability in the metadata comes from `SqlType::NULLABLE`.
pub(crate) fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Group(group) => is_option(&group.elem),
        Type::Paren(paren) => is_option(&paren.elem),
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().is_some_and(|last| {
            last.ident == "Option"
                && matches!(&last.arguments, PathArguments::AngleBracketed(args)
                        if args.args.len() == 1
                            && matches!(args.args.first(), Some(GenericArgument::Type(_))))
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_option;
    use syn::parse_quote;

    #[test]
    fn option_detection() {
        assert!(is_option(&parse_quote!(Option<i64>)));
        assert!(is_option(&parse_quote!(std::option::Option<String>)));
        assert!(is_option(&parse_quote!(::core::option::Option<Vec<u8>>)));
        assert!(!is_option(&parse_quote!(i64)));
        assert!(!is_option(&parse_quote!(Vec<Option<i64>>)));
        assert!(!is_option(&parse_quote!(Option)));
    }
}
