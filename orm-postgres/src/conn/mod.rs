//! A pooled connection whose state is tracked explicitly.
//!
//! A [`Conn`] goes back to the pool only when it is known to be clean: no statement in flight
//! and no transaction open on the server. Otherwise (a future dropped mid-query, a transaction
//! dropped without commit or rollback after it ran a statement) dropping it *detaches* it from
//! the pool and closes it, and the server rolls back whatever was open. The next user always
//! gets a clean connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use deadpool_postgres::tokio_postgres;
use deadpool_postgres::{Object, Timeouts};
use std::pin::pin;

use futures_util::{StreamExt, pin_mut};

use crate::driver_error::from_pg;
use crate::metrics::{Discard, PoolCounters};
use crate::pg_row::DomainParam;
use crate::pg_row::PgRow;
use crate::trace::Reporting;
use crate::unnamed;
use crate::{CompiledQuery, Decode, Error, ErrorKind, Result, StatementMode};
use orm_core::driver::{BoxFuture, QueryRunner, RowAccess, RowSink};

mod begin;
mod checkout;
mod deadline;
mod hot;
pub(crate) use hot::HotSlot;
#[macro_use]
mod prepared;
#[cfg(feature = "cache")]
mod result_cache;
pub(crate) use prepared::Prepared;
mod statement;
mod stream;
pub(crate) use stream::StreamState;
mod transaction;

/// Settings shared by every connection of a database.
pub(crate) struct Settings {
    /// Echo, the slow-statement log and the span's database name.
    pub reporting: Reporting,
    /// The open [`StatementLog`](crate::StatementLog)s.
    pub logs: Arc<crate::statement_log::Logs>,
    /// Statements sent through this database (for tests and diagnostics).
    pub statements: std::sync::atomic::AtomicU64,
    /// Timeouts of the fast checkout path: no wait, no create timeout (opening a connection is
    /// bounded by the connector's connect timeouts, per address tried) and no recycle timeout
    /// (the fast recycling method and the broken-connection hook do no IO, so a recycle
    /// finishes in its first poll and its timer could never fire).
    pub fast_checkout: Timeouts,
    /// How long a checkout waits for a connection when the pool is busy.
    pub wait_timeout: Duration,
    /// The pool's size.
    pub max_size: usize,
    /// Checkouts under way and connections checked out (each [`Conn`] counts one until it is
    /// dropped): from `max_size` on, a checkout waits at once instead of trying the fast path
    /// first. The hot slot's hand-off relies on it counting every caller of the pool, exactly,
    /// with `SeqCst` changes and reads (see `hot.rs`): nothing may take a connection out of
    /// `pool` except through [`Conn::checkout`].
    pub demand: AtomicUsize,
    /// The database's TLS connector, for cancel requests (which open a connection of their
    /// own, encrypted as the statement's was).
    pub tls: crate::tls::Connector,
    /// The pool's counters (checkouts, discarded connections, ...).
    pub counters: Arc<PoolCounters>,
    /// Named and cached statements, or unnamed ones (for poolers in transaction mode).
    pub statement_mode: StatementMode,
    /// When this database's statements last changed types (read in the unnamed mode).
    pub type_epoch: Arc<unnamed::TypeEpoch>,
    /// The user-named types parameters named, looked up (in the unnamed mode).
    pub type_catalog: Arc<unnamed::Catalog>,
    /// Append a sqlcommenter comment (call site and tags) to the statements of the executor
    /// methods.
    pub call_site_tags: bool,
    /// The result cache, if the database has one.
    #[cfg(feature = "cache")]
    pub cache: Option<Arc<crate::cache::Store>>,
    /// The prepared statements of the pool's connections (in the cached statement mode).
    pub prepared: Prepared,
    /// The connection last given back, kept for the next checkout while nobody else wants
    /// one (see `conn/hot.rs`).
    pub hot: HotSlot,
}

