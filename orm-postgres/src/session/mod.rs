//! The session: a unit of work over one transaction. See [`Session`].
//!
//! orm-core's `session` module holds the unit of work itself, with no IO (identity map, change
//! tracking, flush plan); this module runs it on a PostgreSQL transaction, and re-exports the
//! unit of work's user-facing types ([`Tracked`] handles, [`Status`], [`Hooks`] and
//! [`HookContext`], [`ColumnSet`], the [`Persist`] trait the derive implements, and the
//! [`UnitOfWork`] that `Session::on_before_flush` callbacks receive).
//! `Database::session`, `session_with` and `retry` are in `open.rs`.
//!
//! - `mod.rs`: the [`Session`] type and its state (transaction, pending rollback, hooks);
//! - `objects.rs`: adding, getting and querying objects, relationships, deleting, expiring,
//!   refreshing, merging;
//! - `criteria.rs`: the global criteria every statement of the session takes;
//! - `flush.rs`: flushing, commit, rollback and savepoints;
//! - `options.rs`: [`SessionOptions`];
//! - `retry.rs`: [`RetryPolicy`].

use std::future::Future;
use std::sync::Arc;

use orm_core::ErrorKind;
use orm_core::driver::SavepointToken;
use orm_core::stmt::Criteria;

use crate::transaction::Transaction;
use crate::{Database, Error, Result};

mod criteria;
mod flush;
mod objects;
mod open;
mod options;
mod retry;

pub use options::SessionOptions;
pub use orm_core::session::{ColumnSet, HookContext, Hooks, Persist, Status, Tracked, UnitOfWork};
pub use retry::RetryPolicy;
pub(crate) use retry::is_retryable;

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
/// - **Autoflush.** Before each query (but `refresh` and `load_deferred`, which read one
///   object's row), pending changes are flushed (switch off with
///   [`SessionOptions::autoflush`] or [`Session::set_autoflush`]).
/// - **After an error** from the server inside the transaction (or a flush that fails after
///   it sent statements), every call that sends statements or flushes fails with
///   [`ErrorKind::PendingRollback`] until [`rollback`](Session::rollback) (or
///   [`rollback_nested`](Session::rollback_nested) for an error inside a savepoint);
///   `add`, `expire` and `expunge` only change the session's own bookkeeping, and still work.
///   A failed flush leaves every object as it was before the flush, the objects of its
///   earlier rounds (written for what hooks added) included; a flush stopped before it sent
///   anything (a validator, a hook, a guard) needs no rollback. A refused `COMMIT` ends the
///   transaction and restores the objects as a rollback does.
/// - **Rollback** restores every object to its state when the transaction began: objects added
///   since are expunged, deleted ones come back, changed ones get their old values.
/// - **Global criteria** ([`with_criteria`](Session::with_criteria), or inherited from
///   [`Database::with_criteria`]): conditions per model that every statement of the session
///   includes (soft delete, a tenant, row-level access), loads and bulk writes included.
/// - **Relationships** of tracked objects are reached through the session
///   ([`related`](Session::related), [`set_related`](Session::set_related),
///   [`append`](Session::append), [`remove`](Session::remove)); loading never happens behind
///   the reader's back.
/// - The session is `Send`: it can live across `.await`s in a handler. The [`Tracked`] guards
///   are locks: do not hold one across an `.await`.
/// - **Guards never hang it.** An operation that needs an object a `read()`/`write()` guard
///   holds (a flush that writes it, `refresh`, `expire`, `expunge`, `delete`, `merge`, a
///   query that must reload it, a rollback that must restore it) fails at once with
///   [`ErrorKind::ObjectInUse`] naming the operation, the object and the guard, and writes
///   nothing (a query may have registered the rows before the held one): drop the guard and
///   call again. See [`Tracked`].
pub struct Session {
    db: Database,
    options: SessionOptions,
    tx: Option<Transaction<'static>>,
    uow: UnitOfWork,
    nested: Vec<Nested>,
    /// The error that requires a rollback: its text and its server error.
    failed: Option<(String, Option<crate::DbError>)>,
    /// What is in progress whose future, dropped before it ends, leaves the transaction in a
    /// state nobody knows (statements sent, their outcome unread): the next call then requires
    /// a rollback, with this as its reason.
    interrupted: Option<&'static str>,
    before_flush: Vec<BeforeFlush>,
    after_commit: Vec<AfterCommit>,
    /// The global criteria of its statements (see `criteria.rs`).
    criteria: Arc<Criteria>,
    /// The shard it runs on, on a sharded database: its errors name it.
    shard: Option<Arc<str>>,
}

/// An open savepoint of the session: its name, its frame in the unit of work, and, for one
/// [`Session::nested`] opened, whether that block's future is still alive.
struct Nested {
    name: String,
    token: SavepointToken,
    scope: Option<std::sync::Weak<()>>,
}

