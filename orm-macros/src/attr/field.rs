//! `#[model(...)]` on a field.

use proc_macro2::Span;
use syn::LitStr;

use super::{
    Attr, BoolAttr, Hint, Spanned, Unknown, check_identifier, check_sql, for_each_meta,
    get_lit_str, get_lit_u32,
};
use crate::ctxt::Ctxt;
use crate::symbol::{self, *};

/// The target of a foreign key: `table.column` or `schema.table.column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) schema: Option<String>,
    pub(crate) table: String,
    pub(crate) column: String,
}

/// A referential action of `on_delete` / `on_update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FkAction {
    Cascade,
    Restrict,
    SetNull,
    SetDefault,
    NoAction,
}

/// The spellings `on_delete` / `on_update` accept, with their action.
const FK_ACTIONS: &[(&str, FkAction)] = &[
    ("cascade", FkAction::Cascade),
    ("restrict", FkAction::Restrict),
    ("set null", FkAction::SetNull),
    ("set default", FkAction::SetDefault),
    ("no action", FkAction::NoAction),
];

impl FkAction {
    /// The name of the `FkAction` variant in orm-core.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            FkAction::Cascade => "Cascade",
            FkAction::Restrict => "Restrict",
            FkAction::SetNull => "SetNull",
            FkAction::SetDefault => "SetDefault",
            FkAction::NoAction => "NoAction",
        }
    }

    /// Parses an action, ignoring case and extra whitespace (`"SET  NULL"` is `set null`).
    pub(crate) fn parse(text: &str) -> Option<FkAction> {
        let normalized = text
            .split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ");
        FK_ACTIONS
            .iter()
            .find(|(name, _)| *name == normalized)
            .map(|(_, action)| *action)
    }
}

/// The options of one field.
#[derive(Default)]
pub(crate) struct Field {
    pub(crate) primary_key: Option<Span>,
    pub(crate) generated: Option<Span>,
    pub(crate) column: Option<LitStr>,
    pub(crate) unique: Option<Span>,
    pub(crate) index: Option<Span>,
    pub(crate) len: Option<Spanned<u32>>,
    /// `precision = p`: a numeric's digits, or a time's digits of fractional seconds.
    pub(crate) precision: Option<Spanned<u32>>,
    /// `scale = s`: a numeric's digits after the point (needs `precision`).
    pub(crate) scale: Option<Spanned<u32>>,
    /// `collation = "C"`: a collation other than the type's default.
    pub(crate) collation: Option<LitStr>,
    /// `comment = "..."`: the column's comment.
    pub(crate) comment: Option<LitStr>,
    pub(crate) default: Option<LitStr>,
    /// `computed = "sql"`: a stored generated column's expression.
    pub(crate) computed: Option<LitStr>,
    /// `deferred`: left out of the model's `SELECT` unless undeferred.
    pub(crate) deferred: Option<Span>,
    /// `shared`: on a joined-table variant, the column lives in the base table.
    pub(crate) shared: Option<Span>,
    /// `column_property = path`: a `fn() -> Expr<T>` whose expression loads the field.
    pub(crate) column_property: Option<syn::Path>,
    pub(crate) references: Option<Spanned<Reference>>,
    pub(crate) on_delete: Option<Spanned<FkAction>>,
    pub(crate) on_update: Option<Spanned<FkAction>>,
    pub(crate) check: Option<LitStr>,
    /// `renamed_from = "old"`: the column's previous name, for migrations.
    pub(crate) renamed_from: Option<LitStr>,
    /// `version`: the optimistic-concurrency version column.
    pub(crate) version: Option<Span>,
    /// `shard_key`: the column that tells which shard of a sharded database holds a row.
    pub(crate) shard_key: Option<Span>,
    /// `validate = path`: the field's validator, `fn(&T) -> Result<(), E>`.
    pub(crate) validate: Option<syn::Path>,
    pub(crate) skip: Option<Span>,
    /// An unknown key was reported whose closest match is `primary_key`: the field probably is
    /// the key, so "a model needs a primary key" would only repeat that error.
    pub(crate) misspelled_primary_key: bool,
}

