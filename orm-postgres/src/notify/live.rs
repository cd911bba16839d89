//! One open connection of a listener: the driver's client and the connection's IO, driven by
//! whoever polls it (the listener's stream, or a `LISTEN` it sends), never by a task of its
//! own, so a notification is read only when the listener is asked for one.

use std::collections::{BTreeSet, VecDeque};
use std::task::{Context, Poll};
use std::time::Duration;

use deadpool_postgres::tokio_postgres::{AsyncMessage, Client, SimpleQueryMessage};

use super::channel::sync_sql;
use super::event::Notification;
use crate::database::{DirectConnection, run_simple};
use crate::driver_error::from_pg;
use crate::{Database, Error, ErrorKind, Result};

/// A listener's connection, and what it listens to.
pub(super) struct Live {
    client: Client,
    connection: DirectConnection,
    /// The channels this connection has `LISTEN`ed to.
    pub(super) listening: BTreeSet<String>,
    /// Notifications read while a statement ran, not handed out yet.
    pending: VecDeque<Notification>,
    /// The server process of this connection (`pg_backend_pid()`).
    pub(super) pid: i32,
}

impl Live {
    /// Opens a connection of its own (not the pool's) and listens to `channels` on it, in one
    /// round trip that also asks for its process id.
    pub(super) async fn open(
        db: &Database,
        channels: &BTreeSet<String>,
        timeout: Duration,
    ) -> Result<Live> {
        let (client, connection) = db.open_direct().await?;
        let mut live = Live {
            client,
            connection,
            listening: BTreeSet::new(),
            pending: VecDeque::new(),
            pid: 0,
        };
        let sql = format!(
            "SELECT pg_backend_pid(); {}",
            sync_sql(channels, &live.listening)?
        );
        let messages = live.run(&sql, timeout).await?;
        live.pid = messages
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).and_then(|pid| pid.parse().ok()),
                _ => None,
            })
            .ok_or_else(|| {
                Error::from(ErrorKind::Driver("pg_backend_pid() returned no row".into()))
            })?;
        live.listening = channels.clone();
        Ok(live)
    }

    /// Listens to `wanted` instead of what it listens to now (`LISTEN` what is new, `UNLISTEN`
    /// what is gone).
    pub(super) async fn sync(
        &mut self,
        wanted: &BTreeSet<String>,
        timeout: Duration,
    ) -> Result<()> {
        let sql = sync_sql(wanted, &self.listening)?;
        if !sql.is_empty() {
            // Until the server answers, a channel being unlistened is not known to be
            // listened to: dropped in flight, a later `listen` of it sends `LISTEN` again
            // (harmless if the `UNLISTEN` never went) rather than nothing.
            self.listening.retain(|c| wanted.contains(c));
            self.run(&sql, timeout).await?;
            self.listening = wanted.clone();
        }
        Ok(())
    }

    /// Runs `sql` (simple protocol) while driving the connection, keeping the notifications
    /// that arrive meanwhile. A connection that ends or does not answer within `timeout` is
    /// an error (and of no further use).
    async fn run(&mut self, sql: &str, timeout: Duration) -> Result<Vec<SimpleQueryMessage>> {
        let Live {
            client,
            connection,
            pending,
            ..
        } = self;
        run_simple(client, sql, timeout, |cx| {
            loop {
                match poll_connection(connection, cx) {
                    Poll::Ready(Ok(n)) => pending.push_back(n),
                    Poll::Ready(Err(_)) => return Poll::Ready(()),
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await
    }

    /// The next notification (one read earlier first), or the end of the connection.
    pub(super) fn poll_notification(&mut self, cx: &mut Context<'_>) -> Poll<Result<Notification>> {
        if let Some(n) = self.pending.pop_front() {
            return Poll::Ready(Ok(n));
        }
        poll_connection(&mut self.connection, cx)
    }
}

/// Reads the connection's next notification; notices are traced and skipped. `Err` means the
/// connection has ended (its error, or the server closing it): poll it no more.
fn poll_connection(
    connection: &mut DirectConnection,
    cx: &mut Context<'_>,
) -> Poll<Result<Notification>> {
    loop {
        return match connection.poll_message(cx) {
            Poll::Ready(Some(Ok(AsyncMessage::Notification(n)))) => Poll::Ready(Ok(Notification {
                channel: n.channel().to_owned(),
                payload: n.payload().to_owned(),
                process_id: n.process_id(),
            })),
            Poll::Ready(Some(Ok(AsyncMessage::Notice(notice)))) => {
                tracing::debug!(
                    severity = notice.severity(),
                    message = notice.message(),
                    "listener: notice from the server"
                );
                continue;
            }
            // Any other kind of message a later driver may add.
            Poll::Ready(Some(Ok(_))) => continue,
            Poll::Ready(Some(Err(e))) => Poll::Ready(Err(lost(from_pg(e)))),
            Poll::Ready(None) => Poll::Ready(Err(ErrorKind::ConnectionLost(
                "the server closed the listener's connection".into(),
            )
            .into())),
            Poll::Pending => Poll::Pending,
        };
    }
}

/// An error that ended the connection, as a lost connection (keeping the server's reason,
/// such as 57P01 for `pg_terminate_backend`).
fn lost(e: Error) -> Error {
    if e.is_connection_lost() {
        return e;
    }
    ErrorKind::ConnectionLost(Box::new(e)).into()
}
