//! Flushing the unit of work, commit, rollback and savepoints.

use orm_core::driver::FlushJob;

use std::sync::Arc;

use super::{Nested, Session, failure};
use crate::conn::Conn;
use crate::{Error, Result};

impl Session {
    pub(super) async fn autoflush(&mut self) -> Result<()> {
        if self.options.autoflush && self.uow.has_changes() {
            self.flush_as("autoflush").await?;
        }
        Ok(())
    }

    /// Writes every pending change: `INSERT`s of new objects (or a binary `COPY` of them, see
    /// [`SessionOptions::copy_threshold`](crate::SessionOptions::copy_threshold) and
    /// [`add_all_copy`](Session::add_all_copy)), `UPDATE`s of changed columns,
    /// association rows, `DELETE`s, in foreign-key order, batched per table and column set,
    /// independent statements pipelined. On error nothing of the flush is kept in memory (the
    /// rounds written for objects hooks added included), and the session needs a rollback
    /// when statements had been sent (not for a validator's, a hook's or a guard's error,
    /// which stop it before).
    ///
    /// A `read()`/`write()` guard held on an object the flush would lock fails it at once with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse), before anything is sent: the session is
    /// untouched, and the same flush succeeds once the guard is dropped.
    pub async fn flush(&mut self) -> Result<()> {
        self.flush_as("flush").await
    }

    /// [`flush`](Session::flush), for the named operation (`commit`, `autoflush`, ...).
    async fn flush_as(&mut self, operation: &'static str) -> Result<()> {
        self.check()?;
        // A guard the caller holds across the flush would stop it midway: refuse first,
        // touching nothing (the changed objects are checked as the flush takes them, unless
        // hooks run before).
        self.uow
            .check_guards_before_flush(operation, !self.before_flush.is_empty())?;
        if !self.uow.has_changes() {
            return Ok(());
        }
        // The connection first: a flush cancelled while it waits for one of the pool has run
        // no hook and taken nothing from the unit of work, so it needs no rollback. (A `BEGIN`
        // waits for the first statement, unless it may not go ahead of one: a `SERIALIZABLE`
        // session's is sent now, and stays open if a hook or validator then refuses.)
        self.tx().await?;
        // Session hooks run when there is something to flush, like SQLAlchemy's before_flush.
        for hook in &mut self.before_flush {
            hook(&mut self.uow)?;
        }
        // Hooks may add objects; each round writes what the previous one added. The rounds are
        // one flush: a failing round undoes the objects of the rounds before it too (whose
        // statements the transaction holds, so the session then needs a rollback).
        let frame = self.uow.begin_savepoint();
        let mut wrote = false;
        match self.flush_rounds(operation, &mut wrote).await {
            Ok(()) => {
                self.uow.release_savepoint(frame);
                Ok(())
            }
            Err(e) => {
                // An object a guard took meanwhile keeps its record in the frame below: the
                // session then needs a rollback (`needs_rollback`), which restores it.
                let _ = self.uow.abandon_savepoint(frame, operation);
                if wrote {
                    self.failed = Some(failure(&e));
                }
                Err(e)
            }
        }
    }

    /// The rounds of [`flush_as`](Self::flush_as); `wrote` is set once a round sent
    /// statements.
    async fn flush_rounds(&mut self, operation: &'static str, wrote: &mut bool) -> Result<()> {
        const ROUNDS: usize = 8;
        for _round in 0..ROUNDS {
            if !self.uow.has_changes() {
                return Ok(());
            }
            // (`flush_round` marks the session interrupted once it has its connection.)
            let outcome = self.flush_round(operation).await;
            self.interrupted = None;
            match outcome {
                Ok((more, sent)) => {
                    *wrote |= sent;
                    if !more {
                        return Ok(());
                    }
                }
                Err((e, sent)) => {
                    *wrote |= sent;
                    return Err(self.named(e));
                }
            }
        }
        if self.uow.has_changes() {
            // What is left would be committed without: refuse, as for any failed flush.
            return Err(Error::object_state(format!(
                "hooks kept adding objects to flush after {ROUNDS} rounds"
            )));
        }
        Ok(())
    }

