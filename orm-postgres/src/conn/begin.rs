//! A transaction's `BEGIN`, sent with the transaction's first statement instead of alone: one
//! round trip less per transaction (pgjdbc and Npgsql do the same). [`Conn::begin`] marks the
//! transaction open and keeps its `BEGIN`; the first statement ([`Conn::tracked`], which every
//! statement goes through) writes the `BEGIN` to the connection just before its own messages,
//! in the same poll, then reads both answers, the `BEGIN`'s first. What cannot carry it (a
//! `COPY`, a row stream, a savepoint) sends it alone first ([`Conn::send_begin`], from
//! [`Conn::ready`]). Until then no statement can be
//! sent ([`Conn::obj`] refuses), so none can run outside the transaction by mistake; preparing
//! one (which runs nothing) can. A transaction that ends before its `BEGIN` was sent
//! (committed, rolled back or dropped) sent nothing and sends nothing.
//!
//! The `BEGIN` and the statement are two requests, each with its own Sync: had the `BEGIN`
//! failed while the connection lived, the statement would run outside the transaction. A
//! `BEGIN` fails when the connection does (the statement then fails with it), for an option a
//! server refuses (a hot standby refuses `SERIALIZABLE`), or when a cancel request lands on it.
//! So a `BEGIN ... SERIALIZABLE`, and every `BEGIN` of a connection checked out with a
//! [`CancelHandle`](crate::CancelHandle) made, is sent alone (by `begin`, or before the first
//! statement when the handle came after `begin`) and answered before the statement goes; such
//! a connection is closed when released, so a handle kept after its checkout cancels nothing
//! of the next user's. A failed `BEGIN` fails the
//! statement that carried it with the `BEGIN`'s error, whatever the statement's own result,
//! and leaves the transaction failed: only a rollback is accepted.
//!
//! [`Conn::begin`]: super::Conn::begin
//! [`Conn::tracked`]: super::Conn::tracked

use std::pin::pin;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;

use super::Conn;
use crate::trace::{Outcome, Trace};
use crate::{Error, Result};

/// The error of a statement about to be sent while its transaction's `BEGIN` was not: a path
/// of this crate that forgot to send it (a bug), refused instead of run outside the
/// transaction.
#[cold]
pub(super) fn not_sent() -> Error {
    Error::transaction_state(
        "a statement was about to run before its transaction's BEGIN was sent (a bug in the \
         ORM); nothing was sent",
    )
}

/// Whether `sql` (a `BEGIN`) may go ahead of a statement: one a server can refuse while the
/// connection lives is sent alone (see the module's documentation).
pub(super) fn may_go_ahead(sql: &str) -> bool {
    !sql.contains("SERIALIZABLE")
}

/// A `BEGIN` going ahead of a statement: written to the connection the first time it is polled
/// (before the statement is), answered before the statement.
pub(super) struct Ahead<'c> {
    conn: &'c Conn,
    /// The `BEGIN`'s report and request, until it is answered.
    running: Option<(Trace, BoxFuture<'c, Result<(), tokio_postgres::Error>>)>,
    /// Its outcome, once answered.
    outcome: Option<Result<()>>,
}

impl<'c> Ahead<'c> {
    /// Polls the `BEGIN`: ready once it is answered (at once when it was).
    pub(super) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some((trace, request)) = &mut self.running else {
            return Poll::Ready(());
        };
        let answer = {
            let _entered = trace.span().enter();
            request.as_mut().poll(cx)
        };
        let Poll::Ready(answer) = answer else {
            return Poll::Pending;
        };
        if let Some((trace, _)) = self.running.take() {
            self.conn.end_statement();
            let outcome = answer.map_err(|e| self.conn.pg_error(e));
            trace.finish(match &outcome {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Failed(e),
            });
            self.outcome = Some(outcome);
        }
        Poll::Ready(())
    }

    /// How the `BEGIN` went: its error, if it failed (`Ok` if it was never answered: the
    /// statement's own error, a timeout, says why).
    pub(super) fn outcome(self) -> Result<()> {
        self.outcome.unwrap_or(Ok(()))
    }
}

impl Conn {
    /// Before a statement: the open transaction's `BEGIN`, if it was not sent yet, to go ahead
    /// of the statement (`Ok(Some)`), or, when a cancel handle was made since `begin` kept it
    /// (a cancel could land on it), sent alone and answered first (`Ok(None)`).
    pub(super) async fn begin_ahead(&self) -> Result<Option<Ahead<'_>>> {
        let (sql, alone) = {
            let mut tx = self.tx();
            match tx.begin.take() {
                None => return Ok(None),
                Some(sql) => (sql, tx.cancel_handle),
            }
        };
        if alone {
            Box::pin(self.begin_alone(&sql)).await?;
            return Ok(None);
        }
        let client = match self.client() {
            Ok(client) => client,
            Err(e) => {
                self.tx().begin = Some(sql);
                return Err(e);
            }
        };
        let trace = self.begin_statement(&sql);
        let request: BoxFuture<'_, _> = Box::pin(async move { client.batch_execute(&sql).await });
        Ok(Some(Ahead {
            conn: self,
            running: Some((trace, request)),
            outcome: None,
        }))
    }

    /// Sends the open transaction's `BEGIN` alone, if it was not sent yet, and waits for its
    /// answer.
    pub(super) async fn send_begin(&self) -> Result<()> {
        let Some(sql) = self.tx().begin.take() else {
            return Ok(());
        };
        self.begin_alone(&sql).await
    }

    /// Sends `sql` (a `BEGIN`) alone. The request is written in the first poll (the `BEGIN`
    /// was taken from the transaction in that poll too): dropped after it, the transaction is
    /// open on both sides, and the statement counted in flight discards the connection unless
    /// the transaction ends. A failure leaves the transaction open and failed (or lost): the
    /// statement waiting for the `BEGIN` fails with its error, and the transaction accepts
    /// only a rollback, so nothing the caller sends next runs outside it.
    async fn begin_alone(&self, sql: &str) -> Result<()> {
        let request = async {
            let client = self.client()?;
            client
                .batch_execute(sql)
                .await
                .map_err(|e| self.pg_error(e))
        };
        self.tracked(sql, pin!(request), |_| None).await
    }
}
