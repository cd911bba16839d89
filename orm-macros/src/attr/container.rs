//! `#[model(...)]` on the struct and `#[db_enum(...)]` on the enum.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::Parse;
use syn::punctuated::Punctuated;
use syn::{DeriveInput, Ident, LitStr, Token};

use super::index::{IndexList, parse_index_list};
use super::{
    Attr, BoolAttr, Hint, Unknown, check_identifier, check_sql, for_each_meta, get_lit_str,
};
use crate::case::snake_case;
use crate::ctxt::Ctxt;
use crate::symbol::*;
use syn::meta::ParseNestedMeta;

/// `exclude(using = "gist", room = "=", during = "&&")` on the struct: an exclusion
/// constraint; names are Rust field names, each with its operator.
pub(crate) struct ExclusionList {
    /// The index method (default `gist`).
    pub(crate) using: String,
    pub(crate) elements: Vec<(Ident, String)>,
}

/// The struct-level options of `#[derive(Model)]`.
pub(crate) struct Container {
    /// The table's name (default: the struct's name in snake_case).
    pub(crate) table: String,
    pub(crate) schema: Option<String>,
    pub(crate) indexes: Vec<IndexList>,
    pub(crate) checks: Vec<String>,
    pub(crate) exclusions: Vec<ExclusionList>,
    /// `renamed_from = "old"`: the table's previous name, for migrations.
    pub(crate) renamed_from: Option<String>,
    /// `comment = "..."`: the table's comment.
    pub(crate) comment: Option<String>,
    /// `hooks`: the user implements `Hooks` (else the derive implements it with the defaults).
    pub(crate) hooks: Option<Span>,
    /// An unknown key was reported whose closest match is `hooks`: the user probably implements
    /// `Hooks`, so the fallback does not implement it too (a second error, "conflicting
    /// implementations", would only repeat the first).
    pub(crate) misspelled_hooks: bool,
    /// The path generated code starts from (default `::orm_postgres`).
    pub(crate) krate: syn::Path,
    /// `discriminator = "kind"`: the column telling the variants of an inheritance enum apart.
    pub(crate) discriminator: Option<LitStr>,
    /// `inherits = Enum`: the struct is a variant of that inheritance enum (and shares its
    /// table).
    pub(crate) inherits: Option<syn::Path>,
    /// `polymorphic = "selectin"` on a joined-table inheritance enum (`"joined"`, the default:
    /// `false`).
    pub(crate) selectin: bool,
    /// Where `polymorphic` was written, if it was (refused on a struct).
    pub(crate) polymorphic_at: Option<proc_macro2::Span>,
    /// `criteria = path`: a function `fn() -> Expr<bool>` whose condition every session
    /// statement reading the model's table includes.
    pub(crate) criteria: Option<syn::Path>,
    /// `relationships(team)` on an inheritance enum: relationships every variant declares,
    /// exposed on the enum.
    pub(crate) relationships: Vec<Ident>,
    /// Whether `table = "..."` was written (a variant struct takes its enum's table).
    pub(crate) table_span: Option<Span>,
    /// `cache_ttl = "60s"` (or `= 60`, seconds): the result cache's time to live for the
    /// model's queries, in milliseconds.
    pub(crate) cache_ttl_ms: Option<u64>,
}

const NAME_TABLE: Hint = Hint::Text("to name the table write `table = \"...\"`");

