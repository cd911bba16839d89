//! [`Listener`]: `LISTEN` on a connection of its own, its notifications as a stream, and the
//! connection restored (with a gap reported) when it is lost.

use std::collections::{BTreeSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use futures_util::future::{BoxFuture, poll_fn};

use super::channel::check_channel;
use super::event::ListenEvent;
use super::live::Live;
use super::reconnect::{ReconnectPolicy, reconnect};
use crate::{DEFAULT_QUERY_TIMEOUT, Database, Error, Result};

/// Listens to channels (`LISTEN`) on a connection of its own, not taken from the pool, and
/// yields what arrives as a [`Stream`] of [`ListenEvent`]s (or one at a time with
/// [`recv`](Listener::recv)).
///
/// ```no_run
/// use orm_postgres::notify::ListenEvent;
/// # use orm_postgres::prelude::*;
///
/// # async fn run(db: Database) -> orm_postgres::Result<()> {
/// let mut listener = db.listener().await?;
/// listener.listen("orders").await?;
/// db.notify("orders", "42").await?;
/// loop {
///     match listener.recv().await? {
///         ListenEvent::Notification(n) => println!("{}: {}", n.channel, n.payload),
///         // Notifications sent while disconnected are lost: catch up from the tables.
///         ListenEvent::Reconnected { .. } => println!("reloading"),
///         _ => {}
///     }
/// }
/// # }
/// ```
///
/// # Behavior
/// - **Delivery:** notifications of one channel, and of all channels together, arrive in the
///   order their transactions committed. Only channels listened to are yielded.
/// - **No IO of its own:** the connection is read only while the listener is polled (or runs
///   `listen`/`unlisten`). A listener nobody polls keeps its notifications waiting on the
///   server (in its 8 GB queue), not in memory.
/// - **Lost connections** (`pg_terminate_backend`, a restart, a network failure found by TCP
///   keepalives) are reported as [`ListenEvent::Disconnected`] when found, then restored as
///   its [`ReconnectPolicy`] allows, listening again to every channel, and reported as
///   [`ListenEvent::Reconnected`] (the end of the gap) before anything the new connection
///   receives. When every attempt fails, the stream yields
///   [`ReconnectFailed`](crate::ErrorKind::ReconnectFailed); polled again, it starts over.
///   The stream never ends.
/// - **Nothing waits forever:** each connection attempt has the database's connect timeout,
///   each `LISTEN` its query timeout (5 minutes when the database has none).
/// - Channel names are identifiers, always quoted: `"Orders"` and `orders` are two channels.
pub struct Listener {
    db: Database,
    policy: ReconnectPolicy,
    /// The limit of each `LISTEN`/`UNLISTEN`.
    timeout: Duration,
    /// The channels listened to.
    channels: BTreeSet<String>,
    state: State,
    /// Events to yield before reading the connection.
    events: VecDeque<ListenEvent>,
}

/// A listener's connection.
enum State {
    Live(Box<Live>),
    /// Getting a connection back.
    Reconnecting(BoxFuture<'static, Result<(Live, u32)>>),
    /// Lost, with no attempt under way (the last ones failed): the next use starts again.
    Down,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("channels", &self.channels)
            .field("backend_pid", &self.backend_pid())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// A [`Listener`] on a new connection of its own (outside the pool), listening to nothing
    /// yet. The connection is opened now, so an unreachable server is reported here.
    pub async fn listener(&self) -> Result<Listener> {
        let timeout = self.query_timeout().unwrap_or(DEFAULT_QUERY_TIMEOUT);
        let live = Live::open(self, &BTreeSet::new(), timeout).await?;
        Ok(Listener {
            db: self.clone(),
            policy: ReconnectPolicy::default(),
            timeout,
            channels: BTreeSet::new(),
            state: State::Live(Box::new(live)),
            events: VecDeque::new(),
        })
    }
}

impl Listener {
    /// Listens to `channel` from now on (`LISTEN "channel"`). Returns once the server
    /// listens; listening twice to a channel is listening once. If the connection was lost,
    /// it is restored first (and [`ListenEvent::Reconnected`] queued).
    ///
    /// # Errors
    ///
    /// [`InvalidIdentifier`](crate::ErrorKind::InvalidIdentifier) for an empty name, one over
    /// 63 bytes or with a NUL byte; [`ReconnectFailed`](crate::ErrorKind::ReconnectFailed)
    /// when the connection was lost and could not be restored;
    /// [`ConnectionLost`](crate::ErrorKind::ConnectionLost) or
    /// [`QueryTimeout`](crate::ErrorKind::QueryTimeout) when a restored connection was lost
    /// again while it listened (three times). The channel is not listened to then.
    pub async fn listen(&mut self, channel: &str) -> Result<()> {
        check_channel(channel)?;
        // Synced even when the channel is wanted already: a `listen` dropped before the server
        // answered left it wanted but maybe not listened to (a sync with nothing to change
        // sends nothing).
        let new = self.channels.insert(channel.to_owned());
        if let Err(e) = self.sync().await {
            if new {
                self.channels.remove(channel);
            }
            return Err(e);
        }
        Ok(())
    }

    /// Stops listening to `channel` (`UNLISTEN "channel"`); nothing more of it is yielded,
    /// even what arrived before.
    pub async fn unlisten(&mut self, channel: &str) -> Result<()> {
        check_channel(channel)?;
        if self.channels.remove(channel) {
            self.sync().await?;
        }
        Ok(())
    }

    /// Stops listening to every channel.
    pub async fn unlisten_all(&mut self) -> Result<()> {
        self.channels.clear();
        self.sync().await
    }

    /// The channels listened to, in name order.
    pub fn channels(&self) -> impl Iterator<Item = &str> {
        self.channels.iter().map(String::as_str)
    }

    /// The server process of the listener's connection (as `pg_stat_activity.pid` shows it),
    /// or `None` while it is disconnected.
    pub fn backend_pid(&self) -> Option<i32> {
        match &self.state {
            State::Live(live) => Some(live.pid),
            _ => None,
        }
    }

    /// How the connection is restored when lost (default: [`ReconnectPolicy::default`]).
    pub fn set_reconnect_policy(&mut self, policy: ReconnectPolicy) {
        self.policy = policy;
    }

    /// Waits for the next event: the stream's next item, for callers without `StreamExt`.
    /// Cancel-safe: dropping the future loses nothing.
    ///
    /// # Errors
    ///
    /// [`ReconnectFailed`](crate::ErrorKind::ReconnectFailed) when the connection was lost and
    /// every attempt to restore it failed. A later call tries again.
    pub async fn recv(&mut self) -> Result<ListenEvent> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Makes the connection listen to exactly `self.channels`, restoring it first if lost.
    /// A statement that fails with the connection still usable (a server error) is reported;
    /// one that fails because the connection broke or stopped answering restores it.
    async fn sync(&mut self) -> Result<()> {
        let mut tries = 0;
        loop {
            poll_fn(|cx| self.poll_connected(cx)).await?;
            let State::Live(live) = &mut self.state else {
                return Err(Error::transaction_state("the listener has no connection"));
            };
            match live.sync(&self.channels, self.timeout).await {
                Ok(()) => return Ok(()),
                Err(e) if e.db_error().is_some() && !e.is_connection_lost() => return Err(e),
                Err(e) if tries >= 2 => {
                    self.lost();
                    return Err(e);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listener: connection lost; reconnecting");
                    self.lost();
                }
            }
            tries += 1;
        }
    }

    /// Ready once the connection is live: restores a lost one, queueing the gap.
    fn poll_connected(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        loop {
            match &mut self.state {
                State::Live(_) => return Poll::Ready(Ok(())),
                State::Down => {
                    self.state = State::Reconnecting(Box::pin(reconnect(
                        self.db.clone(),
                        self.channels.clone(),
                        self.policy,
                        self.timeout,
                    )));
                }
                State::Reconnecting(attempts) => match attempts.as_mut().poll(cx) {
                    Poll::Ready(Ok((live, attempts))) => {
                        tracing::info!(attempts, "listener: reconnected");
                        self.state = State::Live(Box::new(live));
                        self.events.push_back(ListenEvent::Reconnected { attempts });
                    }
                    Poll::Ready(Err(e)) => {
                        self.state = State::Down;
                        return Poll::Ready(Err(e));
                    }
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }

    /// The next event: one queued, else the next notification of a channel listened to; a
    /// lost connection is restored on the way.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<ListenEvent>> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Poll::Ready(Ok(event));
            }
            let State::Live(live) = &mut self.state else {
                match self.poll_connected(cx) {
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            };
            match live.poll_notification(cx) {
                Poll::Ready(Ok(n)) if self.channels.contains(&n.channel) => {
                    return Poll::Ready(Ok(ListenEvent::Notification(n)));
                }
                // A channel no longer listened to (or one a cancelled `listen` sent).
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => {
                    tracing::warn!(error = %e, "listener: connection lost; reconnecting");
                    self.lost();
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The live connection is gone: reported ([`ListenEvent::Disconnected`]) before anything
    /// the next one brings.
    fn lost(&mut self) {
        self.state = State::Down;
        self.events.push_back(ListenEvent::Disconnected);
    }
}

impl Stream for Listener {
    type Item = Result<ListenEvent>;

    /// Never `None`: see [`Listener`]'s *Behavior*.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx).map(Some)
    }
}