const RENAME_COLUMN: Hint = Hint::Text("to rename the column write `column = \"...\"`");
const NULLABLE: Hint = Hint::Text("a column is nullable when the field's type is `Option<T>`");
const FOREIGN_KEY: Hint = Hint::Text("write `references = \"table.column\"`");

const FIELD_ALIASES: &[(&str, Hint)] = &[
    ("pk", Hint::Key(PRIMARY_KEY)),
    ("id", Hint::Key(PRIMARY_KEY)),
    ("key", Hint::Key(PRIMARY_KEY)),
    ("name", RENAME_COLUMN),
    ("rename", RENAME_COLUMN),
    ("nullable", NULLABLE),
    ("null", NULLABLE),
    ("optional", NULLABLE),
    ("ignore", Hint::Key(SKIP)),
    ("transient", Hint::Key(SKIP)),
    ("fk", FOREIGN_KEY),
    ("foreign_key", FOREIGN_KEY),
    ("auto_increment", Hint::Key(GENERATED)),
    ("autoincrement", Hint::Key(GENERATED)),
    ("serial", Hint::Key(GENERATED)),
    ("identity", Hint::Key(GENERATED)),
    ("size", Hint::Key(LEN)),
    ("max_len", Hint::Key(LEN)),
    ("max_length", Hint::Key(LEN)),
    ("version_id", Hint::Key(VERSION)),
    ("version_id_col", Hint::Key(VERSION)),
    ("lock_version", Hint::Key(VERSION)),
    ("validator", Hint::Key(VALIDATE)),
    ("validates", Hint::Key(VALIDATE)),
    ("validate_with", Hint::Key(VALIDATE)),
    ("generated_as", Hint::Key(COMPUTED)),
    ("generated_always_as", Hint::Key(COMPUTED)),
    ("stored", Hint::Key(COMPUTED)),
    ("lazy", Hint::Key(DEFERRED)),
    ("defer", Hint::Key(DEFERRED)),
    ("property", Hint::Key(COLUMN_PROPERTY)),
    ("expression", Hint::Key(COLUMN_PROPERTY)),
];

