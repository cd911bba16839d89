//! Rules that span the whole input. Rules about one attribute, or about the options of one
//! field, are checked where they are parsed (`attr/`).

use std::collections::HashMap;

use crate::ast::{DbEnum, Model, ModelEnum, RowStruct, is_option};
use crate::attr::index::INDEX_OPTIONS;
use crate::attr::relationship::{Shape, type_name};
use crate::ctxt::Ctxt;
use crate::symbol;
use syn::ext::IdentExt;

/// Every cross-field rule of `#[derive(Model)]`.
pub(crate) fn check_model(cx: &Ctxt, model: &Model) {
    if !model.named {
        return;
    }
    primary_key_exists(cx, model);
    primary_key_not_nullable(cx, model);
    unique_column_names(cx, model);
    index_lists_name_columns(cx, model);
    index_names_distinct(cx, model);
    relationship_keys(cx, model);
    version_column(cx, model);
    shard_key_column(cx, model);
    column_count(cx, model);
    inheritance_variant(cx, model);
}

/// Every rule of `#[derive(Model)]` on an enum (single-table inheritance): a discriminator,
/// variants wrapping one struct each, one distinct value per variant, and none of the struct
/// options that belong to the variants' columns.
pub(crate) fn check_model_enum(cx: &Ctxt, model: &ModelEnum) {
    if !model.variants.is_empty() && model.variants.iter().all(|v| v.original.fields.is_empty()) {
        // Reported when read (`ast`): an enum of unit variants is meant for `DbEnum`.
        return;
    }
    if model.variants.is_empty() {
        cx.error_spanned_by(
            model.ident,
            "an inheritance enum needs at least one variant: `#[model(value = \"...\")] Manager(Manager)`",
        );
    }
    if model.attrs.discriminator.is_none() {
        cx.error_spanned_by(
            model.ident,
            "an inheritance enum needs a discriminator column, telling which variant a row is: `#[model(discriminator = \"kind\")]`",
        );
    }
    if let Some(path) = &model.attrs.inherits {
        cx.error_spanned_by(
            path,
            "`inherits` goes on a variant struct, not on the inheritance enum",
        );
    }
    let attrs = &model.attrs;
    if attrs.hooks.is_some()
        || !attrs.indexes.is_empty()
        || !attrs.exclusions.is_empty()
        || !attrs.checks.is_empty()
        || attrs.renamed_from.is_some()
    {
        cx.error_spanned_by(
            model.ident,
            "an inheritance enum takes only `table`, `schema`, `comment`, `discriminator`, `polymorphic`, `relationships`, `cache_ttl` and `crate`; hooks, indexes, exclusions and checks go on the variant structs",
        );
    }
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for variant in &model.variants {
        let Some(value) = &variant.value else {
            cx.error_spanned_by(
                variant.ident,
                format!(
                    "variant `{}` needs its discriminator value: `#[model(value = \"...\")]`",
                    variant.ident
                ),
            );
            continue;
        };
        match seen.get(&value.value()) {
            Some(first) => cx.error_spanned_by(
                value,
                format!(
                    "duplicate discriminator value `{}`: variants `{first}` and `{}` both have it",
                    value.value(),
                    variant.ident
                ),
            ),
            None => {
                seen.insert(value.value(), variant.ident);
            }
        }
    }
}

