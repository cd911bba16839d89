//! The raw-SQL `:name` scanner follows PostgreSQL's lexical rules: parameters are found in
//! code only, never inside strings (plain, escape, dollar-quoted), quoted identifiers or
//! comments, and `::` casts are not parameters. Cases from the issue, then a law over
//! generated SQL.

#![allow(clippy::unwrap_used)]

use orm_core::raw::query;
use orm_core::stmt::Statement;
use proptest::prelude::*;

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The compiled SQL of `sql` with `names` bound (each to 1).
fn compile(sql: &str, names: &[&str]) -> Result<String, String> {
    let mut q = query::<()>(leak(sql.to_string()));
    for n in names {
        q = q.bind(leak(n.to_string()), 1_i32);
    }
    q.compile()
        .map(|c| c.sql.into_owned())
        .map_err(|e| e.to_string())
}

#[test]
fn text_in_dollar_quotes_is_left_alone() {
    assert_eq!(
        compile("SELECT $$ :v $$, :v", &["v"]).unwrap(),
        "SELECT $$ :v $$, $1"
    );
    assert_eq!(
        compile("SELECT $tag$ :v $x$ :w $tag$, :v", &["v"]).unwrap(),
        "SELECT $tag$ :v $x$ :w $tag$, $1"
    );
}

#[test]
fn escape_strings_end_where_postgresql_ends_them() {
    assert_eq!(
        compile(r"SELECT E'\'', :v", &["v"]).unwrap(),
        r"SELECT E'\'', $1"
    );
    assert_eq!(
        compile(r"SELECT E'a\\', :v", &["v"]).unwrap(),
        r"SELECT E'a\\', $1"
    );
    // A standard string: the backslash is a character, so the string ends at the quote.
    assert_eq!(
        compile(r"SELECT 'a\', :v", &["v"]).unwrap(),
        r"SELECT 'a\', $1"
    );
}

#[test]
fn strings_identifiers_comments_and_casts_hold_no_parameters() {
    let sql = "SELECT ':a', \":b\", 1::int, x::text -- :c\n/* :d /* :e */ */ FROM t WHERE y = :v";
    assert_eq!(
        compile(sql, &["v"]).unwrap(),
        "SELECT ':a', \":b\", 1::int, x::text -- :c\n/* :d /* :e */ */ FROM t WHERE y = $1"
    );
}

#[test]
fn a_continued_string_keeps_its_rules() {
    // `E'a'` newline `'\' :v'`: the continuation is an escape string, so `\'` does not end
    // it and `:v` is text.
    assert_eq!(
        compile("SELECT E'a'\n'\\' :v', :w", &["w"]).unwrap(),
        "SELECT E'a'\n'\\' :v', $1"
    );
    // Over a comment too; a standard string's continuation is standard.
    assert_eq!(
        compile("SELECT 'a' -- :c\n'\\', :v", &["v"]).unwrap(),
        "SELECT 'a' -- :c\n'\\', $1"
    );
    assert_eq!(
        compile("SELECT U&'\\', :v", &["v"]).unwrap(),
        "SELECT U&'\\', $1"
    );
}

#[test]
fn a_parameter_without_a_value_is_named() {
    let e = compile("SELECT :missing", &[]).unwrap_err();
    assert!(e.contains("raw SQL parameter :missing has no value"), "{e}");
}

/// A piece of generated SQL.
#[derive(Debug, Clone)]
enum Piece {
    Param(String),
    Code(String),
    Str(String),
    EStr(String),
    /// `U&'...'`: a quote doubled, backslashes plain.
    UStr(String),
    /// A string continued over line breaks: `E'a'` newline `'b'` (escape rules throughout
    /// when `escape`), the separators whitespace with a line break and `--` comments.
    Continued {
        escape: bool,
        first: String,
        rest: Vec<(String, String)>,
    },
    Dollar(String, String),
    Line(String),
    Block(String),
    Ident(String),
}