#[cfg(feature = "cache")]
impl Settings {
    /// Invalidates in the result cache, if there is one, the tables in `written` (emptied).
    fn invalidate(&self, written: &mut crate::cache::Written) {
        if let Some(store) = &self.cache {
            store.invalidate(&std::mem::take(written));
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("reporting", &self.reporting)
            .field("statements", &self.statements)
            .field("statement_mode", &self.statement_mode)
            .finish_non_exhaustive()
    }
}

/// Transaction bookkeeping of one connection. Never held across an `.await`.
#[derive(Debug, Default)]
struct TxState {
    /// A transaction is open: on the server too, unless its `BEGIN` waits in `begin`.
    open: bool,
    /// A statement failed inside the transaction: the server refuses everything but rollback.
    failed: bool,
    /// The open transaction's `BEGIN`, not sent yet: it goes ahead of the transaction's first
    /// statement, in the same round trip (see `begin.rs`).
    begin: Option<Box<str>>,
    /// A [`CancelHandle`](crate::CancelHandle) of this connection was made: its cancel could
    /// land on a `BEGIN` sent ahead of a statement, so the `BEGIN`s go alone (see `begin.rs`),
    /// and the connection is closed when released (a handle kept after cancels nothing of the
    /// next user's).
    cancel_handle: bool,
    /// A savepoint was dropped without release or rollback: roll back to it before the next
    /// statement of its parent. Owed until a rollback to it (or to a savepoint around it) is
    /// sent: see `Conn::rollback_savepoint`.
    pending_rollback: Option<String>,
    /// Savepoint counter, for unique names.
    savepoints: u32,
    /// A top-level transaction on a held [`Connection`](crate::Connection) was dropped without
    /// commit or rollback: roll it back before the connection's next statement.
    rollback_on_next: bool,
    /// The connection broke (or the server ended the session): never back to the pool.
    lost: bool,
    /// Abandoned after a client-side query timeout (`lost` is set too).
    timed_out: bool,
    /// Still usable, but closed instead of going back to the pool (it cannot load new types).
    retire: bool,
    /// A statement of the open transaction created or altered a type: mark the database's
    /// type epoch when it commits.
    changed_types: bool,
    /// With a result cache: the tables written since the last commit (or, outside a
    /// transaction, by the statement running).
    #[cfg(feature = "cache")]
    written: crate::cache::Written,
    /// With a result cache: the open transaction's `COMMIT` was dropped before its answer
    /// was read, so it may have committed: what it wrote is invalidated again when the
    /// rollback owed after it is answered, which clears it (see `Conn::commit_dropped`).
    #[cfg(feature = "cache")]
    commit_unknown: bool,
    /// With a result cache: what statements outside a transaction wrote, still to announce to
    /// other processes.
    #[cfg(feature = "cache")]
    unpublished: crate::cache::Written,
    /// The open transaction is `REPEATABLE READ` or `SERIALIZABLE`: one snapshot throughout.
    #[cfg(feature = "cache")]
    snapshot: bool,
}

impl TxState {
    /// Nothing to do before the next statement: no rollback owed, no failure, no `BEGIN`
    /// waiting (see [`Conn::ready`]).
    fn is_ready(&self) -> bool {
        !self.rollback_on_next
            && !self.failed
            && self.pending_rollback.is_none()
            && self.begin.is_none()
    }

    /// Why its connection may not go back to the pool, if it may not (`in_flight`: the
    /// connection's statements still running).
    fn discard_reason(&self, in_flight: usize) -> Option<Discard> {
        if self.timed_out {
            Some(Discard::TimedOut)
        } else if self.lost {
            Some(Discard::Lost)
        } else if in_flight != 0 || (self.open && self.begin.is_none()) {
            // (A transaction whose `BEGIN` was never sent left nothing on the server.)
            Some(Discard::Unclean)
        } else if self.retire || self.cancel_handle {
            // Out of date for the unnamed mode's types (closed, a newer one takes its place), or
            // a cancel handle may outlive this checkout (closed, so it cancels nothing of the
            // next user's).
            Some(Discard::Requested)
        } else {
            None
        }
    }
}

/// The transaction state, locked: released, it records in the connection's lock-free flags
/// whether a `BEGIN` is kept (`begin_kept`) and whether the next statement must look at the
/// state first (`unready`), so every change made through the lock updates both.
struct TxGuard<'a> {
    state: MutexGuard<'a, TxState>,
    begin_kept: &'a AtomicBool,
    unready: &'a AtomicBool,
}

