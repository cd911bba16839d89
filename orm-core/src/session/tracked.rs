//! [`Tracked<T>`]: a handle to an object owned by a session, and the entry behind it.

use std::any::Any;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::persist::Persist;
use super::unit::{Shared, UnitOfWork};
use crate::meta::Table;

/// Where an object stands in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Added, not inserted yet: the next flush `INSERT`s it.
    Pending,
    /// In the database and in the session's identity map.
    Persistent,
    /// Marked for deletion: the next flush `DELETE`s it.
    Deleted,
    /// Not (or no longer) in a session: expunged, deleted and flushed, or added and rolled back.
    Detached,
}

/// The state behind a handle, under the entry's lock.
pub(crate) struct Inner<T> {
    pub(crate) value: T,
    pub(crate) status: Status,
    /// The columns as the database has them, taken at the first write since the last load or
    /// flush (`None` while the object is clean).
    pub(crate) snapshot: Option<Arc<T>>,
    /// In the session's dirty queue.
    pub(crate) queued: bool,
    /// The undo-log frame this entry last saved its state into.
    pub(crate) undo_gen: u64,
    /// Expired: its values are those of its last load and are replaced by the next row that
    /// loads it.
    pub(crate) expired: bool,
    /// The session's expiry epoch when the object was last loaded: a commit or rollback
    /// expires every object at once by moving the epoch on.
    pub(crate) epoch: u64,
    pub(crate) session: Option<Arc<Shared>>,
    /// Foreign keys this object holds towards other objects of the session: (its FK columns,
    /// the parent or `None` for NULL, the parent's key columns).
    pub(crate) fk: Vec<FkLink>,
}

impl<T> Inner<T> {
    /// Expired by itself, or by a commit / rollback since it was loaded.
    pub(crate) fn is_expired(&self) -> bool {
        self.expired
            || self.status == Status::Persistent
                && self
                    .session
                    .as_ref()
                    .is_some_and(|s| self.epoch < s.expire_epoch())
    }

    /// Marks it fresh: just loaded.
    pub(crate) fn mark_fresh(&mut self) {
        self.expired = false;
        if let Some(s) = &self.session {
            self.epoch = s.expire_epoch();
        }
    }
}

/// A foreign key of an object that points at another object of the session.
#[derive(Clone)]
pub(crate) struct FkLink {
    pub(crate) fk_cols: Arc<[usize]>,
    pub(crate) parent: Option<Arc<dyn ErasedEntry>>,
    pub(crate) parent_cols: Arc<[usize]>,
}

/// One object of a session.
pub(crate) struct Entry<T: Persist> {
    pub(crate) id: u64,
    pub(crate) inner: RwLock<Inner<T>>,
}

impl<T: Persist> Entry<T> {
    /// Locks the entry for writing. A poisoned lock (a panic while it was held elsewhere) is
    /// taken over: the value is still a value.
    pub(crate) fn lock(&self) -> RwLockWriteGuard<'_, Inner<T>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Locks the entry for reading: compatible with the caller's own `read()` guards (so
    /// `s.get(user.read().id)` works).
    pub(crate) fn read_lock(&self) -> RwLockReadGuard<'_, Inner<T>> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Locks the entry for writing unless someone holds it.
    pub(crate) fn try_lock(&self) -> Option<RwLockWriteGuard<'_, Inner<T>>> {
        match self.inner.try_write() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

/// A handle to an object of a session: cheap to clone (an `Arc`), `Send` and `Sync`.
///
/// Loading the same row twice in a session gives handles to the same object
/// ([`Tracked::ptr_eq`]). Read it with [`read`](Tracked::read), change it with
/// [`write`](Tracked::write): the first `write` since the last flush takes a snapshot of its
/// columns and queues the object for the next flush, which `UPDATE`s only the columns that
/// differ from the snapshot.
///
/// The guards are locks (`read()` shared, `write()` exclusive): do not hold one across an
/// `.await` (the future would not be `Send`, which the compiler reports in an axum handler),
/// and do not hold one while the session writes to the object (`flush`, `commit`, `refresh`,
/// `delete`...): that call would wait for the guard. A guard in a call's arguments lives until
/// the end of the statement, `.await` included: copy the value out first
/// (`let id = order.read().user_id; s.get::<User>(id).await?`).
pub struct Tracked<T: Persist> {
    pub(crate) entry: Arc<Entry<T>>,
}

impl<T: Persist> Clone for Tracked<T> {
    fn clone(&self) -> Self {
        Tracked {
            entry: self.entry.clone(),
        }
    }
}

impl<T: Persist + fmt::Debug> fmt::Debug for Tracked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.entry.read_lock();
        f.debug_struct("Tracked")
            .field("status", &inner.status)
            .field("value", &inner.value)
            .finish()
    }
}