const CONTAINER_ALIASES: &[(&str, Hint)] = &[
    ("name", NAME_TABLE),
    ("rename", NAME_TABLE),
    ("table_name", NAME_TABLE),
    ("callbacks", Hint::Key(HOOKS)),
    ("events", Hint::Key(HOOKS)),
    ("listeners", Hint::Key(HOOKS)),
];

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, input: &DeriveInput) -> Self {
        let mut table = Attr::none(cx, MODEL, TABLE);
        let mut schema = Attr::none(cx, MODEL, SCHEMA);
        let mut krate = Attr::none(cx, MODEL, CRATE);
        let mut hooks = BoolAttr::none(cx, MODEL, HOOKS);
        let mut renamed_from = Attr::none(cx, MODEL, RENAMED_FROM);
        let mut comment = Attr::none(cx, MODEL, COMMENT);
        let mut discriminator = Attr::none(cx, MODEL, DISCRIMINATOR);
        let mut inherits = Attr::none(cx, MODEL, INHERITS);
        let mut polymorphic = Attr::none(cx, MODEL, POLYMORPHIC);
        let mut cache_ttl = Attr::none(cx, MODEL, CACHE_TTL);
        let mut criteria = Attr::none(cx, MODEL, CRITERIA);
        let mut misspelled_hooks = false;
        let mut indexes = Vec::new();
        let mut checks = Vec::new();
        let mut exclusions = Vec::new();
        let mut relationships = Vec::new();
        let unknown = Unknown {
            tool: MODEL,
            keys: CONTAINER_KEYS,
            elsewhere: Some((FIELD_KEYS, "on a field, not on the struct")),
            aliases: CONTAINER_ALIASES,
        };

        for_each_meta(cx, &input.attrs, MODEL, |meta| {
            if meta.path == TABLE {
                if let Some(lit) = get_lit_str(cx, MODEL, TABLE, &meta)?
                    && check_identifier(cx, "table name", &lit)
                {
                    table.set(&meta.path, lit.value());
                }
            } else if meta.path == SCHEMA {
                if let Some(lit) = get_lit_str(cx, MODEL, SCHEMA, &meta)?
                    && check_identifier(cx, "schema name", &lit)
                {
                    schema.set(&meta.path, lit.value());
                }
            } else if meta.path == RENAMED_FROM {
                if let Some(lit) = get_lit_str(cx, MODEL, RENAMED_FROM, &meta)?
                    && check_identifier(cx, "table name", &lit)
                {
                    renamed_from.set(&meta.path, lit.value());
                }
            } else if meta.path == COMMENT {
                if let Some(lit) = get_lit_str(cx, MODEL, COMMENT, &meta)? {
                    comment.set(&meta.path, lit.value());
                }
            } else if meta.path == DISCRIMINATOR {
                if let Some(lit) = get_lit_str(cx, MODEL, DISCRIMINATOR, &meta)?
                    && check_identifier(cx, "column name", &lit)
                {
                    discriminator.set(&meta.path, lit);
                }
            } else if meta.path == POLYMORPHIC {
                if let Some(lit) = get_lit_str(cx, MODEL, POLYMORPHIC, &meta)? {
                    match lit.value().as_str() {
                        "joined" => polymorphic.set(&meta.path, false),
                        "selectin" => polymorphic.set(&meta.path, true),
                        other => cx.error_spanned_by(
                            &lit,
                            format!(
                                "unknown loading `polymorphic = \"{other}\"`: expected \"joined\" or \"selectin\""
                            ),
                        ),
                    }
                }
            } else if meta.path == RELATIONSHIPS {
                relationships.extend(parse_names(cx, &meta)?);
            } else if meta.path == INHERITS {
                if meta.input.peek(syn::Token![=]) {
                    let path: syn::Path = meta.value()?.parse()?;
                    inherits.set(&meta.path, path);
                } else {
                    cx.error_spanned_by(
                        &meta.path,
                        "expected the inheritance enum: `inherits = Employee`",
                    );
                    super::skip_value(&meta)?;
                }
            } else if meta.path == CACHE_TTL {
                if let Some(ms) = parse_ttl(cx, &meta)? {
                    cache_ttl.set(&meta.path, ms);
                }
            } else if meta.path == CRITERIA {
                if meta.input.peek(syn::Token![=]) && !meta.input.peek2(LitStr) {
                    let path: syn::Path = meta.value()?.parse()?;
                    criteria.set(&meta.path, path);
                } else {
                    cx.error_spanned_by(
                        &meta.path,
                        "expected a function returning the condition, `criteria = Self::not_deleted` \
                         (`fn not_deleted() -> Expr<bool>`), not SQL text",
                    );
                    super::skip_value(&meta)?;
                }
            } else if meta.path == CRATE {
                set_crate_path(cx, &meta, &mut krate)?;
            } else if meta.path == HOOKS {
                hooks.set_from(cx, &meta)?;
            } else if meta.path == INDEX || meta.path == UNIQUE {
                let constraint = meta.path == UNIQUE;
                if let Some(list) = parse_index_list(cx, constraint, &meta)? {
                    indexes.push(list);
                }
            } else if meta.path == CHECK {
                if let Some(lit) = get_lit_str(cx, MODEL, CHECK, &meta)?
                    && check_sql(cx, CHECK, &lit)
                {
                    checks.push(lit.value());
                }
            } else if meta.path == EXCLUDE {
                if let Some(list) = parse_exclusion(cx, &meta)? {
                    exclusions.push(list);
                }
            } else if unknown.report(cx, &meta)? == Some(HOOKS.0) {
                misspelled_hooks = true;
            }
            Ok(())
        });

        let table = table.get();
        let polymorphic = polymorphic.get();
        Container {
            table_span: table.as_ref().map(|t| t.span),
            table: table.map_or_else(|| snake_case(&input.ident.unraw().to_string()), |t| t.value),
            schema: schema.get().map(|s| s.value),
            indexes,
            checks,
            exclusions,
            renamed_from: renamed_from.get().map(|r| r.value),
            comment: comment.get().map(|c| c.value),
            hooks: hooks.get(),
            misspelled_hooks,
            krate: krate.get().map_or_else(default_crate, |k| k.value),
            discriminator: discriminator.get().map(|d| d.value),
            inherits: inherits.get().map(|i| i.value),
            selectin: polymorphic.as_ref().is_some_and(|p| p.value),
            polymorphic_at: polymorphic.map(|p| p.span),
            cache_ttl_ms: cache_ttl.get().map(|t| t.value),
            criteria: criteria.get().map(|c| c.value),
            relationships,
        }
    }
}

