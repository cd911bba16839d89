//! The session: a unit of work over one transaction. See [`Session`].

use std::future::Future;
use std::time::Duration;

use orm_core::load::IntoLoader;
use orm_core::relation::{Relation, Relationship};
use orm_core::session::{FlushJob, Persist, SavepointToken, Status, Tracked, UnitOfWork};
use orm_core::stmt::{Statement, select};
use orm_core::{Decode, ErrorKind, RowOf, stmt::pk_filter};

use crate::conn::Conn;
use crate::executor::Executor;
use crate::transaction::{Transaction, TxOptions};
use crate::{Database, Error, Result};

/// How a session behaves; see [`Database::session_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Flush pending changes before every query of the session, so queries see them (on by
    /// default).
    pub autoflush: bool,
    /// After `commit`, mark every object expired: the next query or `get` that touches it
    /// reloads its values (on by default).
    pub expire_on_commit: bool,
    /// The transactions' isolation level and access mode.
    pub tx: TxOptions,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            autoflush: true,
            expire_on_commit: true,
            tx: TxOptions::default(),
        }
    }
}

impl SessionOptions {
    /// Turns autoflush on or off.
    pub fn autoflush(mut self, on: bool) -> Self {
        self.autoflush = on;
        self
    }

    /// Turns expire-on-commit on or off.
    pub fn expire_on_commit(mut self, on: bool) -> Self {
        self.expire_on_commit = on;
        self
    }

    /// Sets the isolation level of the session's transactions.
    pub fn isolation(mut self, level: crate::IsolationLevel) -> Self {
        self.tx = self.tx.isolation(level);
        self
    }

    /// Makes the session's transactions read-only.
    pub fn read_only(mut self) -> Self {
        self.tx = self.tx.read_only();
        self
    }
}

type BeforeFlush = Box<dyn FnMut(&mut UnitOfWork) -> Result<()> + Send>;
type AfterCommit = Box<dyn FnMut() + Send>;

/// A unit of work over one transaction, SQLAlchemy-style: objects loaded or added through it
/// are tracked; [`flush`](Session::flush) writes what changed, in foreign-key order, in few
/// batched statements; [`commit`](Session::commit) flushes and commits.
///
/// ```no_run
/// # use orm_postgres::prelude::*;
/// # use orm_postgres::__doc_fixture::User;
/// # async fn run(db: Database) -> orm_postgres::Result<()> {
/// let mut s = db.session();
/// let jane = s.add(User { id: 0, name: "Jane".into(), email: None });
/// s.commit().await?;                      // BEGIN; INSERT ... RETURNING "id"; COMMIT
/// let id = jane.read().id;
///
/// let again = s.get::<User>(id).await?.unwrap();
/// assert!(Tracked::ptr_eq(&jane, &again)); // one object per row
/// again.write().email = Some("jane@example.com".into());
/// s.commit().await?;                      // UPDATE "users" SET "email" = ... (only that column)
/// # Ok(()) }
/// ```
///
/// # Behavior
/// - **Transactions.** The session begins a transaction at its first statement and keeps it
///   until `commit` or `rollback`; the next statement begins a new one. Dropping the session
///   mid-transaction rolls it back (its connection is closed, never returned to the pool
///   dirty).
/// - **Identity map.** `get` answers from the map without a query when it can; rows of
///   `all`/`one`/`optional` and of relationship loads become the objects already in the map.
///   An expired object's values are replaced by the next row that loads it.
/// - **Autoflush.** Before each query, pending changes are flushed (switch off with
///   [`SessionOptions::autoflush`] or [`Session::set_autoflush`]).
/// - **After an error** from the server (or a failed flush), every call but
///   [`rollback`](Session::rollback) (or [`rollback_nested`](Session::rollback_nested) for an
///   error inside a savepoint) fails with [`ErrorKind::PendingRollback`]. A failed flush leaves
///   every object as it was before the flush.
/// - **Rollback** restores every object to its state when the transaction began: objects added
///   since are expunged, deleted ones come back, changed ones get their old values.
/// - **Relationships** of tracked objects are reached through the session
///   ([`related`](Session::related), [`set_related`](Session::set_related),
///   [`append`](Session::append), [`remove`](Session::remove)); loading never happens behind
///   the reader's back.
/// - The session is `Send`: it can live across `.await`s in a handler. The [`Tracked`] guards
///   are locks: do not hold one across an `.await`.
pub struct Session {
    db: Database,
    options: SessionOptions,
    tx: Option<Transaction<'static>>,
    uow: UnitOfWork,
    nested: Vec<(String, SavepointToken)>,
    /// The error that requires a rollback: its text and its server error.
    failed: Option<(String, Option<crate::DbError>)>,
    in_flush: bool,
    before_flush: Vec<BeforeFlush>,
    after_commit: Vec<AfterCommit>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("options", &self.options)
            .field("in_transaction", &self.tx.is_some())
            .field("savepoints", &self.nested.len())
            .field("failed", &self.failed)
            .field("unit_of_work", &self.uow)
            .finish()
    }
}