/// Read access to a tracked object (a lock guard).
pub struct Ref<'a, T: Persist>(RwLockReadGuard<'a, Inner<T>>);

impl<T: Persist> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

/// Write access to a tracked object (a lock guard); taking it marks the object dirty.
pub struct Mut<'a, T: Persist>(RwLockWriteGuard<'a, Inner<T>>);

impl<T: Persist> Deref for Mut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T: Persist> DerefMut for Mut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0.value
    }
}

impl<T: Persist> Tracked<T> {
    pub(crate) fn from_entry(entry: Arc<Entry<T>>) -> Self {
        Tracked { entry }
    }

    /// A new entry (pending, persistent or detached).
    pub(crate) fn new_entry(
        id: u64,
        value: T,
        status: Status,
        session: Option<Arc<Shared>>,
    ) -> Self {
        Tracked {
            entry: Arc::new(Entry {
                id,
                inner: RwLock::new(Inner {
                    value,
                    status,
                    snapshot: None,
                    queued: false,
                    undo_gen: 0,
                    expired: false,
                    epoch: session.as_ref().map_or(0, |s| s.expire_epoch()),
                    session,
                    fk: Vec::new(),
                }),
            }),
        }
    }

    /// Reads the object.
    pub fn read(&self) -> Ref<'_, T> {
        Ref(self.entry.read_lock())
    }

    /// Changes the object: the next flush writes the columns that differ from the database.
    pub fn write(&self) -> Mut<'_, T> {
        let mut inner = self.entry.lock();
        touch(&self.entry, &mut inner);
        Mut(inner)
    }

    /// Reads through a closure: `user.with(|u| u.name.clone())`.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.read())
    }

    /// Changes through a closure: `user.update(|u| u.age += 1)`.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.write())
    }

    /// The primary key.
    pub fn pk(&self) -> T::Pk {
        self.read().pk()
    }

    /// Where the object stands in its session.
    pub fn status(&self) -> Status {
        self.entry.read_lock().status
    }

    /// Whether it was expired (by a commit with `expire_on_commit`, or `expire`): the values
    /// are those of its last load until a query, `get` or `refresh` of the session reloads it.
    pub fn is_expired(&self) -> bool {
        self.entry.read_lock().is_expired()
    }

    /// Whether its columns differ from what the database has (always `true` for a pending
    /// object).
    pub fn is_modified(&self) -> bool {
        let inner = self.entry.read_lock();
        match inner.status {
            Status::Pending => true,
            _ => inner
                .snapshot
                .as_ref()
                .is_some_and(|s| !inner.value.changed_columns(s).is_empty()),
        }
    }

    /// Whether both handles are the same object.
    pub fn ptr_eq(a: &Tracked<T>, b: &Tracked<T>) -> bool {
        Arc::ptr_eq(&a.entry, &b.entry)
    }

    /// A copy of the column values (relationships not loaded), detached from the session.
    pub fn to_detached(&self) -> T {
        self.read().copy_columns()
    }

    pub(crate) fn erased(&self) -> Arc<dyn ErasedEntry> {
        self.entry.clone()
    }
}

/// Before a change of `entry`: saves its state into the current undo frame (once per frame)
/// and queues it for the next flush with a snapshot of its columns (once per flush). For a
/// clean object both are the same copy.
pub(crate) fn touch<T: Persist>(entry: &Arc<Entry<T>>, inner: &mut Inner<T>) {
    let Some(shared) = inner.session.clone() else {
        return;
    };
    let needs_snapshot = inner.status == Status::Persistent && inner.snapshot.is_none();
    if needs_snapshot {
        let snapshot = Arc::new(inner.value.copy_columns());
        save_undo_with(entry, inner, &shared, Some(snapshot.clone()));
        inner.snapshot = Some(snapshot);
    } else {
        save_undo(entry, inner, &shared);
    }
    if !inner.queued && inner.status != Status::Detached {
        inner.queued = true;
        shared.queue_dirty(entry.clone());
    }
}

/// Saves `entry`'s state into the current undo frame, unless it already did in this frame.
pub(crate) fn save_undo<T: Persist>(entry: &Arc<Entry<T>>, inner: &mut Inner<T>, shared: &Shared) {
    save_undo_with(entry, inner, shared, None);
}