impl Piece {
    fn sql(&self) -> String {
        match self {
            Piece::Param(n) => format!(":{n}"),
            Piece::Code(c) => c.clone(),
            Piece::Str(s) => quote(s),
            Piece::EStr(s) => format!("E{}", e_quote(s)),
            Piece::UStr(s) => format!("U&{}", quote(s)),
            Piece::Continued {
                escape,
                first,
                rest,
            } => {
                let q = if *escape { e_quote } else { quote };
                let mut out = if *escape {
                    "E".to_string()
                } else {
                    String::new()
                };
                out.push_str(&q(first));
                for (sep, part) in rest {
                    out.push_str(sep);
                    out.push_str(&q(part));
                }
                out
            }
            Piece::Dollar(tag, s) => format!("${tag}${s}${tag}$"),
            Piece::Line(s) => format!("--{s}\n"),
            Piece::Block(s) => format!("/*{s}*/"),
            Piece::Ident(s) => format!("\"{}\"", s.replace('"', "\"\"")),
        }
    }
}

/// `s` as a standard string constant.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `s` quoted with escape-string rules (without the `E`).
fn e_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The pieces as one text. After a `--` comment (which ends with its line break) comes code,
/// so that two strings around a comment never continue each other by accident.
fn join(pieces: &[String], kinds: &[&Piece]) -> String {
    let mut out = String::new();
    for (i, sql) in pieces.iter().enumerate() {
        if i > 0 {
            out.push_str(match kinds[i - 1] {
                Piece::Line(_) => "; ",
                _ => " ",
            });
        }
        out.push_str(sql);
    }
    out
}

fn re(pattern: &str) -> impl Strategy<Value = String> {
    proptest::string::string_regex(pattern).expect("a regex")
}

fn piece() -> impl Strategy<Value = Piece> {
    // Text with the characters that confuse a naive scanner.
    let text = r"[a-z :'\\$*/;-]{0,12}";
    prop_oneof![
        re("[a-z_][a-z0-9_]{0,6}").prop_map(Piece::Param),
        prop_oneof![
            Just("SELECT".to_string()),
            Just("x::int".to_string()),
            Just("a[1:2]".to_string()),
            Just("$1".to_string()),
            Just("f(a, b)".to_string()),
        ]
        .prop_map(Piece::Code),
        re(text).prop_map(Piece::Str),
        re(text).prop_map(Piece::EStr),
        re(text).prop_map(Piece::UStr),
        (
            any::<bool>(),
            re(text),
            // Whitespace with a line break, `--` comments on either side of it.
            proptest::collection::vec(
                (
                    re(r"[ \t]{0,2}(-- [a-z :'\\$]{0,6})?(\n|\r\n)([ \t\n]{0,2}|-- [a-z :']{0,6}\n){0,2}"),
                    re(text),
                ),
                1..3,
            ),
        )
            .prop_map(|(escape, first, rest)| Piece::Continued {
                escape,
                first,
                rest,
            }),
        (re("(|[a-z_][a-z0-9]{0,3})"), re(r"[a-z :'\\*/;-]{0,12}"))
            .prop_map(|(t, s)| Piece::Dollar(t, s)),
        re(r"[a-z :'\\$;]{0,12}").prop_map(Piece::Line),
        re(r"[a-z :'\\$;]{0,12}").prop_map(Piece::Block),
        re(text).prop_map(Piece::Ident),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Exactly the parameters in code positions become `$n`, numbered in order of first use;
    /// every other byte comes back as it was.
    #[test]
    fn only_code_parameters_are_replaced(pieces in proptest::collection::vec(piece(), 1..12)) {
        let kinds: Vec<&Piece> = pieces.iter().collect();
        let sql = join(&pieces.iter().map(Piece::sql).collect::<Vec<_>>(), &kinds);
        let mut names: Vec<String> = Vec::new();
        let mut expected = Vec::new();
        for p in &pieces {
            match p {
                // A name used again is the same placeholder.
                Piece::Param(n) => match names.iter().position(|m| m == n) {
                    Some(i) => expected.push(format!("${}", i + 1)),
                    None => {
                        names.push(n.clone());
                        expected.push(format!("${}", names.len()));
                    }
                },
                other => expected.push(other.sql()),
            }
        }
        let expected = join(&expected, &kinds);
        let bound: Vec<&str> = names.iter().map(String::as_str).collect();
        prop_assert_eq!(compile(&sql, &bound).map_err(|e| format!("{sql}: {e}")), Ok(expected));
    }
}