/// A variant struct (`inherits = Enum`) shares its enum's table (its `version`, `deferred`,
/// `computed` columns and column properties are the enum's), and the enum's session state
/// holds it: it names no schema of its own.
fn inheritance_variant(cx: &Ctxt, model: &Model) {
    if model.joined_table().is_none() {
        for field in model.fields.iter().filter(|f| f.attrs.shared.is_some()) {
            cx.error_spanned_by(
                field.ident,
                "`shared` marks a base-table column of a joined-table variant (a struct with `inherits` and its own `table`)",
            );
        }
    }
    if let Some(name) = model.attrs.relationships.first() {
        cx.error_spanned_by(
            name,
            "`relationships(...)` goes on an inheritance enum or its variants, naming relationships its variant structs declare; on a struct, declare a `#[relationship]` field",
        );
    }
    if let Some(span) = model.attrs.polymorphic_at {
        cx.error_at(
            span,
            "`polymorphic` goes on a joined-table inheritance enum: it chooses how `select::<Enum>()` loads the subtype columns",
        );
    }
    if model.attrs.inherits.is_none() {
        if let Some(d) = &model.attrs.discriminator {
            cx.error_spanned_by(
                d,
                "`discriminator` goes on an inheritance enum (`#[derive(Model)] enum Employee { ... }`), not on a struct",
            );
        }
        return;
    }
    if model.attrs.schema.is_some() {
        cx.error_spanned_by(
            model.ident,
            "a variant struct's tables are in its enum's schema: remove `schema`",
        );
    }
    if model.attrs.comment.is_some() && model.joined_table().is_none() {
        cx.error_spanned_by(
            model.ident,
            "a single-table variant shares its enum's table: put `comment` on the enum",
        );
    }
    if model.joined_table().is_some() {
        for field in model.primary_key().filter(|f| f.attrs.shared.is_some()) {
            cx.error_spanned_by(
                field.ident,
                "the primary key is in the base table and in the variant's table: remove `shared`",
            );
        }
        if !model.attrs.indexes.is_empty()
            || !model.attrs.exclusions.is_empty()
            || !model.attrs.checks.is_empty()
        {
            cx.error_spanned_by(
                model.ident,
                "struct-level indexes, exclusions and checks on a joined-table variant are not supported yet: declare `index`/`unique`/`check` on the field",
            );
        }
    }
    if let Some(d) = &model.attrs.discriminator {
        cx.error_spanned_by(
            d,
            "`discriminator` goes on the inheritance enum, not on a variant struct",
        );
    }
}

/// Every cross-field rule of `#[derive(FromRow)]`: some field must read a column (a row type
/// of width 0 could only decode a statement that selects nothing).
pub(crate) fn check_from_row(cx: &Ctxt, row: &RowStruct) {
    if row.named && !row.fields.iter().any(|f| f.reads_columns()) {
        cx.error_spanned_by(
            row.ident,
            "#[derive(FromRow)] needs at least one field that reads a column (not `skip`)",
        );
    }
}

/// Every cross-variant rule of `#[derive(DbEnum)]`.
pub(crate) fn check_db_enum(cx: &Ctxt, db_enum: &DbEnum) {
    unique_labels(cx, db_enum);
}

/// A model needs a key. Not reported when some field tried to be one (a misspelled
/// `primary_key`, or `primary_key` next to `skip`): that error is already there.
fn primary_key_exists(cx: &Ctxt, model: &Model) {
    let tried = model
        .fields
        .iter()
        .any(|f| f.attrs.primary_key.is_some() || f.attrs.misspelled_primary_key);
    if !tried {
        cx.error_spanned_by(
            model.ident,
            "a model needs a primary key: mark a field with #[model(primary_key)]",
        );
    }
}

/// `NULL` is never a key. Checked on the syntax (`Option<..>`).
fn primary_key_not_nullable(cx: &Ctxt, model: &Model) {
    for field in model.primary_key() {
        if is_option(field.ty) {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "a primary key cannot be nullable: field `{}` is an `Option`; remove the `Option` or `primary_key`",
                    field.name()
                ),
            );
        }
    }
}

/// Two fields cannot map to one column.
fn unique_column_names(cx: &Ctxt, model: &Model) {
    let mut seen: HashMap<&str, String> = HashMap::new();
    for field in model.columns() {
        match seen.get(field.column.as_str()) {
            Some(first) => cx.error_at(
                field.column_span(),
                format!(
                    "duplicate column `{}`: fields `{first}` and `{}` both map to it",
                    field.column,
                    field.name()
                ),
            ),
            None => {
                seen.insert(&field.column, field.name());
            }
        }
    }
}