impl Field {
    /// Reads every `#[model(...)]` of one field.
    pub(crate) fn from_ast(cx: &Ctxt, field: &syn::Field) -> Self {
        let mut primary_key = BoolAttr::none(cx, MODEL, PRIMARY_KEY);
        let mut generated = BoolAttr::none(cx, MODEL, GENERATED);
        let mut column = Attr::none(cx, MODEL, COLUMN);
        let mut unique = BoolAttr::none(cx, MODEL, UNIQUE);
        let mut index = BoolAttr::none(cx, MODEL, INDEX);
        let mut len = Attr::none(cx, MODEL, LEN);
        let mut precision = Attr::none(cx, MODEL, PRECISION);
        let mut scale = Attr::none(cx, MODEL, SCALE);
        let mut collation = Attr::none(cx, MODEL, COLLATION);
        let mut comment = Attr::none(cx, MODEL, COMMENT);
        let mut default = Attr::none(cx, MODEL, DEFAULT);
        let mut computed = Attr::none(cx, MODEL, COMPUTED);
        let mut deferred = BoolAttr::none(cx, MODEL, DEFERRED);
        let mut shared = BoolAttr::none(cx, MODEL, SHARED);
        let mut column_property = Attr::none(cx, MODEL, COLUMN_PROPERTY);
        let mut references = Attr::none(cx, MODEL, REFERENCES);
        let mut on_delete = Attr::none(cx, MODEL, ON_DELETE);
        let mut on_update = Attr::none(cx, MODEL, ON_UPDATE);
        let mut check = Attr::none(cx, MODEL, CHECK);
        let mut renamed_from = Attr::none(cx, MODEL, RENAMED_FROM);
        let mut skip = BoolAttr::none(cx, MODEL, SKIP);
        let mut version = BoolAttr::none(cx, MODEL, VERSION);
        let mut shard_key = BoolAttr::none(cx, MODEL, SHARD_KEY);
        let mut validate = Attr::none(cx, MODEL, VALIDATE);
        let mut misspelled_primary_key = false;
        let unknown = Unknown {
            tool: MODEL,
            keys: FIELD_KEYS,
            elsewhere: Some((CONTAINER_KEYS, "on the struct, not on a field")),
            aliases: FIELD_ALIASES,
        };

        for_each_meta(cx, &field.attrs, MODEL, |meta| {
            if meta.path == PRIMARY_KEY {
                primary_key.set_from(cx, &meta)?;
            } else if meta.path == GENERATED {
                generated.set_from(cx, &meta)?;
            } else if meta.path == UNIQUE {
                unique.set_from(cx, &meta)?;
            } else if meta.path == INDEX {
                index.set_from(cx, &meta)?;
            } else if meta.path == DEFERRED {
                deferred.set_from(cx, &meta)?;
            } else if meta.path == SHARED {
                shared.set_from(cx, &meta)?;
            } else if meta.path == SKIP {
                skip.set_from(cx, &meta)?;
            } else if meta.path == VERSION {
                version.set_from(cx, &meta)?;
            } else if meta.path == SHARD_KEY {
                shard_key.set_from(cx, &meta)?;
            } else if meta.path == VALIDATE {
                if let Some(path) = get_function_path(cx, &meta, VALIDATE_USAGE)? {
                    validate.set(&meta.path, path);
                }
            } else if meta.path == COLUMN_PROPERTY {
                if let Some(path) = get_function_path(cx, &meta, COLUMN_PROPERTY_USAGE)? {
                    column_property.set(&meta.path, path);
                }
            } else if meta.path == COLUMN {
                if let Some(lit) = get_lit_str(cx, MODEL, COLUMN, &meta)?
                    && check_identifier(cx, "column name", &lit)
                {
                    column.set(&meta.path, lit);
                }
            } else if meta.path == LEN {
                if let Some(n) = get_lit_u32(cx, MODEL, LEN, &meta)? {
                    if n.value == 0 {
                        cx.error_at(n.span, "`len` must be at least 1");
                    } else {
                        len.set(&meta.path, n);
                    }
                }
            } else if meta.path == PRECISION || meta.path == SCALE {
                let (key, slot) = match meta.path == PRECISION {
                    true => (PRECISION, &mut precision),
                    false => (SCALE, &mut scale),
                };
                if let Some(n) = get_lit_u32(cx, MODEL, key, &meta)? {
                    if n.value > 1000 {
                        cx.error_at(n.span, format!("`{key}` is at most 1000 digits"));
                    } else {
                        slot.set(&meta.path, n);
                    }
                }
            } else if meta.path == COLLATION {
                if let Some(lit) = get_lit_str(cx, MODEL, COLLATION, &meta)?
                    && check_identifier(cx, "collation name", &lit)
                {
                    collation.set(&meta.path, lit);
                }
            } else if meta.path == COMMENT {
                if let Some(lit) = get_lit_str(cx, MODEL, COMMENT, &meta)? {
                    comment.set(&meta.path, lit);
                }
            } else if meta.path == DEFAULT {
                if let Some(lit) = get_lit_str(cx, MODEL, DEFAULT, &meta)?
                    && check_sql(cx, DEFAULT, &lit)
                {
                    default.set(&meta.path, lit);
                }
            } else if meta.path == COMPUTED {
                if let Some(lit) = get_lit_str(cx, MODEL, COMPUTED, &meta)?
                    && check_sql(cx, COMPUTED, &lit)
                {
                    computed.set(&meta.path, lit);
                }
            } else if meta.path == CHECK {
                if let Some(lit) = get_lit_str(cx, MODEL, CHECK, &meta)?
                    && check_sql(cx, CHECK, &lit)
                {
                    check.set(&meta.path, lit);
                }
            } else if meta.path == RENAMED_FROM {
                if let Some(lit) = get_lit_str(cx, MODEL, RENAMED_FROM, &meta)?
                    && check_identifier(cx, "column name", &lit)
                {
                    renamed_from.set(&meta.path, lit);
                }
            } else if meta.path == REFERENCES {
                if let Some(lit) = get_lit_str(cx, MODEL, REFERENCES, &meta)? {
                    match parse_reference(&lit.value()) {
                            Some(target) => references.set(&meta.path, target),
                            None => cx.error_spanned_by(
                                &lit,
                                format!(
                                    "malformed `references = \"{}\"`: expected \"table.column\" or \"schema.table.column\"",
                                    lit.value()
                                ),
                            ),
                        }
                }
            } else if meta.path == ON_DELETE || meta.path == ON_UPDATE {
                let key = if meta.path == ON_DELETE {
                    ON_DELETE
                } else {
                    ON_UPDATE
                };
                if let Some(lit) = get_lit_str(cx, MODEL, key, &meta)? {
                    match FkAction::parse(&lit.value()) {
                        Some(action) if key == ON_DELETE => on_delete.set(&meta.path, action),
                        Some(action) => on_update.set(&meta.path, action),
                        None => cx.error_spanned_by(&lit, unknown_action(key, &lit.value())),
                    }
                }
            } else if unknown.report(cx, &meta)? == Some(PRIMARY_KEY.0) {
                misspelled_primary_key = true;
            }
            Ok(())
        });

        let attrs = Field {
            primary_key: primary_key.get(),
            generated: generated.get(),
            column: column.get().map(|c| c.value),
            unique: unique.get(),
            index: index.get(),
            len: len.get().map(|l| l.value),
            precision: precision.get().map(|p| p.value),
            scale: scale.get().map(|s| s.value),
            collation: collation.get().map(|c| c.value),
            comment: comment.get().map(|c| c.value),
            default: default.get().map(|d| d.value),
            computed: computed.get().map(|c| c.value),
            deferred: deferred.get(),
            shared: shared.get(),
            column_property: column_property.get().map(|c| c.value),
            references: references.get(),
            on_delete: on_delete.get(),
            on_update: on_update.get(),
            check: check.get().map(|c| c.value),
            renamed_from: renamed_from.get().map(|r| r.value),
            version: version.get(),
            shard_key: shard_key.get(),
            validate: validate.get().map(|v| v.value),
            skip: skip.get(),
            misspelled_primary_key,
        };
        attrs.check_combinations(cx);
        attrs
    }

