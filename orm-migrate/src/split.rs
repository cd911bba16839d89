//! Splitting a script into statements by PostgreSQL's lexical rules (the one scanner of
//! [`orm_postgres::lex`], which the raw-SQL parameter scanner uses too), for revisions that run
//! outside a transaction: each statement is sent on its own, since a multi-statement query
//! string runs as one implicit transaction, which `CREATE INDEX CONCURRENTLY` refuses.
//!
//! A `;` ends a statement except inside a string (`'...'` with `''`, `E'...'` with backslash
//! escapes), a quoted identifier (`"..."`), a dollar-quoted string (`$$...$$`,
//! `$tag$...$tag$`), a comment (`-- ...` to the end of the line, nested `/* ... */`) or
//! parentheses. Not handled: the SQL-standard function bodies `BEGIN ATOMIC ... END` (write
//! such a function with a dollar-quoted body, or in a transactional revision).
//!
//! A line comment `-- @name ...` at the top level, between statements (not inside one, nor
//! inside a string, a dollar quote or a block comment), is a **directive** for the runner
//! ([`items`]): `-- @backfill ...` marks where an [expand](crate::expand) revision's batched
//! backfill runs. Anywhere else such a line is an ordinary comment.

use orm_postgres::lex::{Kind, regions};

/// One statement of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece<'a> {
    /// Its text, without the `;` that ends it, with the comments and spaces around it.
    pub(crate) text: &'a str,
    /// Whether a `;` ended it (the last statement of a script may lack one).
    pub(crate) terminated: bool,
}

/// One item of a script: a statement, or a top-level directive line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item<'a> {
    /// A statement.
    Statement(Piece<'a>),
    /// A directive: the text of a `-- @...` line after the `@`, trimmed.
    Directive(&'a str),
}

/// The statements of `sql`, leaving out those with nothing but whitespace and comments.
/// Directive lines are comments here.
pub(crate) fn statements(sql: &str) -> Vec<Piece<'_>> {
    items(sql)
        .into_iter()
        .filter_map(|item| match item {
            Item::Statement(piece) => Some(piece),
            Item::Directive(_) => None,
        })
        .collect()
}

/// The statements and directives of `sql`, in order, leaving out statements with nothing but
/// whitespace and comments.
pub(crate) fn items(sql: &str) -> Vec<Item<'_>> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut has_code = false;
    for r in regions(sql) {
        match r.kind {
            Kind::Code => {
                for (i, &c) in b.iter().enumerate().take(r.end).skip(r.start) {
                    match c {
                        b'(' => depth += 1,
                        b')' => depth = depth.saturating_sub(1),
                        b';' if depth == 0 => {
                            if has_code {
                                out.push(Item::Statement(Piece {
                                    text: &sql[start..i],
                                    terminated: true,
                                }));
                            }
                            start = i + 1;
                            has_code = false;
                            continue;
                        }
                        _ => {}
                    }
                    if !c.is_ascii_whitespace() {
                        has_code = true;
                    }
                }
            }
            Kind::LineComment => {
                let line = sql[r.start + 2..r.end].trim_end_matches(['\n', '\r']);
                let comment = line.trim_start_matches([' ', '\t']);
                if let Some(directive) = comment.strip_prefix('@').filter(|_| !has_code) {
                    out.push(Item::Directive(directive.trim()));
                    start = r.end;
                }
            }
            Kind::BlockComment => {}
            Kind::String | Kind::QuotedIdent | Kind::DollarString => has_code = true,
        }
    }
    if has_code {
        out.push(Item::Statement(Piece {
            text: &sql[start..],
            terminated: false,
        }));
    }
    out
}

