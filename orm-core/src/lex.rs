//! PostgreSQL's lexical rules, as far as anything that scans SQL text needs them: where the
//! code is, and where the strings, quoted identifiers, dollar quotes and comments are, whose
//! contents must never be read as code.
//!
//! One scanner serves every reader of SQL text: the raw-SQL parameter scanner (`:name` only in
//! code) and the migration runner's statement splitter (`;` only in code).
//!
//! ```
//! use orm_core::lex::{Kind, regions};
//!
//! let sql = "SELECT ':no', $$ :no $$ -- :no\n, :yes";
//! let kinds: Vec<(Kind, &str)> = regions(sql).map(|r| (r.kind, &sql[r.start..r.end])).collect();
//! assert_eq!(kinds[1], (Kind::String, "':no'"));
//! assert_eq!(kinds[3], (Kind::DollarString, "$$ :no $$"));
//! assert_eq!(kinds[5], (Kind::LineComment, "-- :no\n"));
//! assert_eq!(kinds[6], (Kind::Code, ", :yes"));
//! ```
//!
//! The rules, as PostgreSQL's scanner has them (with `standard_conforming_strings` on, the
//! default since 9.1):
//! - `'...'` is a string, a quote inside doubled (`''`); backslashes are plain characters.
//!   `E'...'` (or `e'...'`, the letter not part of a longer word) also takes backslash escapes
//!   (`\'`). `U&'...'`, `B'...'`, `X'...'` are strings with the quote rule of `'...'`.
//! - A string continues past its closing quote when only whitespace with at least one line
//!   break (and `--` comments) stands before the next quote: `'a'` newline `'b'` is the one
//!   string `'ab'`, and the continuation keeps the rules of the string it continues (after
//!   `E'a'` newline, `'\' :v'` is still an escape string). The whole run, the whitespace and
//!   comments between its parts included, is one [`Kind::String`] region.
//! - `"..."` is a quoted identifier, a quote inside doubled.
//! - `$tag$...$tag$` is a dollar-quoted string: the tag is empty or an identifier that does
//!   not start with a digit, and a `$` that continues a word (`a$b`) or starts a parameter
//!   (`$1`) opens nothing.
//! - `--` comments run to the end of the line (a line feed or a carriage return); `/* ... */` comments nest.
//!
//! An unterminated string, identifier, dollar quote or comment runs to the end of the text.

/// What a region of SQL text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Code: keywords, names, operators, numbers, casts, parameters.
    Code,
    /// A string constant, its quotes included.
    String,
    /// A quoted identifier, its quotes included.
    QuotedIdent,
    /// A dollar-quoted string, its tags included.
    DollarString,
    /// A `--` comment, its line end included.
    LineComment,
    /// A `/* ... */` comment (nested ones inside).
    BlockComment,
}

/// A region: its kind and byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// What it is.
    pub kind: Kind,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// The regions of `sql`, in order, covering every byte; code regions are never empty.
pub fn regions(sql: &str) -> Regions<'_> {
    Regions {
        b: sql.as_bytes(),
        i: 0,
        pending: None,
    }
}

/// The name a [`Kind::QuotedIdent`] region of `sql` spells: its quotes removed and each
/// doubled quote made one. An unterminated identifier runs to the end of the text, its last
/// character kept (whatever it is: the text is cut only at quotes, so never inside a
/// character).
///
/// ```
/// use orm_core::lex::{quoted_name, regions};
///
/// let sql = r#"SELECT "a""b", "ü"#;
/// let names: Vec<String> = regions(sql)
///     .filter(|r| r.kind == orm_core::lex::Kind::QuotedIdent)
///     .map(|r| quoted_name(sql, &r))
///     .collect();
/// assert_eq!(names, [r#"a"b"#, "ü"]);
/// ```
pub fn quoted_name(sql: &str, region: &Region) -> String {
    let mut rest = sql.get(region.start + 1..region.end).unwrap_or("");
    let mut name = String::with_capacity(rest.len());
    while let Some(q) = rest.find('"') {
        name.push_str(&rest[..q]);
        match rest[q + 1..].strip_prefix('"') {
            Some(after) => {
                name.push('"');
                rest = after;
            }
            // The closing quote.
            None => return name,
        }
    }
    name.push_str(rest);
    name
}

/// The iterator of [`regions`].
#[derive(Debug, Clone)]
pub struct Regions<'a> {
    b: &'a [u8],
    i: usize,
    /// A quoted region found after a code region, to return next.
    pending: Option<Region>,
}