    /// Rules between the options of one field.
    fn check_combinations(&self, cx: &Ctxt) {
        if let Some(skip) = self.skip {
            let others = self.set_keys();
            if !others.is_empty() {
                cx.error_at(
                    skip,
                    format!(
                        "`skip` cannot be combined with other model attributes: a skipped field is not a column (remove {})",
                        symbol::one_of(&others).replace(" or ", " and ")
                    ),
                );
            }
        }
        if let Some(property) = &self.column_property {
            let others: Vec<&str> = self
                .set_keys()
                .into_iter()
                .filter(|k| *k != COLUMN_PROPERTY.0)
                .collect();
            if !others.is_empty() {
                cx.error_spanned_by(
                    property,
                    format!(
                        "`column_property` cannot be combined with other model attributes: the field is loaded from an expression, not a column of the table (remove {})",
                        symbol::one_of(&others).replace(" or ", " and ")
                    ),
                );
            }
        }
        if let Some(version) = self.version {
            let conflicts = [
                (
                    PRIMARY_KEY,
                    self.primary_key,
                    "a key never changes, while the version changes with every update",
                ),
                (
                    GENERATED,
                    self.generated,
                    "the session writes the version itself, incrementing it on every insert and update",
                ),
            ];
            report_conflicts(cx, version, VERSION, &conflicts);
        }
        if let Some(shard_key) = self.shard_key {
            let conflicts = [
                (
                    GENERATED,
                    self.generated,
                    "a new row's shard must be known before it is inserted, so its key cannot come from the server",
                ),
                (
                    COMPUTED,
                    self.computed.as_ref().map(LitStr::span),
                    "a new row's shard must be known before it is inserted, so its key cannot come from the server",
                ),
                (
                    VERSION,
                    self.version,
                    "the version changes with every update, while a row never moves between shards",
                ),
                (
                    DEFERRED,
                    self.deferred,
                    "every loaded object must carry its shard key",
                ),
            ];
            report_conflicts(cx, shard_key, SHARD_KEY, &conflicts);
        }
        if let Some(computed) = &self.computed {
            let conflicts = [
                (
                    PRIMARY_KEY,
                    self.primary_key,
                    "a key the server recomputes whenever another column changes is no identity",
                ),
                (
                    GENERATED,
                    self.generated,
                    "`generated` is a key the server numbers once (an identity); `computed` is recomputed from other columns on every write",
                ),
                (
                    DEFAULT,
                    self.default.as_ref().map(LitStr::span),
                    "a generated column's value always comes from its expression, never from a default",
                ),
                (
                    VERSION,
                    self.version,
                    "the session writes the version itself, while a generated column is never written",
                ),
            ];
            report_conflicts(cx, computed.span(), COMPUTED, &conflicts);
        }
        if let Some(deferred) = self.deferred {
            let conflicts = [
                (
                    PRIMARY_KEY,
                    self.primary_key,
                    "the key identifies every loaded object, so it is always loaded",
                ),
                (
                    GENERATED,
                    self.generated,
                    "a server-generated key is always loaded",
                ),
                (
                    VERSION,
                    self.version,
                    "the session reads the version of every object it updates",
                ),
                (
                    COMPUTED,
                    self.computed.as_ref().map(LitStr::span),
                    "a generated column is read back after every write, so it is always loaded",
                ),
            ];
            report_conflicts(cx, deferred, DEFERRED, &conflicts);
        }
        match (&self.precision, &self.scale) {
            (None, Some(scale)) => cx.error_at(
                scale.span,
                "`scale` needs `precision`: write `precision = 10, scale = 2` for `NUMERIC(10, 2)`",
            ),
            (Some(p), Some(scale)) if scale.value > p.value => cx.error_at(
                scale.span,
                format!(
                    "`scale` is at most `precision` ({}): the digits after the point are among the digits",
                    p.value
                ),
            ),
            _ => {}
        }
        if self.references.is_none() {
            for (key, action) in [(ON_DELETE, &self.on_delete), (ON_UPDATE, &self.on_update)] {
                if let Some(action) = action {
                    cx.error_at(
                        action.span,
                        format!(
                            "`{key}` needs `references`: add `references = \"table.column\"` to make this column a foreign key"
                        ),
                    );
                }
            }
        }
    }

