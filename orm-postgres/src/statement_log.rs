//! Recording the SQL a database sends, for tests: [`StatementLog`] and [`assert_queries!`].
//!
//! [`assert_queries!`]: crate::assert_queries

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// The open logs of one database (all its clones, sessions and transactions).
#[derive(Debug, Default)]
pub(crate) struct Logs {
    /// How many logs are open: statements take the lock only when there is one.
    open: AtomicUsize,
    logs: Mutex<Vec<Weak<Mutex<Vec<String>>>>>,
}

impl Logs {
    /// Hands `sql` to every open log.
    #[inline]
    pub(crate) fn record(&self, sql: &str) {
        if self.open.load(Ordering::Relaxed) == 0 {
            return;
        }
        let logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        for log in logs.iter().filter_map(Weak::upgrade) {
            log.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(sql.to_owned());
        }
    }
}

/// The SQL of every statement a database sends from now on (through any clone, session or
/// transaction of it), until it is finished or dropped; values are never recorded.
///
/// Made by [`Database::statement_log`](crate::Database::statement_log) or
/// [`Session::statement_log`](crate::Session::statement_log). Statements sent by other tasks on
/// the same database at the same time are recorded too.
#[derive(Debug)]
pub struct StatementLog {
    logs: Arc<Logs>,
    entries: Arc<Mutex<Vec<String>>>,
}

impl StatementLog {
    pub(crate) fn start(logs: &Arc<Logs>) -> StatementLog {
        let entries = Arc::new(Mutex::new(Vec::new()));
        {
            let mut all = logs.logs.lock().unwrap_or_else(|e| e.into_inner());
            all.retain(|w| w.strong_count() > 0);
            all.push(Arc::downgrade(&entries));
        }
        logs.open.fetch_add(1, Ordering::Relaxed);
        StatementLog {
            logs: logs.clone(),
            entries,
        }
    }

    /// The statements recorded so far, in the order they were sent.
    pub fn statements(&self) -> Vec<String> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops recording and returns what was recorded.
    pub fn finish(self) -> Vec<String> {
        self.statements()
    }
}

impl Drop for StatementLog {
    fn drop(&mut self) {
        self.logs.open.fetch_sub(1, Ordering::Relaxed);
        let mut all = self.logs.logs.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|w| {
            w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.entries))
        });
    }
}

/// Whether `sql` matches `pattern`, where `*` in the pattern stands for any text (also none)
/// and everything else must match exactly: `"SELECT * FROM \"users\"*"`.
pub fn sql_matches(pattern: &str, sql: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = sql.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The failure message of [`assert_queries!`]: what was expected and every statement that ran.
#[doc(hidden)]
pub fn __check_queries(expected: Expected<'_>, ran: &[String]) -> Result<(), String> {
    let ok = match expected {
        Expected::Count(n) => ran.len() == n,
        Expected::Patterns(patterns) => {
            ran.len() == patterns.len()
                && patterns.iter().zip(ran).all(|(p, sql)| sql_matches(p, sql))
        }
    };
    if ok {
        return Ok(());
    }
    let mut msg = match expected {
        Expected::Count(n) => format!("expected {n} statement(s), {} ran:", ran.len()),
        Expected::Patterns(patterns) => {
            let mut m = format!(
                "expected {} statement(s) matching, in order:",
                patterns.len()
            );
            for p in patterns {
                m.push_str(&format!("\n    {p}"));
            }
            m.push_str(&format!("\n{} ran:", ran.len()));
            m
        }
    };
    for (i, sql) in ran.iter().enumerate() {
        msg.push_str(&format!("\n  {:>3}. {sql}", i + 1));
    }
    Err(msg)
}

/// What [`assert_queries!`] expects.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Expected<'a> {
    /// This many statements.
    Count(usize),
    /// Statements matching these patterns, in order.
    Patterns(&'a [&'a str]),
}

