//! Transactions and savepoints on a [`Conn`]: `BEGIN`, `COMMIT` (whose outcome may be
//! unknown), `ROLLBACK`, savepoints, and what a commit tells the result cache.

use std::pin::pin;
use std::sync::atomic::Ordering;
use std::task::Poll;

use super::Conn;
use crate::driver_error::{from_pg, is_connection_error};
use crate::{Error, ErrorKind, Result, StatementMode};

/// Held across a `BEGIN`, `COMMIT` or `ROLLBACK`: if the future running it is dropped before it
/// ends, the server's transaction state is unknown (the statement may have been sent), so the
/// connection's next statement rolls back first. Without it, a held connection kept a
/// transaction the server may have open: its next `begin` failed ("already open") and its
/// writes ran in a transaction nobody would commit.
///
/// `COMMIT`: it holds a `COMMIT`, which, dropped, may have committed (see
/// [`commit_dropped`](Conn::commit_dropped)).
struct Unsettled<'c, const COMMIT: bool>(Option<&'c Conn>);

impl<const COMMIT: bool> Unsettled<'_, COMMIT> {
    fn settled(mut self) {
        self.0 = None;
    }
}

impl<const COMMIT: bool> Drop for Unsettled<'_, COMMIT> {
    fn drop(&mut self) {
        if let Some(conn) = self.0 {
            if COMMIT {
                conn.commit_dropped();
            }
            conn.defer_rollback();
        }
    }
}

impl Conn {
    pub(crate) async fn begin(&self, sql: &str) -> Result<()> {
        let guard = Unsettled::<false>(Some(self));
        let result = self.begin_now(sql).await;
        guard.settled();
        result
    }

    async fn begin_now(&self, sql: &str) -> Result<()> {
        self.settle().await?;
        if self.in_transaction() {
            return Err(Error::transaction_state("a transaction is already open"));
        }
        // Open from here on: a connection given back before the transaction ends is discarded
        // rather than returned with a transaction possibly open. The `BEGIN` itself is sent
        // with the transaction's first statement, in the same round trip, unless it may not
        // go ahead of one (see `begin.rs`): then now, as the transaction's first round trip.
        let ahead = {
            let mut tx = self.tx();
            tx.open = true;
            tx.changed_types = false;
            #[cfg(feature = "cache")]
            {
                tx.written = crate::cache::Written::default();
                tx.snapshot = sql.contains("REPEATABLE READ") || sql.contains("SERIALIZABLE");
            }
            let ahead = super::begin::may_go_ahead(sql) && !tx.cancel_handle;
            if ahead {
                // (Its guard tells `Conn::tracked`'s lock-free check.)
                tx.begin = Some(sql.into());
            }
            ahead
        };
        if !ahead {
            if let Err(e) = self.simple(sql).await {
                self.end_transaction(false);
                return Err(e);
            }
        }
        Ok(())
    }

    pub(crate) async fn commit(&self) -> Result<()> {
        let guard = Unsettled::<true>(Some(self));
        let result = self.commit_now().await;
        guard.settled();
        result
    }