    /// The keys set on this field other than `skip`, in table order.
    fn set_keys(&self) -> Vec<&'static str> {
        let set = [
            (PRIMARY_KEY, self.primary_key.is_some()),
            (GENERATED, self.generated.is_some()),
            (COLUMN, self.column.is_some()),
            (UNIQUE, self.unique.is_some()),
            (INDEX, self.index.is_some()),
            (LEN, self.len.is_some()),
            (PRECISION, self.precision.is_some()),
            (SCALE, self.scale.is_some()),
            (COLLATION, self.collation.is_some()),
            (COMMENT, self.comment.is_some()),
            (DEFAULT, self.default.is_some()),
            (COMPUTED, self.computed.is_some()),
            (DEFERRED, self.deferred.is_some()),
            (SHARED, self.shared.is_some()),
            (COLUMN_PROPERTY, self.column_property.is_some()),
            (REFERENCES, self.references.is_some()),
            (ON_DELETE, self.on_delete.is_some()),
            (ON_UPDATE, self.on_update.is_some()),
            (CHECK, self.check.is_some()),
            (RENAMED_FROM, self.renamed_from.is_some()),
            (VERSION, self.version.is_some()),
            (SHARD_KEY, self.shard_key.is_some()),
            (VALIDATE, self.validate.is_some()),
        ];
        set.iter().filter(|(_, on)| *on).map(|(k, _)| k.0).collect()
    }
}

/// Reads `validate = path::to::function`. Reports anything else (a string, a closure) and
/// returns `None` for it.
const VALIDATE_USAGE: &str = "`validate = path::to::function`, a `fn(&T) -> Result<(), E>` where `T` is the field's type and `E: Display`";
const COLUMN_PROPERTY_USAGE: &str = "`column_property = path::to::function`, a `fn() -> Expr<T>` where `T` is the field's type, e.g. a correlated subquery built with `select`";

