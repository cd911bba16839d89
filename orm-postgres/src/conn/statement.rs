//! A statement's bookkeeping on its connection: counted in flight while it runs, traced and
//! echoed, given up after the query timeout (with a cancel request to the server), and, when
//! it fails, recorded against the open transaction.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use deadpool_postgres::tokio_postgres::{self, CancelToken};

use super::Conn;
use super::begin::Ahead;
use super::deadline::Deadline;
use crate::cancel::{CANCEL_LIMIT, CancelHandle};
use crate::driver_error::is_connection_error;
use crate::trace::{Outcome, Trace};
use crate::{Error, ErrorKind, Result};

impl Conn {
    pub(crate) fn begin_statement(&self, sql: &str) -> Trace {
        #[cfg(feature = "cache")]
        self.note_sent(sql);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.settings.statements.fetch_add(1, Ordering::Relaxed);
        self.settings.logs.record(sql);
        Trace::start(sql, &self.settings.reporting)
    }

    pub(super) fn end_statement(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        #[cfg(feature = "cache")]
        self.note_done();
    }

    /// Marks the open transaction failed after an error the server saw but the driver did not
    /// report as one (a `COPY` the client aborted): the server refuses everything but a rollback.
    pub(crate) fn note_failed(&self) {
        let mut tx = self.tx();
        if tx.open {
            tx.failed = true;
        }
    }

    /// Records a failed statement: inside a transaction, the server now refuses everything
    /// but a rollback.
    pub(super) fn note_error(&self, e: &tokio_postgres::Error) {
        let lost = is_connection_error(e);
        if e.as_db_error().is_some() || lost {
            let mut tx = self.tx();
            if tx.open {
                tx.failed = true;
            }
            tx.lost |= lost;
        }
    }