impl Database {
    /// A new session with the default options (autoflush, expire on commit).
    pub fn session(&self) -> Session {
        self.session_with(SessionOptions::default())
    }

    /// A new session with options.
    pub fn session_with(&self, options: SessionOptions) -> Session {
        Session {
            db: self.clone(),
            options,
            tx: None,
            uow: UnitOfWork::new(),
            nested: Vec::new(),
            failed: None,
            in_flush: false,
            before_flush: Vec::new(),
            after_commit: Vec::new(),
        }
    }

    /// Runs `f` in a fresh session and commits; when the transaction fails with a
    /// serialization failure (40001) or a deadlock (40P01), rolls back and runs it again in a
    /// new session, up to `policy`'s attempts, waiting longer each time. Any other error is
    /// returned at once.
    ///
    /// `f` may run several times: keep side effects outside the database out of it.
    pub async fn retry<T, F>(&self, policy: RetryPolicy, mut f: F) -> Result<T>
    where
        F: AsyncFnMut(&mut Session) -> Result<T>,
    {
        let mut attempt = 1;
        loop {
            let mut s = self.session_with(policy.options);
            let outcome = match f(&mut s).await {
                Ok(v) => s.commit().await.map(|()| v),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err(e) if is_retryable(&e) && attempt < policy.attempts => {
                    let _ = s.rollback().await;
                    tokio::time::sleep(policy.delay(attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    let _ = s.rollback().await;
                    return Err(e);
                }
            }
        }
    }
}

/// Only serialization failures and deadlocks, reported directly or through a pending rollback.
fn is_retryable(e: &Error) -> bool {
    e.is_retryable() || matches!(e.sqlstate(), Some("40001" | "40P01"))
}

/// How [`Database::retry`] retries.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// The sessions' options.
    pub options: SessionOptions,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
            options: SessionOptions::default(),
        }
    }
}

impl RetryPolicy {
    /// `attempts` attempts in all, with the default delays.
    pub fn attempts(attempts: u32) -> Self {
        RetryPolicy {
            attempts: attempts.max(1),
            ..RetryPolicy::default()
        }
    }

    /// Sets the first delay.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets the sessions' options (e.g. a serializable isolation level).
    pub fn options(mut self, options: SessionOptions) -> Self {
        self.options = options;
        self
    }

    /// The wait after failed attempt `n` (1-based): doubling, capped, with jitter.
    fn delay(&self, n: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (n - 1).min(16))
            .min(self.max_delay);
        // Jitter from the clock: spreads retries of contending sessions apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = exp.mul_f64(f64::from(nanos % 1000) / 2000.0);
        exp + jitter
    }
}

/// What a pending rollback remembers of the error that caused it.
fn failure(e: &Error) -> (String, Option<crate::DbError>) {
    (e.to_string(), e.db_error().cloned())
}

/// Errors raised before anything reached the server: they leave the transaction usable.
fn is_client_side(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Validation { .. }
            | ErrorKind::ObjectState(_)
            | ErrorKind::InvalidStatement(_)
            | ErrorKind::InvalidIdentifier { .. }
            | ErrorKind::NotLoaded { .. }
            | ErrorKind::Decode { .. }
            | ErrorKind::Config { .. }
            | ErrorKind::PendingRollback { .. }
    )
}

impl Session {
    // ----- state ------------------------------------------------------------------------

