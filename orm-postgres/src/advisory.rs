//! PostgreSQL's advisory locks as a small typed API: session-level locks held by a guard
//! ([`Database::advisory_lock`], [`AdvisoryLock`]) and transaction-level locks
//! ([`Transaction::advisory_xact_lock`]), with keys that are numbers or names
//! ([`AdvisoryKey`]).
//!
//! Every call is a parameterized statement (`SELECT pg_advisory_lock($1)`); a wait is bounded
//! by the query timeout, or by the caller's limit with the `_within` variants (PostgreSQL's
//! `lock_timeout`, set for that one statement).

use std::time::Duration;

use crate::database::advisory_lock_key;
use crate::raw::{RawQuery, query};
use crate::{Connection, Database, Decode, Error, ErrorKind, Executor, Result, Transaction};

/// The key of an advisory lock. PostgreSQL has two key spaces: one 64-bit number, or two
/// 32-bit numbers (`Int(1)` and `Pair(0, 1)` are different locks).
///
/// ```
/// use orm_postgres::AdvisoryKey;
///
/// assert_eq!(AdvisoryKey::from(42_i64), AdvisoryKey::Int(42));
/// assert_eq!(AdvisoryKey::from((7, 3)), AdvisoryKey::Pair(7, 3));
/// // A name hashes to a stable 64-bit key (the one `create_all` and the migration runner use
/// // for theirs): the same in every process and every release.
/// assert_eq!(AdvisoryKey::named("nightly-report"), AdvisoryKey::named("nightly-report"));
/// assert_eq!(
///     AdvisoryKey::named("orm-postgres:create_all"),
///     AdvisoryKey::Int(orm_postgres::advisory_lock_key("orm-postgres:create_all"))
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdvisoryKey {
    /// One 64-bit key (`pg_advisory_lock(bigint)`).
    Int(i64),
    /// Two 32-bit keys (`pg_advisory_lock(int, int)`), e.g. a table's id and a row's.
    Pair(i32, i32),
}

impl AdvisoryKey {
    /// The key of a name: its 64-bit FNV-1a hash ([`advisory_lock_key`]). Stable across
    /// processes and releases; two names may, very rarely, share a key.
    pub fn named(name: &str) -> AdvisoryKey {
        AdvisoryKey::Int(advisory_lock_key(name))
    }
}

impl From<i64> for AdvisoryKey {
    fn from(key: i64) -> Self {
        AdvisoryKey::Int(key)
    }
}

impl From<(i32, i32)> for AdvisoryKey {
    fn from((a, b): (i32, i32)) -> Self {
        AdvisoryKey::Pair(a, b)
    }
}

/// The server functions this module calls.
#[derive(Debug, Clone, Copy)]
enum Call {
    Lock,
    TryLock,
    Unlock,
    XactLock,
    TryXactLock,
}

impl Call {
    /// The statement, for a key of one or two numbers.
    fn sql(self, pair: bool) -> &'static str {
        match (self, pair) {
            (Call::Lock, false) => "SELECT pg_advisory_lock(:k)",
            (Call::Lock, true) => "SELECT pg_advisory_lock(:k1, :k2)",
            (Call::TryLock, false) => "SELECT pg_try_advisory_lock(:k)",
            (Call::TryLock, true) => "SELECT pg_try_advisory_lock(:k1, :k2)",
            (Call::Unlock, false) => "SELECT pg_advisory_unlock(:k)",
            (Call::Unlock, true) => "SELECT pg_advisory_unlock(:k1, :k2)",
            (Call::XactLock, false) => "SELECT pg_advisory_xact_lock(:k)",
            (Call::XactLock, true) => "SELECT pg_advisory_xact_lock(:k1, :k2)",
            (Call::TryXactLock, false) => "SELECT pg_try_advisory_xact_lock(:k)",
            (Call::TryXactLock, true) => "SELECT pg_try_advisory_xact_lock(:k1, :k2)",
        }
    }

    /// The statement with the key bound.
    fn on<O: Decode>(self, key: AdvisoryKey) -> RawQuery<O> {
        match key {
            AdvisoryKey::Int(k) => query::<O>(self.sql(false)).bind("k", k),
            AdvisoryKey::Pair(a, b) => query::<O>(self.sql(true)).bind("k1", a).bind("k2", b),
        }
    }
}