impl Nested {
    /// Its `nested` block's future was dropped before it released or rolled it back.
    fn abandoned(&self) -> bool {
        self.scope.as_ref().is_some_and(|w| w.strong_count() == 0)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("options", &self.options)
            .field("in_transaction", &self.tx.is_some())
            .field("savepoints", &self.nested.len())
            .field("failed", &self.failed)
            .field("unit_of_work", &self.uow)
            .field("criteria", &self.criteria)
            .finish()
    }
}

impl Session {
    /// A new session on `db`, with no transaction yet.
    pub(crate) fn new(db: &Database, options: SessionOptions) -> Session {
        let mut uow = UnitOfWork::new();
        uow.set_copy_threshold(options.copy_threshold);
        Session {
            db: db.clone(),
            options,
            tx: None,
            uow,
            nested: Vec::new(),
            failed: None,
            interrupted: None,
            before_flush: Vec::new(),
            after_commit: Vec::new(),
            criteria: db.shared_criteria(),
            shard: None,
        }
    }

    /// Makes this a session on shard `shard` of a sharded database: every statement it sends
    /// passes `check` first (see [`Criteria::set_check`]), and its errors name the shard
    /// ([`Error::on_shard`]).
    pub(crate) fn pin_to_shard(
        &mut self,
        shard: &str,
        check: impl Fn(orm_core::ast::Tree<'_>) -> Result<()> + Send + Sync + 'static,
    ) {
        Arc::make_mut(&mut self.criteria).set_check(check);
        self.shard = Some(shard.into());
    }

    /// `e`, naming the session's shard if it has one.
    fn named(&self, e: Error) -> Error {
        match &self.shard {
            Some(shard) => e.on_shard(shard),
            None => e,
        }
    }

    fn check(&mut self) -> Result<()> {
        if let Some(what) = self.interrupted.take() {
            // A future was dropped before it finished: its statements may have run.
            self.failed = Some((what.into(), None));
        }
        if self.failed.is_none() && self.nested.iter().any(Nested::abandoned) {
            // A `nested` block's future was dropped: half of it may have run.
            self.failed = Some((
                "a nested block (Session::nested) was cancelled before it finished: half of it \
                 may have run"
                    .into(),
                None,
            ));
        }
        if self.failed.is_none() && self.uow.needs_rollback() {
            // A rollback could not restore every object (a guard taken meanwhile held one).
            self.failed = Some((
                "a rollback could not restore every object: a guard held one; roll back again"
                    .into(),
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
        let e = self.named(e);
        if !is_client_side(e.root()) && self.tx.is_some() {
            self.failed = Some(failure(&e));
        }
        e
    }

    /// The session's transaction, begun if needed.
    async fn tx(&mut self) -> Result<&Transaction<'static>> {
        if self.tx.is_none() {
            match self.db.begin_with(self.options.tx).await {
                Ok(tx) => self.tx = Some(tx),
                Err(e) => return Err(self.named(e)),
            }
        }
        self.tx
            .as_ref()
            .ok_or_else(|| Error::transaction_state("no transaction"))
    }

    /// The session's transaction (begun if needed, after an autoflush), to run Core
    /// statements on it with [`Executor`](crate::Executor) methods. What runs there is not
    /// tracked, and takes none of the session's [criteria](Session::with_criteria).
    pub async fn connection(&mut self) -> Result<&Transaction<'static>> {
        self.check()?;
        self.autoflush().await?;
        self.tx().await
    }

    /// Starts recording the SQL of every statement sent through this session's database: see
    /// [`StatementLog`](crate::StatementLog) and [`assert_queries!`](crate::assert_queries).
    pub fn statement_log(&self) -> crate::StatementLog {
        self.db.statement_log()
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// Whether the session refuses work until a rollback.
    pub fn is_pending_rollback(&self) -> bool {
        self.failed.is_some()
            || self.interrupted.is_some()
            || self.nested.iter().any(Nested::abandoned)
            || self.uow.needs_rollback()
    }

    /// Turns autoflush on or off.
    pub fn set_autoflush(&mut self, on: bool) {
        self.options.autoflush = on;
    }

    /// The unit of work: identity map and pending changes.
    pub fn unit_of_work(&self) -> &UnitOfWork {
        &self.uow
    }

    /// Whether a flush has anything to look at: an object added or deleted, one taken with
    /// `write()` (changed or not: [`Tracked::is_modified`] compares the values), or a changed
    /// collection. Reads no object (only the session's bookkeeping): works while
    /// `read()`/`write()` guards are held.
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
            | ErrorKind::ObjectInUse { .. }
            | ErrorKind::CopyNeedsReturning { .. }
            // At the root (beneath `OnShard`), a shard error is a refusal before sending.
            | ErrorKind::Shard(_)
    )
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
