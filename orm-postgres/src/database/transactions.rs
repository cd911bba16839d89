//! Transactions on a [`Database`]: [`begin`](Database::begin), [`begin_with`](Database::begin_with),
//! [`transaction`](Database::transaction), [`transaction_with`](Database::transaction_with).

use super::Database;
use crate::transaction::{Transaction, TxOptions};
use crate::{Error, Result};

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
    /// ```no_run
    /// # use orm_postgres::{Database, prelude::*};
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let moved = db
    ///     .transaction(async |tx| {
    ///         tx.batch_execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1").await?;
    ///         tx.batch_execute("UPDATE accounts SET balance = balance + 10 WHERE id = 2").await?;
    ///         Ok::<_, orm_postgres::Error>(10)
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction<T, E, F>(&self, f: F) -> std::result::Result<T, E>
    where
        F: AsyncFnOnce(&mut Transaction<'static>) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        self.transaction_with(TxOptions::default(), f).await
    }

    /// [`transaction`](Database::transaction) with options.
    pub async fn transaction_with<T, E, F>(
        &self,
        options: TxOptions,
        f: F,
    ) -> std::result::Result<T, E>
    where
        F: AsyncFnOnce(&mut Transaction<'static>) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        let mut tx = self.begin_with(options).await?;
        match f(&mut tx).await {
            Ok(value) => {
                tx.commit().await?;
                Ok(value)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }
}