/// The options of a derive whose only container attribute is `crate = "..."`
/// (`#[from_row(...)]`, `#[sql_type(...)]`): the path generated code starts from.
pub(crate) fn crate_only(cx: &Ctxt, input: &DeriveInput, unknown: &Unknown) -> syn::Path {
    let mut krate = Attr::none(cx, unknown.tool, CRATE);
    for_each_meta(cx, &input.attrs, unknown.tool, |meta| {
        if meta.path == CRATE {
            set_crate_path(cx, &meta, &mut krate)?;
        } else {
            unknown.report(cx, &meta)?;
        }
        Ok(())
    });
    krate.get().map_or_else(default_crate, |k| k.value)
}

/// `::orm_postgres`
pub(crate) fn default_crate() -> syn::Path {
    let ident = Ident::new("orm_postgres", Span::call_site());
    let mut path = syn::Path::from(ident);
    path.leading_colon = Some(Default::default());
    path
}

/// `crate = "path"`: the path generated code refers to (checked), into `krate`, whose tool
/// names the attribute in messages.
pub(crate) fn set_crate_path(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    krate: &mut Attr<'_, syn::Path>,
) -> syn::Result<()> {
    if let Some(lit) = get_lit_str(cx, krate.tool, crate::symbol::CRATE, meta)? {
        match parse_crate_path(&lit) {
            Ok(path) => krate.set(&meta.path, path),
            Err(err) => cx.syn_error(err),
        }
    }
    Ok(())
}

pub(crate) fn parse_crate_path(lit: &LitStr) -> syn::Result<syn::Path> {
    lit.parse_with(syn::Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "`crate` must be a path to the ORM crate, like `crate = \"orm_postgres\"`, not `{}`",
                lit.value()
            ),
        )
    })
}

/// `cache_ttl = "90s"` (a whole number and a unit: `ms`, `s`, `m`, `h`) or `cache_ttl = 90`
/// (seconds): the time to live in milliseconds, more than zero.
fn parse_ttl(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<u64>> {
    const EXPECTED: &str = "expected a time to live like `cache_ttl = \"60s\"` (units ms, s, m, h) or `cache_ttl = 60` (seconds)";
    let lit: syn::Lit = meta.value()?.parse()?;
    let ms = match &lit {
        syn::Lit::Int(i) => i
            .base10_parse::<u64>()
            .ok()
            .and_then(|s| s.checked_mul(1000)),
        syn::Lit::Str(s) => {
            let text = s.value();
            let split = text
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len());
            let (number, unit) = text.split_at(split);
            let factor = match unit.trim() {
                "ms" => Some(1),
                "s" => Some(1000),
                "m" | "min" => Some(60_000),
                "h" => Some(3_600_000),
                _ => None,
            };
            number
                .parse::<u64>()
                .ok()
                .zip(factor)
                .and_then(|(n, f)| n.checked_mul(f))
        }
        _ => None,
    };
    match ms {
        Some(0) => {
            cx.error_spanned_by(
                &lit,
                "a `cache_ttl` of zero caches nothing: leave it out, or give a time to live",
            );
            Ok(None)
        }
        Some(ms) => Ok(Some(ms)),
        None => {
            cx.error_spanned_by(&lit, EXPECTED);
            Ok(None)
        }
    }
}

