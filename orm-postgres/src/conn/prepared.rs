//! The prepared statements of a database's connections, found without an `.await`; and a
//! connection's use of them (`Conn::statement`, the `on_prepared!` macro its queries and
//! executes run through, the re-prepare of a stale statement).
//!
//! deadpool-postgres keeps each connection's statements behind an async `prepare_cached`: a
//! SipHash of the SQL text and a lock on every statement, and a ~1.3 KB future that every
//! statement's future carried and copied on each move (callgrind, issue 17). Here a statement
//! already prepared on the connection is a synchronous lookup keyed by foldhash; only a miss
//! awaits, boxed, through `prepare_cached` (so deadpool's cache stays filled as before).
//!
//! A statement whose SQL text is a `&'static str` (compiled once and kept for the life of the
//! process: a statement shape's template, see orm-core's `compile/shape.rs`, or one of the
//! session's flush statements) is also found by the text's address, without hashing or
//! comparing the text (callgrind, issue 17: the lookup went from 241 to 116 instructions).
//!
//! Connections are told apart by the address of their deadpool statement cache (one `Arc`
//! per connection, shared by its transactions). Each entry holds a `Weak` to it, which keeps
//! the address from being reused by another connection while the entry exists; the entries of
//! closed connections are swept whenever a connection is seen for the first time. A stale
//! statement (see `Conn::is_stale`) is forgotten here and in deadpool's cache together.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use deadpool_postgres::tokio_postgres::{self, Statement};
use deadpool_postgres::{Object, StatementCache};

use super::Conn;
use crate::{Result, StatementMode};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A statement's SQL text: one that lives as long as the process is also told apart by its
/// address.
#[derive(Clone, Copy)]
pub(crate) enum Sql<'a> {
    /// Text that is never freed nor changed: its address names it.
    Fixed(&'static str),
    /// Any other text.
    Other(&'a str),
}

impl<'a> Sql<'a> {
    /// The text.
    pub(crate) fn text(self) -> &'a str {
        match self {
            Sql::Fixed(s) => s,
            Sql::Other(s) => s,
        }
    }
}

impl<'a> From<&'a Cow<'static, str>> for Sql<'a> {
    fn from(sql: &'a Cow<'static, str>) -> Self {
        match sql {
            Cow::Borrowed(s) => Sql::Fixed(s),
            Cow::Owned(s) => Sql::Other(s),
        }
    }
}

impl<'a> From<&'a str> for Sql<'a> {
    fn from(sql: &'a str) -> Self {
        Sql::Other(sql)
    }
}

/// A `&'static str` compared and hashed by address and length: the same address always holds
/// the same text.
#[derive(Clone, Copy)]
struct ByAddress(&'static str);

impl PartialEq for ByAddress {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for ByAddress {}

impl Hash for ByAddress {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.0.as_ptr() as usize).hash(state);
        self.0.len().hash(state);
    }
}

/// The prepared statements of every connection of one pool.
#[derive(Default)]
pub(crate) struct Prepared {
    conns: Mutex<Map<usize, Statements>>,
}

/// One connection's statements, by SQL text, and those of fixed texts by address too.
struct Statements {
    /// The connection's deadpool cache: alive as long as the connection.
    owner: Weak<StatementCache>,
    by_sql: Map<Box<str>, Statement>,
    by_address: Map<ByAddress, Statement>,
}

/// The key of the connection whose deadpool cache is `cache`.
fn key(cache: &Arc<StatementCache>) -> usize {
    Arc::as_ptr(cache) as usize
}

impl Prepared {
    fn lock(&self) -> MutexGuard<'_, Map<usize, Statements>> {
        // Never held across an await nor while calling user code.
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The statement `sql` prepared on the connection of `cache`, if it was.
    pub(crate) fn get(&self, cache: &Arc<StatementCache>, sql: Sql<'_>) -> Option<Statement> {
        let mut conns = self.lock();
        let statements = conns.get_mut(&key(cache))?;
        let Sql::Fixed(fixed) = sql else {
            return statements.by_sql.get(sql.text()).cloned();
        };
        if let Some(statement) = statements.by_address.get(&ByAddress(fixed)) {
            return Some(statement.clone());
        }
        // Prepared from another copy of the text (or before it was fixed): found by text, and
        // by address from now on.
        let statement = statements.by_sql.get(fixed)?.clone();
        statements
            .by_address
            .insert(ByAddress(fixed), statement.clone());
        Some(statement)
    }

    /// Remembers `statement`, prepared from `sql` on the connection of `cache`.
    pub(crate) fn insert(&self, cache: &Arc<StatementCache>, sql: Sql<'_>, statement: Statement) {
        let mut conns = self.lock();
        let key = key(cache);
        if !conns.contains_key(&key) {
            // A new connection: forget the closed ones (and free their addresses).
            conns.retain(|_, s| s.owner.strong_count() > 0);
        }
        let statements = conns.entry(key).or_insert_with(|| Statements {
            owner: Arc::downgrade(cache),
            by_sql: Map::default(),
            by_address: Map::default(),
        });
        if let Sql::Fixed(text) = sql {
            statements
                .by_address
                .insert(ByAddress(text), statement.clone());
        }
        statements.by_sql.insert(sql.text().into(), statement);
    }

