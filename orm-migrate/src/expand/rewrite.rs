//! Finding and replacing a column's name in an SQL expression (an index key, a predicate, a
//! conversion), by PostgreSQL's lexical rules: string literals, dollar quotes and comments are
//! left alone, quoted identifiers compare exactly, bare ones case-insensitively. A name right
//! after a `.` (`t.col`, `schema.fn`), after `::` (a type) or right before `(` (a function) is
//! not a column reference and stays.

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
/// name unquoted (bare ones lowercased).
fn references(expr: &str) -> Vec<(usize, usize, String)> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let name = match c {
            b'\'' => {
                i = skip_to(b, i + 1, b'\'', true);
                None
            }
            b'"' => {
                i = skip_to(b, i + 1, b'"', true);
                let inner = &expr[start + 1..i.saturating_sub(1).max(start + 1)];
                Some(inner.replace("\"\"", "\""))
            }
            b'$' if dollar_tag(&b[i..]).is_some() => {
                let tag_len = dollar_tag(&b[i..]).unwrap_or(1);
                let tag = &b[i..i + tag_len];
                let body = i + tag_len;
                i = b[body..]
                    .windows(tag_len)
                    .position(|w| w == tag)
                    .map_or(b.len(), |p| body + p + tag_len);
                None
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = b[i..]
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(b.len(), |p| i + p + 2);
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (is_ident_byte(b[i])) {
                    i += 1;
                }
                // `E'...'` and the like: a string literal with a prefix.
                if b.get(i) == Some(&b'\'') && i - start == 1 {
                    let escapes = matches!(b[start], b'e' | b'E');
                    i = skip_string(b, i + 1, escapes);
                    None
                } else {
                    Some(expr[start..i].to_lowercase())
                }
            }
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            c if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                None
            }
            _ => {
                i += 1;
                None
            }
        };
        if let Some(name) = name {
            let next = b[i..].iter().find(|c| !c.is_ascii_whitespace());
            let before = expr[..start].trim_end();
            let qualified = before.ends_with('.') || before.ends_with("::");
            if !qualified && next != Some(&b'(') && next != Some(&b'.') {
                out.push((start, i, name));
            }
        }
    }
    out
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// The index after the closing quote of a string literal whose body starts at `i`; with
/// `escapes` (`E'...'`), a backslash escapes the next byte.
fn skip_string(b: &[u8], mut i: usize, escapes: bool) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' if escapes => i += 2,
            b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The index after the closing `quote` of a string or quoted identifier whose body starts at
/// `i` (a doubled quote stays inside; backslashes are ordinary).
fn skip_to(b: &[u8], mut i: usize, quote: u8, doubled: bool) -> usize {
    while i < b.len() {
        if b[i] == quote {
            if doubled && b.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// The length of the dollar-quote tag at the start of `b`, if it is one.
fn dollar_tag(b: &[u8]) -> Option<usize> {
    let end = b[1..].iter().position(|&c| c == b'$')? + 1;
    let tag = &b[1..end];
    let ok = tag.first().is_none_or(|c| !c.is_ascii_digit())
        && tag.iter().all(|&c| is_ident_byte(c) && c != b'$');
    ok.then_some(end + 1)
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
    }
}