    async fn commit_now(&self) -> Result<()> {
        let (lost, unsent) = {
            let tx = self.tx();
            (tx.lost, tx.begin.is_some())
        };
        if unsent && !lost {
            // It ran nothing, so it sent nothing (see `begin.rs`): nothing to commit.
            self.end_transaction(true);
            return Ok(());
        }
        if lost {
            return Err(ErrorKind::TransactionLost(
                "the connection was lost earlier in this transaction; nothing was committed".into(),
            )
            .into());
        }
        // A failure inside a savepoint that was dropped is undone by `ready` below (as before
        // any statement of the parent), and the transaction commits.
        let failed = {
            let tx = self.tx();
            tx.failed && tx.pending_rollback.is_none()
        };
        if failed {
            return self.rolled_back_instead().await;
        }
        self.ready().await?;
        // A statement dropped before its result was read (a timeout around it, a `select!`, a
        // `COPY` given up) may have failed on the server, which then answers COMMIT with
        // ROLLBACK: no error to the driver, so the commit would say `Ok` for work the server
        // threw away. Every statement of a failed transaction fails: ask with one first.
        if self.in_flight.load(Ordering::Acquire) != 0 {
            if let Err(e) = self.simple("SELECT 1").await {
                if !self.tx().failed {
                    return Err(e);
                }
                return self.rolled_back_instead().await;
            }
        }
        // Other processes' caches hear of the tables written when (and only if) this commits.
        #[cfg(feature = "cache")]
        if let Some(publish) = self.publish_at_commit() {
            self.execute(&publish.query()).await?;
        }
        let obj = self.obj()?;
        let outcome = match self
            .tracked(
                "COMMIT",
                std::pin::pin!(async { Ok(obj.batch_execute("COMMIT").await) }),
                |_| None,
            )
            .await
        {
            Ok(outcome) => outcome,
            // No answer to COMMIT in time: it may have committed.
            Err(e) if matches!(e.kind(), ErrorKind::QueryTimeout { .. }) => {
                self.invalidate_written();
                return Err(ErrorKind::CommitUnknown(Box::new(e)).into());
            }
            Err(e) => return Err(e),
        };
        match outcome {
            Ok(()) => {
                self.end_transaction(true);
                Ok(())
            }
            // The connection broke while COMMIT was in flight: nobody knows whether it
            // committed. The connection stays marked open and is discarded.
            Err(e) if is_connection_error(&e) => {
                self.invalidate_written();
                Err(ErrorKind::CommitUnknown(Box::new(e)).into())
            }
            Err(e) => {
                // The server ended the transaction (e.g. a deferred constraint failed).
                self.end_transaction(false);
                Err(from_pg(e))
            }
        }
    }

    /// Rolls back a failed transaction at its commit (the server would turn COMMIT into
    /// ROLLBACK) and says so.
    async fn rolled_back_instead(&self) -> Result<()> {
        self.simple("ROLLBACK").await?;
        self.end_transaction(false);
        Err(Error::transaction_state(
            "a statement failed in this transaction, so it was rolled back instead of committed",
        ))
    }

    pub(crate) async fn rollback(&self) -> Result<()> {
        let guard = Unsettled::<false>(Some(self));
        let result = self.rollback_now().await;
        guard.settled();
        result
    }

    async fn rollback_now(&self) -> Result<()> {
        let nothing_to_send = {
            let mut tx = self.tx();
            tx.pending_rollback = None;
            // The server rolled it back when the session ended, or it never began there (its
            // `BEGIN` was not sent: see `begin.rs`).
            tx.lost || tx.begin.is_some()
        };
        if nothing_to_send {
            self.end_transaction(false);
            return Ok(());
        }
        self.simple("ROLLBACK").await?;
        self.end_transaction(false);
        Ok(())
    }

    pub(crate) async fn savepoint(&self) -> Result<String> {
        self.ready().await?;
        let name = {
            let mut tx = self.tx();
            tx.savepoints += 1;
            format!("orm_sp_{}", tx.savepoints)
        };
        self.simple(&format!("SAVEPOINT {name}")).await?;
        Ok(name)
    }

    pub(crate) async fn release_savepoint(&self, name: &str) -> Result<()> {
        let failed_here = {
            let tx = self.tx();
            tx.failed && tx.pending_rollback.is_none()
        };
        if failed_here {
            // As a failed transaction's COMMIT: rolled back and said so, and the parent goes
            // on (the savepoint handle is gone: nothing else could undo it).
            self.rollback_savepoint(name).await?;
            return Err(Error::transaction_state(
                "a statement failed inside this savepoint, so it was rolled back instead of released; the transaction goes on",
            ));
        }
        // A failed savepoint dropped inside this one is undone first.
        self.ready().await?;
        self.simple(&format!("RELEASE SAVEPOINT {name}")).await
    }