impl std::ops::Deref for TxGuard<'_> {
    type Target = TxState;

    fn deref(&self) -> &TxState {
        &self.state
    }
}

impl std::ops::DerefMut for TxGuard<'_> {
    fn deref_mut(&mut self) -> &mut TxState {
        &mut self.state
    }
}

impl Drop for TxGuard<'_> {
    fn drop(&mut self) {
        // Under the lock still (the guard's field drops after this): the flag changes in the
        // lock's order. Release: a reader that sees it clear sees the state it was cleared for.
        let unready = !self.state.is_ready() || self.state.lost;
        self.begin_kept
            .store(self.state.begin.is_some(), Ordering::Relaxed);
        self.unready.store(unready, Ordering::Release);
    }
}

/// A connection of the pool, boxed while out of it: deadpool's `Object` is 232 bytes, and a
/// [`Conn`] holding it inline was copied five times per statement by the futures that move
/// it (callgrind, issue 17); the hot slot keeps the box too, so a checkout from there moves a
/// pointer.
pub(crate) type Pooled = Box<Object>;

/// A connection checked out of the pool.
pub struct Conn {
    obj: Option<Pooled>,
    settings: Arc<Settings>,
    /// Statements sent whose results were not fully read. Incremented before a statement is
    /// sent and decremented only once its result has been read to the end, so a future dropped
    /// mid-statement leaves it above zero.
    in_flight: AtomicUsize,
    /// Whether the transaction's `BEGIN` is kept for its first statement (`TxState::begin`
    /// is `Some`): what every statement checks without taking the transaction's lock. Set
    /// from the state each time a [`TxGuard`] is released.
    begin_kept: AtomicBool,
    /// Whether the transaction state needs a look before the next statement (it is not
    /// [ready](TxState::is_ready), or the connection is lost): what every statement checks
    /// without taking the transaction's lock. Set from the state each time a [`TxGuard`] is
    /// released, so it follows every change made through the lock.
    unready: AtomicBool,
    tx: Mutex<TxState>,
    /// The client-side limit of each statement (see [`DatabaseBuilder::query_timeout`]).
    ///
    /// [`DatabaseBuilder::query_timeout`]: crate::DatabaseBuilder::query_timeout
    query_timeout: Option<Duration>,
    /// The tags of the database handle it was checked out through.
    tags: Option<Arc<crate::call_site::Tags>>,
    /// Marked when the connection goes back: a write of a database with replicas, for
    /// read-your-writes.
    write_mark: Option<Arc<dyn Watcher>>,
    /// The replica this connection belongs to, when it was lent for a read (see `replicas/`).
    replica: Option<Arc<dyn Watcher>>,
}

/// Who hears about a connection's life: the replica set of its database (see
/// `database/replicas.rs`), for read-your-writes and a replica's health.
pub(crate) trait Watcher: Send + Sync {
    /// The connection goes back to the pool (or is closed).
    fn released(&self) {}

    /// A statement on it lost the connection.
    fn lost(&self, error: &Error) {
        let _ = error;
    }
}

impl Conn {
    /// Marks `mark` when the connection goes back (see `replicas/`).
    pub(crate) fn mark_write_on_release(&mut self, mark: Arc<dyn Watcher>) {
        self.write_mark = Some(mark);
    }

    /// This connection is a replica's, lent for a read.
    pub(crate) fn lent_by_replica(&mut self, health: Arc<dyn Watcher>) {
        self.replica = Some(health);
    }