impl From<usize> for Expected<'_> {
    fn from(n: usize) -> Self {
        Expected::Count(n)
    }
}

impl<'a, const N: usize> From<&'a [&'a str; N]> for Expected<'a> {
    fn from(p: &'a [&'a str; N]) -> Self {
        Expected::Patterns(p)
    }
}

impl<'a> From<&'a [&'a str]> for Expected<'a> {
    fn from(p: &'a [&'a str]) -> Self {
        Expected::Patterns(p)
    }
}

/// Asserts how many statements (or which) a block of async code sends through a database or
/// session, and panics with the list of the statements that actually ran otherwise — so an N+1
/// regression shows its N queries.
///
/// The second argument is a count, or an array of patterns the statements must match in
/// order, where `*` stands for any text. `BEGIN` and `COMMIT` count. The block's value is
/// returned. Statements other tasks send on the same database meanwhile are counted too, so
/// run the code under test alone.
///
/// ```no_run
/// # use orm_postgres::prelude::*;
/// # use orm_postgres::__doc_fixture::User;
/// use orm_postgres::assert_queries;
/// # async fn run(db: Database) -> orm_postgres::Result<()> {
/// let users = assert_queries!(db, 1, async {
///     db.fetch_all(select::<User>()).await
/// })?;
/// assert_queries!(db, ["SELECT * FROM \"users\" WHERE *"], async {
///     db.fetch_optional(select::<User>().filter(User::id.eq(7))).await
/// })?;
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! assert_queries {
    ($db:expr, [$($pattern:expr),* $(,)?], $body:expr) => {{
        let __patterns: &[&str] = &[$($pattern),*];
        $crate::assert_queries!(@run $db, $crate::__statement_log::Expected::Patterns(__patterns), $body)
    }};
    ($db:expr, $count:expr, $body:expr) => {
        $crate::assert_queries!(@run $db, $crate::__statement_log::Expected::Count($count), $body)
    };
    (@run $db:expr, $expected:expr, $body:expr) => {{
        let __log = $db.statement_log();
        let __out = $body.await;
        let __ran = __log.finish();
        if let ::std::result::Result::Err(__msg) =
            $crate::__statement_log::__check_queries($expected, &__ran)
        {
            ::std::panic!("assert_queries! failed: {}", __msg);
        }
        __out
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_with_stars() {
        assert!(sql_matches("SELECT 1", "SELECT 1"));
        assert!(!sql_matches("SELECT 1", "SELECT 12"));
        assert!(sql_matches("SELECT *", "SELECT 12"));
        assert!(sql_matches("*users*", "SELECT * FROM users WHERE id = $1"));
        assert!(sql_matches(
            "SELECT * FROM * WHERE *",
            "SELECT a FROM t WHERE x"
        ));
        assert!(!sql_matches("SELECT * FROM * WHERE *", "SELECT a FROM t"));
        assert!(sql_matches("*", ""));
        assert!(!sql_matches("a*a", "a"));
        assert!(sql_matches("a*a", "aa"));
    }

    #[test]
    fn failures_list_what_ran() {
        let ran = vec!["SELECT 1".to_owned(), "SELECT 2".to_owned()];
        assert!(__check_queries(Expected::Count(2), &ran).is_ok());
        let msg = __check_queries(Expected::Count(1), &ran).expect_err("two ran");
        assert!(msg.starts_with("expected 1 statement(s), 2 ran:"), "{msg}");
        assert!(
            msg.contains("  1. SELECT 1") && msg.contains("  2. SELECT 2"),
            "{msg}"
        );
        assert!(__check_queries(Expected::Patterns(&["SELECT 1", "SELECT *"]), &ran).is_ok());
        let msg = __check_queries(Expected::Patterns(&["SELECT 2", "*"]), &ran).expect_err("order");
        assert!(msg.contains("matching, in order:\n    SELECT 2"), "{msg}");
    }
}