    /// Rolls back to savepoint `name` and releases it: called, or owed by a savepoint dropped
    /// (sent by [`ready`](Conn::ready) before the parent's next statement).
    ///
    /// Once the request is written (in its first poll), the server runs it before anything sent
    /// after it: from then on the transaction is as that rollback leaves it, whether or not
    /// this future lives to read the answer. So the state says so then: not failed, and no
    /// rollback owed (a savepoint dropped inside this one, whose rollback was owed, is undone
    /// with it). Sending it again instead would fail the transaction: the first one released
    /// the savepoint. An error in the answer (a lost connection) is recorded as usual, and a
    /// commit after an answer never read asks the server first (see `commit_now`).
    pub(crate) async fn rollback_savepoint(&self, name: &str) -> Result<()> {
        let sql = format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}");
        let request = async {
            let obj = self.obj()?;
            let mut answer = pin!(obj.batch_execute(&sql));
            let first = std::future::poll_fn(|cx| Poll::Ready(answer.as_mut().poll(cx))).await;
            {
                let mut tx = self.tx();
                tx.failed = false;
                tx.pending_rollback = None;
            }
            match first {
                Poll::Ready(answer) => answer,
                Poll::Pending => answer.await,
            }
            .map_err(|e| self.pg_error(e))
        };
        self.tracked(&sql, pin!(request), |_| None).await
    }

    /// A savepoint was dropped without release or rollback: undo it before the parent's next
    /// statement (see [`rollback_savepoint`](Conn::rollback_savepoint)).
    pub(crate) fn defer_savepoint_rollback(&self, name: String) {
        self.tx().pending_rollback = Some(name);
    }

    /// A `COMMIT` dropped before its answer was read: it may have been sent, and committed.
    /// What the transaction wrote is invalidated in the result cache now, and, on a held
    /// connection, again when its next statement has rolled back whatever is left (see
    /// [`settle`](Conn::settle): by then the server has run the `COMMIT`, if it ever will).
    /// Nothing else would: the connection still has the transaction open, so it is discarded,
    /// or its next statement rolls back, as for a transaction that committed nothing.
    fn commit_dropped(&self) {
        #[cfg(feature = "cache")]
        if let Some(store) = &self.settings.cache {
            let written = {
                let mut tx = self.tx();
                if !tx.open || tx.written.is_empty() {
                    return;
                }
                tx.commit_unknown = true;
                tx.written.clone()
            };
            store.invalidate(&written);
        }
    }

    /// The transaction ended: committed, or maybe (what it wrote is invalidated in the result
    /// cache), or rolled back (nothing to invalidate).
    pub(super) fn end_transaction(&self, committed: bool) {
        #[cfg(feature = "cache")]
        if committed {
            self.invalidate_written();
        } else {
            self.tx().written = crate::cache::Written::default();
        }
        #[cfg(not(feature = "cache"))]
        let _ = committed;
        {
            // Nothing of the transaction remains: not its failure (a refused `BEGIN` or a
            // failed transaction's commit would leave a held connection refusing everything),
            // nor a savepoint to undo, nor a `BEGIN` not sent.
            let mut tx = self.tx();
            tx.open = false;
            tx.begin = None;
            tx.failed = false;
            tx.pending_rollback = None;
        }
        // Committed, the change is visible to new connections now; rolled back, what the
        // unnamed mode looked up inside the transaction (a type it created) is gone again.
        let changed_types = self.settings.statement_mode == StatementMode::Unnamed
            && std::mem::take(&mut self.tx().changed_types);
        if changed_types {
            self.settings.type_epoch.mark();
        }
    }

    /// Invalidates in the result cache what the transaction (or statement) wrote.
    pub(super) fn invalidate_written(&self) {
        // (Without a cache, the transaction's lock is not taken.)
        #[cfg(feature = "cache")]
        if self.settings.cache.is_some() {
            self.settings.invalidate(&mut self.tx().written);
        }
    }
}
