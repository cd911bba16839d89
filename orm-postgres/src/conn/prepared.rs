//! The prepared statements of a database's connections, found without an `.await`.
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

use deadpool_postgres::StatementCache;
use deadpool_postgres::tokio_postgres::Statement;

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
