//! The prepared statements of a database's connections, found without an `.await`.
//!
//! deadpool-postgres keeps each connection's statements behind an async `prepare_cached`: a
//! SipHash of the SQL text and a lock on every statement, and a ~1.3 KB future that every
//! statement's future carried and copied on each move (callgrind, issue 17). Here a statement
//! already prepared on the connection is a synchronous lookup keyed by foldhash; only a miss
//! awaits, boxed, through `prepare_cached` (so deadpool's cache stays filled as before).
//!
//! Connections are told apart by the address of their deadpool statement cache (one `Arc`
//! per connection, shared by its transactions). Each entry holds a `Weak` to it, which keeps
//! the address from being reused by another connection while the entry exists; the entries of
//! closed connections are swept whenever a connection is seen for the first time. A stale
//! statement (see `Conn::is_stale`) is forgotten here and in deadpool's cache together.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use deadpool_postgres::StatementCache;
use deadpool_postgres::tokio_postgres::Statement;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The prepared statements of every connection of one pool.
#[derive(Default)]
pub(crate) struct Prepared {
    conns: Mutex<Map<usize, Statements>>,
}

/// One connection's statements, by SQL text.
struct Statements {
    /// The connection's deadpool cache: alive as long as the connection.
    owner: Weak<StatementCache>,
    by_sql: Map<Box<str>, Statement>,
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
    pub(crate) fn get(&self, cache: &Arc<StatementCache>, sql: &str) -> Option<Statement> {
        self.lock().get(&key(cache))?.by_sql.get(sql).cloned()
    }

    /// Remembers `statement`, prepared from `sql` on the connection of `cache`.
    pub(crate) fn insert(&self, cache: &Arc<StatementCache>, sql: &str, statement: Statement) {
        let mut conns = self.lock();
        let key = key(cache);
        if !conns.contains_key(&key) {
            // A new connection: forget the closed ones (and free their addresses).
            conns.retain(|_, s| s.owner.strong_count() > 0);
        }
        conns
            .entry(key)
            .or_insert_with(|| Statements {
                owner: Arc::downgrade(cache),
                by_sql: Map::default(),
            })
            .by_sql
            .insert(sql.into(), statement);
    }

    /// Forgets the statement `sql` of the connection of `cache`.
    pub(crate) fn remove(&self, cache: &Arc<StatementCache>, sql: &str) {
        if let Some(statements) = self.lock().get_mut(&key(cache)) {
            statements.by_sql.remove(sql);
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