/// `relationships(a, b)`: relationship names (on an inheritance enum or its variants).
pub(crate) fn parse_names(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Vec<Ident>> {
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            "expected the relationships' names, as the variant structs declare them: `relationships(team, reports)`",
        );
        super::skip_value(meta)?;
        return Ok(Vec::new());
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let names: Punctuated<Ident, Token![,]> = content.parse_terminated(Ident::parse, Token![,])?;
    Ok(names.into_iter().collect())
}

/// `exclude(using = "method", field = "operator", ...)`.
fn parse_exclusion(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<ExclusionList>> {
    const EXAMPLE: &str = "`exclude(room = \"=\", during = \"&&\")`";
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            format!("expected fields with their operators: {EXAMPLE}"),
        );
        super::skip_value(meta)?;
        return Ok(None);
    }
    let mut using: Option<String> = None;
    let mut elements = Vec::new();
    meta.parse_nested_meta(|item| {
        let Some(ident) = item.path.get_ident().cloned() else {
            cx.error_spanned_by(
                &item.path,
                format!("expected a field name, as in {EXAMPLE}"),
            );
            return super::skip_value(&item);
        };
        let lit: LitStr = item.value()?.parse()?;
        let value = lit.value();
        if ident == USING {
            let method_ok =
                !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !method_ok {
                cx.error_spanned_by(&lit, "`using` names an index method, like `gist`");
            } else if using.replace(value).is_some() {
                cx.error_spanned_by(&item.path, "duplicate `using` in `exclude(...)`");
            }
            return Ok(());
        }
        let operator_ok =
            !value.is_empty() && value.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c));
        if !operator_ok {
            cx.error_spanned_by(
                &lit,
                format!("`{value}` is not an operator; write one like `=` or `&&`"),
            );
            return Ok(());
        }
        elements.push((ident, value));
        Ok(())
    })?;
    if elements.is_empty() {
        cx.error_spanned_by(
            &meta.path,
            format!("`exclude(...)` needs at least one field, as in {EXAMPLE}"),
        );
        return Ok(None);
    }
    Ok(Some(ExclusionList {
        using: using.unwrap_or_else(|| "gist".to_owned()),
        elements,
    }))
}

/// The enum-level options of `#[derive(DbEnum)]`.
pub(crate) struct EnumContainer {
    /// The enum type's name (default: the enum's name in snake_case).
    pub(crate) name: String,
    pub(crate) schema: Option<String>,
    pub(crate) krate: syn::Path,
}

const NAME_TYPE: Hint = Hint::Text("to name the type write `name = \"...\"`");

const ENUM_ALIASES: &[(&str, Hint)] = &[("type_name", NAME_TYPE), ("table", NAME_TYPE)];

impl EnumContainer {
    pub(crate) fn from_ast(cx: &Ctxt, input: &DeriveInput) -> Self {
        let mut name = Attr::none(cx, DB_ENUM, NAME);
        let mut schema = Attr::none(cx, DB_ENUM, SCHEMA);
        let mut krate = Attr::none(cx, DB_ENUM, CRATE);
        let unknown = Unknown {
            tool: DB_ENUM,
            keys: ENUM_KEYS,
            elsewhere: Some((VARIANT_KEYS, "on a variant, not on the enum")),
            aliases: ENUM_ALIASES,
        };
        for_each_meta(cx, &input.attrs, DB_ENUM, |meta| {
            if meta.path == NAME {
                if let Some(lit) = get_lit_str(cx, DB_ENUM, NAME, &meta)?
                    && check_identifier(cx, "type name", &lit)
                {
                    name.set(&meta.path, lit.value());
                }
            } else if meta.path == SCHEMA {
                if let Some(lit) = get_lit_str(cx, DB_ENUM, SCHEMA, &meta)?
                    && check_identifier(cx, "schema name", &lit)
                {
                    schema.set(&meta.path, lit.value());
                }
            } else if meta.path == CRATE {
                set_crate_path(cx, &meta, &mut krate)?;
            } else {
                unknown.report(cx, &meta)?;
            }
            Ok(())
        });
        EnumContainer {
            name: name
                .get()
                .map_or_else(|| snake_case(&input.ident.unraw().to_string()), |n| n.value),
            schema: schema.get().map(|s| s.value),
            krate: krate.get().map_or_else(default_crate, |k| k.value),
        }
    }
}