impl Iterator for Regions<'_> {
    type Item = Region;

    fn next(&mut self) -> Option<Region> {
        if let Some(r) = self.pending.take() {
            return Some(r);
        }
        let b = self.b;
        let code_start = self.i;
        let mut i = self.i;
        while i < b.len() {
            if let Some((kind, end)) = quoted_at(b, i) {
                self.i = end;
                let quoted = Region {
                    kind,
                    start: i,
                    end,
                };
                if i == code_start {
                    return Some(quoted);
                }
                self.pending = Some(quoted);
                return Some(Region {
                    kind: Kind::Code,
                    start: code_start,
                    end: i,
                });
            }
            i += 1;
        }
        self.i = b.len();
        (code_start < b.len()).then_some(Region {
            kind: Kind::Code,
            start: code_start,
            end: b.len(),
        })
    }
}

/// Whether `c` continues a word (an identifier or keyword).
pub fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// The non-code region starting at `i`, if one does, and where it ends.
fn quoted_at(b: &[u8], i: usize) -> Option<(Kind, usize)> {
    let c = b[i];
    let next = b.get(i + 1).copied();
    let prev = i.checked_sub(1).map(|p| b[p]);
    match c {
        b'-' if next == Some(b'-') => {
            // The comment ends at a line feed or a carriage return, as the server's does.
            let end = b[i..]
                .iter()
                .position(|&x| x == b'\n' || x == b'\r')
                .map_or(b.len(), |p| i + p + 1);
            Some((Kind::LineComment, end))
        }
        b'/' if next == Some(b'*') => Some((Kind::BlockComment, skip_block_comment(b, i))),
        b'\'' => {
            // E'...' takes backslash escapes when the E is a word of its own.
            let escapes = matches!(prev, Some(b'e' | b'E')) && (i < 2 || !is_ident_byte(b[i - 2]));
            let mut end = skip_string(b, i, escapes);
            while let Some(quote) = continuation(b, end) {
                end = skip_string(b, quote, escapes);
            }
            Some((Kind::String, end))
        }
        b'"' => Some((Kind::QuotedIdent, skip_quoted(b, i))),
        b'$' if !prev.is_some_and(is_ident_byte) => {
            let tag_len = dollar_tag(&b[i..])?;
            Some((Kind::DollarString, skip_dollar(b, i, tag_len)))
        }
        _ => None,
    }
}

/// The end of the `/* ... */` comment (nested) starting at `i`.
fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// The end of the string opening at `i`; with `escapes`, a backslash escapes the next byte.
fn skip_string(b: &[u8], mut i: usize, escapes: bool) -> usize {
    i += 1;
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

/// Where a string that ended at `i` continues: the position of the next quote, when only
/// whitespace holding a line break and `--` comments come before it (the scanner's
/// `quotecontinue`: `{horiz_whitespace}*{newline}{special_whitespace}*{quote}`).
fn continuation(b: &[u8], mut i: usize) -> Option<usize> {
    let mut newline = false;
    loop {
        match *b.get(i)? {
            // `\v` is whitespace from PostgreSQL 16 on (before, it is a syntax error anyway).
            b' ' | b'\t' | b'\x0b' | b'\x0c' => i += 1,
            b'\n' | b'\r' => {
                newline = true;
                i += 1;
            }
            // A comment runs to the line break, which the next turn reads.
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i += b[i..].iter().position(|&c| c == b'\n' || c == b'\r')?;
            }
            b'\'' if newline => return Some(i),
            _ => return None,
        }
    }
}

