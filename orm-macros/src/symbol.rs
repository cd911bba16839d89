//! The keyword table: every attribute name the derives understand, and the lookup that suggests
//! the closest one for a misspelling.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// An attribute keyword.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Symbol(pub(crate) &'static str);

// Attribute names.
pub(crate) const MODEL: Symbol = Symbol("model");
pub(crate) const RELATIONSHIP: Symbol = Symbol("relationship");
pub(crate) const DB_ENUM: Symbol = Symbol("db_enum");
pub(crate) const FROM_ROW: Symbol = Symbol("from_row");
pub(crate) const SQL_TYPE: Symbol = Symbol("sql_type");

// `#[model(...)]` on the struct.
pub(crate) const TABLE: Symbol = Symbol("table");
pub(crate) const SCHEMA: Symbol = Symbol("schema");
pub(crate) const INDEX: Symbol = Symbol("index");
pub(crate) const UNIQUE: Symbol = Symbol("unique");
pub(crate) const CHECK: Symbol = Symbol("check");
/// `exclude(col = "op", ...)` on the struct: an exclusion constraint (`using = "gist"` inside).
pub(crate) const EXCLUDE: Symbol = Symbol("exclude");
pub(crate) const USING: Symbol = Symbol("using");
/// `where = "sql"` in `index(...)`: a partial index's predicate.
pub(crate) const WHERE: Symbol = Symbol("where");
/// `with = "fillfactor = 70"` in `index(...)`: storage parameters.
pub(crate) const WITH: Symbol = Symbol("with");
/// `include(a, b)` in `index(...)`: the columns of a covering index.
pub(crate) const INCLUDE: Symbol = Symbol("include");
/// `expr = "lower(email)"` in `index(...)`: a key that is an SQL expression.
pub(crate) const EXPR: Symbol = Symbol("expr");
/// `nulls_not_distinct` in `unique(...)` or a unique `index(...)`.
pub(crate) const NULLS_NOT_DISTINCT: Symbol = Symbol("nulls_not_distinct");
pub(crate) const CRATE: Symbol = Symbol("crate");
pub(crate) const HOOKS: Symbol = Symbol("hooks");
/// `cache_ttl = "60s"` on the struct: the result cache keeps its queries' results that long.
pub(crate) const CACHE_TTL: Symbol = Symbol("cache_ttl");
/// `renamed_from = "old"` on the struct or a field: the migration renames instead of drop + add.
pub(crate) const RENAMED_FROM: Symbol = Symbol("renamed_from");
/// `discriminator = "kind"` on an inheritance enum.
pub(crate) const DISCRIMINATOR: Symbol = Symbol("discriminator");
/// `inherits = Enum` on a variant struct of an inheritance enum.
pub(crate) const INHERITS: Symbol = Symbol("inherits");
/// `criteria = path` on the struct: the model's own global criteria.
pub(crate) const CRITERIA: Symbol = Symbol("criteria");
/// `value = "manager"` on a variant of an inheritance enum.
pub(crate) const VALUE: Symbol = Symbol("value");

// `#[model(...)]` on a field (plus `unique`, `index` and `check` above).
pub(crate) const PRIMARY_KEY: Symbol = Symbol("primary_key");
pub(crate) const GENERATED: Symbol = Symbol("generated");
pub(crate) const COLUMN: Symbol = Symbol("column");
pub(crate) const LEN: Symbol = Symbol("len");
pub(crate) const PRECISION: Symbol = Symbol("precision");
pub(crate) const SCALE: Symbol = Symbol("scale");
pub(crate) const COLLATION: Symbol = Symbol("collation");
/// `comment = "..."` on a field or on the struct.
pub(crate) const COMMENT: Symbol = Symbol("comment");
pub(crate) const DEFAULT: Symbol = Symbol("default");
pub(crate) const REFERENCES: Symbol = Symbol("references");
pub(crate) const ON_DELETE: Symbol = Symbol("on_delete");
pub(crate) const ON_UPDATE: Symbol = Symbol("on_update");
pub(crate) const SKIP: Symbol = Symbol("skip");
pub(crate) const VERSION: Symbol = Symbol("version");
/// `shard_key` on a field: the column that tells which shard holds a row.
pub(crate) const SHARD_KEY: Symbol = Symbol("shard_key");
pub(crate) const VALIDATE: Symbol = Symbol("validate");
/// `computed = "sql"`: a stored generated column (`GENERATED ALWAYS AS (sql) STORED`).
pub(crate) const COMPUTED: Symbol = Symbol("computed");
/// `polymorphic = "joined" | "selectin"`: how a joined-table inheritance enum loads its
/// subtype rows by default.
pub(crate) const POLYMORPHIC: Symbol = Symbol("polymorphic");
/// `relationships(team, reports)` on an inheritance enum or one of its variants: the
/// relationships (declared on the variant structs) the enum exposes as its own.
pub(crate) const RELATIONSHIPS: Symbol = Symbol("relationships");
/// `shared`: a column of a joined-table variant that lives in the base table.
pub(crate) const SHARED: Symbol = Symbol("shared");
/// `deferred`: a column the model's `SELECT` leaves out unless a query undefers it.
pub(crate) const DEFERRED: Symbol = Symbol("deferred");
/// `column_property = path`: a read-only field loaded from the expression `path()` builds.
pub(crate) const COLUMN_PROPERTY: Symbol = Symbol("column_property");

