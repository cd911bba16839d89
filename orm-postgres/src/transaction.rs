//! Transactions and savepoints.

use crate::conn::Conn;
use crate::executor::Executor;
use crate::executor::sealed::{Acquire, ConnRef};
use crate::{Error, Result};

/// An open transaction, or a savepoint inside one.
///
/// Statements run through its [`Executor`] methods. End it with [`commit`](Transaction::commit)
/// or [`rollback`](Transaction::rollback). Dropped without either, a transaction is rolled back:
/// its connection is closed rather than returned to the pool (unless it ran nothing: its
/// `BEGIN`, kept for its first statement, was never sent). A savepoint dropped without either
/// is rolled back before the parent's next statement, and so is a transaction begun on a held
/// [`Connection`](crate::Connection), before that connection's next statement.
///
/// After a statement fails inside a transaction, PostgreSQL refuses every further statement
/// until a rollback; so does this type, with a
/// [`TransactionState`](crate::ErrorKind::TransactionState) error, instead of sending them.
pub struct Transaction<'a> {
    conn: ConnRef<'a>,
    /// `None` for the top-level transaction, the savepoint's name otherwise.
    savepoint: Option<String>,
    done: bool,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("savepoint", &self.savepoint)
            .field("done", &self.done)
            .finish()
    }
}

impl Transaction<'static> {
    pub(crate) fn top(conn: Conn) -> Self {
        Transaction {
            conn: ConnRef::Owned(conn),
            savepoint: None,
            done: false,
        }
    }
}

impl<'a> Transaction<'a> {
    /// A top-level transaction on a held [`Connection`](crate::Connection) (begun: its `BEGIN`
    /// sent, or kept to go with its first statement).
    pub(crate) fn on_held(conn: &'a Conn) -> Self {
        Transaction {
            conn: ConnRef::Borrowed(conn),
            savepoint: None,
            done: false,
        }
    }
}

impl Transaction<'_> {
    /// A handle that cancels the statement this transaction's connection is running, from
    /// another task (see [`CancelHandle`](crate::CancelHandle)). The transaction then needs a
    /// rollback.
    pub fn cancel_handle(&self) -> crate::CancelHandle {
        self.conn.cancel_handle()
    }

    /// Commits (or, for a savepoint, releases it into the parent transaction). A transaction
    /// in which a statement failed is rolled back instead, and the error says so; for a
    /// savepoint, that rollback is to the savepoint, and the parent goes on.
    ///
    /// If the connection is lost while `COMMIT` is in flight, the result is a
    /// [`CommitUnknown`](crate::ErrorKind::CommitUnknown) error: the transaction may or may not
    /// have been committed.
    pub async fn commit(mut self) -> Result<()> {
        self.done = true;
        match &self.savepoint {
            None => self.conn.commit().await,
            Some(name) => self.conn.release_savepoint(name).await,
        }
    }

    /// Rolls back (or, for a savepoint, rolls back to it, keeping the parent transaction).
    pub async fn rollback(mut self) -> Result<()> {
        self.done = true;
        match &self.savepoint {
            None => self.conn.rollback().await,
            Some(name) => self.conn.rollback_savepoint(name).await,
        }
    }

    /// Starts a nested transaction: a `SAVEPOINT`. Committing it releases the savepoint;
    /// rolling it back undoes only what ran inside it.
    pub async fn savepoint(&mut self) -> Result<Transaction<'_>> {
        if self.done {
            return Err(Error::transaction_state("the transaction has ended"));
        }
        let name = self.conn.savepoint().await?;
        Ok(Transaction {
            conn: ConnRef::Borrowed(&self.conn),
            savepoint: Some(name),
            done: false,
        })
    }

    /// The transaction's connection.
    pub(crate) fn conn(&self) -> &Conn {
        &self.conn
    }

    /// Whether this is a savepoint inside another transaction.
    pub fn is_savepoint(&self) -> bool {
        self.savepoint.is_some()
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(name) = self.savepoint.take() {
            self.conn.defer_savepoint_rollback(name);
            return;
        }
        match &self.conn {
            // On a held connection, which outlives the transaction: roll back before the
            // connection's next statement.
            ConnRef::Borrowed(conn) => conn.defer_rollback(),
            // The connection is still marked open, so dropping it closes it and the server
            // rolls back (unless the `BEGIN` was never sent: then it goes back to the pool).
            ConnRef::Owned(_) => {}
        }
    }
}

impl Acquire for Transaction<'_> {
    async fn acquire(&self) -> Result<ConnRef<'_>> {
        Ok(ConnRef::Borrowed(&self.conn))
    }

    #[cfg(feature = "cache")]
    fn held(&self) -> Option<&Conn> {
        Some(&self.conn)
    }
}

impl Executor for Transaction<'_> {}

/// Transaction isolation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED` (PostgreSQL treats it as `READ COMMITTED`).
    ReadUncommitted,
    /// `READ COMMITTED`, PostgreSQL's default.
    ReadCommitted,
    /// `REPEATABLE READ`
    RepeatableRead,
    /// `SERIALIZABLE`: may fail with a retryable serialization error.
    Serializable,
}

/// Options for [`Database::begin_with`](crate::Database::begin_with).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TxOptions {
    /// The isolation level (the server's default when `None`).
    pub isolation: Option<IsolationLevel>,
    /// `READ ONLY`
    pub read_only: bool,
    /// `DEFERRABLE` (only meaningful with serializable read-only transactions).
    pub deferrable: bool,
}

impl TxOptions {
    /// Sets the isolation level.
    pub fn isolation(mut self, level: IsolationLevel) -> Self {
        self.isolation = Some(level);
        self
    }

    /// Makes the transaction read-only.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Makes the transaction deferrable.
    pub fn deferrable(mut self) -> Self {
        self.deferrable = true;
        self
    }

    pub(crate) fn begin_sql(&self) -> String {
        let mut sql = String::from("BEGIN");
        if let Some(level) = self.isolation {
            sql.push_str(match level {
                IsolationLevel::ReadUncommitted => " ISOLATION LEVEL READ UNCOMMITTED",
                IsolationLevel::ReadCommitted => " ISOLATION LEVEL READ COMMITTED",
                IsolationLevel::RepeatableRead => " ISOLATION LEVEL REPEATABLE READ",
                IsolationLevel::Serializable => " ISOLATION LEVEL SERIALIZABLE",
            });
        }
        if self.read_only {
            sql.push_str(" READ ONLY");
        }
        if self.deferrable {
            sql.push_str(" DEFERRABLE");
        }
        sql
    }
}
