//! Which tables a statement writes, read from its SQL text: the targets of `INSERT INTO`,
//! `UPDATE`, `DELETE FROM`, `MERGE INTO`, `COPY ... FROM`, `TRUNCATE`, `ALTER TABLE` and
//! `DROP TABLE`, at any depth (a data-modifying CTE too). Text rather than the AST, so that one
//! reader covers every statement sent: Core and session writes, the flush's cached SQL, `COPY`,
//! raw SQL and scripts.
//!
//! Scanned with PostgreSQL's lexical rules ([`orm_core::lex`]): names inside strings, dollar
//! quotes and comments are never read. A statement whose first word may write without naming
//! a table here (`CALL`, `DO`, `EXECUTE`, an unknown command) writes [`Written::all`]; a
//! `SELECT` calling a function that writes is not seen (the documented limit, with writes by
//! other programs, that a time to live bounds).

use orm_core::lex::{self, Kind};

/// Tables written (bare names, without schema: a name written in two schemas invalidates
/// both, never neither).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    /// The tables.
    pub tables: Vec<Box<str>>,
    /// Possibly any table.
    pub all: bool,
}

impl Written {
    /// Every table.
    pub(crate) fn everything() -> Self {
        Written {
            tables: Vec::new(),
            all: true,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.all && self.tables.is_empty()
    }

    fn add(&mut self, name: &str) {
        if !self.tables.iter().any(|t| &**t == name) {
            self.tables.push(name.into());
        }
    }

    /// Adds what `other` writes.
    pub(crate) fn merge(&mut self, other: Written) {
        self.all |= other.all;
        for t in other.tables {
            self.add(&t);
        }
    }

    /// Whether any of `tables` is written.
    pub(crate) fn touches<'a>(&self, mut tables: impl Iterator<Item = &'a str>) -> bool {
        self.all || tables.any(|t| self.tables.iter().any(|w| &**w == t))
    }
}

/// A token of SQL code: a word (keyword or unquoted name, lowercased), a quoted identifier
/// (as written, quotes removed) or a punctuation byte.
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Punct(u8),
}

fn tokens(sql: &str) -> Vec<Token> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    for r in lex::regions(sql) {
        match r.kind {
            Kind::QuotedIdent => {
                out.push(Token::Quoted(lex::quoted_name(sql, &r)));
            }
            Kind::Code => {
                let mut i = r.start;
                while i < r.end {
                    let c = b[i];
                    if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
                        let start = i;
                        while i < r.end
                            && (b[i].is_ascii_alphanumeric()
                                || b[i] == b'_'
                                || b[i] == b'$'
                                || b[i] >= 0x80)
                        {
                            i += 1;
                        }
                        out.push(Token::Word(sql[start..i].to_lowercase()));
                    } else if c.is_ascii_whitespace() {
                        i += 1;
                    } else if c.is_ascii_digit() || c == b'$' {
                        // Numbers and parameters: no table name starts with them.
                        while i < r.end && (b[i].is_ascii_alphanumeric() || b[i] == b'$') {
                            i += 1;
                        }
                        out.push(Token::Punct(b'0'));
                    } else {
                        out.push(Token::Punct(c));
                        i += 1;
                    }
                }
            }
            // Strings, comments: a value, as far as names go.
            _ => out.push(Token::Punct(b'\'')),
        }
    }
    out
}

fn is_word(t: Option<&Token>, w: &str) -> bool {
    matches!(t, Some(Token::Word(x)) if x == w)
}

/// The commands that write no table (or only ones this process cannot have cached results
/// of: `CREATE`), as a statement's first word.
const READS: [&str; 20] = [
    "select",
    "with",
    "values",
    "table",
    "show",
    "set",
    "reset",
    "begin",
    "start",
    "commit",
    "end",
    "rollback",
    "savepoint",
    "release",
    "create",
    "listen",
    "unlisten",
    "notify",
    "explain",
    "prepare",
];

/// The tables `sql` writes.
pub(crate) fn written(sql: &str) -> Written {
    let toks = tokens(sql);
    let mut out = Written::default();
    // Each statement of a script: its first word decides whether an unknown command writes.
    let mut first = true;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if let Token::Punct(b';') = t {
            first = true;
            i += 1;
            continue;
        }
        let Token::Word(w) = t else {
            first = false;
            i += 1;
            continue;
        };
        let prev = if i == 0 { None } else { toks.get(i - 1) };
        let target = match w.as_str() {
            "insert" | "merge" if is_word(toks.get(i + 1), "into") => Some(i + 2),
            "delete" if is_word(toks.get(i + 1), "from") => Some(i + 2),
            // Not `FOR UPDATE`, `FOR NO KEY UPDATE`, `DO UPDATE`, `ON UPDATE` (a foreign key),
            // `WHEN MATCHED THEN UPDATE` (the target came with `MERGE INTO`).
            "update"
                if !(is_word(prev, "for")
                    || is_word(prev, "key")
                    || is_word(prev, "do")
                    || is_word(prev, "on")
                    || is_word(prev, "then")) =>
            {
                Some(i + 1)
            }
            "truncate" => {
                let mut j = i + 1;
                if is_word(toks.get(j), "table") {
                    j += 1;
                }
                // A list of tables.
                loop {
                    match table_name(&toks, j) {
                        Some((name, next)) => {
                            out.add(&name);
                            if matches!(toks.get(next), Some(Token::Punct(b','))) {
                                j = next + 1;
                                continue;
                            }
                        }
                        None => out.all = true,
                    }
                    break;
                }
                first = false;
                i = j + 1;
                continue;
            }
            "alter" | "drop" if is_word(toks.get(i + 1), "table") => {
                let mut j = i + 2;
                if is_word(toks.get(j), "if") {
                    j += 2; // IF [NOT] EXISTS: `if exists`
                    if is_word(toks.get(j - 1), "not") {
                        j += 1;
                    }
                }
                Some(j)
            }
            "copy" => match table_name(&toks, i + 1) {
                Some((name, mut next)) => {
                    // An optional column list.
                    if matches!(toks.get(next), Some(Token::Punct(b'('))) {
                        while next < toks.len() && !matches!(toks[next], Token::Punct(b')')) {
                            next += 1;
                        }
                        next += 1;
                    }
                    if is_word(toks.get(next), "from") {
                        out.add(&name);
                    }
                    first = false;
                    i = next;
                    continue;
                }
                // `COPY (query) TO`: a read.
                None => None,
            },
            other if first && !READS.contains(&other) => {
                out.all = true;
                None
            }
            _ => None,
        };
        first = false;
        if let Some(j) = target {
            match table_name(&toks, j) {
                Some((name, next)) => {
                    out.add(&name);
                    i = next;
                    continue;
                }
                None => out.all = true,
            }
        }
        i += 1;
    }
    out
}

