//! Which SQL text may run on a replica (see `database/replicas.rs`): plain reads only, decided by PostgreSQL's lexical rules
//! (words inside strings, quoted identifiers, dollar quotes and comments are not code).
//!
//! A statement is a plain read when every `;`-separated statement of the text starts with
//! `SELECT`, `WITH`, `VALUES` or `TABLE`, and no word of its code writes or locks: `INSERT`,
//! `UPDATE`, `DELETE`, `MERGE`, `INTO` (`SELECT … INTO` creates a table), `SHARE` and
//! `UPDATE` (`FOR SHARE`, `FOR [NO KEY] UPDATE`, `FOR KEY SHARE`), `LOCK`, and the functions
//! that write or need the primary (`nextval`, `setval`, advisory locks, `pg_notify`,
//! `set_config`, transaction ids, `pg_current_wal*`). The test is conservative: a false "write"
//! only sends a read to the primary.

use orm_core::lex::{Kind, is_ident_byte, regions};

/// Words that make a statement start as a read.
const READ_STARTS: &[&str] = &["SELECT", "WITH", "VALUES", "TABLE"];

/// Words that make a statement a write (or a lock) wherever they appear in its code.
const WRITE_WORDS: &[&str] = &[
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "INTO",
    "SHARE",
    "LOCK",
    "NEXTVAL",
    "SETVAL",
    "PG_NOTIFY",
    "SET_CONFIG",
];

/// Prefixes of function names that need the primary.
const WRITE_PREFIXES: &[&str] = &[
    "PG_ADVISORY",
    "PG_TRY_ADVISORY",
    "TXID_CURRENT",
    "PG_CURRENT_XACT_ID",
    "PG_CURRENT_WAL",
];

/// Whether `sql` only reads, so that it may run on a replica.
pub(crate) fn is_plain_read(sql: &str) -> bool {
    let mut at_start = true;
    let mut any = false;
    for region in regions(sql) {
        if region.kind != Kind::Code {
            // A statement starting with a quoted name or a string is no read we know.
            let quoted = matches!(
                region.kind,
                Kind::String | Kind::QuotedIdent | Kind::DollarString
            );
            if at_start && quoted {
                return false;
            }
            continue;
        }
        let code = &sql.as_bytes()[region.start..region.end];
        let mut i = 0;
        while i < code.len() {
            let c = code[i];
            if c == b';' {
                at_start = true;
                i += 1;
                continue;
            }
            if !is_ident_byte(c) {
                // Only blanks and parentheses may open a statement.
                if at_start && !c.is_ascii_whitespace() && c != b'(' {
                    return false;
                }
                i += 1;
                continue;
            }
            let end = word_end(code, i);
            let word = &code[i..end];
            let is = |w: &&str| w.as_bytes().eq_ignore_ascii_case(word);
            if at_start {
                if !READ_STARTS.iter().any(is) {
                    return false;
                }
                at_start = false;
                any = true;
            } else if WRITE_WORDS.iter().any(is)
                || WRITE_PREFIXES.iter().any(|p| {
                    word.len() >= p.len() && word[..p.len()].eq_ignore_ascii_case(p.as_bytes())
                })
            {
                return false;
            }
            i = end;
        }
    }
    any
}

fn word_end(code: &[u8], mut i: usize) -> usize {
    while i < code.len() && is_ident_byte(code[i]) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::is_plain_read;

    #[test]
    fn reads() {
        for sql in [
            r#"SELECT "users"."id" FROM "users" WHERE "users"."id" = $1"#,
            "select 1",
            "  (SELECT 1) UNION (SELECT 2)",
            "WITH t AS (SELECT 1) SELECT * FROM t",
            "VALUES (1), (2)",
            "SELECT 'UPDATE', \"delete\" FROM t -- INSERT\n",
            "SELECT $$ FOR UPDATE $$",
            "/* lock */ SELECT 1",
            "SELECT 1; SELECT 2;",
        ] {
            assert!(is_plain_read(sql), "{sql}");
        }
    }

    #[test]
    fn writes_and_locks() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            r#"SELECT * FROM "t" FOR UPDATE"#,
            "SELECT * FROM t FOR NO KEY UPDATE",
            "SELECT * FROM t FOR SHARE",
            "SELECT * FROM t FOR KEY SHARE SKIP LOCKED",
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            "SELECT * INTO t2 FROM t",
            "SELECT nextval('s')",
            "SELECT pg_advisory_lock(1)",
            "SELECT pg_try_advisory_xact_lock(1)",
            "SELECT 1; CREATE TABLE x ()",
            "UPDATE t SET a = 1",
            "CREATE TABLE t ()",
            "BEGIN",
            "",
            "-- nothing",
            "EXPLAIN ANALYZE DELETE FROM t",
            "SELECT pg_current_wal_insert_lsn()",
        ] {
            assert!(!is_plain_read(sql), "{sql}");
        }
    }
}