/// `index(a, b)` / `unique(a, b)` / `exclude(a = "=", b = "&&")` name column fields, each
/// once, and so does an index's `include(c, d)` (with no key among them). In `index(...)` a
/// misspelled option reads as a field: its message suggests the option.
fn index_lists_name_columns(cx: &Ctxt, model: &Model) {
    let names: Vec<String> = model.fields.iter().map(|f| f.name()).collect();
    let columns: Vec<&str> = model
        .fields
        .iter()
        .zip(&names)
        .filter(|(f, _)| f.is_column())
        .map(|(_, n)| n.as_str())
        .collect();
    let options = symbol::names(INDEX_OPTIONS);
    let indexes = model.attrs.indexes.iter().map(|list| {
        let options: &[&str] = if list.constraint {
            &["name", "nulls_not_distinct"]
        } else {
            &options
        };
        let fields = list
            .fields
            .iter()
            .zip(list.key_errors.iter().map(Option::as_ref));
        (list.key(), fields.collect::<Vec<_>>(), options)
    });
    let includes = model.attrs.indexes.iter().map(|list| {
        let fields = list.include.iter().map(|ident| (ident, None)).collect();
        ("include", fields, &[][..])
    });
    let exclusions = model.attrs.exclusions.iter().map(|list| {
        (
            "exclude",
            list.elements
                .iter()
                .map(|(ident, _)| (ident, None))
                .collect(),
            &["using"][..],
        )
    });
    for (key, fields, options) in indexes.chain(includes).chain(exclusions) {
        let mut listed: Vec<String> = Vec::new();
        for (ident, key_error) in fields {
            let name = syn::ext::IdentExt::unraw(ident).to_string();
            match model.fields.iter().find(|f| f.name() == name) {
                None if *ident == name.as_str() && options.contains(&name.as_str()) => {
                    let shape = if name == "unique" || name == "nulls_not_distinct" {
                        format!("`{name}` takes no value")
                    } else {
                        format!("`{name}` takes a value: `{name} = \"...\"`")
                    };
                    cx.error_spanned_by(ident, format!("{shape} in `{key}(...)`"));
                }
                None => {
                    let candidates: Vec<&str> =
                        columns.iter().chain(options.iter()).copied().collect();
                    let hint = match symbol::closest(&name, &candidates) {
                        Some(best) if options.contains(&best) && !columns.contains(&best) => {
                            format!("; did you mean the option `{best}`?")
                        }
                        Some(best) => format!("; did you mean `{best}`?"),
                        None => format!(
                            "; the columns are {}",
                            symbol::one_of(&columns).replace(" or ", " and ")
                        ),
                    };
                    cx.error_spanned_by(
                        ident,
                        format!("unknown field `{name}` in `{key}(...)`{hint}"),
                    );
                }
                Some(field) if !field.is_column() => cx.error_spanned_by(
                    ident,
                    format!("field `{name}` in `{key}(...)` is not a column"),
                ),
                Some(_) if listed.contains(&name) => cx.error_spanned_by(
                    ident,
                    format!("field `{name}` is listed twice in `{key}(...)`"),
                ),
                Some(_) => {
                    if let Some((span, message)) = key_error {
                        cx.error_at(*span, message);
                    }
                    listed.push(name);
                }
            }
        }
    }
    for list in &model.attrs.indexes {
        for ident in &list.include {
            if list.fields.iter().any(|f| f.unraw() == ident.unraw()) {
                cx.error_spanned_by(
                    ident,
                    format!(
                        "field `{}` is a key of the index already: `include(...)` adds columns \
                         that are not keys",
                        ident.unraw()
                    ),
                );
            }
        }
    }
}

