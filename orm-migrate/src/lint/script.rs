//! A script cut into statements, each with its line, its silences and its parse.
//!
//! Statements are cut by PostgreSQL's lexical rules ([`split`](crate::split)) and each is
//! parsed on its own with sqlparser's PostgreSQL dialect, so one statement the parser does not
//! know costs only that statement. The comment lines just above a statement may silence rules
//! for it: `-- lint: allow <rule>[, <rule>]: <reason>`.

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use orm_postgres::lex::{Kind, regions};

use super::rules::Rule;

/// One statement of a script.
pub(crate) struct Stmt<'a> {
    /// The line (1-based) its code starts on.
    pub(crate) line: usize,
    /// Its text, without the comments above it and the `;`.
    pub(crate) text: &'a str,
    /// The rules its comments silence, with the reason.
    pub(crate) silences: Vec<(Rule, String)>,
    /// Silence comments that name no known rule or give no reason: (line, what is wrong).
    pub(crate) bad_silences: Vec<(usize, String)>,
    /// The parse, or the parser's complaint.
    pub(crate) parsed: Result<Statement, String>,
    /// `CONCURRENTLY` appears as a keyword (also in statements the parser does not know).
    pub(crate) concurrently: bool,
}

/// The statements of `sql`.
pub(crate) fn statements(sql: &str) -> Vec<Stmt<'_>> {
    let base = sql.as_ptr() as usize;
    // The lines before the statement, counted on from the last one: the pieces come in order,
    // and a script of many statements is read once, not once per statement.
    let mut lines = Lines {
        sql,
        at: 0,
        before: 0,
    };
    crate::split::statements(sql)
        .into_iter()
        .map(|piece| {
            let offset = piece.text.as_ptr() as usize - base;
            let code = code_start(piece.text);
            let text = piece.text[code..].trim_end();
            let comment_line = 1 + lines.before(offset);
            let line = 1 + lines.before(offset + code);
            let (silences, bad_silences) = silences(&piece.text[..code], comment_line);
            let concurrently = has_keyword(text, Keyword::CONCURRENTLY);
            Stmt {
                line,
                text,
                silences,
                bad_silences,
                parsed: parse(text),
                concurrently,
            }
        })
        .collect()
}

/// Counts the line breaks of a script up to an offset, going on from the last offset asked.
struct Lines<'a> {
    sql: &'a str,
    /// The offset counted up to, and the line breaks before it.
    at: usize,
    before: usize,
}

impl Lines<'_> {
    /// The line breaks before byte `offset` (counted from the start again for an offset
    /// before the last one).
    fn before(&mut self, offset: usize) -> usize {
        if offset < self.at {
            self.at = 0;
            self.before = 0;
        }
        let more = self.sql.as_bytes().get(self.at..offset).unwrap_or_default();
        self.before += more.iter().filter(|&&b| b == b'\n').count();
        self.at = offset;
        self.before
    }
}

/// The statement collapsed to one line, shortened to `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() <= max {
        return words;
    }
    let cut: String = words.chars().take(max.saturating_sub(3)).collect();
    format!("{cut}...")
}

fn parse(text: &str) -> Result<Statement, String> {
    let dialect = PostgreSqlDialect {};
    match Parser::parse_sql(&dialect, text) {
        Ok(mut v) if v.len() == 1 => Ok(v.remove(0)),
        Ok(v) => Err(format!("{} statements where one was expected", v.len())),
        Err(e) => {
            // sqlparser does not know `DROP INDEX CONCURRENTLY`; the statement parses without
            // the keyword, and `Stmt::concurrently` keeps it.
            if let Some(without) = drop_index_without_concurrently(text) {
                if let Ok(mut v) = Parser::parse_sql(&dialect, &without) {
                    if v.len() == 1 {
                        return Ok(v.remove(0));
                    }
                }
            }
            Err(e.to_string())
        }
    }
}

/// The tokens of a statement, without whitespace and comments (empty when it does not lex).
fn tokens(text: &str) -> Vec<Token> {
    Tokenizer::new(&PostgreSqlDialect {}, text)
        .tokenize()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect()
}