    fn check(&mut self) -> Result<()> {
        if self.in_flush {
            // A flush future was dropped before it finished: its statements may have run.
            self.in_flush = false;
            self.failed = Some((
                "a flush or commit was cancelled before it finished".into(),
                None,
            ));
        }
        match &self.failed {
            Some((message, cause)) => Err(ErrorKind::PendingRollback {
                message: message.clone(),
                cause: cause.clone().map(Box::new),
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Records a failure inside the transaction (unless it happened before the server saw
    /// anything).
    fn fail(&mut self, e: Error) -> Error {
        if !is_client_side(&e) && self.tx.is_some() {
            self.failed = Some(failure(&e));
        }
        e
    }

    /// The session's transaction, begun if needed.
    async fn tx(&mut self) -> Result<&Transaction<'static>> {
        if self.tx.is_none() {
            self.tx = Some(self.db.begin_with(self.options.tx).await?);
        }
        self.tx
            .as_ref()
            .ok_or_else(|| Error::transaction_state("no transaction"))
    }

    /// The session's transaction (begun if needed, after an autoflush), to run Core
    /// statements on it with [`Executor`] methods. What runs there is not tracked.
    pub async fn connection(&mut self) -> Result<&Transaction<'static>> {
        self.check()?;
        self.autoflush().await?;
        self.tx().await
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// Whether the session refuses work until a rollback.
    pub fn is_pending_rollback(&self) -> bool {
        self.failed.is_some() || self.in_flush
    }

    /// Turns autoflush on or off.
    pub fn set_autoflush(&mut self, on: bool) {
        self.options.autoflush = on;
    }

    /// The unit of work: identity map and pending changes.
    pub fn unit_of_work(&self) -> &UnitOfWork {
        &self.uow
    }

    /// Whether a flush would write anything.
    pub fn has_changes(&self) -> bool {
        self.uow.has_changes()
    }

    /// Runs `hook` at the start of every flush, with the unit of work (to add objects, e.g.
    /// audit rows).
    pub fn on_before_flush(
        &mut self,
        hook: impl FnMut(&mut UnitOfWork) -> Result<()> + Send + 'static,
    ) {
        self.before_flush.push(Box::new(hook));
    }

    /// Runs `hook` after every successful commit.
    pub fn on_after_commit(&mut self, hook: impl FnMut() + Send + 'static) {
        self.after_commit.push(Box::new(hook));
    }

    // ----- adding, getting, querying ---------------------------------------------------

    /// Adds a new object, and the objects in its loaded relationships (`save-update`
    /// cascade): the next flush inserts them, parents first, filling generated keys into the
    /// children's foreign keys.
    pub fn add<M: Persist>(&mut self, object: M) -> Tracked<M> {
        self.uow.add(object)
    }

    /// Adds several new objects.
    pub fn add_all<M: Persist>(&mut self, objects: impl IntoIterator<Item = M>) -> Vec<Tracked<M>> {
        objects.into_iter().map(|o| self.uow.add(o)).collect()
    }

    /// The object with this primary key: from the identity map without a query when it is
    /// there (and not expired), else loaded. `None` when no such row exists (or the object
    /// is deleted in this session).
    pub async fn get<M: Persist>(&mut self, pk: M::Pk) -> Result<Option<Tracked<M>>> {
        self.check()?;
        if let Some(t) = self.uow.lookup::<M>(&pk) {
            match t.status() {
                Status::Deleted => return Ok(None),
                _ if !t.is_expired() => return Ok(Some(t)),
                _ => {}
            }
        }
        self.optional(select::<M>().filter(pk_filter::<M>(pk)))
            .await
    }

    /// Runs a query of model rows and returns the session's objects for them (relationship
    /// loads of the query are linked in the session too).
    pub async fn all<M, S>(&mut self, query: S) -> Result<Vec<Tracked<M>>>
    where
        M: Persist,
        S: Statement<Row = M>,
    {
        self.check()?;
        self.autoflush().await?;
        if orm_core::load::plan(&query).is_some() {
            // Relationship loads fill the rows' fields first; the session then links them.
            let r = self.tx().await?.fetch_all(query).await;
            let rows = r.map_err(|e| self.fail(e))?;
            self.uow.reserve::<M>(rows.len());
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(self.uow.register_loaded(row)?);
            }
            return Ok(out);
        }
        // Without loads, each row goes into the identity map as it is decoded.
        let q = query.compile()?;
        self.tx().await?;
        let Session { tx, uow, .. } = self;
        let conn = tx
            .as_ref()
            .ok_or_else(|| Error::transaction_state("no transaction"))?
            .conn();
        let mut out: Vec<Tracked<M>> = Vec::new();
        let r = conn
            .for_each_row(&q, &mut |row| {
                let value = <M as Decode>::decode(row, 0)?;
                out.push(uow.register_loaded(value)?);
                Ok(())
            })
            .await;
        match r {
            Ok(()) => Ok(out),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Like [`all`](Session::all), for exactly one row (a row-count error otherwise).
    pub async fn one<M, S>(&mut self, query: S) -> Result<Tracked<M>>
    where
        M: Persist,
        S: Statement<Row = M>,
    {
        let mut rows = self.all(query).await?;
        match rows.len() {
            1 => rows.pop().ok_or_else(|| Error::row_count(1, 0)),
            n => Err(Error::row_count(1, n)),
        }
    }

    /// Like [`all`](Session::all), for at most one row.
    pub async fn optional<M, S>(&mut self, query: S) -> Result<Option<Tracked<M>>>
    where
        M: Persist,
        S: Statement<Row = M>,
    {
        let mut rows = self.all(query).await?;
        match rows.len() {
            0 | 1 => Ok(rows.pop()),
            n => Err(Error::row_count(1, n)),
        }
    }

    /// A no-tracking read: runs any statement in the session's transaction (after an
    /// autoflush) and returns plain values, without identity map or snapshots.
    pub async fn fetch_all<S: Statement>(&mut self, statement: S) -> Result<Vec<RowOf<S>>> {
        self.check()?;
        self.autoflush().await?;
        let r = self.tx().await?.fetch_all(statement).await;
        r.map_err(|e| self.fail(e))
    }

    /// A no-tracking read of exactly one row.
    pub async fn fetch_one<S: Statement>(&mut self, statement: S) -> Result<RowOf<S>> {
        self.check()?;
        self.autoflush().await?;
        let r = self.tx().await?.fetch_one(statement).await;
        r.map_err(|e| self.fail(e))
    }

    /// A no-tracking read of at most one row.
    pub async fn fetch_optional<S: Statement>(&mut self, statement: S) -> Result<Option<RowOf<S>>> {
        self.check()?;
        self.autoflush().await?;
        let r = self.tx().await?.fetch_optional(statement).await;
        r.map_err(|e| self.fail(e))
    }

    /// Runs a Core statement (a bulk `UPDATE`, say) in the session's transaction; objects it
    /// changes are not refreshed (expire them, or use `refresh`).
    pub async fn execute<S: Statement>(&mut self, statement: S) -> Result<u64> {
        self.check()?;
        self.autoflush().await?;
        let r = self.tx().await?.execute(statement).await;
        r.map_err(|e| self.fail(e))
    }

    /// Loads a relationship of objects in hand (one query per level, whatever their number)
    /// and links the loaded objects in the session: `s.load(&users, User::orders.selectin())`.
    pub async fn load<P, L>(&mut self, parents: &[Tracked<P>], load: L) -> Result<()>
    where
        P: Persist,
        L: IntoLoader<P>,
    {
        self.check()?;
        self.autoflush().await?;
        let mut copies: Vec<P> = parents.iter().map(Tracked::to_detached).collect();
        let r = self.tx().await?.load(&mut copies, load).await;
        r.map_err(|e| self.fail(e))?;
        for (parent, copy) in parents.iter().zip(copies) {
            self.uow.attach_loaded(parent, copy)?;
        }
        Ok(())
    }

    // ----- relationships ---------------------------------------------------------------

    /// The objects linked to `parent` through a relationship: `s.related(&user, User::orders)`.
    /// A `NotLoaded` error when the session never loaded (or set) it for this object.
    pub fn related<R: Relation>(
        &self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
    ) -> Result<Vec<Tracked<R::Target>>>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        let _ = rel;
        self.uow.related::<R>(parent)
    }

    /// The one object of a to-one relationship (`None` when there is none).
    pub fn related_one<R: Relation>(
        &self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
    ) -> Result<Option<Tracked<R::Target>>>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        Ok(self.related(parent, rel)?.into_iter().next())
    }

    /// Replaces the objects linked to `parent` through a relationship (assigning a
    /// collection): the flush sets foreign keys, deletes orphans (`delete-orphan`) or sets
    /// their key to `NULL`, and inserts / deletes many-to-many association rows.
    pub fn set_related<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
        targets: Vec<Tracked<R::Target>>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check()?;
        self.uow.set_related(parent, rel, targets)
    }

    /// Adds an object to a relationship collection.
    pub fn append<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
        target: &Tracked<R::Target>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check()?;
        self.uow.append(parent, rel, target)
    }

    /// Removes an object from a relationship collection.
    pub fn remove<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
        target: &Tracked<R::Target>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check()?;
        self.uow.remove(parent, rel, target)
    }

