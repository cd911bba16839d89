//! [`Tracked<T>`]: a handle to an object owned by a session; and the undo records that save an
//! object's state before a change (restored by a rollback of the transaction, a savepoint or a
//! failed flush).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::persist::Persist;
use super::state::{Entry, FkLink, ObjectState, unshare};
use super::status::Status;
use super::unit::{ErasedEntry, SessionLink, UnitOfWork};

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
/// `delete`...). A flush (and `commit`, and the autoflush before a query) checks first and
/// fails with [`ObjectInUse`](crate::ErrorKind::ObjectInUse) naming the object instead of
/// waiting for the guard; `refresh`, `delete`, `merge` and `expire` do not check yet. A guard in a call's arguments lives until
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
pub struct Ref<'a, T: Persist>(RwLockReadGuard<'a, ObjectState<T>>);

impl<T: Persist> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

/// Write access to a tracked object (a lock guard); taking it marks the object dirty.
pub struct Mut<'a, T: Persist>(RwLockWriteGuard<'a, ObjectState<T>>);

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
        session: Option<Arc<SessionLink>>,
    ) -> Self {
        Tracked {
            entry: Arc::new(Entry {
                id,
                state: RwLock::new(ObjectState {
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
pub(crate) fn touch<T: Persist>(entry: &Arc<Entry<T>>, inner: &mut ObjectState<T>) {
    let Some(link) = inner.session.clone() else {
        return;
    };
    let needs_snapshot = inner.status == Status::Persistent && inner.snapshot.is_none();
    if needs_snapshot {
        let snapshot = Arc::new(inner.value.copy_columns());
        save_undo_with(entry, inner, &link, Some(snapshot.clone()));
        inner.snapshot = Some(snapshot);
    } else {
        save_undo(entry, inner, &link);
    }
    if !inner.queued && inner.status != Status::Detached {
        inner.queued = true;
        link.queue_dirty(entry.clone());
    }
}

/// Saves `entry`'s state into the current undo frame, unless it already did in this frame.
pub(crate) fn save_undo<T: Persist>(
    entry: &Arc<Entry<T>>,
    inner: &mut ObjectState<T>,
    link: &SessionLink,
) {
    save_undo_with(entry, inner, link, None);
}

/// [`save_undo`], with a copy of the current columns already made.
fn save_undo_with<T: Persist>(
    entry: &Arc<Entry<T>>,
    inner: &mut ObjectState<T>,
    link: &SessionLink,
    copy: Option<Arc<T>>,
) {
    let frame = link.current_gen();
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
    link.push_undo(Box::new(move |uow: &mut UnitOfWork| {
        saved.restore(&entry, uow);
    }));
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
                inner.session = Some(uow.link.clone());
            }
        }
        let now_in_map = self.status == Status::Persistent || self.status == Status::Deleted;
        if now_in_map && !was_in_map {
            uow.map_insert(entry.clone());
        } else if was_in_map && !now_in_map {
            uow.map_remove_pk(&old_pk, entry);
        }
        if requeue {
            uow.link.queue_dirty(entry.clone());
        }
    }
}

/// Records that `entry` was just added to the session: undoing it detaches the object.
pub(crate) fn save_added<T: Persist>(
    entry: &Arc<Entry<T>>,
    inner: &mut ObjectState<T>,
    link: &SessionLink,
) {
    inner.undo_gen = link.current_gen();
    let entry = entry.clone();
    link.push_undo(Box::new(move |uow: &mut UnitOfWork| {
        let (was, pk) = {
            let mut inner = entry.lock();
            let was = inner.status;
            let pk = inner.value.pk();
            inner.status = Status::Detached;
            inner.session = None;
            inner.queued = false;
            inner.snapshot = None;
            (was, pk)
        };
        if was == Status::Persistent || was == Status::Deleted {
            uow.map_remove_pk(&pk, &entry);
        }
        let id = entry.id;
        uow.new.retain(|e| e.id() != id);
    }));
}
