//! Knowing when a connection's types are out of date, in the unnamed mode.
//!
//! A connection knows the user-defined types that existed when it opened (`types.rs`); the
//! driver must not look one up later inside an unnamed statement: with the statement's rows
//! still arriving, tokio-postgres's lookup waits behind them while they wait for it to be read,
//! and a large result never completes (and behind a pooler, the lookup's prepared statement is
//! gone anyway). So this database remembers when its own statements last created or altered a
//! type ([`creates_types`]: `CREATE TYPE`, `CREATE DOMAIN`, `CREATE EXTENSION` and their
//! `ALTER`s), and a connection opened before that is closed at its next checkout instead of
//! being used.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::lex::{Kind, is_ident_byte, regions};

/// When this database's statements last created or altered a user-defined type.
#[derive(Debug)]
pub(crate) struct TypeEpoch {
    /// The origin of the clock below.
    origin: Instant,
    /// Nanoseconds from `origin` to the last change, plus one; 0: none yet.
    last_change: AtomicU64,
}

impl TypeEpoch {
    pub(crate) fn new() -> TypeEpoch {
        TypeEpoch {
            origin: Instant::now(),
            last_change: AtomicU64::new(0),
        }
    }

    fn ticks(&self, at: Instant) -> u64 {
        let nanos = at.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1
    }

    /// Records that types changed now (after the change is visible to new connections: after
    /// the statement outside a transaction, after the commit inside one).
    pub(crate) fn mark(&self) {
        self.last_change
            .fetch_max(self.ticks(Instant::now()), Ordering::AcqRel);
    }

    /// Whether types changed after `at`: a connection whose types were loaded from `at` on
    /// may lack them.
    pub(crate) fn changed_after(&self, at: Instant) -> bool {
        self.last_change.load(Ordering::Acquire) > self.ticks(at)
    }
}

/// Whether `sql` may create or alter a user-defined type: `CREATE` or `ALTER` followed by
/// `TYPE`, `DOMAIN` or `EXTENSION`, in code (not in strings or comments). Costs a scan for the
/// letters `create`/`alter` when they are absent.
pub(crate) fn creates_types(sql: &str) -> bool {
    if !contains_ignore_case(sql.as_bytes(), b"create")
        && !contains_ignore_case(sql.as_bytes(), b"alter")
    {
        return false;
    }
    let mut previous: Option<&str> = None;
    for region in regions(sql) {
        if region.kind != Kind::Code {
            continue;
        }
        for word in words(&sql[region.start..region.end]) {
            let verb = previous.is_some_and(|p| {
                p.eq_ignore_ascii_case("create") || p.eq_ignore_ascii_case("alter")
            });
            if verb
                && ["type", "domain", "extension"]
                    .iter()
                    .any(|k| word.eq_ignore_ascii_case(k))
            {
                return true;
            }
            previous = Some(word);
        }
    }
    false
}

/// The words (keywords and names) of a code region, in order.
fn words(code: &str) -> impl Iterator<Item = &str> {
    code.split(|c: char| c.is_ascii() && !is_ident_byte(c as u8))
        .filter(|w| !w.is_empty())
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_ddl_is_found_in_code_only() {
        for sql in [
            "CREATE TYPE mood AS ENUM ('a')",
            "create domain year as int",
            "BEGIN; CREATE EXTENSION citext; COMMIT",
            "ALTER TYPE mood ADD VALUE 'b'",
            "CREATE /* a comment */ TYPE t AS (a int)",
            "create\n\ttype t as enum ()",
        ] {
            assert!(creates_types(sql), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "CREATE TABLE t (type text)",
            "INSERT INTO t VALUES ('CREATE TYPE x')",
            "SELECT $$ create domain $$",
            "-- create type\nSELECT 1",
            "ALTER TABLE t ADD COLUMN type int",
            "CREATE INDEX ON t (type)",
            "SELECT \"create\" type FROM t",
        ] {
            assert!(!creates_types(sql), "{sql}");
        }
    }

    #[test]
    fn a_change_is_after_what_came_before_it() {
        let epoch = TypeEpoch::new();
        let before = Instant::now();
        assert!(!epoch.changed_after(before));
        epoch.mark();
        assert!(epoch.changed_after(before));
        assert!(!epoch.changed_after(Instant::now()));
    }
}