    /// One flush: whether hooks added more to write, and whether it sent statements. On
    /// error, whether statements were sent.
    async fn flush_round(
        &mut self,
        operation: &'static str,
    ) -> std::result::Result<(bool, bool), (Error, bool)> {
        // (The transaction is there already: `flush_as` began it.)
        self.tx().await.map_err(|e| (e, false))?;
        self.interrupted =
            Some("a flush was cancelled before it finished: its statements may have run");
        // Validators and hooks run before anything is sent, BEGIN included.
        let Some(mut plan) = self.uow.flush_begin_as(operation).map_err(|e| (e, false))? else {
            return Ok((false, false));
        };
        let Some(tx) = self.tx.as_ref() else {
            let _ = self.uow.flush_abort(plan);
            return Err((Error::transaction_state("no transaction"), false));
        };
        let conn = tx.conn();
        // Whether a statement that writes was sent (the transaction then holds part of the
        // flush); loads that cascade a delete only read.
        let mut wrote = false;
        loop {
            let mut step = match self.uow.flush_next(&mut plan) {
                Ok(Some(step)) => step,
                Ok(None) => break,
                Err(e) => {
                    let _ = self.uow.flush_abort(plan);
                    return Err((e, wrote));
                }
            };
            wrote |= !step.reads_only();
            if let Err(e) = run_jobs(conn, &mut step.jobs).await {
                let _ = self.uow.flush_abort(plan);
                // A server error aborts the transaction, whatever the statement.
                return Err((e, true));
            }
            if let Err(e) = self.uow.flush_step_done(step) {
                let _ = self.uow.flush_abort(plan);
                return Err((e, wrote));
            }
        }
        self.uow
            .flush_end(plan)
            .map(|more| (more, wrote))
            .map_err(|e| (e, true))
    }

    /// Flushes and commits. With `expire_on_commit`, every object is expired. The next
    /// statement begins a new transaction. When the server refuses the `COMMIT` (a deferred
    /// constraint, a serialization failure), the transaction is over and the objects are
    /// restored as a rollback restores them.
    pub async fn commit(&mut self) -> Result<()> {
        self.check()?;
        self.flush_as("commit").await?;
        if let Some(tx) = self.tx.take() {
            self.nested.clear();
            // If this future is dropped during COMMIT, nobody knows whether it committed: the
            // session then refuses work until a rollback.
            self.interrupted = Some(
                "a commit was cancelled while COMMIT was in flight: it may have committed or not",
            );
            let outcome = tx.commit().await;
            self.interrupted = None;
            if let Err(e) = outcome {
                // The transaction is over either way (rolled back, or unknown). An object a
                // guard holds cannot be restored now: the unit of work remembers it and the
                // session requires a rollback, which restores it.
                let _ = self.uow.rolled_back();
                return Err(self.named(e));
            }
        }
        self.uow.committed(self.options.expire_on_commit);
        for hook in &mut self.after_commit {
            hook();
        }
        Ok(())
    }

    /// Rolls back the transaction: every object is back to its state when the transaction
    /// began (objects added since are expunged, deleted ones are back). Clears a pending
    /// rollback.
    ///
    /// A guard held on an object it must restore fails it first with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) (operation `rollback`), with nothing
    /// done: drop the guard and roll back again.
    pub async fn rollback(&mut self) -> Result<()> {
        self.uow.check_rollback()?;
        self.interrupted = None;
        self.failed = None;
        self.nested.clear();
        let tx = self.tx.take();
        // The objects are restored before ROLLBACK is sent: the transaction is taken, so the
        // server rolls it back even if this future is dropped mid-ROLLBACK (its connection is
        // closed then), and the session must not be left thinking its objects were written.
        // A guard taken meanwhile (by another thread) leaves objects to restore: the session
        // then refuses work until the next rollback, which restores them.
        let restored = self.uow.rolled_back();
        let result = match tx {
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        };
        result.map_err(|e| self.named(e)).and(restored)
    }

    /// Starts a nested transaction (a `SAVEPOINT`), flushing first: rolling it back undoes
    /// its statements and restores the objects it changed.
    pub async fn begin_nested(&mut self) -> Result<()> {
        self.check()?;
        self.flush_as("begin_nested").await?;
        let conn = self.tx().await?.conn();
        let name = match conn.savepoint().await {
            Ok(n) => n,
            Err(e) => return Err(self.fail(e)),
        };
        let token = self.uow.begin_savepoint();
        self.nested.push(Nested {
            name,
            token,
            scope: None,
        });
        Ok(())
    }