    // ----- deleting, expiring, refreshing, merging -------------------------------------

    /// Marks an object for deletion (with its `delete` cascades); the next flush deletes it.
    pub fn delete<M: Persist>(&mut self, object: &Tracked<M>) -> Result<()> {
        self.check()?;
        self.uow.delete(object)
    }

    /// Removes an object from the session: it is no longer tracked.
    pub fn expunge<M: Persist>(&mut self, object: &Tracked<M>) {
        self.uow.expunge(object);
    }

    /// Expires an object: unflushed changes are dropped, and the next query or `get` that
    /// touches it reloads its values.
    pub fn expire<M: Persist>(&mut self, object: &Tracked<M>) {
        self.uow.expire(object);
    }

    /// Expires every object of the session.
    pub fn expire_all(&mut self) {
        self.uow.expire_all();
    }

    /// Reloads an object's columns from the database now (dropping unflushed changes).
    pub async fn refresh<M: Persist>(&mut self, object: &Tracked<M>) -> Result<()> {
        self.check()?;
        let pk = object.pk();
        let r = self
            .tx()
            .await?
            .fetch_optional(select::<M>().filter(pk_filter::<M>(pk)))
            .await;
        match r.map_err(|e| self.fail(e))? {
            Some(row) => {
                self.uow.refresh_with(object, row);
                Ok(())
            }
            None => Err(Error::object_state(format!(
                "cannot refresh this `{}`: its row no longer exists",
                M::TABLE.model
            ))),
        }
    }

