//! Transactions on a [`Database`]: [`begin`](Database::begin), [`begin_with`](Database::begin_with),
//! [`transaction`](Database::transaction), [`transaction_with`](Database::transaction_with).

use super::Database;
use crate::transaction::{Transaction, TxOptions};
use crate::{Error, Result, Scoped};

impl Database {
    /// Starts a transaction (`BEGIN`) on a connection of its own.
    pub async fn begin(&self) -> Result<Transaction<'static>> {
        self.begin_with(TxOptions::default()).await
    }

    /// Starts a transaction with an isolation level, read-only or deferrable mode.
    pub async fn begin_with(&self, options: TxOptions) -> Result<Transaction<'static>> {
        let conn = self.checkout().await?;
        conn.begin(&options.begin_sql()).await?;
        Ok(Transaction::top(conn))
    }

    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back when it returns
    /// `Err` (and returns that error).
    ///
    /// `f` returns its `async` block as a [`Scoped`] future (`.scoped()`), which may borrow the
    /// caller's locals and is `Send`, so a transaction runs inside `tokio::spawn` and web
    /// handlers. For straight-line code, [`begin`](Database::begin) and
    /// [`Transaction::commit`] do the same without a closure.
    ///
    /// ```no_run
    /// # use orm_postgres::{Database, prelude::*};
    /// use orm_postgres::raw::query;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let (from, to) = (1_i64, 2_i64);
    /// let moved = db
    ///     .transaction(|tx| {
    ///         async move {
    ///             let debit = query::<()>("UPDATE accounts SET balance = balance - 10 WHERE id = :id")
    ///                 .bind("id", from);
    ///             tx.execute(debit).await?;
    ///             let credit = query::<()>("UPDATE accounts SET balance = balance + 10 WHERE id = :id")
    ///                 .bind("id", to);
    ///             tx.execute(credit).await?;
    ///             Ok::<_, orm_postgres::Error>(10)
    ///         }
    ///         .scoped()
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction<'a, T, E, F>(&self, f: F) -> std::result::Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut Transaction<'a>) -> Scoped<'a, 'c, std::result::Result<T, E>>
            + 'a,
        E: From<Error>,
    {
        self.transaction_with(TxOptions::default(), f).await
    }

    /// [`transaction`](Database::transaction) with options.
    pub async fn transaction_with<'a, T, E, F>(
        &self,
        options: TxOptions,
        f: F,
    ) -> std::result::Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut Transaction<'a>) -> Scoped<'a, 'c, std::result::Result<T, E>>
            + 'a,
        E: From<Error>,
    {
        // A transaction owns its connection, so it lives as long as any `'a` the caller's
        // borrows need.
        let mut tx: Transaction<'a> = self.begin_with(options).await?;
        match f(&mut tx).await {
            Ok(value) => {
                tx.commit().await?;
                Ok(value)
            }
            Err(e) => {
                // The caller's error is the one to see: when the ROLLBACK fails too (the
                // connection broke), the connection is discarded and the server rolls back.
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "the rollback after a failed transaction failed too");
                }
                Err(e)
            }
        }
    }
}