// `#[db_enum(...)]` on the enum (plus `schema` and `crate`) and on a variant.
pub(crate) const NAME: Symbol = Symbol("name");
pub(crate) const COMPOSITE: Symbol = Symbol("composite");
pub(crate) const RENAME: Symbol = Symbol("rename");

// `#[from_row(...)]` on a field (plus `skip`); on the struct only `crate`.
pub(crate) const FLATTEN: Symbol = Symbol("flatten");

// `#[relationship(...)]` on a field: the kinds, then the options.
pub(crate) const BELONGS_TO: Symbol = Symbol("belongs_to");
pub(crate) const HAS_ONE: Symbol = Symbol("has_one");
pub(crate) const HAS_MANY: Symbol = Symbol("has_many");
pub(crate) const MANY_TO_MANY: Symbol = Symbol("many_to_many");
pub(crate) const FOREIGN_KEY: Symbol = Symbol("foreign_key");
pub(crate) const TARGET_KEY: Symbol = Symbol("target_key");
pub(crate) const SECONDARY: Symbol = Symbol("secondary");
pub(crate) const BACK_POPULATES: Symbol = Symbol("back_populates");
pub(crate) const ORDER_BY: Symbol = Symbol("order_by");
pub(crate) const CASCADE: Symbol = Symbol("cascade");
pub(crate) const PASSIVE_DELETES: Symbol = Symbol("passive_deletes");

/// Keys of `#[model(...)]` on the struct.
pub(crate) const CONTAINER_KEYS: &[Symbol] = &[
    TABLE,
    SCHEMA,
    INDEX,
    UNIQUE,
    CHECK,
    EXCLUDE,
    HOOKS,
    RENAMED_FROM,
    COMMENT,
    DISCRIMINATOR,
    POLYMORPHIC,
    RELATIONSHIPS,
    INHERITS,
    CACHE_TTL,
    CRITERIA,
    CRATE,
];

/// Keys of `#[model(...)]` on a variant of an inheritance enum.
pub(crate) const MODEL_VARIANT_KEYS: &[Symbol] = &[VALUE, RELATIONSHIPS];

/// Keys of `#[model(...)]` on a field.
pub(crate) const FIELD_KEYS: &[Symbol] = &[
    PRIMARY_KEY,
    GENERATED,
    COLUMN,
    UNIQUE,
    INDEX,
    LEN,
    PRECISION,
    SCALE,
    COLLATION,
    COMMENT,
    DEFAULT,
    COMPUTED,
    DEFERRED,
    SHARED,
    COLUMN_PROPERTY,
    REFERENCES,
    ON_DELETE,
    ON_UPDATE,
    CHECK,
    VERSION,
    SHARD_KEY,
    VALIDATE,
    RENAMED_FROM,
    SKIP,
];

/// Keys of `#[db_enum(...)]` on the enum.
pub(crate) const ENUM_KEYS: &[Symbol] = &[NAME, SCHEMA, CRATE];

/// Keys of `#[db_enum(...)]` on a variant.
pub(crate) const VARIANT_KEYS: &[Symbol] = &[RENAME];

/// Keys of `#[sql_type(...)]` on a `#[derive(SqlType)]` type.
pub(crate) const SQL_TYPE_KEYS: &[Symbol] = &[COMPOSITE, SCHEMA, CRATE];

/// Keys of `#[from_row(...)]` on the struct.
pub(crate) const ROW_CONTAINER_KEYS: &[Symbol] = &[CRATE];

/// Keys of `#[from_row(...)]` on a field.
pub(crate) const ROW_FIELD_KEYS: &[Symbol] = &[SKIP, FLATTEN];

/// Keys of `#[relationship(...)]`: the kinds, then the options.
pub(crate) const RELATIONSHIP_KEYS: &[Symbol] = &[
    BELONGS_TO,
    HAS_ONE,
    HAS_MANY,
    MANY_TO_MANY,
    FOREIGN_KEY,
    TARGET_KEY,
    SECONDARY,
    BACK_POPULATES,
    ORDER_BY,
    CASCADE,
    PASSIVE_DELETES,
];

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.0)
    }
}

/// The Levenshtein distance between two strings, by characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a plausible misspelling: within
/// a third of the word's length in edits (at least 1, or 2 for words of three or more
/// characters), or one of the two a prefix of the other (`length` for `len`).
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let len = word.chars().count();
    let limit = if len >= 3 { (len / 3).clamp(2, 3) } else { 1 };
    let prefix = |c: &str| {
        len >= 3 && c.chars().count() >= 3 && (word.starts_with(c) || c.starts_with(word))
    };
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| (*d <= limit && *d < len.max(c.len())) || prefix(c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `` `a`, `b` or `c` ``.
pub(crate) fn one_of(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// The keywords' names.
pub(crate) fn names(symbols: &[Symbol]) -> Vec<&'static str> {
    symbols.iter().map(|s| s.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("primay_key", "primary_key"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("colum", "column"), 1);
    }

    #[test]
    fn suggestions() {
        let fields = names(FIELD_KEYS);
        assert_eq!(closest("primay_key", &fields), Some("primary_key"));
        assert_eq!(closest("colum", &fields), Some("column"));
        assert_eq!(closest("uniq", &fields), Some("unique"));
        assert_eq!(closest("lenght", &fields), Some("len"));
        assert_eq!(closest("ondelete", &fields), Some("on_delete"));
        assert_eq!(closest("nullable", &fields), None);
        assert_eq!(closest("x", &fields), None);
        assert_eq!(closest("foo", &fields), None);
    }

    #[test]
    fn lists() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b"]), "`a` or `b`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