    /// Brings a detached object (built by hand, or from another session) into the session
    /// by primary key: its column values are copied onto the session's object for that key
    /// (loaded if needed), which is returned; only the columns that differ are updated by the
    /// next flush. Without such a row it is added as new.
    pub async fn merge<M: Persist>(&mut self, object: M) -> Result<Tracked<M>> {
        self.check()?;
        let pk = object.pk();
        match self.get::<M>(pk).await? {
            Some(t) => {
                t.write().restore_columns(object);
                Ok(t)
            }
            None => Ok(self.add(object)),
        }
    }

    // ----- flush and transactions ------------------------------------------------------

    async fn autoflush(&mut self) -> Result<()> {
        if self.options.autoflush && self.uow.has_changes() {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes every pending change: `INSERT`s of new objects, `UPDATE`s of changed columns,
    /// association rows, `DELETE`s, in foreign-key order, batched per table and column set,
    /// independent statements pipelined. On error nothing of the flush is kept in memory, and
    /// the session needs a rollback (validation errors excepted: they come before any SQL).
    pub async fn flush(&mut self) -> Result<()> {
        self.check()?;
        if !self.uow.has_changes() {
            return Ok(());
        }
        // Session hooks run when there is something to flush, like SQLAlchemy's before_flush.
        for hook in &mut self.before_flush {
            hook(&mut self.uow)?;
        }
        // Hooks may add objects; each round writes what the previous one added.
        const ROUNDS: usize = 8;
        for _round in 0..ROUNDS {
            if !self.uow.has_changes() {
                return Ok(());
            }
            self.in_flush = true;
            let outcome = self.flush_round().await;
            self.in_flush = false;
            match outcome {
                Ok(false) => return Ok(()),
                Ok(true) => continue,
                Err((e, sent)) => {
                    if sent {
                        self.failed = Some(failure(&e));
                    }
                    return Err(e);
                }
            }
        }
        if self.uow.has_changes() {
            // Written so far stays in the transaction; what is left would be committed
            // without: refuse, as for any failed flush.
            let e = Error::object_state(format!(
                "hooks kept adding objects to flush after {ROUNDS} rounds"
            ));
            self.failed = Some(failure(&e));
            return Err(e);
        }
        Ok(())
    }

    /// One flush; `Ok(true)` when hooks added more to write. On error, whether statements
    /// were sent.
    async fn flush_round(&mut self) -> std::result::Result<bool, (Error, bool)> {
        // Validators and hooks run before anything is sent, BEGIN included.
        let Some(mut plan) = self.uow.flush_begin().map_err(|e| (e, false))? else {
            return Ok(false);
        };
        if let Err(e) = self.tx().await {
            self.uow.flush_abort(plan);
            return Err((e, false));
        }
        let Some(tx) = self.tx.as_ref() else {
            self.uow.flush_abort(plan);
            return Err((Error::transaction_state("no transaction"), false));
        };
        let conn = tx.conn();
        let mut sent = false;
        loop {
            let mut step = match self.uow.flush_next(&mut plan) {
                Ok(Some(step)) => step,
                Ok(None) => break,
                Err(e) => {
                    self.uow.flush_abort(plan);
                    return Err((e, sent));
                }
            };
            sent = true;
            if let Err(e) = run_jobs(conn, &mut step.jobs).await {
                self.uow.flush_abort(plan);
                return Err((e, true));
            }
            if let Err(e) = self.uow.flush_step_done(step) {
                self.uow.flush_abort(plan);
                return Err((e, true));
            }
        }
        self.uow.flush_end(plan).map_err(|e| (e, true))
    }

    /// Flushes and commits. With `expire_on_commit`, every object is expired. The next
    /// statement begins a new transaction.
    pub async fn commit(&mut self) -> Result<()> {
        self.check()?;
        self.flush().await?;
        if let Some(tx) = self.tx.take() {
            self.nested.clear();
            // If this future is dropped during COMMIT, nobody knows whether it committed: the
            // session then refuses work until a rollback.
            self.in_flush = true;
            let outcome = tx.commit().await;
            self.in_flush = false;
            if let Err(e) = outcome {
                // The transaction is over either way (rolled back, or unknown).
                self.uow.rolled_back();
                return Err(e);
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
    pub async fn rollback(&mut self) -> Result<()> {
        self.in_flush = false;
        self.failed = None;
        self.nested.clear();
        let result = match self.tx.take() {
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        };
        self.uow.rolled_back();
        result
    }

    /// Starts a nested transaction (a `SAVEPOINT`), flushing first: rolling it back undoes
    /// its statements and restores the objects it changed.
    pub async fn begin_nested(&mut self) -> Result<()> {
        self.check()?;
        self.flush().await?;
        let conn = self.tx().await?.conn();
        let name = match conn.savepoint().await {
            Ok(n) => n,
            Err(e) => return Err(self.fail(e)),
        };
        let token = self.uow.begin_savepoint();
        self.nested.push((name, token));
        Ok(())
    }

    /// Flushes and releases the innermost savepoint: what ran in it stays in the transaction.
    pub async fn commit_nested(&mut self) -> Result<()> {
        self.check()?;
        self.flush().await?;
        let Some((name, token)) = self.nested.pop() else {
            return Err(Error::transaction_state("no nested transaction to commit"));
        };
        let conn = self.tx().await?.conn();
        if let Err(e) = conn.release_savepoint(&name).await {
            return Err(self.fail(e));
        }
        self.uow.release_savepoint(token);
        Ok(())
    }

    /// Rolls back the innermost savepoint: its statements are undone, the objects it changed
    /// are restored, objects added in it are expunged. Clears a pending rollback caused
    /// inside it.
    pub async fn rollback_nested(&mut self) -> Result<()> {
        let Some((name, token)) = self.nested.pop() else {
            return Err(Error::transaction_state(
                "no nested transaction to roll back",
            ));
        };
        self.in_flush = false;
        let conn = self.tx().await?.conn();
        let r = conn.rollback_savepoint(&name).await;
        self.uow.rollback_savepoint(token);
        match r {
            Ok(()) => {
                self.failed = None;
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Runs `f` inside a nested transaction: released when it returns `Ok`, rolled back (with
    /// the objects' state) when it returns `Err`.
    pub async fn nested<T, F>(&mut self, f: F) -> Result<T>
    where
        F: AsyncFnOnce(&mut Session) -> Result<T>,
    {
        self.begin_nested().await?;
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
        match job.sink.as_mut() {
            Some(sink) => conn
                .for_each_row(&job.query, &mut **sink)
                .await
                .map(|()| None),
            None => conn.execute(&job.query).await.map(Some),
        }
    });
    let outcomes: Vec<Result<Option<u64>>> = futures_util::future::join_all(runs).await;
    let mut first_error = None;
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match outcome {
            Ok(Some(n)) => {
                if let Err(e) = job.check(n) {
                    first_error.get_or_insert(e);
                }
            }
            Ok(None) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Keeps the `Future` import used on every cfg.
#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send>(_: &T) {}
    fn check(s: &mut Session) -> impl Future<Output = Result<()>> + Send + '_ {
        s.commit()
    }
    let _ = check;
    let _ = is_send::<Session>;
}
