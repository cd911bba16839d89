//! Sending a notification: `notify` on a [`Database`], a [`Transaction`] and a
//! [`Connection`], as `SELECT pg_notify($1, $2)`, so the channel and the payload are both
//! parameters.

use super::channel::{check_channel, check_payload};
use crate::raw::query;
use crate::{Connection, Database, Executor, Result, Transaction};

/// Checks the channel and payload, then sends them.
async fn notify_on(ex: &impl Executor, channel: &str, payload: &str) -> Result<()> {
    check_channel(channel)?;
    check_payload(payload)?;
    ex.execute(
        query::<()>("SELECT pg_notify(:channel, :payload)")
            .bind("channel", channel.to_owned())
            .bind("payload", payload.to_owned()),
    )
    .await?;
    Ok(())
}

impl Database {
    /// Sends a notification on `channel` with `payload` (`pg_notify`): every session listening
    /// to the channel, a [`Listener`](crate::Listener) among them, receives it. Outside a
    /// transaction, it is delivered at once.
    ///
    /// The channel is an identifier taken as written (`"Orders"` and `orders` are two
    /// channels) and the payload is text; both are sent as parameters.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// db.notify("orders", r#"{"id": 42}"#).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidIdentifier`](crate::ErrorKind::InvalidIdentifier) for an empty channel name, a
    /// name over 63 bytes or with a NUL byte; [`InvalidPayload`](crate::ErrorKind::InvalidPayload)
    /// for a payload of 8000 bytes or more ([`MAX_PAYLOAD_BYTES`](crate::notify::MAX_PAYLOAD_BYTES))
    /// or with a NUL character. Nothing is sent then.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        notify_on(self, channel, payload).await
    }
}

impl Transaction<'_> {
    /// Sends a notification as part of this transaction: listeners receive it when the
    /// transaction commits, and never if it rolls back (PostgreSQL's `NOTIFY` semantics). The
    /// same channel and payload twice in one transaction are delivered once. Checked as
    /// [`Database::notify`] checks.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let tx = db.begin().await?;
    /// tx.batch_execute("UPDATE orders SET shipped = true WHERE id = 42").await?;
    /// tx.notify("orders", "42").await?;
    /// tx.commit().await?; // delivered now
    /// # Ok(()) }
    /// ```
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        notify_on(self, channel, payload).await
    }
}

impl Connection {
    /// Sends a notification from this connection, delivered at once. Checked as
    /// [`Database::notify`] checks.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        notify_on(self, channel, payload).await
    }
}