fn has_keyword(text: &str, keyword: Keyword) -> bool {
    tokens(text)
        .iter()
        .any(|t| matches!(t, Token::Word(w) if w.keyword == keyword && w.quote_style.is_none()))
}

/// `DROP INDEX CONCURRENTLY rest` as `DROP INDEX rest`.
fn drop_index_without_concurrently(text: &str) -> Option<String> {
    let toks = tokens(text);
    let kw = |i: usize, k: Keyword| matches!(toks.get(i), Some(Token::Word(w)) if w.keyword == k && w.quote_style.is_none());
    if !(kw(0, Keyword::DROP) && kw(1, Keyword::INDEX) && kw(2, Keyword::CONCURRENTLY)) {
        return None;
    }
    let rest: String = toks[3..].iter().map(|t| format!("{t} ")).collect();
    Some(format!("DROP INDEX {rest}"))
}

/// Where the code of a piece starts: after the whitespace and comments above it.
fn code_start(text: &str) -> usize {
    for r in regions(text) {
        match r.kind {
            Kind::LineComment | Kind::BlockComment => {}
            Kind::Code => {
                if let Some(p) = text[r.start..r.end].find(|c: char| !c.is_whitespace()) {
                    return r.start + p;
                }
            }
            _ => return r.start,
        }
    }
    text.len()
}

type Silences = (Vec<(Rule, String)>, Vec<(usize, String)>);

/// The `-- lint: allow ...` comments among the lines above a statement.
fn silences(comments: &str, first_line: usize) -> Silences {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in comments.lines().enumerate() {
        let Some(body) = line.trim().strip_prefix("--") else {
            continue;
        };
        let Some(rest) = body.trim().strip_prefix("lint:") else {
            continue;
        };
        let line_no = first_line + n;
        let Some(rest) = rest.trim().strip_prefix("allow") else {
            bad.push((line_no, format!("`{}`: expected `allow`", line.trim())));
            continue;
        };
        let (names, reason) = match rest.split_once(':') {
            Some((names, reason)) if !reason.trim().is_empty() => (names, reason.trim()),
            _ => {
                bad.push((line_no, format!("`{}` gives no reason", line.trim())));
                continue;
            }
        };
        for name in names.split(',').map(str::trim) {
            match Rule::from_name(name) {
                Some(rule) => ok.push((rule, reason.to_string())),
                None => bad.push((line_no, format!("`{name}` is not a rule"))),
            }
        }
    }
    (ok, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_point_at_the_code_not_the_comments_above() {
        let sql = "-- a comment\n\nCREATE TABLE a (id int);\n-- lint: allow index-not-concurrent: tiny\nCREATE INDEX i ON a (id);\nSELECT 1";
        let s = statements(sql);
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].line, s[1].line, s[2].line), (3, 5, 6));
        assert_eq!(s[1].text, "CREATE INDEX i ON a (id)");
        assert_eq!(
            s[1].silences,
            vec![(Rule::IndexNotConcurrent, "tiny".to_string())]
        );
        assert!(s.iter().all(|s| s.parsed.is_ok()));
    }

    #[test]
    fn bad_silences_are_kept_with_their_line() {
        let sql = "-- lint: allow index-not-concurrent\n-- lint: allow no-such-rule: why\n-- lint: deny x\nSELECT 1;";
        let s = statements(sql);
        let lines: Vec<usize> = s[0].bad_silences.iter().map(|b| b.0).collect();
        assert_eq!(lines, vec![1, 2, 3]);
        assert!(s[0].silences.is_empty());
    }

    #[test]
    fn drop_index_concurrently_parses_and_keeps_the_keyword() {
        let s = statements("DROP INDEX CONCURRENTLY public.users_name_idx;");
        assert!(s[0].concurrently);
        assert!(matches!(
            s[0].parsed,
            Ok(Statement::Drop { ref names, .. }) if names[0].to_string() == "public.users_name_idx"
        ));
        let s = statements("CREATE TABLE \"concurrently\" (id int)");
        assert!(!s[0].concurrently);
    }

    #[test]
    fn one_line_collapses_and_shortens() {
        assert_eq!(
            one_line("ALTER  TABLE\n  t\tADD x", 100),
            "ALTER TABLE t ADD x"
        );
        assert_eq!(one_line("abcdefghij", 8), "abcde...");
    }
}
