//! [`Tracked<T>`]: a handle to an object owned by a session; and the undo records that save an
//! object's state before a change (restored by a rollback of the transaction, a savepoint or a
//! failed flush).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use parking_lot::{RwLockReadGuard, RwLockWriteGuard};

use super::guard;
use super::persist::Persist;
use super::state::{Entry, FkLink, ObjectState, snapshot_of, unshare};
use super::status::Status;
use super::unit::{ErasedEntry, SessionLink, Undo, UndoRecord, UnitOfWork};
use crate::error::{Error, Result};

/// A handle to an object of a session: cheap to clone (an `Arc`), `Send` and `Sync`.
///
/// Loading the same row twice in a session gives handles to the same object
/// ([`Tracked::ptr_eq`]). Read it with [`read`](Tracked::read), change it with
/// [`write`](Tracked::write): the first `write` since the last flush takes a snapshot of its
/// columns and queues the object for the next flush, which `UPDATE`s only the columns that
/// differ from the snapshot.
///
/// # Guards
/// The guards are locks (`read()` shared, `write()` exclusive), like an `RwLock`'s. Do not hold
/// one across an `.await` (the future would not be `Send`, which the compiler reports in an
/// axum handler). The session never waits for a guard: an operation that must read an object
/// a `write()` guard holds, or change an object any guard holds, fails at once with
/// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) naming the operation, the object and the
/// guard, and changes nothing; drop the guard and call again. So: a flush, commit or
/// autoflush that writes the object; `refresh`, `expire`, `expire_all`, `expunge`, `delete`,
/// `merge` of it; a query or `get` that must reload it (it is expired); a rollback or
/// `rollback_nested` that must restore it. What only looks at the session's bookkeeping never
/// needs the lock: [`status`](Tracked::status), `Session::has_changes`, `get` of an object that
/// is not expired, a query returning an object that is not expired.
///
/// The other accessors ([`with`](Tracked::with), [`pk`](Tracked::pk),
/// [`to_detached`](Tracked::to_detached), [`is_modified`](Tracked::is_modified),
/// [`is_expired`](Tracked::is_expired)) take a `read()` guard themselves. A guard in a call's
/// arguments lives until the end of the statement, `.await` included: copy the value out
/// first (`let id = order.read().user_id; s.get::<User>(id).await?`).
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
        let mut d = f.debug_struct("Tracked");
        d.field("status", &self.entry.status());
        // Never waits: the caller may be printing an object it holds a `write()` guard on.
        match guard::read(&self.entry.state) {
            Ok(inner) => d.field("value", &inner.value),
            Err(held) => d.field("value", &format_args!("<held by a {held} guard>")),
        };
        d.finish()
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

    /// Reads the object: a shared guard (waits while another thread holds a `write()` guard).
    pub fn read(&self) -> Ref<'_, T> {
        Ref(self.entry.state.read())
    }

    /// Changes the object: an exclusive guard (waits while another thread holds a guard). The
    /// next flush writes the columns that differ from the database.
    pub fn write(&self) -> Mut<'_, T> {
        let mut inner = self.entry.state.write();
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

    /// Where the object stands in its session. Takes no lock: works while a guard is held.
    pub fn status(&self) -> Status {
        self.entry.status()
    }

    /// Whether it was expired (by a commit with `expire_on_commit`, or `expire`): the values
    /// are those of its last load until a query, `get` or `refresh` of the session reloads it.
    pub fn is_expired(&self) -> bool {
        if self.entry.is_expired_flag() {
            return true;
        }
        if self.entry.status() != Status::Persistent {
            return false;
        }
        let session = self.read().0.session.clone();
        session.is_some_and(|s| self.entry.is_expired_in(&s))
    }

    /// Whether its columns differ from what the database has (always `true` for a pending
    /// object).
    pub fn is_modified(&self) -> bool {
        if self.entry.status() == Status::Pending {
            return true;
        }
        let inner = self.read();
        inner
            .0
            .snapshot
            .as_ref()
            .is_some_and(|s| !inner.0.value.changed_columns(s).is_empty())
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
    // Borrowed field by field: the session is read while the other fields change, without a
    // reference count changed per write.
    let ObjectState {
        value,
        snapshot,
        spare,
        undo_gen,
        session,
        flown,
    } = inner;
    let Some(link) = session.as_deref() else {
        return;
    };
    // A flush's statement carries the values as they are: the first change while it is at the
    // server keeps a copy of them, for the flush to keep the object dirty (see `Entry::land`).
    let flight = entry.flight();
    if flight != 0 && flown.as_ref().is_none_or(|(f, _)| *f != flight) {
        *flown = Some((flight, Arc::new(value.copy_columns())));
    }
    let status = entry.status();
    let queue = !entry.is_queued() && status != Status::Detached;
    let mut state = Undoable {
        value,
        snapshot,
        undo_gen,
    };
    if status == Status::Persistent && state.snapshot.is_none() {
        let copy = snapshot_of(state.value, spare);
        save_undo_with(entry, &mut state, link, Some(copy.clone()), queue);
        *state.snapshot = Some(copy);
    } else {
        save_undo_with(entry, &mut state, link, None, queue);
    }
}

