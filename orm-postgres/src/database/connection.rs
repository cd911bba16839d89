//! [`Connection`]: one connection taken out of the pool and held, so that every statement runs
//! in the same server session ([`Database::connection`]).

use super::Database;
use crate::Result;
use crate::conn::Conn;
use crate::executor::Executor;
use crate::executor::sealed::{Acquire, ConnRef};
use crate::transaction::{Transaction, TxOptions};

/// One connection of a [`Database`]'s pool, held by the caller until it is dropped: every
/// statement run through it goes to the same server session. For work that needs session
/// state across statements and transactions: a session-level advisory lock
/// (`pg_advisory_lock`), `SET` parameters, temporary tables.
///
/// It runs statements as an [`Executor`], and transactions with [`begin`](Connection::begin).
///
/// # Behavior
/// - Dropped, it goes back to the pool when it is clean (no statement in flight, no
///   transaction open), like any connection, unless [`close_on_drop`](Connection::close_on_drop)
///   was called: then it is closed, and the server forgets its session state (it releases
///   session-level advisory locks, among others). Call `close_on_drop` whenever the session
///   state must not reach the pool's next user.
/// - A [`Transaction`] begun on it and dropped without commit or rollback is rolled back before
///   the connection's next statement.
/// - A statement future dropped before it completes leaves the connection unusable for the
///   pool: it is closed when the `Connection` is dropped.
///
/// ```no_run
/// use orm_postgres::prelude::*;
///
/// # async fn run(db: Database) -> orm_postgres::Result<()> {
/// let mut conn = db.connection().await?;
/// conn.close_on_drop(); // the lock below must not outlive this connection
/// conn.batch_execute("SELECT pg_advisory_lock(42)").await?;
/// let tx = conn.begin().await?;
/// tx.batch_execute("CREATE TABLE t (id int)").await?;
/// tx.commit().await?;
/// conn.batch_execute("SELECT pg_advisory_unlock(42)").await?;
/// # Ok(()) }
/// ```
pub struct Connection {
    conn: Conn,
    close_on_drop: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("in_transaction", &self.conn.in_transaction())
            .field("close_on_drop", &self.close_on_drop)
            .finish()
    }
}

impl Database {
    /// Takes one connection out of the pool and holds it until the returned [`Connection`] is
    /// dropped (waiting for a free one as any call does, with the pool's wait timeout).
    pub async fn connection(&self) -> Result<Connection> {
        Ok(Connection {
            conn: self.checkout().await?,
            close_on_drop: false,
        })
    }
}

impl Connection {
    /// Starts a transaction (`BEGIN`) on this connection. While it is open, the connection is
    /// borrowed by it.
    pub async fn begin(&mut self) -> Result<Transaction<'_>> {
        self.begin_with(TxOptions::default()).await
    }

    /// Starts a transaction with an isolation level, read-only or deferrable mode.
    pub async fn begin_with(&mut self, options: TxOptions) -> Result<Transaction<'_>> {
        self.conn.begin(&options.begin_sql()).await?;
        Ok(Transaction::on_held(&self.conn))
    }

    /// A handle that cancels this connection's running statement from another task (see
    /// [`CancelHandle`](crate::CancelHandle)).
    pub fn cancel_handle(&self) -> crate::CancelHandle {
        self.conn.cancel_handle()
    }

    /// Closes the connection when it is dropped instead of returning it to the pool, so that
    /// its session state (advisory locks, `SET` parameters, temporary tables) ends with it.
    pub fn close_on_drop(&mut self) {
        self.close_on_drop = true;
    }

    /// Undoes [`close_on_drop`](Connection::close_on_drop): for a holder whose session state
    /// is gone (an advisory lock released, or never taken).
    pub(crate) fn return_on_drop(&mut self) {
        self.close_on_drop = false;
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.close_on_drop {
            self.conn.detach();
        }
    }
}

impl Acquire for Connection {
    async fn acquire(&self) -> Result<ConnRef<'_>> {
        Ok(ConnRef::Borrowed(&self.conn))
    }

    #[cfg(feature = "cache")]
    fn held(&self) -> Option<&crate::conn::Conn> {
        Some(&self.conn)
    }
}

impl Executor for Connection {}