/// Reports each of `conflicts` (another key, where it is set, and why it cannot go with
/// `key`) that is set, at `at`.
fn report_conflicts(cx: &Ctxt, at: Span, key: Symbol, conflicts: &[(Symbol, Option<Span>, &str)]) {
    for (other, span, why) in conflicts {
        if span.is_some() {
            cx.error_at(
                at,
                format!("`{key}` cannot be combined with `{other}`: {why}"),
            );
        }
    }
}

/// Reads `key = path::to::function`; `USAGE` says what is expected.
fn get_function_path(
    cx: &Ctxt,
    meta: &syn::meta::ParseNestedMeta,
    usage: &str,
) -> syn::Result<Option<syn::Path>> {
    if !meta.input.peek(syn::Token![=]) {
        cx.error_spanned_by(&meta.path, format!("expected a function: {usage}"));
        super::skip_value(meta)?;
        return Ok(None);
    }
    let mut expr: syn::Expr = meta.value()?.parse()?;
    // Macro expansion may wrap the value in invisible groups (syn's nodes are not `Clone` here,
    // so unwrap by value).
    while let syn::Expr::Group(group) = expr {
        expr = *group.expr;
    }
    match expr {
        syn::Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
            Ok(Some(path.path))
        }
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => {
            cx.error_spanned_by(
                &lit,
                format!(
                    "expected a path to a function, not a string: `{} = {}`",
                    meta.path
                        .get_ident()
                        .map_or_else(String::new, ToString::to_string),
                    lit.value()
                ),
            );
            Ok(None)
        }
        other => {
            cx.error_spanned_by(&other, format!("expected a path to a function: {usage}"));
            Ok(None)
        }
    }
}

/// `table.column` or `schema.table.column`, every part non-empty and without blanks.
pub(crate) fn parse_reference(text: &str) -> Option<Reference> {
    let parts: Vec<&str> = text.split('.').collect();
    let valid = |p: &&str| !p.is_empty() && p.len() <= 63 && !p.chars().any(char::is_whitespace);
    if !parts.iter().all(valid) {
        return None;
    }
    match parts.as_slice() {
        [table, column] => Some(Reference {
            schema: None,
            table: (*table).to_owned(),
            column: (*column).to_owned(),
        }),
        [schema, table, column] => Some(Reference {
            schema: Some((*schema).to_owned()),
            table: (*table).to_owned(),
            column: (*column).to_owned(),
        }),
        _ => None,
    }
}

fn unknown_action(key: Symbol, text: &str) -> String {
    let names: Vec<&str> = FK_ACTIONS.iter().map(|(name, _)| *name).collect();
    let expected = symbol::one_of(&names).replace('`', "\"");
    match symbol::closest(&text.to_lowercase(), &names) {
        Some(best) => format!("unknown `{key}` action \"{text}\"; did you mean \"{best}\"?"),
        None => format!("unknown `{key}` action \"{text}\"; expected {expected}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(
            parse_reference("users.id"),
            Some(Reference {
                schema: None,
                table: "users".into(),
                column: "id".into()
            })
        );
        assert_eq!(
            parse_reference("auth.users.id").and_then(|r| r.schema),
            Some("auth".into())
        );
        for bad in [
            "users",
            "users.",
            ".id",
            "a.b.c.d",
            "users id",
            "users. id",
            "",
        ] {
            assert_eq!(parse_reference(bad), None, "{bad}");
        }
    }

    #[test]
    fn actions() {
        assert_eq!(FkAction::parse("cascade"), Some(FkAction::Cascade));
        assert_eq!(FkAction::parse("SET  NULL"), Some(FkAction::SetNull));
        assert_eq!(FkAction::parse(" no action "), Some(FkAction::NoAction));
        assert_eq!(FkAction::parse("set_null"), None);
        assert!(unknown_action(ON_DELETE, "cascde").contains("did you mean \"cascade\"?"));
        assert!(unknown_action(ON_DELETE, "explode").contains("expected \"cascade\""));
    }
}