/// What an undo record saves of an object's state, borrowed from it.
struct Undoable<'a, T> {
    value: &'a T,
    snapshot: &'a mut Option<Arc<T>>,
    undo_gen: &'a mut u64,
}

/// Saves `entry`'s state into the current undo frame, unless it already did in this frame.
pub(crate) fn save_undo<T: Persist>(
    entry: &Arc<Entry<T>>,
    inner: &mut ObjectState<T>,
    link: &SessionLink,
) {
    let mut state = Undoable {
        value: &inner.value,
        snapshot: &mut inner.snapshot,
        undo_gen: &mut inner.undo_gen,
    };
    save_undo_with(entry, &mut state, link, None, false);
}

/// [`save_undo`], with a copy of the current columns already made; and with `queue`, marks the
/// object queued and queues it for the next flush, under the undo log's lock too.
fn save_undo_with<T: Persist>(
    entry: &Arc<Entry<T>>,
    state: &mut Undoable<'_, T>,
    link: &SessionLink,
    copy: Option<Arc<T>>,
    queue: bool,
) {
    let frame = link.current_gen();
    if *state.undo_gen == frame {
        if queue {
            entry.set_queued(true);
            link.queue_dirty(entry.clone());
        }
        return;
    }
    // Before the object is marked queued below: the state the record restores.
    let saved = Saved {
        value: copy.unwrap_or_else(|| Arc::new(state.value.copy_columns())),
        status: entry.status(),
        snapshot: state.snapshot.clone(),
        queued: entry.is_queued(),
        undo_gen: *state.undo_gen,
        expired: entry.is_expired_in(link),
        fk: entry.fk().get(),
    };
    *state.undo_gen = frame;
    let queued = queue.then(|| {
        entry.set_queued(true);
        entry.clone() as Arc<dyn ErasedEntry>
    });
    // Appended to the frame's last record when it holds objects of the same model: one
    // allocation for the many objects a loop changes, not one each.
    let item = (entry.clone(), saved);
    let record = |last: Option<&mut Undo>| -> Option<Undo> {
        match last
            .and_then(|r| r.as_batch())
            .and_then(|b| b.downcast_mut::<SavedRecords<T>>())
        {
            // A full record past its first few objects is not grown (reallocated and
            // copied): the next objects start a record of their own, twice its size up to
            // `SAVED_CHUNK`.
            Some(records) if !records.is_full() => {
                records.entries.push(item);
                None
            }
            Some(records) => {
                let mut entries = Vec::with_capacity((2 * records.entries.len()).min(SAVED_CHUNK));
                entries.push(item);
                Some(Box::new(SavedRecords { entries }))
            }
            None => Some(Box::new(SavedRecords {
                entries: vec![item],
            })),
        }
    };
    link.undo.push_with(record, |dirty| dirty.extend(queued));
}

/// The undo record of objects' states, saved one after another in a frame (restored the last
/// first; the objects restored leave the record, so after a guard stopped it, it restores the
/// rest the next time).
struct SavedRecords<T: Persist> {
    entries: Vec<(Arc<Entry<T>>, Saved<T>)>,
}

/// The most objects a record is made for (one chunk of a long loop's records).
const SAVED_CHUNK: usize = 256;

impl<T: Persist> SavedRecords<T> {
    /// Whether the next object starts a record of its own: this one is full, and has grown
    /// past its first few objects.
    fn is_full(&self) -> bool {
        self.entries.len() == self.entries.capacity() && self.entries.len() >= 16
    }
}

impl<T: Persist> UndoRecord for SavedRecords<T> {
    fn targets(&self, f: &mut dyn FnMut(&dyn ErasedEntry) -> Result<()>) -> Result<()> {
        self.entries.iter().try_for_each(|(e, _)| f(&**e))
    }

    fn restore(&mut self, uow: &mut UnitOfWork, operation: &'static str) -> Result<()> {
        while let Some((entry, saved)) = self.entries.pop() {
            if let Err((saved, e)) = saved.restore(&entry, uow, operation) {
                // Nothing was restored: kept for the next try.
                self.entries.push((entry, saved));
                return Err(e);
            }
        }
        Ok(())
    }