/// `lock_timeout` as the server reads it: whole milliseconds, at least 1 (0 would mean no
/// limit), at most the largest it takes.
fn lock_timeout_setting(wait: Duration) -> String {
    let ms = wait.as_millis().clamp(1, i32::MAX as u128);
    format!("{ms}ms")
}

/// Runs a lock statement with `lock_timeout` set to `wait` for it alone (`local`: as
/// `SET LOCAL`, inside a transaction), putting the previous value back after it unless the
/// statement aborted a transaction.
async fn within<T>(
    ex: &impl Executor,
    wait: Duration,
    local: bool,
    lock: impl Future<Output = Result<T>>,
) -> Result<T> {
    let previous: String = ex
        .fetch_one(query::<String>("SELECT current_setting('lock_timeout')"))
        .await?;
    let set = |value: String| {
        query::<String>("SELECT set_config('lock_timeout', :value, :local)")
            .bind("value", value)
            .bind("local", local)
    };
    ex.fetch_one(set(lock_timeout_setting(wait))).await?;
    let result = lock.await;
    if result.is_ok() || !local {
        ex.fetch_one(set(previous)).await?;
    }
    result
}

/// A session-level advisory lock, held until [`unlock`](AdvisoryLock::unlock) (or until the
/// guard is dropped), on a connection of the pool that the guard holds meanwhile.
///
/// The guard dereferences to that [`Connection`], so work that must happen under the lock can
/// run in its session (`lock.fetch_all(...)`).
///
/// # Behavior
/// - **Dropped while held**, the guard closes its connection instead of giving it back to the
///   pool: the server releases the lock with the session, and no other user of the pool ever
///   gets a connection holding it. (Counted in
///   [`PoolMetrics::discarded`](crate::PoolMetrics::discarded) as `requested`.)
/// - **Unlocked**, the connection goes back to the pool.
/// - A guard holds one connection of the pool: with `max_connections(n)`, `n` guards leave no
///   connection for anything else.
///
/// ```no_run
/// use orm_postgres::AdvisoryKey;
/// # use orm_postgres::prelude::*;
///
/// # async fn run(db: Database) -> orm_postgres::Result<()> {
/// // Only one process sends the nightly report.
/// if let Some(lock) = db.try_advisory_lock(AdvisoryKey::named("nightly-report")).await? {
///     lock.batch_execute("INSERT INTO reports (day) VALUES (current_date)").await?;
///     lock.unlock().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AdvisoryLock {
    /// Closed on drop while the session may hold the lock.
    conn: Connection,
    key: AdvisoryKey,
}

impl AdvisoryLock {
    /// The lock's key.
    pub fn key(&self) -> AdvisoryKey {
        self.key
    }

    /// Releases the lock (`pg_advisory_unlock`) and gives the connection back to the pool.
    ///
    /// # Errors
    ///
    /// [`TransactionState`](ErrorKind::TransactionState) when the session no longer held the
    /// lock (a statement run through the guard released it); the error of the statement when it
    /// failed. Either way the connection is closed, which releases whatever the session held.
    pub async fn unlock(mut self) -> Result<()> {
        let released: bool = self.fetch_one(Call::Unlock.on::<bool>(self.key)).await?;
        if !released {
            return Err(Error::transaction_state(format!(
                "advisory lock {:?} was no longer held by its session",
                self.key
            )));
        }
        self.conn.return_on_drop();
        Ok(())
    }

    /// A guard on a connection of `db`, counted as holding the lock until a statement says
    /// otherwise (so a call that fails half-way closes the connection).
    async fn checkout(db: &Database, key: AdvisoryKey) -> Result<AdvisoryLock> {
        let mut conn = db.connection().await?;
        conn.close_on_drop();
        Ok(AdvisoryLock { conn, key })
    }

    /// The lock was not taken: the connection may go back to the pool.
    fn not_taken(mut self) {
        self.conn.return_on_drop();
    }
}

