//! The items user code names, generated both by a successful derive and by the fallback next
//! to compile errors (so that code using the model does not pile up follow-on errors): the
//! column handles (`User::name`), the relationship handles (`User::orders`), their marker types
//! and the relationships' metadata constants.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Ident};

use crate::ast::{Field, Model};
use crate::attr::relationship::{Kind, NameList, Relationship, Shape, type_name};

/// One `Column<Self, T>` constant per field of `fields` (the column fields that could be read),
/// named like the field.
pub(crate) fn column_consts_for<'a, 'f: 'a>(
    model: &Model,
    fields: impl Iterator<Item = &'a Field<'f>>,
    p: &TokenStream,
) -> TokenStream {
    let ident = model.ident;
    // A variant struct's columns are its enum's table's.
    let (table, table_expr) = match &model.attrs.inherits {
        Some(base) => (
            Some(type_name_of(base)),
            quote!(<#base as #p::Inheritance>::TABLE_NAME),
        ),
        None => {
            let table = &model.attrs.table;
            (None, quote!(#table))
        }
    };
    let consts = fields.map(|field| {
        // A joined-table variant's own column is its table's.
        let (table, table_expr) = match model.home_of(field) {
            Some(home) => (None, quote!(#home)),
            None => (table.clone(), table_expr.clone()),
        };
        let name = field.ident;
        let ty = field.value_ty;
        let vis = &field.original.vis;
        let column = &field.column;
        let line = match &table {
            Some(base) => format!(" The column `{column}` of the table of `{base}`."),
            None => format!(
                " The column `{}.{column}`.",
                model.home_of(field).unwrap_or(&model.attrs.table)
            ),
        };
        let docs = column_docs(&field.original.attrs, &line);
        let access = if field.is_computed() {
            quote!(#p::access::ReadOnly)
        } else if field.is_deferred() {
            quote!(#p::access::Deferrable)
        } else {
            quote!(#p::access::ReadWrite)
        };
        quote! {
            #docs
            #[allow(non_upper_case_globals)]
            #vis const #name: #p::Column<Self, #ty, #access> = #p::Column::new(#table_expr, #column);
        }
    });
    quote! {
        #[automatically_derived]
        impl #ident {
            #(#consts)*
        }
    }
}

/// The last segment of a path, for docs.
fn type_name_of(path: &syn::Path) -> String {
    path.segments
        .last()
        .map_or_else(String::new, |s| s.ident.unraw().to_string())
}

/// The field's own docs, then a line naming the column.
fn column_docs(attrs: &[Attribute], line: &str) -> TokenStream {
    let field_docs: Vec<&Attribute> = attrs.iter().filter(|a| a.path().is_ident("doc")).collect();
    if field_docs.is_empty() {
        quote!(#[doc = #line])
    } else {
        quote! {
            #(#field_docs)*
            #[doc = ""]
            #[doc = #line]
        }
    }
}

/// The marker type of a relationship: `__OrmRel_User_orders`.
pub(crate) fn marker(model: &Model, field: &Field) -> Ident {
    format_ident!("__OrmRel_{}_{}", model.ident.unraw(), field.name())
}

/// The marker types, declared next to the struct (so `Load<__OrmRel_User_orders>` can be
/// named), with the struct's visibility; for a variant struct, also its relationship lookup.
pub(crate) fn markers(model: &Model, p: &TokenStream) -> TokenStream {
    let vis = &model.original.vis;
    let markers = model.relationships().map(|(field, _)| {
        let marker = marker(model, field);
        let doc = format!(
            " The relationship `{}.{}` as a type; use `{}::{}`.",
            model.ident.unraw(),
            field.name(),
            model.ident.unraw(),
            field.name()
        );
        quote! {
            #[doc = #doc]
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis struct #marker;
        }
    });
    let lookup = model
        .attrs
        .inherits
        .is_some()
        .then(|| relationship_lookup(model, p));
    quote! {
        #(#markers)*
        #lookup
    }
}

/// The name of a variant struct's relationship lookup macro: `__orm_rels_Chief`.
pub(crate) fn lookup_macro(struct_name: &str) -> Ident {
    format_ident!("__orm_rels_{}", struct_name)
}

/// For a variant struct (`inherits`): the macro its enum's derive resolves the names of
/// `relationships(...)` with, as `__orm_rels_Chief!(team {declared} {not declared})`, which
/// expands to the first or the second token group, and `__orm_rels_Chief!(check team)`, which
/// expands to nothing for a relationship the struct declares and otherwise to
/// `unknown_relationship!`: a compile error at the name listing the struct's relationships
/// (rather than "cannot find type `__OrmRel_Chief_teem`"). A `macro_rules!` re-exported by `use`
/// is an item of the struct's module, so the enum reaches it by the variant struct's path, as it
/// does the markers.
fn relationship_lookup(model: &Model, p: &TokenStream) -> TokenStream {
    let name = lookup_macro(&model.ident.unraw().to_string());
    let ident = model.ident;
    let fields: Vec<&Ident> = model.relationships().map(|(f, _)| f.ident).collect();
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #name {
            #( (check #fields) => {}; )*
            (check $other:ident) => {
                #p::unknown_relationship!($other, #ident, [#(#fields),*]);
            };
            #( (#fields { $($yes:tt)* } { $($no:tt)* }) => { $($yes)* }; )*
            ($other:ident { $($yes:tt)* } { $($no:tt)* }) => { $($no)* };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #name;
    }
}

/// What the field holds once loaded, built from the kind and target (for the fallback's stubs,
/// where the field's type may be wrong).
pub(crate) fn value_type(rel: &Relationship, p: &TokenStream) -> TokenStream {
    let target = &rel.target;
    match (rel.kind, rel.shape) {
        (Kind::HasMany | Kind::ManyToMany, _) => quote!(#p::Vec<#target>),
        (Kind::BelongsTo, Some(Shape::One)) => quote!(#target),
        (Kind::HasOne | Kind::BelongsTo, _) => quote!(#p::Option<#target>),
    }
}

/// `__orm_table::<T>()`, spanned at the type: "`T` is not a model" points at the attribute,
/// once (a function's bound is the only obligation; `<T as Model>::TABLE` would also report
/// `Model`'s supertraits).
///
/// Its bound is `Persist`, not just `Model`: the session's `Persist::RELATIONS` also need the
/// target to be `Persist`, and only an error on `Persist` implies the one on its supertrait
/// `Model` at the same place, so the compiler shows one error, not two.
pub(crate) fn table_of(ty: &syn::Type) -> TokenStream {
    quote_spanned!(ty.span()=> __orm_table::<#ty>())
}

/// The name of a relationship's metadata constant in the derive's `const _` block.
pub(crate) fn meta_ident(field: &Field) -> Ident {
    format_ident!("__ORM_META_{}", field.name())
}

/// The metadata of every relationship, as constants of the derive's `const _` block: the
/// `Relation` impls and `FromRow` (which must not depend on the impls' bounds) share them.
/// `full` adds the options (the fallback's stubs have only the kind and the tables).
pub(crate) fn metas(model: &Model, full: bool, p: &TokenStream) -> TokenStream {
    if model.relationships().next().is_none() {
        return TokenStream::new();
    }
    let consts = model.relationships().map(|(field, rel)| {
        let name = meta_ident(field);
        let meta = meta(model, field, rel, full, p);
        quote! {
            const #name: &'static #p::RelationMeta = &#meta;
        }
    });
    quote! {
        const fn __orm_table<T: #p::Persist>() -> &'static #p::Table {
            T::TABLE
        }
        #(#consts)*
    }
}

/// `&["a", "b"]`: the field names of a key list.
fn names(list: &NameList) -> TokenStream {
    let names = list.names.iter().map(|n| &n.name);
    quote!(&[#(#names),*])
}

/// `RelationMeta::new(...)` with its builders; `full` adds the options.
fn meta(
    model: &Model,
    field: &Field,
    rel: &Relationship,
    full: bool,
    p: &TokenStream,
) -> TokenStream {
    let parent = model.ident;
    let model_name = parent.unraw().to_string();
    let name = field.name();
    let variant = format_ident!("{}", rel.kind.variant());
    let parent_table = quote!(<#parent as #p::Model>::TABLE);
    let target_table = table_of(&rel.target);
    let mut out = quote! {
        #p::RelationMeta::new(
            #model_name,
            #name,
            #p::RelationKind::#variant,
            #parent_table,
            #target_table,
        )
    };
    if !full {
        return out;
    }
    if let Some(list) = &rel.foreign_key {
        let names = names(list);
        out.extend(quote!(.foreign_key(#names)));
    }
    if let Some(link) = &rel.secondary {
        let table = table_of(link);
        out.extend(quote!(.secondary(#table)));
    }
    if let Some(list) = &rel.target_key {
        let names = names(list);
        out.extend(quote!(.secondary_target_key(#names)));
    }
    if !rel.order_by.is_empty() {
        let items = rel.order_by.iter().map(|o| {
            let (column, descending) = (&o.column, o.descending);
            quote!((#column, #descending))
        });
        out.extend(quote!(.order_by(&[#(#items),*])));
    }
    if let Some(back) = &rel.back_populates {
        let back = back.value();
        out.extend(quote!(.back_populates(#back)));
    }
    if let Some(bits) = rel.cascade {
        let bits = Literal::u8_unsuffixed(bits);
        out.extend(quote!(.cascade(#p::Cascade::from_bits(#bits))));
    }
    if rel.passive_deletes.is_some() {
        out.extend(quote!(.passive_deletes()));
    }
    out
}

/// One `Relationship<...>` constant per relationship field (`User::orders`), named like the
/// field.
pub(crate) fn relationship_handles(model: &Model, p: &TokenStream) -> TokenStream {
    let ident = model.ident;
    let consts = model.relationships().map(|(field, rel)| {
        let name = field.ident;
        let vis = &field.original.vis;
        let marker = marker(model, field);
        let line = format!(
            " The relationship `{}`: {} `{}`.",
            field.name(),
            rel.kind.symbol(),
            type_name(&rel.target)
        );
        let field_docs = field
            .original
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"));
        let docs = if field
            .original
            .attrs
            .iter()
            .any(|a| a.path().is_ident("doc"))
        {
            quote! {
                #(#field_docs)*
                #[doc = ""]
                #[doc = #line]
            }
        } else {
            quote!(#[doc = #line])
        };
        quote! {
            #docs
            #[allow(non_upper_case_globals)]
            #vis const #name: #p::Relationship<#marker> = #p::Relationship::new();
        }
    });
    quote! {
        #[automatically_derived]
        impl #ident {
            #(#consts)*
        }
    }
}

/// The initialiser of a relationship field in `FromRow`: not loaded, naming the relationship.
pub(crate) fn unloaded(field: &Field, p: &TokenStream) -> TokenStream {
    let meta = meta_ident(field);
    quote!(#p::Related::unloaded(#meta))
}