/// Two indexes of the table never get one name: `create_all` would create one of them only
/// (`IF NOT EXISTS`). Each is named `ix_<table>_<columns>` unless it has a `name`, so two
/// indexes on the same columns (partial ones with different predicates) need a name each.
fn index_names_distinct(cx: &Ctxt, model: &Model) {
    let table = &model.attrs.table;
    // A name that is no column's was reported by `index_lists_name_columns`.
    let column = |ident: &syn::Ident| {
        model
            .column_of(ident)
            .map_or_else(|| ident.unraw().to_string(), str::to_owned)
    };
    let mut seen: Vec<String> = model
        .columns()
        .filter(|f| f.attrs.index.is_some() && f.attrs.unique.is_none())
        .map(|f| format!("ix_{table}_{}", f.column))
        .collect();
    for list in &model.attrs.indexes {
        let name = match &list.name {
            Some(name) => name.clone(),
            // A constraint PostgreSQL names (`<table>_<columns>_key`) never meets an `ix_` one.
            None if list.constraint => continue,
            None => {
                let columns: Vec<String> = list.fields.iter().map(column).collect();
                format!("ix_{table}_{}", columns.join("_"))
            }
        };
        // An index on an expression has a name: the parse pass made sure of it.
        if seen.contains(&name) {
            let hint = match &list.name {
                Some(_) => "give it another `name`".to_owned(),
                None => format!(
                    "give one of them a name: `{}(..., name = \"...\")`",
                    list.key()
                ),
            };
            cx.error_at(
                list.fields.first().map_or(list.span, syn::Ident::span),
                format!("two indexes of table `{table}` are named `{name}`; {hint}"),
            );
        } else {
            seen.push(name);
        }
    }
}

/// The foreign keys relationships name: for `belongs_to`, column fields of this struct (a
/// nullable one needs `Related<Option<T>>`); for the other kinds, one field per column of this
/// model's primary key (that they exist on the other model is checked by generated code).
fn relationship_keys(cx: &Ctxt, model: &Model) {
    let candidates: Vec<String> = model.columns().map(|f| f.name()).collect();
    let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
    let key: Vec<String> = model.primary_key().map(|f| f.name()).collect();
    for (field, rel) in model.relationships() {
        let Some(list) = &rel.foreign_key else {
            continue;
        };
        if rel.kind.keyed_by_parent() {
            if !key.is_empty() && list.names.len() != key.len() {
                let quoted: Vec<String> = key.iter().map(|k| format!("`{k}`")).collect();
                cx.error_at(
                    list.span,
                    format!(
                        "`foreign_key` names {} field{}, but the primary key of `{}` has {} column{} ({}): name one field per key column, in key order",
                        list.names.len(),
                        plural(list.names.len()),
                        model.ident,
                        key.len(),
                        plural(key.len()),
                        quoted.join(", ")
                    ),
                );
            }
            continue;
        }
        let mut nullable: Option<String> = None;
        for name in &list.names {
            match model.fields.iter().find(|f| f.name() == name.name) {
                None => {
                    let hint = match symbol::closest(&name.name, &candidates) {
                        Some(best) => format!("; did you mean `{best}`?"),
                        None => format!(
                            "; the columns are {}",
                            symbol::one_of(&candidates).replace(" or ", " and ")
                        ),
                    };
                    cx.error_spanned_by(
                        &name.ident,
                        format!(
                            "`{}` has no field `{}`: the `foreign_key` of `belongs_to` names fields of this struct{hint}",
                            model.ident, name.name
                        ),
                    );
                }
                Some(fk) if !fk.is_column() => cx.error_spanned_by(
                    &name.ident,
                    format!("field `{}` in `foreign_key` is not a column", name.name),
                ),
                Some(fk) if is_option(fk.ty) => nullable = Some(fk.name()),
                Some(_) => {}
            }
        }
        if let (Some(fk), Some(Shape::One)) = (nullable, rel.shape) {
            let target = type_name(&rel.target);
            cx.error_spanned_by(
                field.ty,
                format!(
                    "the foreign key `{fk}` is nullable, so the related row may be missing: make the field `Related<Option<{target}>>`"
                ),
            );
        }
    }
}

