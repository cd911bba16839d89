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
    q.compile().map(|c| c.sql).map_err(|e| e.to_string())
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
            Piece::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Piece::EStr(s) => format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Piece::Dollar(tag, s) => format!("${tag}${s}${tag}$"),
            Piece::Line(s) => format!("--{s}\n"),
            Piece::Block(s) => format!("/*{s}*/"),
            Piece::Ident(s) => format!("\"{}\"", s.replace('"', "\"\"")),
        }
    }
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
        let sql = pieces.iter().map(Piece::sql).collect::<Vec<_>>().join(" ");
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
        let expected = expected.join(" ");
        let bound: Vec<&str> = names.iter().map(String::as_str).collect();
        prop_assert_eq!(compile(&sql, &bound).map_err(|e| format!("{sql}: {e}")), Ok(expected));
    }
}
