//! `#[relationship(...)]` on a field: the relationship's kind and target, its options, and the
//! field's type (`Related<X>`, whose shape must fit the kind).

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, GenericArgument, Ident, Lit, LitStr, PathArguments, Token, Type};

use super::{Attr, BoolAttr, Hint, Unknown, skip_value, strip_groups};
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// The kind of a relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    BelongsTo,
    HasOne,
    HasMany,
    ManyToMany,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::BelongsTo,
        Kind::HasOne,
        Kind::HasMany,
        Kind::ManyToMany,
    ];

    /// The attribute keyword.
    pub(crate) fn symbol(self) -> Symbol {
        match self {
            Kind::BelongsTo => BELONGS_TO,
            Kind::HasOne => HAS_ONE,
            Kind::HasMany => HAS_MANY,
            Kind::ManyToMany => MANY_TO_MANY,
        }
    }

    /// The name of the `RelationKind` variant in orm-core.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Kind::BelongsTo => "BelongsTo",
            Kind::HasOne => "HasOne",
            Kind::HasMany => "HasMany",
            Kind::ManyToMany => "ManyToMany",
        }
    }

    /// Whether the key is this model's primary key (else it is the target's, read from this
    /// model's foreign-key fields).
    pub(crate) fn keyed_by_parent(self) -> bool {
        self != Kind::BelongsTo
    }

    fn from_path(path: &syn::Path) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| path == k.symbol())
    }
}

/// A field named in a string literal (`foreign_key = "user_id"`); the identifier carries the
/// literal's span, so errors about the field point at the literal.
#[derive(Debug, Clone)]
pub(crate) struct FieldName {
    pub(crate) ident: Ident,
    /// The name without `r#`.
    pub(crate) name: String,
}

/// `"a"` or `("a", "b")`: the fields of a (composite) key.
#[derive(Debug, Clone)]
pub(crate) struct NameList {
    pub(crate) names: Vec<FieldName>,
    /// The whole value, for errors about the list.
    pub(crate) span: Span,
}

/// One entry of `order_by`: a column of the target, descending when written `"-column"`.
#[derive(Debug, Clone)]
pub(crate) struct OrderItem {
    pub(crate) column: String,
    pub(crate) descending: bool,
}

/// The shape of the `X` in the field's `Related<X>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `Related<T>`
    One,
    /// `Related<Option<T>>`
    Optional,
    /// `Related<Vec<T>>`
    Many,
}

/// A parsed `#[relationship(...)]`: present when its kind and target were read.
pub(crate) struct Relationship {
    pub(crate) kind: Kind,
    /// The target model (`Self` already replaced by the struct's name).
    pub(crate) target: Type,
    pub(crate) foreign_key: Option<NameList>,
    pub(crate) target_key: Option<NameList>,
    pub(crate) secondary: Option<Type>,
    pub(crate) back_populates: Option<LitStr>,
    pub(crate) order_by: Vec<OrderItem>,
    /// The shape of the field's `Related<X>`, when it is one and fits the kind.
    pub(crate) shape: Option<Shape>,
    /// `cascade = "..."`: the bits of orm-core's `Cascade`, when given.
    pub(crate) cascade: Option<u8>,
    /// `passive_deletes`.
    pub(crate) passive_deletes: Option<Span>,
}

/// The options of `cascade = "..."` (SQLAlchemy's), with their bits in orm-core's `Cascade`.
const CASCADE_OPTIONS: &[(&str, u8)] = &[
    ("save-update", 1),
    ("merge", 2),
    ("delete", 4),
    ("delete-orphan", 8),
    ("expunge", 16),
    ("refresh-expire", 32),
    // Everything but `delete-orphan`.
    ("all", 1 | 2 | 4 | 16 | 32),
    ("none", 0),
];