/// The bare name of the table at `toks[j]` (`[ONLY] [schema.]name`), and the index after it.
fn table_name(toks: &[Token], mut j: usize) -> Option<(String, usize)> {
    if is_word(toks.get(j), "only") {
        j += 1;
    }
    let mut name = match toks.get(j)? {
        Token::Word(w) => w.clone(),
        Token::Quoted(q) => q.clone(),
        Token::Punct(_) => return None,
    };
    j += 1;
    while matches!(toks.get(j), Some(Token::Punct(b'.'))) {
        name = match toks.get(j + 1)? {
            Token::Word(w) => w.clone(),
            Token::Quoted(q) => q.clone(),
            Token::Punct(_) => return None,
        };
        j += 2;
    }
    Some((name, j))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> (Vec<String>, bool) {
        let w = written(sql);
        (w.tables.iter().map(|t| t.to_string()).collect(), w.all)
    }

    #[test]
    fn library_statements() {
        assert_eq!(
            names(r#"INSERT INTO "users" ("name") VALUES ($1) RETURNING "users"."id""#),
            (vec!["users".into()], false)
        );
        assert_eq!(
            names(r#"UPDATE "app"."Orders" SET "total" = $1 FROM "users" WHERE "users"."id" = $2"#),
            (vec!["Orders".into()], false)
        );
        assert_eq!(
            names(r#"DELETE FROM "users" WHERE "users"."id" = ANY($1)"#),
            (vec!["users".into()], false)
        );
        assert_eq!(
            names(r#"INSERT INTO "t" ("a") VALUES ($1) ON CONFLICT ("a") DO UPDATE SET "a" = 1"#),
            (vec!["t".into()], false)
        );
        assert_eq!(
            names(r#"COPY "t" ("a", "b") FROM STDIN BINARY"#),
            (vec!["t".into()], false)
        );
    }

    #[test]
    fn reads_write_nothing() {
        for sql in [
            r#"SELECT "users"."id" FROM "users" FOR UPDATE"#,
            r#"SELECT "t"."a" FROM "t" FOR NO KEY UPDATE SKIP LOCKED"#,
            "BEGIN ISOLATION LEVEL SERIALIZABLE",
            "COMMIT",
            "SELECT pg_notify($1, $2)",
            "SELECT 'DELETE FROM users' -- UPDATE users\n",
            "COPY (SELECT 1) TO STDOUT",
            "CREATE TABLE t (a int REFERENCES u ON UPDATE CASCADE ON DELETE CASCADE)",
            "SAVEPOINT orm_sp_1",
        ] {
            assert_eq!(names(sql), (vec![], false), "{sql}");
        }
    }

    #[test]
    fn an_unterminated_quoted_name_is_read_to_the_end() {
        // The server refuses these; reading them must not fail first (a multi-byte last
        // character once cut the text inside it).
        assert_eq!(names("UPDATE \"ü"), (vec!["ü".into()], false));
        assert_eq!(names("SELECT \"名"), (vec![], false));
    }

    #[test]
    fn raw_sql() {
        assert_eq!(
            names("update Public.Users set name = 'x'; delete from only orders"),
            (vec!["users".into(), "orders".into()], false)
        );
        assert_eq!(
            names("WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d"),
            (vec!["a".into(), "b".into()], false)
        );
        assert_eq!(
            names("TRUNCATE TABLE a, s.b"),
            (vec!["a".into(), "b".into()], false)
        );
        assert_eq!(names("DROP TABLE IF EXISTS x"), (vec!["x".into()], false));
        assert_eq!(
            names("ALTER TABLE x ADD COLUMN y int"),
            (vec!["x".into()], false)
        );
    }

    #[test]
    fn unknown_commands_write_everything() {
        assert!(written("CALL refresh_everything()").all);
        assert!(written("DO $$ BEGIN DELETE FROM t; END $$").all);
        assert!(written("SELECT 1; VACUUM t").all);
        assert!(!written("SELECT 1; SELECT 2").all);
    }
}
