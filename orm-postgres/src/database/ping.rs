//! [`Database::ping`]: whether the server answers, on a connection of its own.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::{DEFAULT_QUERY_TIMEOUT, Database};
use crate::driver_error::from_pg;
use crate::{ErrorKind, Result};

impl Database {
    /// Whether the server answers: opens a connection of its own (outside the pool, so a busy
    /// or exhausted pool neither delays nor refuses it), sends `SELECT 1`, and closes it;
    /// returns how long that took. Bounded by `connect_timeout` for the opening and by the
    /// query timeout ([`DEFAULT_QUERY_TIMEOUT`] when there is none) for the statement: a
    /// frozen or unreachable server is an error within them, never a wait without end. For
    /// health checks, and for long operations that want to know the server is still there
    /// (the migration runner asks while it waits on a long revision).
    ///
    /// ```no_run
    /// # async fn run(db: orm_postgres::Database) -> orm_postgres::Result<()> {
    /// let took = db.ping().await?;
    /// println!("the server answered in {took:?}");
    /// # Ok(()) }
    /// ```
    pub async fn ping(&self) -> Result<Duration> {
        let started = Instant::now();
        let (client, connection) = self.open_direct().await?;
        let limit = self.query_timeout().unwrap_or(DEFAULT_QUERY_TIMEOUT);
        let mut connection = pin!(connection);
        let mut query = pin!(client.simple_query("SELECT 1"));
        // The connection's IO is driven here, beside the query: no task of its own.
        let answered = std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = query.as_mut().poll(cx) {
                return Poll::Ready(result.map(drop).map_err(from_pg));
            }
            match connection.as_mut().poll(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(from_pg(e))),
                Poll::Ready(Ok(())) => Poll::Ready(Err(ErrorKind::ConnectionLost(
                    "the server closed the connection before answering".into(),
                )
                .into())),
                Poll::Pending => Poll::Pending,
            }
        });
        match tokio::time::timeout(limit, answered).await {
            Ok(result) => result.map(|()| started.elapsed()),
            Err(_) => Err(ErrorKind::QueryTimeout {
                after: limit,
                in_transaction: false,
            }
            .into()),
        }
    }
}