/// Parses `"all, delete-orphan"` into `Cascade` bits; the options it does not know, else.
pub(crate) fn parse_cascade(text: &str) -> Result<u8, Vec<String>> {
    let mut bits = 0u8;
    let mut unknown = Vec::new();
    for part in text.split(',').map(str::trim) {
        match CASCADE_OPTIONS.iter().find(|(name, _)| *name == part) {
            Some((_, b)) => bits |= b,
            None => unknown.push(part.to_owned()),
        }
    }
    if unknown.is_empty() {
        Ok(bits)
    } else {
        Err(unknown)
    }
}

const KIND_LIST: &str =
    "`belongs_to = Model`, `has_one = Model`, `has_many = Model` or `many_to_many = Model`";
const LOADING: Hint = Hint::Text(
    "loading is chosen by each query, not by the relationship: `User::orders.selectin()`",
);

const RELATIONSHIP_ALIASES: &[(&str, Hint)] = &[
    ("fk", Hint::Key(FOREIGN_KEY)),
    ("foreign_keys", Hint::Key(FOREIGN_KEY)),
    ("through", Hint::Key(SECONDARY)),
    ("join_table", Hint::Key(SECONDARY)),
    ("link", Hint::Key(SECONDARY)),
    ("association", Hint::Key(SECONDARY)),
    ("backref", Hint::Key(BACK_POPULATES)),
    ("inverse", Hint::Key(BACK_POPULATES)),
    ("inverse_of", Hint::Key(BACK_POPULATES)),
    ("order", Hint::Key(ORDER_BY)),
    ("sort", Hint::Key(ORDER_BY)),
    ("many_to_one", Hint::Key(BELONGS_TO)),
    ("one_to_many", Hint::Key(HAS_MANY)),
    ("one_to_one", Hint::Key(HAS_ONE)),
    (
        "references",
        Hint::Text(
            "`references` goes in `#[model(...)]` on the foreign-key field; name that field here with `foreign_key = \"...\"`",
        ),
    ),
    ("cascades", Hint::Key(CASCADE)),
    (
        "on_delete",
        Hint::Text(
            "`on_delete` goes in `#[model(...)]` on the foreign-key field; to delete the children with the parent in a session write `cascade = \"all\"` (and `passive_deletes` to leave it to the database's ON DELETE CASCADE)",
        ),
    ),
    ("passive_delete", Hint::Key(PASSIVE_DELETES)),
    ("lazy", LOADING),
    ("eager", LOADING),
    ("strategy", LOADING),
];