/// At most one `version` field, of an integer type. The type is checked on the syntax where it
/// is plainly something else (`Option<i64>`, `String`, `u64`); other types (an alias) are left
/// to the `VersionColumn` assertion of the generated code, which reports at the type too.
fn version_column(cx: &Ctxt, model: &Model) {
    let mut first: Option<String> = None;
    // `version` with `skip`, `primary_key` or `generated` is reported by the field's own rules
    // (and such a field does not count as the version column).
    let candidates = model.columns().filter(|f| {
        f.attrs.version.is_some() && f.attrs.primary_key.is_none() && f.attrs.generated.is_none()
    });
    for field in candidates {
        if let Some(first) = &first {
            let span = field.attrs.version.unwrap_or_else(|| field.ident.span());
            cx.error_at(
                span,
                format!(
                    "a model has at most one version column: `{first}` already is one, so `{}` cannot be",
                    field.name()
                ),
            );
            continue;
        }
        first = Some(field.name());
        if let Some(problem) = version_type_problem(field.ty) {
            cx.error_spanned_by(field.ty, problem);
        }
    }
}

/// At most one `shard_key` field, not nullable: every row must name its shard.
fn shard_key_column(cx: &Ctxt, model: &Model) {
    let mut first: Option<String> = None;
    for field in model.columns().filter(|f| f.attrs.shard_key.is_some()) {
        let span = field.attrs.shard_key.unwrap_or_else(|| field.ident.span());
        if let Some(first) = &first {
            cx.error_at(
                span,
                format!(
                    "a model has at most one shard key: `{first}` already is one, so `{}` cannot be",
                    field.name()
                ),
            );
            continue;
        }
        first = Some(field.name());
        if is_option(field.ty) {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "a shard key cannot be nullable: every row must name its shard; drop the `Option` of `{}`",
                    type_name(field.ty)
                ),
            );
        }
    }
}

/// The integer types a version column may have.
const VERSION_TYPES: &[&str] = &["i16", "i32", "i64"];

/// Types a version column plainly cannot have (checked by the last segment of their path).
const NOT_VERSION_TYPES: &[&str] = &[
    "i8",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "f32",
    "f64",
    "bool",
    "char",
    "str",
    "String",
    "Vec",
    "Uuid",
    "Decimal",
    "DateTime",
    "NaiveDateTime",
    "NaiveDate",
    "NaiveTime",
    "Value",
    "Json",
];

/// Why `ty` cannot be a version column's type, when the syntax tells.
fn version_type_problem(ty: &syn::Type) -> Option<String> {
    let expected = symbol::one_of(VERSION_TYPES);
    let name = type_name(ty);
    match ty {
        syn::Type::Group(group) => version_type_problem(&group.elem),
        syn::Type::Paren(paren) => version_type_problem(&paren.elem),
        _ if is_option(ty) => Some(format!(
            "a version column cannot be nullable: the session compares it in every UPDATE and DELETE; make the field {expected}, not `{name}`"
        )),
        syn::Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            let ident = last.ident.to_string();
            if VERSION_TYPES.contains(&ident.as_str())
                || !NOT_VERSION_TYPES.contains(&ident.as_str())
            {
                // An integer, or a type the derive cannot judge (an alias): the generated code's
                // bound decides.
                None
            } else {
                Some(format!(
                    "a version column must be {expected} (the session increments it with each update), not `{name}`"
                ))
            }
        }
        _ => Some(format!(
            "a version column must be {expected} (the session increments it with each update), not `{name}`"
        )),
    }
}

/// A model's columns are tracked in a 128-bit `ColumnSet`.
fn column_count(cx: &Ctxt, model: &Model) {
    const MAX: usize = 128;
    let count = model.columns().count();
    if count > MAX {
        cx.error_spanned_by(
            model.ident,
            format!(
                "`{}` has {count} columns; a model may have at most {MAX} (the session tracks changed columns in a {MAX}-bit set): split the table, or mark fields that are not columns with #[model(skip)]",
                model.ident
            ),
        );
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Two variants cannot share a label.
fn unique_labels(cx: &Ctxt, db_enum: &DbEnum) {
    let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
    for variant in &db_enum.variants {
        match seen.get(variant.label.as_str()) {
            Some(first) => cx.error_at(
                variant.label_span,
                format!(
                    "duplicate enum label `{}`: variants `{first}` and `{}` both map to it",
                    variant.label, variant.ident
                ),
            ),
            None => {
                seen.insert(&variant.label, variant.ident);
            }
        }
    }
}
