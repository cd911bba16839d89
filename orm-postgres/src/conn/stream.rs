//! A row stream's bookkeeping on its connection (a query's, a `COPY … TO STDOUT`'s): counted
//! in flight until its end, traced, and given up after the query timeout, both when it starts
//! and while it waits for a row, as [`tracked`](Conn::tracked) gives up a statement.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use deadpool_postgres::tokio_postgres;
use tokio::time::{Instant, Sleep};

use super::Conn;
use crate::trace::{Outcome, Trace};
use crate::{CompiledQuery, Result};

/// What a row stream keeps between polls: its report, its row count, and the deadline of the
/// row it waits for.
pub(crate) struct StreamState {
    /// `None` once the stream has ended.
    trace: Option<Trace>,
    count: u64,
    /// When the wait for the next row is given up; armed when a poll finds no row ready (a
    /// stream read faster than the rows arrive never touches the clock).
    deadline: Option<Pin<Box<Sleep>>>,
    /// Whether `deadline` is the current wait's (cleared by each row).
    waiting: bool,
}

impl StreamState {
    fn new(trace: Trace) -> Self {
        StreamState {
            trace: Some(trace),
            count: 0,
            deadline: None,
            waiting: false,
        }
    }

    /// Whether the stream has ended (its last row read, or an error).
    pub(crate) fn ended(&self) -> bool {
        self.trace.is_none()
    }
}

impl Conn {
    /// Starts a statement whose rows are streamed: `start` sends it and returns its rows.
    /// Counted in flight and traced until the stream ends (see [`poll_rows`](Conn::poll_rows));
    /// given up after the query timeout like any statement (the connection is then abandoned).
    pub(crate) async fn start_rows<T>(
        &self,
        sql: &str,
        start: impl Future<Output = Result<T>>,
    ) -> Result<(T, StreamState)> {
        // A stream's statement does not carry its transaction's `BEGIN` (see `begin.rs`):
        // sent first, and reported before the statement.
        self.send_begin().await?;
        let trace = self.begin_statement(sql);
        let started = match self.query_timeout {
            Some(limit) => tokio::time::timeout(limit, start)
                .await
                .unwrap_or_else(|_| Err(self.abandon(limit))),
            None => start.await,
        };
        match started {
            Ok(rows) => Ok((rows, StreamState::new(trace))),
            Err(e) => {
                self.finish_stream(trace, Outcome::Failed(&e));
                Err(e)
            }
        }
    }

    /// Starts a query's row stream. The caller polls it with [`poll_rows`](Conn::poll_rows) to
    /// the end; dropping it earlier leaves the statement in flight and the connection is
    /// discarded.
    pub(crate) async fn start_stream(
        &self,
        q: &CompiledQuery,
    ) -> Result<(tokio_postgres::RowStream, StreamState)> {
        self.start_rows(&q.sql, self.query_stream(q)).await
    }

    fn finish_stream(&self, trace: Trace, outcome: Outcome<'_>) {
        self.end_statement();
        trace.finish(outcome);
    }

    /// One poll of a row stream started by this connection: polls the rows with `poll` inside
    /// the statement's span, decodes a row with `decode` and counts it, and at the end or at an
    /// error finishes the statement's report; once ended, the stream stays ended. A wait for a
    /// row longer than the query timeout ends it with
    /// [`QueryTimeout`](crate::ErrorKind::QueryTimeout), the connection abandoned. An error
    /// that lost a replica's connection takes the replica out of rotation (the rows already
    /// yielded are not read again: the stream fails).
    pub(crate) fn poll_rows<R, T>(
        &self,
        state: &mut StreamState,
        cx: &mut Context<'_>,
        poll: impl FnOnce(
            &mut Context<'_>,
        ) -> Poll<Option<std::result::Result<R, tokio_postgres::Error>>>,
        decode: impl FnOnce(&R) -> Result<T>,
    ) -> Poll<Option<Result<T>>> {
        let Some(current) = &state.trace else {
            return Poll::Ready(None);
        };
        let span = current.span().clone();
        let _entered = span.enter();
        let failed = match poll(cx) {
            Poll::Pending => match self.wait_expired(state, cx) {
                Some(e) => e,
                None => return Poll::Pending,
            },
            Poll::Ready(Some(Ok(row))) => {
                state.waiting = false;
                state.count += 1;
                return Poll::Ready(Some(decode(&row)));
            }
            Poll::Ready(Some(Err(e))) => self.pg_error(e),
            Poll::Ready(None) => {
                if let Some(trace) = state.trace.take() {
                    self.finish_stream(trace, Outcome::Rows(state.count));
                }
                return Poll::Ready(None);
            }
        };
        self.lost_replica(&failed);
        if let Some(trace) = state.trace.take() {
            self.finish_stream(trace, Outcome::Failed(&failed));
        }
        Poll::Ready(Some(Err(failed)))
    }

    /// The timeout error when the current wait for a row has lasted the query timeout (the
    /// connection is then abandoned); else `None`, with the deadline armed to wake `cx`.
    fn wait_expired(&self, state: &mut StreamState, cx: &mut Context<'_>) -> Option<crate::Error> {
        let limit = self.query_timeout?;
        if !state.waiting {
            state.waiting = true;
            // A limit past the clock's range (`Duration::MAX`) is no limit.
            let at = Instant::now().checked_add(limit)?;
            match &mut state.deadline {
                Some(deadline) => deadline.as_mut().reset(at),
                None => state.deadline = Some(Box::pin(tokio::time::sleep_until(at))),
            }
        }
        let deadline = state.deadline.as_mut()?;
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Some(self.abandon(limit)),
            Poll::Pending => None,
        }
    }
}