    /// Flushes and releases the innermost savepoint: what ran in it stays in the transaction.
    pub async fn commit_nested(&mut self) -> Result<()> {
        self.check()?;
        self.flush_as("commit_nested").await?;
        let Some(name) = self.nested.last().map(|n| n.name.clone()) else {
            return Err(Error::transaction_state("no nested transaction to commit"));
        };
        // Popped only once released: dropped mid-RELEASE, the savepoint may be gone or not.
        self.interrupted = Some(
            "a savepoint's release was cancelled before it finished: the savepoint may be gone",
        );
        let conn = self.tx().await?.conn();
        let released = conn.release_savepoint(&name).await;
        self.interrupted = None;
        if let Err(e) = released {
            self.nested.pop();
            return Err(self.fail(e));
        }
        if let Some(n) = self.nested.pop() {
            self.uow.release_savepoint(n.token);
        }
        Ok(())
    }

    /// Rolls back the innermost savepoint: its statements are undone, the objects it changed
    /// are restored, objects added in it are expunged. Clears a pending rollback caused
    /// inside it.
    ///
    /// A guard held on an object it must restore fails it first with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) (operation `rollback_nested`), with
    /// nothing done: drop the guard and call it again.
    pub async fn rollback_nested(&mut self) -> Result<()> {
        let Some(last) = self.nested.last() else {
            return Err(Error::transaction_state(
                "no nested transaction to roll back",
            ));
        };
        let (name, token) = (last.name.clone(), last.token);
        self.uow.check_rollback_savepoint(token)?;
        // A flush cancelled inside the savepoint is undone with it; but dropped mid-ROLLBACK
        // TO, the savepoint may be gone or not, and the session then needs a full rollback.
        self.interrupted = Some(
            "a savepoint's rollback was cancelled before it finished: the savepoint may be gone",
        );
        let conn = self.tx().await?.conn();
        let r = conn.rollback_savepoint(&name).await;
        self.interrupted = None;
        // A guard taken meanwhile (by another thread): the objects left are restored by the
        // next call, which rolls back to the same savepoint again (it still exists).
        self.uow.rollback_savepoint(token)?;
        self.nested.pop();
        match r {
            Ok(()) => {
                self.failed = None;
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Runs `f` inside a nested transaction: released when it returns `Ok`, rolled back (with
    /// the objects' state) when it returns `Err`. `f` returns its `async` block as a
    /// [`Scoped`](crate::Scoped) future (`.scoped()`; see
    /// [`Database::transaction`](crate::Database::transaction)).
    pub async fn nested<'a, T, F>(&mut self, f: F) -> Result<T>
    where
        F: for<'c> FnOnce(&'c mut Session) -> crate::Scoped<'a, 'c, Result<T>> + 'a,
    {
        self.begin_nested().await?;
        // Alive as long as this future: dropped inside `f`, the savepoint is left open with
        // half the block run, and the session's next call requires a rollback.
        let alive = Arc::new(());
        if let Some(n) = self.nested.last_mut() {
            n.scope = Some(Arc::downgrade(&alive));
        }
        match f(self).await {
            Ok(v) => {
                self.commit_nested().await?;
                Ok(v)
            }
            Err(e) => {
                self.rollback_nested().await?;
                Err(e)
            }
        }
    }
}

/// Runs a step's statements pipelined on the connection and checks their row counts.
async fn run_jobs(conn: &Conn, jobs: &mut [FlushJob]) -> Result<()> {
    let runs = jobs.iter_mut().map(|job| async move {
        if let Some(first) = job.before.as_mut() {
            let n = run_job(conn, first).await?;
            first.check(n)?;
        }
        run_job(conn, job).await
    });
    let outcomes: Vec<Result<u64>> = futures_util::future::join_all(runs).await;
    let mut first_error = None;
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match outcome {
            Ok(n) => {
                if let Err(e) = job.check(n) {
                    first_error.get_or_insert(e);
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Runs one statement of a step (not its [`before`](FlushJob::before)): its count.
async fn run_job(conn: &Conn, job: &mut FlushJob) -> Result<u64> {
    if let Some(rows) = job.copy.as_mut() {
        return conn.copy_in(&mut **rows).await;
    }
    match job.sink.as_mut() {
        Some(sink) => conn.for_each_row(&job.query, &mut **sink).await,
        None => conn.execute(&job.query).await,
    }
}