/// The end of the quoted identifier opening at `i` (the quote doubled inside).
fn skip_quoted(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        if b[i] == b'"' {
            if b.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// The length of the dollar-quote tag (`$$` or `$tag$`) at the start of `b`, if it is one.
fn dollar_tag(b: &[u8]) -> Option<usize> {
    let mut j = 1;
    while j < b.len() {
        let c = b[j];
        if c == b'$' {
            return Some(j + 1);
        }
        let ok = if j == 1 {
            c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
        } else {
            c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
        };
        if !ok {
            return None;
        }
        j += 1;
    }
    None
}

/// The end of the dollar-quoted string whose tag (of `tag_len` bytes) starts at `i`.
fn skip_dollar(b: &[u8], i: usize, tag_len: usize) -> usize {
    let tag = &b[i..i + tag_len];
    let body = i + tag_len;
    b[body..]
        .windows(tag_len)
        .position(|w| w == tag)
        .map_or(b.len(), |p| body + p + tag_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(Kind, &str)> {
        regions(sql)
            .map(|r| (r.kind, &sql[r.start..r.end]))
            .collect()
    }

    #[test]
    fn each_construct_is_one_region() {
        use Kind::*;
        assert_eq!(
            kinds(
                r#"a 'it''s' E'\'' "q""x" $t$ $ $t$ -- c
/* a /* b */ c */ $1 x$y"#
            ),
            vec![
                (Code, "a "),
                (String, "'it''s'"),
                (Code, " E"),
                (String, r"'\''"),
                (Code, " "),
                (QuotedIdent, r#""q""x""#),
                (Code, " "),
                (DollarString, "$t$ $ $t$"),
                (Code, " "),
                (LineComment, "-- c\n"),
                (BlockComment, "/* a /* b */ c */"),
                (Code, " $1 x$y"),
            ]
        );
    }

    #[test]
    fn a_backslash_escapes_only_in_an_e_string() {
        // Standard strings: the backslash is a character, the quote ends the string.
        assert_eq!(kinds(r"'a\' :x")[0], (Kind::String, r"'a\'"));
        // `e` inside a word does not make an escape string: `one'...'` is a word and a string.
        assert_eq!(kinds(r"one'a\' :x")[1], (Kind::String, r"'a\'"));
        assert_eq!(kinds(r"E'a\' :x'")[1], (Kind::String, r"'a\' :x'"));
    }

    #[test]
    fn a_string_continues_across_a_line_break() {
        use Kind::*;
        // The continuation keeps the escape rules: `\'` does not end it, so `:v` is inside.
        let sql = "E'a'\n'\\' :v' :w";
        assert_eq!(
            kinds(sql),
            vec![(Code, "E"), (String, "'a'\n'\\' :v'"), (Code, " :w")]
        );
        // Spaces and `--` comments around the line break, in any number.
        let sql = "'a' -- c\n  -- d\n\t'b' x";
        assert_eq!(
            kinds(sql),
            vec![(String, "'a' -- c\n  -- d\n\t'b'"), (Code, " x")]
        );
        assert_eq!(
            kinds("'a'\r\n'b'\n\n'c'"),
            vec![(String, "'a'\r\n'b'\n\n'c'")]
        );
        assert_eq!(
            kinds("U&'a'\n'b'"),
            vec![(Code, "U&"), (String, "'a'\n'b'")]
        );
        // Without a line break, or with anything but whitespace and `--` comments between,
        // the strings are two (a syntax error the server reports).
        assert_eq!(
            kinds("'a' 'b'"),
            vec![(String, "'a'"), (Code, " "), (String, "'b'")]
        );
        assert_eq!(
            kinds("'a' /* c */\n'b'"),
            vec![
                (String, "'a'"),
                (Code, " "),
                (BlockComment, "/* c */"),
                (Code, "\n"),
                (String, "'b'")
            ]
        );
        assert_eq!(kinds("'a'\n-- c")[0], (String, "'a'"));
        // A standard string's continuation is standard: the backslash is a character.
        assert_eq!(kinds("'a'\n'\\' :v")[0], (String, "'a'\n'\\'"));
    }

    #[test]
    fn a_line_comment_ends_at_a_carriage_return() {
        assert_eq!(
            kinds("-- c\r:v"),
            vec![(Kind::LineComment, "-- c\r"), (Kind::Code, ":v")]
        );
    }

    #[test]
    fn a_quoted_name_is_read_whole_even_unterminated() {
        let names = |sql: &str| -> Vec<String> {
            regions(sql)
                .filter(|r| r.kind == Kind::QuotedIdent)
                .map(|r| quoted_name(sql, &r))
                .collect()
        };
        assert_eq!(names(r#""q""x" """#), [r#"q"x"#, ""]);
        // Unterminated, ending in a character of several bytes, or in a doubled quote.
        assert_eq!(names("SELECT \"ü"), ["ü"]);
        assert_eq!(names("\"名"), ["名"]);
        assert_eq!(names("\"a\"\""), ["a\""]);
        assert_eq!(names("\""), [""]);
    }

    proptest::proptest! {
        /// Any text: every quoted identifier's name is read without a panic; a name quoted
        /// the way PostgreSQL quotes it reads back as itself.
        #[test]
        fn quoted_names_round_trip(text in "[a\"'$é名/* -]{0,24}", name in "[a\"é名 ]{0,12}") {
            for r in regions(&text).filter(|r| r.kind == Kind::QuotedIdent) {
                let _ = quoted_name(&text, &r);
            }
            let quoted = format!("x \"{}\" y", name.replace('"', "\"\""));
            let read = regions(&quoted)
                .find(|r| r.kind == Kind::QuotedIdent)
                .map(|r| quoted_name(&quoted, &r));
            proptest::prop_assert_eq!(read, Some(name));
        }
    }

    #[test]
    fn unterminated_regions_run_to_the_end() {
        for sql in ["'abc", "\"abc", "$q$ abc", "/* abc", "-- abc"] {
            let r: Vec<_> = regions(sql).collect();
            assert_eq!(r.len(), 1, "{sql}");
            assert_eq!((r[0].start, r[0].end), (0, sql.len()), "{sql}");
        }
    }
}