    /// Runs one statement's future with its bookkeeping: counted in flight until it completes
    /// (with a result or an error), traced, and echoed. If the future is dropped before it
    /// completes, the count stays up and the connection is discarded instead of reused.
    /// `rows` says how many rows a result returned or affected (`None` when there is no
    /// count, as for a script). The statement's span is entered while it runs.
    ///
    /// The statement's future comes pinned, by the caller (`self.tracked(sql, pin!(fut), ..)`):
    /// an `async fn` keeps a future passed by value twice, once as its argument and once
    /// where it pins it, and copies both on every move (callgrind, issue 17: `fetch_opt`'s
    /// future went from 3,472 to ~1,900 bytes).
    pub(crate) fn tracked<'a, T: 'a>(
        &'a self,
        sql: &'a str,
        fut: Pin<&'a mut impl Future<Output = Result<T>>>,
        rows: impl FnOnce(&T) -> Option<u64> + 'a,
    ) -> impl Future<Output = Result<T>> + 'a {
        self.tracked_within(sql, fut, rows, self.query_timeout)
    }

    /// [`tracked`](Conn::tracked), given up after `limit` (`None`: no limit) instead of the
    /// query timeout: a statement that bounds its own waits (a `COPY … FROM STDIN`, whose
    /// client-side waits on its rows' source are not the server's) runs with none.
    pub(crate) async fn tracked_within<T>(
        &self,
        sql: &str,
        mut fut: Pin<&mut impl Future<Output = Result<T>>>,
        rows: impl FnOnce(&T) -> Option<u64>,
        limit: Option<Duration>,
    ) -> Result<T> {
        // The transaction's `BEGIN`, if this is its first statement: written to the
        // connection just before the statement, in the same round trip (see `begin.rs`).
        // (A load, not the transaction's lock, for the statements that have none to carry.)
        let mut begin = match self.begin_kept.load(Ordering::Relaxed) {
            true => self.begin_ahead().await?,
            false => None,
        };
        let trace = self.begin_statement(sql);
        // One poll function does what `Instrument` and `tokio::time::timeout` would: the
        // statement's future is polled in place, not moved into two nested combinators
        // (callgrind, issue 17: each move copies the whole ~2 KB future).
        // The limit is armed when the statement first waits (see `deadline.rs`).
        let mut deadline: Option<Deadline> = None;
        let mut done = None;
        let span = trace.span();
        let result = std::future::poll_fn(|cx| {
            // The `BEGIN` first (in its own span): the first poll writes it before the
            // statement's messages.
            let Some(b) = &mut begin else {
                let _entered = span.enter();
                if let Poll::Ready(result) = fut.as_mut().poll(cx) {
                    return Poll::Ready(Ok(result));
                }
                return wait(&mut deadline, limit, cx);
            };
            let begun = b.poll(cx).is_ready();
            let _entered = span.enter();
            if done.is_none() {
                if let Poll::Ready(result) = fut.as_mut().poll(cx) {
                    done = Some(result);
                }
            }
            if begun {
                if let Some(result) = done.take() {
                    return Poll::Ready(Ok(result));
                }
            }
            wait(&mut deadline, limit, cx)
        })
        .await
        .unwrap_or_else(|limit| Err(self.abandon(limit)));
        // A failed `BEGIN` fails its statement, whatever the statement did.
        let result = match begin.map(Ahead::outcome) {
            Some(Err(e)) => Err(e),
            _ => result,
        };
        self.end_statement();
        trace.finish(match &result {
            Ok(value) => rows(value).map_or(Outcome::Done, Outcome::Rows),
            Err(e) => Outcome::Failed(e),
        });
        // Boxed, and only with a cache that tells other processes: the common statement's
        // future does not carry the announcement's.
        #[cfg(feature = "cache")]
        if self
            .settings
            .cache
            .as_ref()
            .is_some_and(|c| c.remote.is_some())
        {
            Box::pin(self.publish_unpublished()).await;
        }
        result
    }

    /// Waits for `fut`, one step of a statement run with no limit of its own (see
    /// [`tracked_within`](Conn::tracked_within)), at most the query timeout: then, as for any
    /// statement, the server is asked to cancel it and the connection is abandoned.
    pub(crate) async fn bounded<T>(
        &self,
        mut fut: Pin<&mut impl Future<Output = Result<T>>>,
    ) -> Result<T> {
        let limit = self.query_timeout;
        let mut deadline: Option<Deadline> = None;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = fut.as_mut().poll(cx) {
                return Poll::Ready(Ok(result));
            }
            wait(&mut deadline, limit, cx)
        })
        .await
        .unwrap_or_else(|limit| Err(self.abandon(limit)))
    }

    /// Gives up on a statement the server did not finish within `limit`: asks the server to
    /// cancel it (the cancel protocol, on a new connection to the postmaster, in the
    /// background and bounded, since a frozen server may not answer), and marks the connection
    /// lost so it is closed instead of reused.
    pub(super) fn abandon(&self, limit: Duration) -> Error {
        let in_transaction = {
            let mut tx = self.tx();
            tx.lost = true;
            tx.timed_out = true;
            tx.open
        };
        if let Some(token) = self.cancel_token() {
            let tls = self.settings.tls.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(CANCEL_LIMIT, token.cancel_query(tls)).await;
            });
        }
        ErrorKind::QueryTimeout {
            after: limit,
            in_transaction,
        }
        .into()
    }

    /// What cancels this connection's running statement, through the cancel protocol.
    pub(crate) fn cancel_token(&self) -> Option<CancelToken> {
        self.obj.as_ref().map(|obj| obj.cancel_token())
    }

    /// A handle that cancels this connection's running statement from another task.
    pub(crate) fn cancel_handle(&self) -> CancelHandle {
        self.tx().cancel_handle = true;
        CancelHandle::new(self.cancel_token(), self.settings.tls.clone())
    }
}

/// A statement not done yet: pending until its `limit` (armed at its first wait, see
/// `deadline.rs`), then `Err(limit)`.
#[inline]
fn wait<T>(
    deadline: &mut Option<Deadline>,
    limit: Option<Duration>,
    cx: &mut std::task::Context<'_>,
) -> Poll<std::result::Result<T, Duration>> {
    match (limit, deadline) {
        (Some(limit), Some(d)) => d.poll(cx).map(|()| Err(limit)),
        (Some(limit), slot @ None) => {
            *slot = Some(Deadline::after(limit, cx.waker()));
            Poll::Pending
        }
        (None, _) => Poll::Pending,
    }
}
