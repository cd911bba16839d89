//! Finding and replacing a column's name in an SQL expression (an index key, a predicate, a
//! conversion), by PostgreSQL's lexical rules: string literals, dollar quotes and comments are
//! left alone, quoted identifiers compare exactly, bare ones case-insensitively. A name right
//! after a `.` (`t.col`, `schema.fn`), after `::` (a type) or right before `(` (a function) is
//! not a column reference and stays.

use orm_postgres::lex::{Kind, Region, is_ident_byte, quoted_name, regions};

/// `expr` with every reference to `column` replaced by `with`, and how many there were.
pub fn replace_column(expr: &str, column: &str, with: &str) -> (String, usize) {
    let mut out = String::with_capacity(expr.len());
    let mut count = 0;
    let mut last = 0;
    for (start, end, name) in references(expr) {
        if name == column {
            out.push_str(&expr[last..start]);
            out.push_str(with);
            last = end;
            count += 1;
        }
    }
    out.push_str(&expr[last..]);
    (out, count)
}

/// Whether `expr` refers to `column`.
pub fn mentions(expr: &str, column: &str) -> bool {
    references(expr).iter().any(|(_, _, name)| name == column)
}

/// The identifiers of `expr` that may be column references: `(start, end, name)` with the
/// name unquoted (bare ones lowercased). Strings, dollar quotes and comments are skipped by the
/// shared lexer ([`orm_postgres::lex`]).
fn references(expr: &str) -> Vec<(usize, usize, String)> {
    let b = expr.as_bytes();
    let regions: Vec<Region> = regions(expr).collect();
    let mut out = Vec::new();
    let mut push = |start: usize, end: usize, name: String| {
        let next = b[end..].iter().find(|c| !c.is_ascii_whitespace());
        let before = expr[..start].trim_end();
        let qualified = before.ends_with('.') || before.ends_with("::");
        if !qualified && next != Some(&b'(') && next != Some(&b'.') {
            out.push((start, end, name));
        }
    };
    for (k, r) in regions.iter().enumerate() {
        match r.kind {
            Kind::QuotedIdent => {
                push(r.start, r.end, quoted_name(expr, r));
            }
            Kind::Code => {
                let mut i = r.start;
                while i < r.end {
                    let c = b[i];
                    let start = i;
                    if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
                        while i < r.end && is_ident_byte(b[i]) {
                            i += 1;
                        }
                        // `E'...'` and the like: the prefix of the string that follows.
                        let prefix = i == r.end
                            && i - start == 1
                            && regions.get(k + 1).is_some_and(|n| n.kind == Kind::String);
                        if !prefix {
                            push(start, i, expr[start..i].to_lowercase());
                        }
                    } else if c.is_ascii_digit() {
                        while i < r.end && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                            i += 1;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_quoted_references_are_replaced() {
        assert_eq!(
            replace_column("lower((name)::text)", "name", "full_name"),
            ("lower((full_name)::text)".to_owned(), 1)
        );
        assert_eq!(
            replace_column("\"Name\" || Name || name", "Name", "x"),
            ("x || Name || name".to_owned(), 1)
        );
        assert_eq!(
            replace_column("NAME <> ''", "name", "\"N\""),
            ("\"N\" <> ''".to_owned(), 1)
        );
        assert_eq!(
            replace_column("price::numeric / 100", "price", "(0)"),
            ("(0)::numeric / 100".to_owned(), 1)
        );
    }

    #[test]
    fn literals_functions_types_and_qualified_names_stay() {
        for expr in [
            "'name'",
            "E'\\'name'",
            "$$name$$",
            "$t$ name $t$",
            "name(1)",
            "x::name",
            "t.name",
            "name.x",
            "-- name\n1",
            "/* name */ 1",
        ] {
            assert!(!mentions(expr, "name"), "{expr}");
        }
        assert!(mentions("coalesce(name, 'x')", "name"));
        assert!(mentions("(name)::text", "name"));
        assert!(mentions("a + $1 + name", "name"));
        // An unterminated quoted name (an edited revision header) runs to the end.
        assert!(mentions("lower(\"é", "é"));
        assert!(!mentions("lower(\"é", "x"));
        assert_eq!(replace_column("\"名", "名", "n"), ("n".to_owned(), 1));
    }
}