/// [`save_undo`], with a copy of the current columns already made.
fn save_undo_with<T: Persist>(
    entry: &Arc<Entry<T>>,
    inner: &mut Inner<T>,
    shared: &Shared,
    copy: Option<Arc<T>>,
) {
    let frame = shared.current_gen();
    if inner.undo_gen == frame {
        return;
    }
    let saved = Saved {
        value: copy.unwrap_or_else(|| Arc::new(inner.value.copy_columns())),
        status: inner.status,
        snapshot: inner.snapshot.clone(),
        queued: inner.queued,
        undo_gen: inner.undo_gen,
        expired: inner.is_expired(),
        fk: inner.fk.clone(),
    };
    inner.undo_gen = frame;
    let entry = entry.clone();
    shared.push_undo(Box::new(move |uow: &mut UnitOfWork| {
        saved.restore(&entry, uow);
    }));
}

/// The columns held by a shared copy, as an owned value (copied only if still shared).
pub(crate) fn unshare<T: Persist>(copy: Arc<T>) -> T {
    Arc::try_unwrap(copy).unwrap_or_else(|shared| shared.copy_columns())
}

/// An entry's state as an undo record keeps it.
struct Saved<T> {
    value: Arc<T>,
    status: Status,
    snapshot: Option<Arc<T>>,
    queued: bool,
    undo_gen: u64,
    expired: bool,
    fk: Vec<FkLink>,
}

impl<T: Persist> Saved<T> {
    fn restore(self, entry: &Arc<Entry<T>>, uow: &mut UnitOfWork) {
        let was_in_map;
        let requeue;
        let old_pk;
        {
            let mut inner = entry.lock();
            was_in_map = inner.status == Status::Persistent || inner.status == Status::Deleted;
            old_pk = inner.value.pk();
            inner.value.restore_columns(unshare(self.value));
            inner.status = self.status;
            inner.snapshot = self.snapshot;
            // Queued again if it was: the queue tolerates duplicates and stale entries.
            requeue = self.queued;
            inner.queued = self.queued;
            inner.undo_gen = self.undo_gen;
            inner.expired = self.expired;
            inner.fk = self.fk;
            if inner.session.is_none() && self.status != Status::Detached {
                inner.session = Some(uow.shared().clone());
            }
        }
        let now_in_map = self.status == Status::Persistent || self.status == Status::Deleted;
        if now_in_map && !was_in_map {
            uow.map_insert(entry.clone());
        } else if was_in_map && !now_in_map {
            uow.map_remove_pk(&old_pk, entry);
        }
        if requeue {
            uow.shared().queue_dirty(entry.clone());
        }
    }
}

/// What the unit of work needs from an entry of any model. Not public API.
#[doc(hidden)]
pub trait ErasedEntry: Send + Sync + 'static {
    fn id(&self) -> u64;
    fn table(&self) -> &'static Table;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    fn status(&self) -> Status;
    /// Whether it is queued for the next flush.
    fn is_queued(&self) -> bool;
    /// Runs `f` with the value of column `idx` (`None` out of range).
    fn with_column(&self, idx: usize, f: &mut dyn FnMut(Option<&dyn Any>));
    /// The flush operations of the entry's model.
    #[doc(hidden)]
    fn flush_ops(&self) -> &'static dyn super::flush::TableOps;
}

impl<T: Persist> ErasedEntry for Entry<T> {
    fn id(&self) -> u64 {
        self.id
    }
    fn table(&self) -> &'static Table {
        T::TABLE
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
    fn status(&self) -> Status {
        self.read_lock().status
    }
    fn is_queued(&self) -> bool {
        self.read_lock().queued
    }
    fn with_column(&self, idx: usize, f: &mut dyn FnMut(Option<&dyn Any>)) {
        let inner = self.read_lock();
        f(inner.value.column_value(idx).map(|v| v as &dyn Any));
    }
    fn flush_ops(&self) -> &'static dyn super::flush::TableOps {
        super::flush::ops::<T>()
    }
}

/// A type-erased object of the session.
pub(crate) type AnyEntry = Arc<dyn ErasedEntry>;

/// A parent and a child linked by a relationship (many-to-many association rows).
pub(crate) type Pair = (AnyEntry, AnyEntry);

/// The typed entry behind an erased one.
pub(crate) fn downcast<T: Persist>(e: &Arc<dyn ErasedEntry>) -> Option<Arc<Entry<T>>> {
    e.clone().into_any().downcast::<Entry<T>>().ok()
}