impl std::ops::Deref for AdvisoryLock {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Database {
    /// Takes a session-level advisory lock (`pg_advisory_lock`), waiting while another
    /// session holds it, on a connection the returned guard holds until
    /// [`unlock`](AdvisoryLock::unlock) or drop.
    ///
    /// The wait is bounded by the [query timeout](crate::DatabaseBuilder::query_timeout)
    /// (then [`QueryTimeout`](ErrorKind::QueryTimeout), and the connection is closed); for a
    /// shorter one, see [`advisory_lock_within`](Database::advisory_lock_within).
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let lock = db.advisory_lock(42).await?;
    /// // ... only one session at a time gets here ...
    /// lock.unlock().await?;
    /// # Ok(()) }
    /// ```
    pub async fn advisory_lock(&self, key: impl Into<AdvisoryKey>) -> Result<AdvisoryLock> {
        let lock = AdvisoryLock::checkout(self, key.into()).await?;
        lock.execute(Call::Lock.on::<()>(lock.key)).await?;
        Ok(lock)
    }

    /// [`advisory_lock`](Database::advisory_lock), waiting at most `wait` (PostgreSQL's
    /// `lock_timeout`, for this statement only).
    ///
    /// # Errors
    ///
    /// [`LockTimeout`](ErrorKind::LockTimeout) (SQLSTATE 55P03) when another session held the
    /// lock all that time; the connection goes back to the pool.
    pub async fn advisory_lock_within(
        &self,
        key: impl Into<AdvisoryKey>,
        wait: Duration,
    ) -> Result<AdvisoryLock> {
        let lock = AdvisoryLock::checkout(self, key.into()).await?;
        let taken = within(
            &*lock,
            wait,
            false,
            lock.execute(Call::Lock.on::<()>(lock.key)),
        )
        .await;
        match taken {
            Ok(_) => Ok(lock),
            Err(e) => {
                // Not taken, and the setting put back: the connection is clean.
                if matches!(e.kind(), ErrorKind::LockTimeout(_)) {
                    lock.not_taken();
                }
                Err(e)
            }
        }
    }

    /// Takes a session-level advisory lock if no other session holds it
    /// (`pg_try_advisory_lock`), without waiting: `None` when it is held.
    pub async fn try_advisory_lock(
        &self,
        key: impl Into<AdvisoryKey>,
    ) -> Result<Option<AdvisoryLock>> {
        let lock = AdvisoryLock::checkout(self, key.into()).await?;
        if lock.fetch_one(Call::TryLock.on::<bool>(lock.key)).await? {
            return Ok(Some(lock));
        }
        lock.not_taken();
        Ok(None)
    }
}

impl Transaction<'_> {
    /// Takes a transaction-level advisory lock (`pg_advisory_xact_lock`), waiting while another
    /// session holds it. It is released when the transaction ends, by commit or rollback; there
    /// is no unlocking it earlier. The wait is bounded by the query timeout (which loses the
    /// transaction); for a shorter one, see
    /// [`advisory_xact_lock_within`](Transaction::advisory_xact_lock_within).
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let tx = db.begin().await?;
    /// tx.advisory_xact_lock((1, 42)).await?; // e.g. (table, account id)
    /// tx.batch_execute("UPDATE accounts SET balance = balance - 10 WHERE id = 42").await?;
    /// tx.commit().await?; // released
    /// # Ok(()) }
    /// ```
    pub async fn advisory_xact_lock(&self, key: impl Into<AdvisoryKey>) -> Result<()> {
        self.execute(Call::XactLock.on::<()>(key.into())).await?;
        Ok(())
    }

    /// [`advisory_xact_lock`](Transaction::advisory_xact_lock), waiting at most `wait`.
    ///
    /// # Errors
    ///
    /// [`LockTimeout`](ErrorKind::LockTimeout) (SQLSTATE 55P03) when another session held the
    /// lock all that time. Like any failed statement, it leaves the transaction needing a
    /// rollback (use a [savepoint](Transaction::savepoint) to keep the transaction).
    pub async fn advisory_xact_lock_within(
        &self,
        key: impl Into<AdvisoryKey>,
        wait: Duration,
    ) -> Result<()> {
        let lock = self.execute(Call::XactLock.on::<()>(key.into()));
        within(self, wait, true, lock).await?;
        Ok(())
    }

    /// Takes a transaction-level advisory lock if no other session holds it
    /// (`pg_try_advisory_xact_lock`), without waiting: `false` when it is held.
    pub async fn try_advisory_xact_lock(&self, key: impl Into<AdvisoryKey>) -> Result<bool> {
        self.fetch_one(Call::TryXactLock.on::<bool>(key.into()))
            .await
    }
}