impl Relationship {
    /// Reads every `#[relationship(...)]` of `field` (they are merged, like `#[model(...)]`).
    /// `model` is the struct's name, which replaces `Self` in the target. Returns `None` when
    /// the kind and target could not be read (the reason is reported).
    pub(crate) fn from_ast(
        cx: &Ctxt,
        model: &Ident,
        field: &syn::Field,
        attrs: &[&Attribute],
    ) -> Option<Relationship> {
        let mut kind: Option<(Kind, Span, Type)> = None;
        let mut seen_kind: Option<Kind> = None;
        let mut foreign_key = Attr::none(cx, RELATIONSHIP, FOREIGN_KEY);
        // Set when `foreign_key` was given, even if its value was refused (and reported).
        let mut foreign_key_given = false;
        let mut target_key = Attr::none(cx, RELATIONSHIP, TARGET_KEY);
        let mut secondary = Attr::none(cx, RELATIONSHIP, SECONDARY);
        let mut back_populates = Attr::none(cx, RELATIONSHIP, BACK_POPULATES);
        let mut order_by = Attr::none(cx, RELATIONSHIP, ORDER_BY);
        let mut cascade = Attr::none(cx, RELATIONSHIP, CASCADE);
        let mut passive_deletes = BoolAttr::none(cx, RELATIONSHIP, PASSIVE_DELETES);
        let unknown = Unknown {
            tool: RELATIONSHIP,
            keys: RELATIONSHIP_KEYS,
            elsewhere: None,
            aliases: RELATIONSHIP_ALIASES,
        };

        for attr in attrs {
            let parsed = attr.parse_nested_meta(|meta| {
                if let Some(k) = Kind::from_path(&meta.path) {
                    let first = match seen_kind {
                        None => {
                            seen_kind = Some(k);
                            true
                        }
                        Some(earlier) if earlier == k => {
                            cx.error_spanned_by(
                                &meta.path,
                                format!("duplicate relationship attribute `{}`", k.symbol()),
                            );
                            false
                        }
                        Some(earlier) => {
                            cx.error_spanned_by(
                                &meta.path,
                                format!(
                                    "`{}` conflicts with `{}`: a relationship has exactly one kind",
                                    k.symbol(),
                                    earlier.symbol()
                                ),
                            );
                            false
                        }
                    };
                    if let Some(target) = get_model_type(cx, k.symbol(), &meta)?
                        && first
                    {
                        kind = Some((k, meta.path.span(), replace_self(target, model)));
                    }
                } else if meta.path == FOREIGN_KEY || meta.path == TARGET_KEY {
                    let key = if meta.path == FOREIGN_KEY {
                        FOREIGN_KEY
                    } else {
                        TARGET_KEY
                    };
                    foreign_key_given |= key == FOREIGN_KEY;
                    if let Some(list) = get_name_list(cx, key, &meta)? {
                        if key == FOREIGN_KEY {
                            foreign_key.set(&meta.path, list);
                        } else {
                            target_key.set(&meta.path, list);
                        }
                    }
                } else if meta.path == SECONDARY {
                    if let Some(link) = get_model_type(cx, SECONDARY, &meta)? {
                        secondary.set(&meta.path, replace_self(link, model));
                    }
                } else if meta.path == BACK_POPULATES {
                    if let Some(lit) = super::get_lit_str(cx, RELATIONSHIP, BACK_POPULATES, &meta)?
                    {
                        if field_ident(&lit.value(), lit.span()).is_some() {
                            back_populates.set(&meta.path, lit);
                        } else {
                            cx.error_spanned_by(
                                &lit,
                                format!(
                                    "`back_populates` names the relationship field on the other model: `{}` is not a field name",
                                    lit.value()
                                ),
                            );
                        }
                    }
                } else if meta.path == ORDER_BY {
                    if let Some(items) = get_order_by(cx, &meta)? {
                        order_by.set(&meta.path, items);
                    }
                } else if meta.path == CASCADE {
                    if let Some(bits) = get_cascade(cx, &meta)? {
                        cascade.set(&meta.path, bits);
                    }
                } else if meta.path == PASSIVE_DELETES {
                    passive_deletes.set_from(cx, &meta)?;
                } else {
                    unknown.report(cx, &meta)?;
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }

        let foreign_key = foreign_key.get();
        let target_key = target_key.get();
        let secondary = secondary.get();
        let order_by = order_by.get();
        let Some((kind, kind_span, target)) = kind else {
            if seen_kind.is_none()
                && let Some(attr) = attrs.first()
            {
                cx.error_spanned_by(
                    attr,
                    format!("a relationship needs its kind and target model: {KIND_LIST}"),
                );
            }
            return None;
        };

        // Rules between the options.
        if kind != Kind::ManyToMany {
            let only_m2m = [
                (SECONDARY, secondary.as_ref().map(|s| s.span)),
                (TARGET_KEY, target_key.as_ref().map(|s| s.span)),
            ];
            for (key, span) in only_m2m {
                if let Some(span) = span {
                    cx.error_at(
                        span,
                        format!(
                            "`{key}` is only for `many_to_many`; this relationship is `{}`",
                            kind.symbol()
                        ),
                    );
                }
            }
        } else if secondary.is_none() {
            cx.error_at(
                kind_span,
                "`many_to_many` needs `secondary = LinkModel`: the model of the association table",
            );
        }
        if let (Kind::BelongsTo, Some(o)) = (kind, &order_by) {
            // One row at most: nothing to order.
            cx.error_at(
                o.span,
                "`order_by` orders a collection (`has_many`, `many_to_many`) or picks a `has_one`'s row; a `belongs_to` loads one row",
            );
        }
        if kind == Kind::BelongsTo && !foreign_key_given {
            cx.error_at(
                kind_span,
                "`belongs_to` needs `foreign_key = \"field\"`: the field of this struct holding the target's key (a tuple of fields for a composite key)",
            );
        }

        let shape = check_shape(cx, kind, &target, &field.ty);
        Some(Relationship {
            kind,
            target,
            foreign_key: foreign_key.map(|s| s.value),
            target_key: target_key.map(|s| s.value),
            secondary: secondary.map(|s| s.value),
            back_populates: back_populates.get().map(|s| s.value),
            order_by: order_by.map(|s| s.value).unwrap_or_default(),
            shape,
            cascade: cascade.get().map(|s| s.value),
            passive_deletes: passive_deletes.get(),
        })
    }
}

/// The `X` of a type written `Related<X>` (any path ending in `Related`).
pub(crate) fn related_value(ty: &Type) -> Option<&Type> {
    single_argument(ty, "Related")
}

/// The `T` of a field written `Deferred<T>`.
pub(crate) fn deferred_value(ty: &Type) -> Option<&Type> {
    single_argument(ty, "Deferred")
}

/// The `T` of `Name<T>` (any path ending in `Name`, one type argument).
fn single_argument<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    match ty {
        Type::Group(group) => single_argument(&group.elem, name),
        Type::Paren(paren) => single_argument(&paren.elem, name),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            if last.ident != name {
                return None;
            }
            match &last.arguments {
                PathArguments::AngleBracketed(args) if args.args.len() == 1 => {
                    match args.args.first() {
                        Some(GenericArgument::Type(inner)) => Some(inner),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Checks the field's type is `Related<X>` with `X` of the kind's shape; reports otherwise.
fn check_shape(cx: &Ctxt, kind: Kind, target: &Type, ty: &Type) -> Option<Shape> {
    let target = type_name(target);
    let expected = match kind {
        Kind::HasMany | Kind::ManyToMany => format!("`Related<Vec<{target}>>`"),
        Kind::HasOne => format!("`Related<Option<{target}>>`"),
        Kind::BelongsTo => format!(
            "`Related<{target}>` (a required foreign key) or `Related<Option<{target}>>` (a nullable one)"
        ),
    };
    let Some(value) = related_value(ty) else {
        cx.error_spanned_by(
            ty,
            format!(
                "a relationship field holds the related rows once loaded: `{}` needs a field of type {expected}",
                kind.symbol()
            ),
        );
        return None;
    };
    let shape = if single_argument(value, "Vec").is_some() {
        Shape::Many
    } else if single_argument(value, "Option").is_some() {
        Shape::Optional
    } else {
        Shape::One
    };
    let fits = match kind {
        Kind::HasMany | Kind::ManyToMany => shape == Shape::Many,
        Kind::HasOne => shape == Shape::Optional,
        Kind::BelongsTo => shape != Shape::Many,
    };
    if fits {
        Some(shape)
    } else {
        cx.error_spanned_by(
            ty,
            format!(
                "`{}` needs a field of type {expected}, not `{}`",
                kind.symbol(),
                type_name(ty)
            ),
        );
        None
    }
}

/// A type as the user would write it (`crate::Order`, `Vec<Order>`), for messages.
pub(crate) fn type_name(ty: &Type) -> String {
    let text = ty.to_token_stream().to_string();
    // Token spacing: `crate :: Order`, `Vec < Order >`.
    text.replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}

/// `Self` means the struct deriving `Model` (inside the generated impls `Self` is something
/// else).
fn replace_self(ty: Type, model: &Ident) -> Type {
    match &ty {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self") => {
            let mut ident = model.clone();
            ident.set_span(path.path.span());
            Type::Path(syn::TypePath {
                qself: None,
                path: ident.into(),
            })
        }
        _ => ty,
    }
}

/// Reads `key = Model`: a type path. Reports anything else and returns `None` for it.
fn get_model_type(
    cx: &Ctxt,
    key: Symbol,
    meta: &syn::meta::ParseNestedMeta,
) -> syn::Result<Option<Type>> {
    let example = if key == SECONDARY {
        "LinkModel"
    } else {
        "Model"
    };
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, format!("expected a model: `{key} = {example}`"));
        skip_value(meta)?;
        return Ok(None);
    }
    let value = meta.value()?;
    if value.peek(LitStr) {
        let lit: LitStr = value.parse()?;
        cx.error_spanned_by(
            &lit,
            format!(
                "expected a model type, not a string: `{key} = {}`",
                lit.value()
            ),
        );
        return Ok(None);
    }
    let ty: Type = value.parse()?;
    match &ty {
        Type::Path(path) if path.qself.is_none() => Ok(Some(ty)),
        _ => {
            cx.error_spanned_by(&ty, format!("expected a model type: `{key} = {example}`"));
            Ok(None)
        }
    }
}

/// The identifier of a field named `name` (a keyword becomes a raw identifier; `r#name` is
/// accepted too), with `span`. `None` when `name` cannot be a field's name.
pub(crate) fn field_ident(name: &str, span: Span) -> Option<Ident> {
    let plain = name.strip_prefix("r#").unwrap_or(name);
    if let Ok(mut ident) = syn::parse_str::<Ident>(plain) {
        ident.set_span(span);
        return Some(ident);
    }
    // Not a plain identifier: a keyword (`type`), written as `r#type`. Checked by hand, since
    // `Ident::new_raw` panics on what cannot be raw.
    let identifier = super::is_plain_identifier(plain);
    let never_raw = matches!(plain, "_" | "self" | "super" | "crate" | "Self");
    (identifier && !never_raw).then(|| Ident::new_raw(plain, span))
}

/// The string literals of `"a"` or `("a", "b")`, or `None` if the value has another shape.
fn string_list(expr: &Expr) -> Option<Vec<LitStr>> {
    match strip_groups(expr) {
        Expr::Tuple(tuple) => tuple.elems.iter().map(string_lit).collect(),
        Expr::Paren(paren) => string_lit(&paren.expr).map(|l| vec![l]),
        other => string_lit(other).map(|l| vec![l]),
    }
}

fn string_lit(expr: &Expr) -> Option<LitStr> {
    match strip_groups(expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(LitStr::new(&lit.value(), lit.span())),
        _ => None,
    }
}

/// Reads `key = "field"` or `key = ("a", "b")`.
fn get_name_list(
    cx: &Ctxt,
    key: Symbol,
    meta: &syn::meta::ParseNestedMeta,
) -> syn::Result<Option<NameList>> {
    let usage =
        format!("`{key} = \"field\"`, or `{key} = (\"field_a\", \"field_b\")` for a composite key");
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, format!("expected a value: {usage}"));
        skip_value(meta)?;
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    let Some(lits) = string_list(&expr) else {
        cx.error_spanned_by(
            &expr,
            format!("expected a field name or a tuple of field names: {usage}"),
        );
        return Ok(None);
    };
    if lits.is_empty() {
        cx.error_spanned_by(&expr, format!("`{key}` needs at least one field"));
        return Ok(None);
    }
    let mut names: Vec<FieldName> = Vec::new();
    let mut ok = true;
    for lit in &lits {
        let value = lit.value();
        match field_ident(&value, lit.span()) {
            None => {
                ok = false;
                let msg = if value.is_empty() {
                    format!("`{key}` names fields: the name must not be empty")
                } else {
                    format!("`{key}` names fields: `{value}` is not a field name")
                };
                cx.error_spanned_by(lit, msg);
            }
            Some(ident) => {
                let name = syn::ext::IdentExt::unraw(&ident).to_string();
                if names.iter().any(|n| n.name == name) {
                    cx.error_spanned_by(lit, format!("field `{name}` is listed twice in `{key}`"));
                } else {
                    names.push(FieldName { ident, name });
                }
            }
        }
    }
    Ok(ok.then(|| NameList {
        names,
        span: expr.span(),
    }))
}

/// Reads `cascade = "all, delete-orphan"` into `Cascade` bits.
fn get_cascade(cx: &Ctxt, meta: &syn::meta::ParseNestedMeta) -> syn::Result<Option<u8>> {
    let names: Vec<&str> = CASCADE_OPTIONS.iter().map(|(name, _)| *name).collect();
    let expected = format!(
        "comma-separated options among {}",
        crate::symbol::one_of(&names).replace('`', "\"")
    );
    let Some(lit) = super::get_lit_str(cx, RELATIONSHIP, CASCADE, meta)? else {
        return Ok(None);
    };
    let text = lit.value();
    if text.trim().is_empty() {
        cx.error_spanned_by(
            &lit,
            format!("`cascade` needs at least one option ({expected}); for no cascade at all write `cascade = \"none\"`"),
        );
        return Ok(None);
    }
    match parse_cascade(&text) {
        Ok(bits) => Ok(Some(bits)),
        Err(unknown) => {
            for option in unknown {
                let msg = if option.is_empty() {
                    format!("empty option in `cascade = \"{text}\"`: expected {expected}")
                } else {
                    let hint =
                        crate::symbol::closest(&option.replace('_', "-").to_lowercase(), &names)
                            .map(|best| format!("did you mean \"{best}\"? "))
                            .unwrap_or_default();
                    format!("unknown cascade option \"{option}\"; {hint}expected {expected}")
                };
                cx.error_spanned_by(&lit, msg);
            }
            Ok(None)
        }
    }
}

/// Reads `order_by = "column"`, `"-column"` or a tuple of them.
fn get_order_by(
    cx: &Ctxt,
    meta: &syn::meta::ParseNestedMeta,
) -> syn::Result<Option<Vec<OrderItem>>> {
    const USAGE: &str = "`order_by = \"column\"`, `\"-column\"` for descending, or a tuple: `order_by = (\"-created_at\", \"id\")`";
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, format!("expected a value: {USAGE}"));
        skip_value(meta)?;
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    let Some(lits) = string_list(&expr) else {
        cx.error_spanned_by(&expr, format!("malformed `order_by`: expected {USAGE}"));
        return Ok(None);
    };
    if lits.is_empty() {
        cx.error_spanned_by(&expr, "`order_by` needs at least one column");
        return Ok(None);
    }
    let mut items: Vec<OrderItem> = Vec::new();
    let mut ok = true;
    for lit in &lits {
        let value = lit.value();
        let (descending, column) = match value.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, value.as_str()),
        };
        if column.is_empty() || column.chars().any(|c| c.is_whitespace() || c == '-') {
            ok = false;
            let hint = match value.split_whitespace().collect::<Vec<_>>().as_slice() {
                [column, dir] if dir.eq_ignore_ascii_case("desc") => {
                    format!("; for descending order write \"-{column}\"")
                }
                [column, dir] if dir.eq_ignore_ascii_case("asc") => {
                    format!("; ascending is the default: write \"{column}\"")
                }
                _ => String::new(),
            };
            cx.error_spanned_by(
                lit,
                format!(
                    "malformed `order_by` entry \"{value}\": expected a column of the target, prefixed with `-` for descending order{hint}"
                ),
            );
        } else if column.len() > 63 {
            ok = false;
            cx.error_spanned_by(
                lit,
                format!(
                    "the column name `{column}` is {} bytes long; PostgreSQL allows at most 63",
                    column.len()
                ),
            );
        } else if items.iter().any(|i| i.column == column) {
            ok = false;
            cx.error_spanned_by(
                lit,
                format!("column `{column}` is listed twice in `order_by`"),
            );
        } else {
            items.push(OrderItem {
                column: column.to_owned(),
                descending,
            });
        }
    }
    Ok(ok.then_some(items))
}