    fn as_batch(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
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
    /// Puts the entry back as saved. When a guard holds it, changes nothing and gives itself
    /// back with the error.
    fn restore(
        self,
        entry: &Arc<Entry<T>>,
        uow: &mut UnitOfWork,
        operation: &'static str,
    ) -> std::result::Result<(), (Self, Error)> {
        let mut inner = match entry.write_for(operation) {
            Ok(inner) => inner,
            Err(e) => return Err((self, e)),
        };
        let was = entry.status();
        let was_in_map = matches!(was, Status::Persistent | Status::Deleted);
        let now_in_map = matches!(self.status, Status::Persistent | Status::Deleted);
        inner.value.restore_columns(unshare(self.value));
        inner.snapshot = self.snapshot;
        inner.undo_gen = self.undo_gen;
        if inner.session.is_none() && self.status != Status::Detached {
            inner.session = Some(uow.link.clone());
        }
        // Into the map, or (a key changed by an update undone) back under its old key.
        let key = if now_in_map {
            let pk = inner.value.pk();
            (!was_in_map || entry.key().as_ref() != Some(&pk)).then_some(pk)
        } else {
            None
        };
        drop(inner);
        entry.set_status(self.status);
        // Queued again if it was: the queue tolerates duplicates and stale entries.
        entry.set_queued(self.queued);
        entry.set_expired(self.expired);
        entry.fk().set(self.fk);
        if let Some(pk) = key {
            if was_in_map {
                uow.map_remove(entry);
            }
            uow.map_insert(entry.clone(), pk);
        } else if was_in_map && !now_in_map {
            uow.map_remove(entry);
        }
        if self.status == Status::Pending {
            entry.set_key(None);
        }
        if self.queued {
            uow.link.queue_dirty(entry.clone());
        }
        // Listed again where it belongs (the replay drops duplicates and stale entries).
        if self.status == Status::Pending && was != Status::Pending {
            uow.new.push(entry.clone());
        }
        if self.status == Status::Deleted && was != Status::Deleted {
            uow.deleted.push(entry.clone());
        }
        Ok(())
    }
}

/// Records that `entry` was just added to the session: undoing it detaches the object.
pub(crate) fn save_added<T: Persist>(
    entry: &Arc<Entry<T>>,
    inner: &mut ObjectState<T>,
    link: &SessionLink,
) {
    inner.undo_gen = link.current_gen();
    link.push_undo(Box::new(AddedRecord {
        entries: vec![entry.clone()],
    }));
}

/// Records that `entries` were just added to the session (by one `add_all`; their states'
/// `undo_gen` set by the caller): one record for all, undoing it detaches them.
pub(crate) fn save_added_all<T: Persist>(entries: Vec<Arc<Entry<T>>>, link: &SessionLink) {
    if !entries.is_empty() {
        link.push_undo(Box::new(AddedRecord { entries }));
    }
}

/// The undo record of objects added to the session: restoring it detaches them (the last
/// added first; the objects restored leave the record, so after a guard stopped it, it
/// restores the rest the next time).
struct AddedRecord<T: Persist> {
    entries: Vec<Arc<Entry<T>>>,
}

impl<T: Persist> UndoRecord for AddedRecord<T> {
    fn targets(&self, f: &mut dyn FnMut(&dyn ErasedEntry) -> Result<()>) -> Result<()> {
        self.entries.iter().try_for_each(|e| f(&**e))
    }

    fn restore(&mut self, uow: &mut UnitOfWork, operation: &'static str) -> Result<()> {
        // The detached objects leave the new objects' list when the replay rebuilds it from
        // the objects' states, once for all records: not one pass over the list per record,
        // which made a rollback of `n` objects added one by one cost `n²`.
        while let Some(entry) = self.entries.last() {
            detach_added(entry, uow, operation)?;
            self.entries.pop();
        }
        Ok(())
    }
}

/// Detaches an added object (its lock taken for `operation`; on an error nothing changed).
/// The replay takes it out of the unit of work's new objects.
fn detach_added<T: Persist>(
    entry: &Arc<Entry<T>>,
    uow: &mut UnitOfWork,
    operation: &'static str,
) -> Result<()> {
    {
        let mut inner = entry.write_for(operation)?;
        inner.session = None;
        inner.snapshot = None;
    }
    let was = entry.status();
    entry.set_status(Status::Detached);
    entry.set_queued(false);
    if was == Status::Persistent || was == Status::Deleted {
        uow.map_remove(entry);
    }
    entry.set_key(None);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tracked_objects_stay_unwind_safe() {
        fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
        unwind_safe::<super::Tracked<crate::__doc_fixture::User>>();
    }
}
