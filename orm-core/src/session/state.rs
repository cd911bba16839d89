//! The state of one object of a session: [`Entry<T>`] (the object under its lock, with its
//! [`ObjectState`]) and how the unit of work sees it without its type ([`ErasedEntry`]).

use std::any::Any;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::persist::Persist;
use super::status::Status;
use super::unit::{ErasedEntry, ErasedModel, SessionLink};
use crate::meta::Table;

/// The state behind a handle, under the entry's lock.
pub(crate) struct ObjectState<T> {
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
    pub(crate) session: Option<Arc<SessionLink>>,
    /// Foreign keys this object holds towards other objects of the session: (its FK columns,
    /// the parent or `None` for NULL, the parent's key columns).
    pub(crate) fk: Vec<FkLink>,
}

impl<T> ObjectState<T> {
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

/// How many times [`Entry::held`] tries before it reports a guard.
const GUARD_TRIES: usize = 64;

/// A guard ([`Tracked::read`](super::Tracked::read) or [`Tracked::write`](super::Tracked::write))
/// held on an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// A `read()` guard.
    Read,
    /// A `write()` guard.
    Write,
}

impl Held {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Held::Read => "read()",
            Held::Write => "write()",
        }
    }
}

/// One object of a session.
pub(crate) struct Entry<T: Persist> {
    pub(crate) id: u64,
    pub(crate) state: RwLock<ObjectState<T>>,
}

impl<T: Persist> Entry<T> {
    /// Locks the entry for writing. A poisoned lock (a panic while it was held elsewhere) is
    /// taken over: the value is still a value.
    pub(crate) fn lock(&self) -> RwLockWriteGuard<'_, ObjectState<T>> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Locks the entry for reading: compatible with the caller's own `read()` guards (so
    /// `s.get(user.read().id)` works).
    pub(crate) fn read_lock(&self) -> RwLockReadGuard<'_, ObjectState<T>> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The guard someone holds on the entry that would block the flush's lock (`write`: a
    /// write lock, blocked by any guard; else a read lock, blocked by a write guard), or
    /// `None`. Never waits: it tries for a moment (a guard held by another thread is released
    /// within its synchronous block), then reports the guard, which can only be one the
    /// flushing task itself holds across the flush.
    pub(crate) fn held(&self, write: bool) -> Option<Held> {
        let free = |_: ()| {
            if write {
                !matches!(
                    self.state.try_write(),
                    Err(std::sync::TryLockError::WouldBlock)
                )
            } else {
                !matches!(
                    self.state.try_read(),
                    Err(std::sync::TryLockError::WouldBlock)
                )
            }
        };
        for _ in 0..GUARD_TRIES {
            if free(()) {
                return None;
            }
            std::thread::yield_now();
        }
        let write_held = matches!(
            self.state.try_read(),
            Err(std::sync::TryLockError::WouldBlock)
        );
        Some(if write_held { Held::Write } else { Held::Read })
    }

    /// Locks the entry for writing unless someone holds it.
    pub(crate) fn try_lock(&self) -> Option<RwLockWriteGuard<'_, ObjectState<T>>> {
        match self.state.try_write() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

/// The typed implementation of [`ErasedModel`] for model `T`; its operations are in
/// `flush/ops.rs`.
pub(crate) struct TypedModel<T>(PhantomData<fn() -> T>);

impl<T: Persist> TypedModel<T> {
    /// `T`'s operations, type-erased.
    pub(crate) const ERASED: &'static dyn ErasedModel = &TypedModel::<T>(PhantomData);
}

impl<T: Persist> ErasedEntry for Entry<T> {
    fn id(&self) -> u64 {
        self.id
    }
    fn held(&self, write: bool) -> Option<&'static str> {
        Entry::held(self, write).map(Held::name)
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
        let state = self.read_lock();
        f(state.value.column_value(idx).map(|v| v as &dyn Any));
    }
    fn erased_model(&self) -> &'static dyn ErasedModel {
        TypedModel::<T>::ERASED
    }
}

/// The typed entry behind an erased one.
pub(crate) fn downcast<T: Persist>(e: &Arc<dyn ErasedEntry>) -> Option<Arc<Entry<T>>> {
    e.clone().into_any().downcast::<Entry<T>>().ok()
}

/// The columns held by a shared copy, as an owned value (copied only if still shared).
pub(crate) fn unshare<T: Persist>(copy: Arc<T>) -> T {
    Arc::try_unwrap(copy).unwrap_or_else(|shared| shared.copy_columns())
}

/// Expires one entry: unflushed changes are discarded.
pub(crate) fn expire_entry<T: Persist>(entry: &Arc<Entry<T>>) {
    let mut state = entry.lock();
    if state.status != Status::Persistent {
        return;
    }
    // No undo record: a rollback does not un-expire (it expires everything itself).
    if let Some(snap) = state.snapshot.take() {
        state.value.restore_columns(unshare(snap));
    }
    state.queued = false;
    state.expired = true;
}