/// Whether `sql` has a last statement that no `;` ends (so that appending text after it
/// needs one).
pub(crate) fn ends_open(sql: &str) -> bool {
    statements(sql).last().is_some_and(|p| !p.terminated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        statements(sql).iter().map(|p| p.text.trim()).collect()
    }

    #[test]
    fn semicolons_split_statements() {
        assert_eq!(
            texts("SELECT 1; SELECT 2;\nSELECT 3"),
            ["SELECT 1", "SELECT 2", "SELECT 3"]
        );
        let pieces = statements("SELECT 1; SELECT 2");
        assert!(pieces[0].terminated);
        assert!(!pieces[1].terminated);
        assert!(ends_open("SELECT 1; SELECT 2 -- no semicolon"));
        assert!(!ends_open("SELECT 1;\n-- trailing comment\n"));
        assert!(!ends_open("  \n-- only a comment\n"));
    }

    #[test]
    fn blank_and_comment_only_pieces_are_dropped() {
        assert_eq!(texts(";; -- c\n; /* x; */ ;SELECT 1;"), ["SELECT 1"]);
        assert!(statements("-- nothing\n/* at all */").is_empty());
    }

    #[test]
    fn semicolons_inside_literals_comments_and_quotes_do_not_split() {
        assert_eq!(
            texts("INSERT INTO t VALUES ('a;b', 'it''s;'); SELECT 2"),
            ["INSERT INTO t VALUES ('a;b', 'it''s;')", "SELECT 2"]
        );
        assert_eq!(
            texts(r"SELECT E'x\';y'; SELECT 2"),
            [r"SELECT E'x\';y'", "SELECT 2"]
        );
        // Without E, a backslash is an ordinary character.
        assert_eq!(
            texts(r"SELECT 'x\'; SELECT 2"),
            [r"SELECT 'x\'", "SELECT 2"]
        );
        assert_eq!(
            texts(r#"SELECT 1 AS "a;""b"; SELECT 2"#),
            [r#"SELECT 1 AS "a;""b""#, "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT 1 -- a; comment\n; /* nested /* ; */ ; */ SELECT 2"),
            ["SELECT 1 -- a; comment", "/* nested /* ; */ ; */ SELECT 2"]
        );
    }

    #[test]
    fn dollar_quotes_hold_semicolons() {
        let f =
            "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$";
        assert_eq!(texts(&format!("{f}; SELECT 2")), [f, "SELECT 2"]);
        let d = "DO $$ BEGIN RAISE EXCEPTION 'irreversible: x'; END $$";
        assert_eq!(texts(&format!("{d};")), [d]);
        // `$1` and `a$b` are not dollar quotes.
        assert_eq!(
            texts("PREPARE p AS SELECT $1; SELECT a$b FROM t"),
            ["PREPARE p AS SELECT $1", "SELECT a$b FROM t"]
        );
    }

    #[test]
    fn directives_are_top_level_comment_lines_between_statements() {
        let sql = "SELECT 1;\n-- @backfill public.t.c key id\nSELECT 2;\n--@ other\n";
        let items = items(sql);
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(items[1], Item::Directive("backfill public.t.c key id"));
        assert_eq!(items[3], Item::Directive("other"));
        assert!(matches!(items[2], Item::Statement(p) if p.text.trim() == "SELECT 2"));
        // Inside a statement, a string, a dollar quote or a block comment: a comment.
        for sql in [
            "SELECT 1,\n-- @backfill x\n2;",
            "SELECT '\n-- @backfill x\n';",
            "DO $$\n-- @backfill x\n$$;",
            "/*\n-- @backfill x\n*/ SELECT 1;",
        ] {
            assert!(
                items_of(sql)
                    .iter()
                    .all(|i| matches!(i, Item::Statement(_))),
                "{sql}"
            );
        }
        assert_eq!(texts("-- @backfill x\nSELECT 1"), ["SELECT 1"]);
    }

    fn items_of(sql: &str) -> Vec<Item<'_>> {
        items(sql)
    }

    #[test]
    fn unterminated_constructs_run_to_the_end() {
        assert_eq!(texts("SELECT 'open; SELECT 2"), ["SELECT 'open; SELECT 2"]);
        assert_eq!(texts("SELECT $$ open; "), ["SELECT $$ open;"]);
        assert_eq!(texts("SELECT 1 /* open; "), ["SELECT 1 /* open;"]);
    }
}