    /// Whether `error`, from a read on this connection, lost a replica's connection: the
    /// replica leaves the rotation, and the read may run again elsewhere (it changed nothing).
    ///
    /// A lost replica is one that broke the connection or stopped answering: the client-side
    /// query timeout fired ([`QueryTimeout`](crate::ErrorKind::QueryTimeout), e.g. a frozen
    /// host). An error the live server sent is the read's own and stays with it, the replica
    /// in rotation: among them `statement_timeout` (SQLSTATE 57014,
    /// [`StatementTimeout`](crate::ErrorKind::StatementTimeout)), which would end the read the
    /// same way on any server.
    pub(crate) fn lost_replica(&self, error: &Error) -> bool {
        let lost = matches!(
            error.kind(),
            crate::ErrorKind::ConnectionLost(_)
                | crate::ErrorKind::Connect { .. }
                | crate::ErrorKind::QueryTimeout { .. }
        );
        match &self.replica {
            Some(health) if lost => {
                health.lost(error);
                true
            }
            _ => false,
        }
    }

    /// The client, to send a statement on: never while the open transaction's `BEGIN` waits to
    /// go ahead of its first statement (see `begin.rs`), which would run the statement outside
    /// the transaction.
    pub(crate) fn obj(&self) -> Result<&Object> {
        self.client_for(true)
    }

    /// The client, whether or not the open transaction's `BEGIN` was sent: to prepare a
    /// statement (which runs nothing), or to send the `BEGIN`.
    fn client(&self) -> Result<&Object> {
        self.client_for(false)
    }

    /// The client ([`obj`](Conn::obj) when `statement`, else [`client`](Conn::client)).
    fn client_for(&self, statement: bool) -> Result<&Object> {
        let (lost, open, unsent) = {
            let tx = self.tx();
            (tx.lost, tx.open, tx.begin.is_some())
        };
        if statement && unsent {
            return Err(begin::not_sent());
        }
        if lost {
            // Lost, or abandoned after a client-side timeout with a statement still running:
            // nothing more is sent on it.
            let why = "this connection was lost or abandoned after a timeout";
            return Err(if open {
                ErrorKind::TransactionLost(why.into()).into()
            } else {
                ErrorKind::ConnectionLost(why.into()).into()
            });
        }
        self.obj
            .as_deref()
            .ok_or_else(|| Error::transaction_state("the connection was already released"))
    }

