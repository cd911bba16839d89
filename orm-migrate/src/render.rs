//! Writing the schema model back as SQL: identifiers quoted the way `quote_ident` quotes them
//! (only when needed, so generated files read like hand-written ones), qualified names, string
//! literals and column definitions. No IO.

use crate::schema::{Column, Identity, QualifiedName};

/// Keywords `quote_ident` quotes: PostgreSQL's reserved, type/function-name and column-name
/// keywords (every category but "unreserved"), sorted for binary search.
const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// An identifier as `quote_ident` writes it: bare when it is lowercase letters, digits, `_`
/// and `$` (not leading with a digit or `$`) and not a keyword; double-quoted otherwise.
///
/// ```
/// use orm_migrate::render::ident;
/// assert_eq!(ident("author_id"), "author_id");
/// assert_eq!(ident("Order"), "\"Order\"");
/// assert_eq!(ident("user"), "\"user\"");
/// assert_eq!(ident("say \"hi\""), "\"say \"\"hi\"\"\"");
/// ```
pub fn ident(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && KEYWORDS.binary_search(&name).is_err();
    if bare {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name`, each part quoted when needed.
pub fn qualified(name: &QualifiedName) -> String {
    format!("{}.{}", ident(&name.schema), ident(&name.name))
}

/// Identifiers, quoted when needed, joined with `, `.
pub fn idents<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| ident(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A string literal: `'...'` with `'` doubled (an `E''` literal when it holds a backslash, so
/// the text means the same whatever `standard_conforming_strings` says).
pub fn literal(value: &str) -> String {
    if value.contains('\\') {
        format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// A column's definition, as in `CREATE TABLE` or `ADD COLUMN`:
/// `name type [COLLATE c] [GENERATED ...] [NOT NULL] [DEFAULT expr]`.
pub fn column_definition(c: &Column) -> String {
    let mut out = format!("{} {}", ident(&c.name), c.data_type);
    if let Some(coll) = &c.collation {
        out.push_str(" COLLATE ");
        out.push_str(&ident(coll));
    }
    if let Some(expr) = &c.generated {
        out.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    }
    if let Some(identity) = c.identity {
        out.push_str(identity_clause(identity));
    }
    if !c.nullable {
        out.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        out.push_str(" DEFAULT ");
        out.push_str(d);
    }
    out
}

/// ` GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY`.
pub fn identity_clause(identity: Identity) -> &'static str {
    match identity {
        Identity::Always => " GENERATED ALWAYS AS IDENTITY",
        Identity::ByDefault => " GENERATED BY DEFAULT AS IDENTITY",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_for_binary_search() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(ident("film_id"), "film_id");
        assert_eq!(ident("x$1"), "x$1");
        assert_eq!(ident("1x"), "\"1x\"");
        assert_eq!(ident("$x"), "\"$x\"");
        assert_eq!(ident("select"), "\"select\"");
        assert_eq!(ident("name"), "name");
        assert_eq!(ident(""), "\"\"");
        assert_eq!(ident("ümlaut"), "\"ümlaut\"");
        assert_eq!(
            qualified(&QualifiedName::new("public", "Order")),
            "public.\"Order\""
        );
    }

    #[test]
    fn literals_keep_quotes_and_backslashes() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(r"a\b"), r"E'a\\b'");
    }

    #[test]
    fn columns_render_every_clause() {
        let c = Column {
            name: "title".into(),
            data_type: "character varying(80)".into(),
            nullable: false,
            default: Some("'untitled'::character varying".into()),
            identity: None,
            generated: None,
            collation: Some("C".into()),
            comment: None,
        };
        assert_eq!(
            column_definition(&c),
            "title character varying(80) COLLATE \"C\" NOT NULL DEFAULT 'untitled'::character varying"
        );
        let id = Column {
            name: "id".into(),
            data_type: "bigint".into(),
            nullable: false,
            default: None,
            identity: Some(Identity::Always),
            generated: None,
            collation: None,
            comment: None,
        };
        assert_eq!(
            column_definition(&id),
            "id bigint GENERATED ALWAYS AS IDENTITY NOT NULL"
        );
    }
}