    /// Forgets the statement `sql` of the connection of `cache` (under every address of its
    /// text).
    pub(crate) fn remove(&self, cache: &Arc<StatementCache>, sql: &str) {
        if let Some(statements) = self.lock().get_mut(&key(cache)) {
            statements.by_sql.remove(sql);
            statements.by_address.retain(|text, _| text.0 != sql);
        }
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("connections", &self.lock().len())
            .finish()
    }
}

/// Runs `$run`, a driver call given the prepared statement `$stmt` and the parameters
/// `$params`, for `$q` on the client `$obj` of connection `$conn`: the statement from the
/// connection's cache (no future made when it is there), else prepared; a stale cached
/// statement outside a transaction (see [`Conn::is_stale`]) forgotten and prepared once more.
/// A macro rather than a function taking a closure: the calls' futures differ, and a closure
/// making one would add a future, and its moves, to every statement.
macro_rules! on_prepared {
    ($conn:expr, $obj:expr, $q:expr, |$stmt:ident, $params:ident| $run:expr) => {{
        let (conn, obj, q): (&Conn, &Object, &CompiledQuery) = ($conn, $obj, $q);
        let params = || {
            q.params
                .iter()
                .enumerate()
                .map(|(index, p)| DomainParam { index, value: &**p })
        };
        let $stmt = match conn
            .settings
            .prepared
            .get(&obj.statement_cache, (&q.sql).into())
        {
            Some(statement) => statement,
            // Boxed, as in `statement`: the common statement's future does not carry it.
            None => Box::pin(conn.prepare_missing(obj, (&q.sql).into())).await?,
        };
        let $params = params();
        match $run.await {
            Ok(out) => Ok(out),
            Err(e) if Conn::is_stale(&e) && !conn.in_transaction() => {
                conn.forget(obj, &q.sql);
                let $stmt = conn.statement(obj, (&q.sql).into()).await?;
                let $params = params();
                $run.await.map_err(|e| conn.pg_error(e))
            }
            Err(e) => Err(conn.pg_error(e)),
        }
    }};
}

impl Conn {
    /// A prepared statement (a `COPY`'s, or the query giving its columns' types): from the
    /// connection's cache, prepared now if it is not there. In the unnamed mode it is prepared
    /// each time and closed when dropped: behind pgbouncer each transaction may run on another
    /// server connection, where a statement the cache remembers does not exist (26000).
    pub(crate) async fn prepare(&self, sql: &str) -> Result<Statement> {
        if self.settings.statement_mode == StatementMode::Unnamed {
            let obj = self.obj()?;
            return obj.prepare(sql).await.map_err(|e| self.pg_error(e));
        }
        // Preparing runs nothing: it may come before the transaction's `BEGIN`.
        self.statement(self.client()?, sql.into()).await
    }

    /// Prepares `sql` on `obj` (through deadpool's cache) and remembers it.
    pub(super) async fn prepare_missing(&self, obj: &Object, sql: Sql<'_>) -> Result<Statement> {
        let statement = obj
            .prepare_cached(sql.text())
            .await
            .map_err(|e| self.pg_error(e))?;
        self.settings
            .prepared
            .insert(&obj.statement_cache, sql, statement.clone());
        Ok(statement)
    }

    /// The prepared statement of `sql`: found without an `.await` when the connection has it,
    /// else prepared (boxed: the common statement's future does not carry the preparation's).
    pub(super) async fn statement(&self, obj: &Object, sql: Sql<'_>) -> Result<Statement> {
        match self.settings.prepared.get(&obj.statement_cache, sql) {
            Some(statement) => Ok(statement),
            None => Box::pin(self.prepare_missing(obj, sql)).await,
        }
    }

    /// Forgets a stale statement, so that the next use prepares it again.
    pub(super) fn forget(&self, obj: &Object, sql: &str) {
        self.settings.prepared.remove(&obj.statement_cache, sql);
        obj.statement_cache.remove(sql, &[]);
    }

    /// `true` for errors meaning a cached statement no longer matches the schema: "cached plan
    /// must not change result type" (0A000) or a statement the server no longer knows (26000).
    pub(super) fn is_stale(e: &tokio_postgres::Error) -> bool {
        matches!(e.code().map(|c| c.code()), Some("0A000") | Some("26000"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(a: ByAddress) -> u64 {
        use std::hash::BuildHasher;
        foldhash::fast::FixedState::with_seed(7).hash_one(a)
    }

    #[test]
    fn a_fixed_text_is_told_apart_by_address_and_length() {
        let long: &'static str = Box::leak(String::from("SELECT 41 + 1").into_boxed_str());
        // The same address, a shorter text.
        let short: &'static str = &long[..8];
        // The same text, another address.
        let copy: &'static str = Box::leak(long.to_owned().into_boxed_str());
        assert!(ByAddress(long) == ByAddress(long));
        assert!(ByAddress(long) != ByAddress(short));
        assert!(ByAddress(long) != ByAddress(copy));
        assert_eq!(hash(ByAddress(long)), hash(ByAddress(long)));
        assert_ne!(hash(ByAddress(long)), hash(ByAddress(short)));
    }

    #[test]
    fn only_text_that_is_never_freed_counts_as_fixed() {
        let owned: Cow<'static, str> = Cow::Owned(String::from("SELECT 1"));
        let fixed: Cow<'static, str> = Cow::Borrowed("SELECT 1");
        assert!(matches!(Sql::from(&owned), Sql::Other("SELECT 1")));
        assert!(matches!(Sql::from(&fixed), Sql::Fixed("SELECT 1")));
        assert!(matches!(Sql::from("SELECT 1"), Sql::Other(_)));
    }
}