    fn tx(&self) -> TxGuard<'_> {
        TxGuard {
            // The lock is never held across an await nor while calling user code, so it
            // cannot be poisoned by a panic holding it; recover the data if it ever is.
            state: self.tx.lock().unwrap_or_else(|p| p.into_inner()),
            begin_kept: &self.begin_kept,
            unready: &self.unready,
        }
    }

    /// The transaction state, without the lock: the connection is not shared. Read only: a
    /// change made here would bypass [`TxGuard`], which keeps `unready` in step.
    fn tx_unlocked(&mut self) -> &TxState {
        self.tx.get_mut().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn in_transaction(&self) -> bool {
        self.tx().open
    }

    /// Rolls back a top-level transaction that was dropped on a held connection (see
    /// [`defer_rollback`](Conn::defer_rollback)), so the next statement runs outside it.
    pub(crate) async fn settle(&self) -> Result<()> {
        if !self.tx().rollback_on_next {
            return Ok(());
        }
        // Owed until the ROLLBACK is answered: dropped while it is in flight, the next
        // statement sends it again (a second one is only a warning), rather than run in a
        // transaction the server may still have open.
        self.simple("ROLLBACK").await?;
        // A `COMMIT` dropped before this ROLLBACK was sent ran before it, if it ran at all:
        // what it may have committed is invalidated again, now that it is done.
        let maybe_committed = {
            let mut tx = self.tx();
            tx.rollback_on_next = false;
            #[cfg(feature = "cache")]
            let maybe = std::mem::take(&mut tx.commit_unknown);
            #[cfg(not(feature = "cache"))]
            let maybe = false;
            maybe
        };
        self.end_transaction(maybe_committed);
        Ok(())
    }

    /// A top-level transaction on a held connection was dropped without commit or rollback:
    /// roll it back before the connection's next statement.
    pub(crate) fn defer_rollback(&self) {
        let unsent = {
            let mut tx = self.tx();
            if !tx.open {
                return;
            }
            let unsent = tx.begin.is_some();
            tx.rollback_on_next = !unsent;
            unsent
        };
        // Its `BEGIN` was never sent: nothing to roll back on the server.
        if unsent {
            self.end_transaction(false);
        }
    }

    /// Closes the connection when it is dropped instead of returning it to the pool, whatever
    /// its state: for a connection that carries session state (advisory locks, `SET`).
    pub(crate) fn detach(&mut self) {
        if let Some(obj) = self.obj.take() {
            let in_flight = *self.in_flight.get_mut();
            let why = self
                .tx_unlocked()
                .discard_reason(in_flight)
                .unwrap_or(Discard::Requested);
            self.settings.counters.discarded(why);
            drop(Object::take(*obj));
        }
    }

    /// Checks the transaction state and rolls back a dropped savepoint before a statement.
    ///
    /// Nearly always there is nothing to do, which is checked without an `.await`: the rare
    /// work (a rollback sent first) is boxed, so that every statement's future does not carry
    /// the futures of those extra statements, nor copy them on each move (callgrind, issue 17).
    pub(crate) async fn ready(&self) -> Result<()> {
        // (A lost connection is ready too: its statement fails when it asks for the client.)
        if !self.unready.load(Ordering::Acquire) || self.tx().is_ready() {
            return Ok(());
        }
        Box::pin(self.ready_slow()).await
    }

    /// [`ready`](Conn::ready), then the client for the statement ([`obj`](Conn::obj)): what a
    /// statement awaits when [`ready_now`](Conn::ready_now) found work to do first.
    async fn ready_client(&self) -> Result<&Object> {
        self.ready().await?;
        self.obj()
    }

    /// The client for a statement when there is nothing to do first (the connection usable):
    /// one load, not the transaction's lock (whose two locked instructions were about 2% of a
    /// lookup by key), and a plain call, no future made and polled. The statements' hot paths
    /// try it (and the statement cache, likewise) before awaiting
    /// [`ready_client`](Conn::ready_client): about 100 of the 10,500 instructions of a lookup by
    /// key (callgrind, issue 17).
    #[inline]
    fn ready_now(&self) -> Option<&Object> {
        self.obj
            .as_deref()
            .filter(|_| !self.unready.load(Ordering::Acquire))
    }

    async fn ready_slow(&self) -> Result<()> {
        self.settle().await?;
        // A statement that does not carry it (a `COPY`, a stream, a savepoint) waits for the
        // transaction's `BEGIN` first.
        self.send_begin().await?;
        let pending = {
            let tx = self.tx();
            if tx.failed && tx.pending_rollback.is_none() {
                return Err(Error::transaction_state(
                    "a statement failed in this transaction; roll it back (or roll back to a savepoint) before running more statements",
                ));
            }
            // Owed until it is sent (`rollback_savepoint` clears it then).
            tx.pending_rollback.clone()
        };
        match pending {
            Some(name) => self.rollback_savepoint(&name).await,
            None => Ok(()),
        }
    }

    /// Runs a statement and hands back its row stream, re-preparing once a stale cached
    /// statement outside a transaction.
    async fn query_stream(&self, q: &CompiledQuery) -> Result<tokio_postgres::RowStream> {
        let obj = match self.ready_now() {
            Some(obj) => obj,
            None => self.ready_client().await?,
        };
        if self.settings.statement_mode == StatementMode::Unnamed {
            // Boxed, so that this future (moved on every statement) is no larger for it.
            return Box::pin(unnamed::query(obj, self.unnamed_types(), q))
                .await
                .map_err(|f| self.unnamed_error(f));
        }
        on_prepared!(self, obj, q, |stmt, params| obj.query_raw(&stmt, params))
    }

    /// Runs a statement and decodes every row.
    pub(crate) async fn fetch_all<O: Decode>(&self, q: &CompiledQuery) -> Result<Vec<O::Output>> {
        self.tracked(&q.sql, pin!(self.fetch_all_inner::<O>(q)), |v| {
            Some(v.len() as u64)
        })
        .await
    }

    async fn fetch_all_inner<O: Decode>(&self, q: &CompiledQuery) -> Result<Vec<O::Output>> {
        let rows = self.query_stream(q).await?;
        pin_mut!(rows);
        let mut out = Vec::new();
        let mut decode_error = None;
        while let Some(row) = rows.next().await {
            let row = row.map_err(|e| self.pg_error(e))?;
            if decode_error.is_none() {
                match O::decode(&PgRow(&row), 0) {
                    Ok(v) => out.push(v),
                    // Keep reading so the connection is left clean.
                    Err(e) => decode_error = Some(e),
                }
            }
        }
        match decode_error {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Runs a statement that must return at most one row (exactly one when `required`).
    pub(crate) async fn fetch_opt<O: Decode>(
        &self,
        q: &CompiledQuery,
        required: bool,
    ) -> Result<Option<O::Output>> {
        self.tracked(&q.sql, pin!(self.fetch_opt_inner::<O>(q, required)), |r| {
            Some(u64::from(r.is_some()))
        })
        .await
    }

    async fn fetch_opt_inner<O: Decode>(
        &self,
        q: &CompiledQuery,
        required: bool,
    ) -> Result<Option<O::Output>> {
        let rows = self.query_stream(q).await?;
        pin_mut!(rows);
        let mut first = None;
        let mut count = 0usize;
        // Read every row, so the connection is left clean and the count is exact.
        while let Some(row) = rows.next().await {
            let row = row.map_err(|e| self.pg_error(e))?;
            count += 1;
            if count == 1 {
                first = Some(O::decode(&PgRow(&row), 0));
            }
        }
        match (count, first) {
            (0, _) if required => Err(Error::row_count(1, 0)),
            (0, _) => Ok(None),
            (1, Some(v)) => v.map(Some),
            (n, _) => Err(Error::row_count(1, n)),
        }
    }

    /// Runs a statement and returns the number of rows it affected.
    pub(crate) async fn execute(&self, q: &CompiledQuery) -> Result<u64> {
        self.tracked(&q.sql, pin!(self.execute_inner(q)), |n| Some(*n))
            .await
    }

    async fn execute_inner(&self, q: &CompiledQuery) -> Result<u64> {
        let obj = match self.ready_now() {
            Some(obj) => obj,
            None => self.ready_client().await?,
        };
        if self.settings.statement_mode == StatementMode::Unnamed {
            let n = Box::pin(unnamed::execute(obj, self.unnamed_types(), q))
                .await
                .map_err(|f| self.unnamed_error(f))?;
            self.note_ddl(&q.sql);
            return Ok(n);
        }
        on_prepared!(self, obj, q, |stmt, params| obj.execute_raw(&stmt, params))
    }

    /// Runs SQL through the simple-query protocol: no parameters, several statements allowed.
    /// For DDL, `BEGIN`/`COMMIT` and scripts.
    pub(crate) async fn simple(&self, sql: &str) -> Result<()> {
        // The client is taken inside the statement's future: after `tracked` sent the
        // transaction's `BEGIN` ahead of it.
        let fut = async {
            let obj = self.obj()?;
            obj.batch_execute(sql).await.map_err(|e| self.pg_error(e))
        };
        self.tracked(sql, pin!(fut), |_| None).await?;
        self.note_ddl(sql);
        Ok(())
    }

    /// In the unnamed mode, records a statement that created or altered types: now, and again
    /// when its transaction commits, connections opened before are out of date.
    fn note_ddl(&self, sql: &str) {
        if self.settings.statement_mode == StatementMode::Unnamed && unnamed::creates_types(sql) {
            self.settings.type_epoch.mark();
            let mut tx = self.tx();
            tx.changed_types |= tx.open;
        }
    }

    /// Runs one statement, handing each row to `sink` (counted, traced, echoed); returns how
    /// many rows there were.
    pub(crate) async fn for_each_row(
        &self,
        q: &CompiledQuery,
        sink: &mut (dyn FnMut(&dyn RowAccess) -> Result<()> + Send + '_),
    ) -> Result<u64> {
        self.tracked(&q.sql, pin!(self.run_into(q, sink)), |n| Some(*n))
            .await
    }

    /// Runs one statement, handing each row to `sink`; returns how many rows there were.
    async fn run_into(
        &self,
        q: &CompiledQuery,
        sink: &mut (dyn FnMut(&dyn RowAccess) -> Result<()> + Send + '_),
    ) -> Result<u64> {
        let rows = self.query_stream(q).await?;
        pin_mut!(rows);
        let mut sink_error = None;
        let mut count = 0;
        while let Some(row) = rows.next().await {
            let row = row.map_err(|e| self.pg_error(e))?;
            count += 1;
            if sink_error.is_none() {
                // Keep reading after an error so the connection is left clean.
                if let Err(e) = sink(&PgRow(&row)) {
                    sink_error = Some(e);
                }
            }
        }
        sink_error.map_or(Ok(count), Err)
    }

    /// What the unnamed mode knows of this database's types.
    fn unnamed_types(&self) -> unnamed::Types<'_> {
        unnamed::Types {
            catalog: &self.settings.type_catalog,
            epoch: &self.settings.type_epoch,
        }
    }

    /// Converts the failure of an unnamed statement. A connection that cannot load a type it
    /// met is retired: closed instead of going back to the pool.
    fn unnamed_error(&self, failure: unnamed::Failure) -> Error {
        match failure {
            unnamed::Failure::Encode(e) => e,
            unnamed::Failure::Driver(e) if unnamed::cannot_load_types(&e) => {
                self.tx().retire = true;
                unnamed::explain_type_loading(self.pg_error(e))
            }
            unnamed::Failure::Driver(e) => self.pg_error(e),
        }
    }

    /// Converts a driver error, recording it in the transaction state. A connection lost
    /// inside a transaction is [`TransactionLost`](ErrorKind::TransactionLost): the server
    /// rolled it back.
    pub(crate) fn pg_error(&self, e: tokio_postgres::Error) -> Error {
        self.note_error(&e);
        let err = from_pg(e);
        if !(err.is_connection_lost() && self.tx().open) {
            return err;
        }
        match err.into_kind() {
            ErrorKind::ConnectionLost(source) => ErrorKind::TransactionLost(source).into(),
            other => other.into(),
        }
    }
    /// Whether statements get call-site tags.
    #[cfg(feature = "cache")]
    pub(crate) fn tags_on(&self) -> bool {
        self.settings.call_site_tags
    }

    /// Appends the call-site comment to `q` (with the database's
    /// [`call_site_tags`](crate::DatabaseBuilder::call_site_tags) on).
    pub(crate) fn tag(&self, q: &mut CompiledQuery, site: crate::call_site::Site) {
        if self.settings.call_site_tags {
            q.sql
                .to_mut()
                .push_str(&crate::call_site::comment(site, self.tags.as_deref()));
        }
    }
}

impl QueryRunner for Conn {
    fn run_all<'a>(
        &'a self,
        jobs: Vec<(CompiledQuery, RowSink<'a>)>,
    ) -> BoxFuture<'a, Vec<Result<()>>> {
        Box::pin(async move {
            // Polled together, the statements are written to the connection back to back and
            // their results read in order: one round trip for all of them.
            let runs = jobs.into_iter().map(|(q, mut sink)| async move {
                self.tracked(&q.sql, pin!(self.run_into(&q, &mut *sink)), |n| Some(*n))
                    .await
                    .map(|_| ())
            });
            futures_util::future::join_all(runs).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conn_holds_its_pooled_connection_by_pointer() {
        use std::mem::size_of;
        // Every statement's future moves its `Conn` several times: with deadpool's `Object`
        // inline (232 bytes) a `Conn` was 376 bytes (440 with the `cache` feature, whose
        // transaction state is larger). Beside its transaction state it holds a few words.
        assert_eq!(size_of::<Option<Pooled>>(), size_of::<usize>());
        let rest = size_of::<Conn>() - size_of::<Mutex<TxState>>();
        assert!(
            rest <= 128,
            "a Conn is {rest} bytes beside its transaction state"
        );
    }
}
