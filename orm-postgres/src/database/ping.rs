//! [`Database::ping`], and what it shares with a listener's connection: a simple-protocol
//! statement on a connection of its own, whose IO the caller drives, within a limit.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use deadpool_postgres::tokio_postgres::{Client, SimpleQueryMessage};

use super::{DEFAULT_QUERY_TIMEOUT, Database};
use crate::driver_error::from_pg;
use crate::{ErrorKind, Result};

impl Database {
    /// Whether the server answers: opens a connection of its own (outside the pool, so a busy
    /// or exhausted pool neither delays nor refuses it), sends `SELECT 1`, and closes it;
    /// returns how long that took. Bounded by `connect_timeout` (per address tried) for the
    /// opening and by the query timeout ([`DEFAULT_QUERY_TIMEOUT`] when there is none) for the
    /// statement: a frozen or unreachable server is an error within them, never a wait without
    /// end. For health checks, and for long operations that want to know the server is still
    /// there (the migration runner asks while it waits on a long revision).
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
        // Its messages (notices) are of no interest: polled until it ends.
        run_simple(&client, "SELECT 1", limit, |cx| {
            connection.as_mut().poll(cx).map(drop)
        })
        .await?;
        Ok(started.elapsed())
    }
}

/// Runs `sql` (simple protocol) on `client`, whose connection `drive` polls (its IO done
/// there; `Ready` once the connection has ended, after which the statement fails on its own),
/// within `limit`: a [`QueryTimeout`](ErrorKind::QueryTimeout) after it.
pub(crate) async fn run_simple(
    client: &Client,
    sql: &str,
    limit: Duration,
    mut drive: impl FnMut(&mut Context<'_>) -> Poll<()>,
) -> Result<Vec<SimpleQueryMessage>> {
    let mut query = pin!(client.simple_query(sql));
    let mut ended = false;
    let work = std::future::poll_fn(|cx| {
        // The IO first, so the statement's messages are written and read.
        if !ended {
            ended = drive(cx).is_ready();
        }
        query.as_mut().poll(cx).map_err(from_pg)
    });
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(ErrorKind::QueryTimeout {
            after: limit,
            in_transaction: false,
        }
        .into()),
    }
}
