//! The state of one object of a session: [`Entry<T>`] (the object under its lock, with its
//! [`ObjectState`], and the session's bookkeeping beside the lock) and how the unit of work
//! sees it without its type ([`ErasedEntry`]).

use std::any::Any;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::guard;
use super::persist::Persist;
use super::status::Status;
use super::unit::{ErasedEntry, ErasedModel, SessionLink};
use crate::error::{Error, HeldGuard, Result};
use crate::meta::Table;

/// The state behind a handle, under the entry's lock (which the user's guards hold).
#[repr(C)] // The fields every flush reads first, the value last (see `Entry`).
pub(crate) struct ObjectState<T> {
    /// The columns as the database has them, taken at the first write since the last load or
    /// flush (`None` while the object is clean).
    pub(crate) snapshot: Option<Arc<T>>,
    /// The last snapshot, kept after the flush that wrote its object: the next snapshot is
    /// copied into it when nothing else shares it (an undo record until the commit), so a
    /// changed object does not allocate its copy again at each flush.
    pub(crate) spare: Option<Arc<T>>,
    /// Its columns as a flush's statement carries them, copied by the first change made while
    /// that statement is at the server (with the flush's number, [`Entry::flight`]): the
    /// flush keeps the object dirty, with this copy as its snapshot, instead of taking the
    /// changed values for written ones.
    pub(crate) flown: Option<(u64, Arc<T>)>,
    /// The undo-log frame this entry last saved its state into.
    pub(crate) undo_gen: u64,
    pub(crate) session: Option<Arc<SessionLink>>,
    pub(crate) value: T,
}

/// A foreign key of an object that points at another object of the session.
#[derive(Clone)]
pub(crate) struct FkLink {
    pub(crate) fk_cols: Arc<[usize]>,
    pub(crate) parent: Option<Arc<dyn ErasedEntry>>,
    pub(crate) parent_cols: Arc<[usize]>,
    /// Made by a change of the relationship (an `append`, a parent set, a new object added
    /// with its relatives) and not flushed yet: the next flush copies the parent's key into
    /// the foreign key, over whatever the column holds. A link a load recorded only says
    /// where the object pointed then: its column is the user's to change, and another
    /// transaction's change read by a later load is not reverted.
    pub(crate) sync: bool,
    /// For a change's link: the load's link it replaced (`None`: there was none), put back
    /// when the change is dropped unflushed (see [`FkLinks::drop_unflushed`]).
    pub(crate) replaced: Option<Box<FkLink>>,
}

/// One object of a session.
///
/// Its values are under `state`, the lock that the user's `read()` / `write()` guards hold.
/// What only the session keeps about it (status, dirty flag, expiry, key, foreign-key links)
/// is beside the lock, so that reading it (`has_changes`, `get`, the flush's lists, a load
/// meeting an object it already has) never waits on a guard.
///
/// Laid out in this order: a flush passes over its objects several times (checking their locks,
/// comparing their columns, marking them clean after the statement), and its objects are cold by
/// then (the server ran in between): the flags, the lock and what is beside it share one or two
/// cache lines instead of being spread over the allocation.
#[repr(C)]
pub(crate) struct Entry<T: Persist> {
    /// The number of the flush whose statement carries its values, from the moment the
    /// statement reads them until the flush is done with it; 0 for none.
    flight: AtomicU64,
    /// [`Status`], as [`Status::to_u8`].
    status: AtomicU8,
    /// In the session's dirty queue.
    queued: AtomicBool,
    /// Expired: its values are those of its last load and are replaced by the next row that
    /// loads it.
    expired: AtomicBool,
    /// Foreign keys this object holds towards other objects of the session.
    fk: FkLinks,
    pub(crate) state: RwLock<ObjectState<T>>,
    /// The session's expiry epoch when the object was last loaded: a commit or rollback
    /// expires every object at once by moving the epoch on.
    epoch: AtomicU64,
    pub(crate) id: u64,
    /// The serial of the session it was made in (see [`ErasedEntry::owner`]).
    owner: u64,
    /// The key the identity map holds it under (`None` until it is inserted): for error
    /// messages, and to leave the map without reading the values.
    key: Mutex<Option<T::Pk>>,
}

// What std's lock was, and `Tracked` with it: a panic under a guard leaves the values as the
// panicking code left them, which the session took over from a poisoned lock before too.
impl<T: Persist> std::panic::UnwindSafe for Entry<T> {}
impl<T: Persist> std::panic::RefUnwindSafe for Entry<T> {}

/// The foreign-key links of an object: under a lock only the session takes (never across user
/// code), with a flag that spares the lock when there are none (most objects), first.
#[repr(C)]
pub(crate) struct FkLinks {
    any: AtomicBool,
    links: Mutex<Vec<FkLink>>,
}

impl FkLinks {
    fn lock(&self) -> MutexGuard<'_, Vec<FkLink>> {
        self.links.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether there are none (no lock taken).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    /// A copy of the links.
    #[inline]
    pub(crate) fn get(&self) -> Vec<FkLink> {
        if self.is_empty() {
            return Vec::new();
        }
        self.lock().clone()
    }

    /// Replaces the links.
    pub(crate) fn set(&self, links: Vec<FkLink>) {
        let mut held = self.lock();
        self.any.store(!links.is_empty(), Ordering::Release);
        *held = links;
    }

    /// Sets the link of its foreign-key columns. A load's link never replaces a change's
    /// not flushed yet (the change is the user's latest word on where the object points).
    pub(crate) fn put(&self, mut link: FkLink) {
        let mut held = self.lock();
        match held.iter_mut().find(|l| l.fk_cols == link.fk_cols) {
            Some(existing) if existing.sync && !link.sync => {}
            Some(existing) => {
                if link.sync {
                    // A change remembers the load's link under it, across later changes.
                    link.replaced = match existing.sync {
                        true => existing.replaced.take(),
                        false => Some(Box::new(existing.clone())),
                    };
                }
                *existing = link;
            }
            None => held.push(link),
        }
        self.any.store(true, Ordering::Release);
    }

    /// Drops the change's link of foreign key `fk_cols` not flushed yet, if it points at the
    /// object with session id `parent` (`None`: at no object), putting back the load's link
    /// it replaced. `None` when there is no such link; else the link put back (`None`: the
    /// object had none).
    pub(crate) fn drop_unflushed(
        &self,
        fk_cols: &[usize],
        parent: Option<u64>,
    ) -> Option<Option<FkLink>> {
        if self.is_empty() {
            return None;
        }
        let mut held = self.lock();
        let at = held.iter().position(|l| {
            l.sync && *l.fk_cols == *fk_cols && l.parent.as_ref().map(|p| p.id()) == parent
        })?;
        let replaced = held[at].replaced.take().map(|l| *l);
        match &replaced {
            Some(l) => held[at] = l.clone(),
            None => {
                held.remove(at);
            }
        }
        self.any.store(!held.is_empty(), Ordering::Release);
        Some(replaced)
    }

    /// Drops every change's link not flushed yet, putting back the load's links they replaced
    /// (an expired object's: see [`UnitOfWork::drop_expired_links`]).
    ///
    /// [`UnitOfWork::drop_expired_links`]: crate::session::UnitOfWork
    pub(crate) fn drop_all_unflushed(&self) {
        if self.is_empty() {
            return;
        }
        let mut held = self.lock();
        let links = std::mem::take(&mut *held);
        held.extend(links.into_iter().filter_map(|l| match l.sync {
            true => l.replaced.map(|r| *r),
            false => Some(l),
        }));
        self.any.store(!held.is_empty(), Ordering::Release);
    }

    /// The links to copy into the foreign keys at the next flush (see [`FkLink::sync`]):
    /// (link index, link).
    pub(crate) fn to_sync(&self) -> Vec<(usize, FkLink)> {
        if self.is_empty() {
            return Vec::new();
        }
        self.lock()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.sync)
            .map(|(i, l)| (i, l.clone()))
            .collect()
    }

    /// The links at `done` were copied into the foreign keys: a load may replace them now,
    /// and the next flush leaves the columns as they are.
    pub(crate) fn synced(&self, done: &[usize]) {
        let mut held = self.lock();
        for &i in done {
            if let Some(l) = held.get_mut(i) {
                l.sync = false;
                l.replaced = None;
            }
        }
    }

    /// The objects the links point at: (link index, parent).
    #[inline]
    pub(crate) fn parents(&self) -> Vec<(usize, Arc<dyn ErasedEntry>)> {
        if self.is_empty() {
            return Vec::new();
        }
        self.lock()
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.parent.clone().map(|p| (i, p)))
            .collect()
    }
}

impl<T: Persist> Entry<T> {
    /// A new entry with these values, status and session; `key` when it is in the identity
    /// map (loaded).
    pub(crate) fn new(
        id: u64,
        value: T,
        status: Status,
        session: Option<Arc<SessionLink>>,
        key: Option<T::Pk>,
    ) -> Self {
        Entry {
            id,
            owner: session.as_ref().map_or(0, |s| s.serial()),
            status: AtomicU8::new(status.to_u8()),
            queued: AtomicBool::new(false),
            expired: AtomicBool::new(false),
            epoch: AtomicU64::new(session.as_ref().map_or(0, |s| s.expire_epoch())),
            key: Mutex::new(key),
            fk: FkLinks {
                any: AtomicBool::new(false),
                links: Mutex::new(Vec::new()),
            },
            flight: AtomicU64::new(0),
            state: RwLock::new(ObjectState {
                value,
                snapshot: None,
                spare: None,
                undo_gen: 0,
                session,
                flown: None,
            }),
        }
    }

    /// Where the object stands in its session.
    #[inline]
    pub(crate) fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Acquire))
    }

    #[inline]
    pub(crate) fn set_status(&self, status: Status) {
        self.status.store(status.to_u8(), Ordering::Release);
    }

    /// Whether it is in the session's dirty queue.
    #[inline]
    pub(crate) fn is_queued(&self) -> bool {
        self.queued.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn set_queued(&self, queued: bool) {
        self.queued.store(queued, Ordering::Release);
    }

    /// The flush whose statement carries its values (0 for none).
    #[inline]
    pub(crate) fn flight(&self) -> u64 {
        self.flight.load(Ordering::Acquire)
    }

    /// Ends its flight, returning the copy a change made during it took: `Some` when the
    /// object changed after the flush's statement read it.
    pub(crate) fn land(&self, inner: &mut ObjectState<T>) -> Option<Arc<T>> {
        // Only the flush writes the mark: a load and a store, no read-modify-write.
        let flight = self.flight.load(Ordering::Acquire);
        self.flight.store(0, Ordering::Release);
        match inner.flown.take() {
            Some((f, copy)) if f == flight && flight != 0 => Some(copy),
            _ => None,
        }
    }

    /// Expired by itself, or by a commit / rollback of `link` (its session) since it was
    /// loaded.
    #[inline]
    pub(crate) fn is_expired_in(&self, link: &SessionLink) -> bool {
        self.is_expired_flag()
            || self.status() == Status::Persistent && self.loaded_before(link.expire_epoch())
    }

    /// Expired by itself (`expire`), not counting the session's epoch.
    #[inline]
    pub(crate) fn is_expired_flag(&self) -> bool {
        self.expired.load(Ordering::Acquire)
    }

    /// Whether it was loaded before the session's expiry epoch moved on to `epoch`.
    #[inline]
    pub(crate) fn loaded_before(&self, epoch: u64) -> bool {
        self.epoch.load(Ordering::Acquire) < epoch
    }

    #[inline]
    pub(crate) fn set_expired(&self, expired: bool) {
        self.expired.store(expired, Ordering::Release);
    }

    /// Marks it fresh: just loaded in `link`'s session.
    #[inline]
    pub(crate) fn mark_fresh(&self, link: &SessionLink) {
        self.expired.store(false, Ordering::Release);
        self.epoch.store(link.expire_epoch(), Ordering::Release);
    }

    /// The key the identity map holds it under (`None`: not inserted yet).
    pub(crate) fn key(&self) -> Option<T::Pk> {
        self.key.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_key(&self, key: Option<T::Pk>) {
        *self.key.lock().unwrap_or_else(|p| p.into_inner()) = key;
    }

    /// Its foreign-key links.
    pub(crate) fn fk(&self) -> &FkLinks {
        &self.fk
    }

    /// Read-locks the values for the session's `operation`: an
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) error when a `write()` guard holds them
    /// (see `guard.rs`: never waits for ever).
    #[inline]
    pub(crate) fn read_for(
        &self,
        operation: &'static str,
    ) -> Result<RwLockReadGuard<'_, ObjectState<T>>> {
        guard::read(&self.state).map_err(|g| self.in_use(operation, g))
    }

    /// Write-locks the values for the session's `operation`: an
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) error when any guard holds them.
    #[inline]
    pub(crate) fn write_for(
        &self,
        operation: &'static str,
    ) -> Result<RwLockWriteGuard<'_, ObjectState<T>>> {
        guard::write(&self.state).map_err(|g| self.in_use(operation, g))
    }

    /// Fails as [`write_for`](Self::write_for) (`write`) or [`read_for`](Self::read_for)
    /// would, without taking the lock.
    #[inline]
    pub(crate) fn check_free(&self, operation: &'static str, write: bool) -> Result<()> {
        match guard::held(&self.state, write) {
            Some(g) => Err(self.in_use(operation, g)),
            None => Ok(()),
        }
    }

    /// The error of `operation` stopped by `guard` on this object.
    #[cold]
    fn in_use(&self, operation: &'static str, guard: HeldGuard) -> Error {
        guard::in_use::<T>(operation, self.key().as_ref(), guard)
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
    fn owner(&self) -> u64 {
        self.owner
    }
    fn check_free(&self, operation: &'static str, write: bool) -> Result<()> {
        Entry::check_free(self, operation, write)
    }
    fn check_writable(&self, operation: &'static str) -> Result<()> {
        Entry::check_free(self, operation, true)?;
        // Most objects have no links: no Vec of parents made and dropped for them (its
        // iterator's drop is not inlined; half this call's cost, callgrind).
        if !self.fk.is_empty() {
            for (_, parent) in self.fk.parents() {
                parent.check_free(operation, false)?;
            }
        }
        Ok(())
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
        Entry::status(self)
    }
    fn is_queued(&self) -> bool {
        Entry::is_queued(self)
    }
    fn set_flight(&self, flight: u64) {
        self.flight.store(flight, Ordering::Release);
    }
    fn flight(&self) -> u64 {
        Entry::flight(self)
    }
    fn enter_flight(&self, flight: u64, operation: &'static str) -> Result<bool> {
        if Entry::status(self) != Status::Persistent || Entry::flight(self) == flight {
            return Ok(false);
        }
        self.check_writable(operation)?;
        self.set_flight(flight);
        Ok(true)
    }
    fn validate_changes(&self, operation: &'static str) -> Result<()> {
        if !T::VALIDATES {
            return Ok(());
        }
        let inner = self.read_for(operation)?;
        match &inner.snapshot {
            Some(s) => inner
                .value
                .validate(inner.value.changed_columns(s.as_ref())),
            None => Ok(()),
        }
    }
    fn with_column(
        &self,
        idx: usize,
        operation: &'static str,
        f: &mut dyn FnMut(Option<&dyn Any>),
    ) -> Result<()> {
        let state = self.read_for(operation)?;
        f(state.value.column_value(idx).map(|v| v as &dyn Any));
        Ok(())
    }
    fn expire(&self, operation: &'static str) -> Result<()> {
        expire_entry(self, operation)
    }
    fn fk_parents(&self) -> Vec<(usize, Arc<dyn ErasedEntry>)> {
        self.fk.parents()
    }
    fn has_fk_links(&self) -> bool {
        !self.fk.is_empty()
    }
    fn moved_away(&self, fk_cols: &[usize], operation: &'static str) -> Result<bool> {
        // (A link to a parent being deleted too keeps it a child of the deletion.)
        if self.fk.to_sync().iter().any(|(_, l)| {
            &*l.fk_cols == fk_cols
                && l.parent
                    .as_ref()
                    .is_none_or(|p| p.status() != Status::Deleted)
        }) {
            return Ok(true);
        }
        let inner = self.read_for(operation)?;
        Ok(match &inner.snapshot {
            Some(old) => {
                let changed = inner.value.changed_columns(old);
                fk_cols.iter().any(|&c| changed.contains_index(c))
            }
            None => false,
        })
    }
    fn erased_model(&self) -> &'static dyn ErasedModel {
        TypedModel::<T>::ERASED
    }
}

/// The typed entry behind an erased one.
pub(crate) fn downcast<T: Persist>(e: &Arc<dyn ErasedEntry>) -> Option<Arc<Entry<T>>> {
    e.clone().into_any().downcast::<Entry<T>>().ok()
}

impl<T: Persist> ObjectState<T> {
    /// A snapshot of the columns as they are now: copied into the spare when nothing else
    /// holds it, or a new copy.
    pub(crate) fn take_snapshot(&mut self) -> Arc<T> {
        snapshot_of(&self.value, &mut self.spare)
    }
}

/// A snapshot of `value`'s columns: copied into `spare` when nothing else holds it, or a new
/// copy.
pub(crate) fn snapshot_of<T: Persist>(value: &T, spare: &mut Option<Arc<T>>) -> Arc<T> {
    if let Some(mut spare) = spare.take() {
        if let Some(copy) = Arc::get_mut(&mut spare) {
            value.copy_columns_into(copy);
            return spare;
        }
    }
    Arc::new(value.copy_columns())
}

/// The columns held by a shared copy, as an owned value (copied only if still shared).
pub(crate) fn unshare<T: Persist>(copy: Arc<T>) -> T {
    Arc::try_unwrap(copy).unwrap_or_else(|shared| shared.copy_columns())
}

/// Expires one entry: unflushed changes are discarded. Needs its lock (an
/// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) error while a guard holds it).
pub(crate) fn expire_entry<T: Persist>(entry: &Entry<T>, operation: &'static str) -> Result<()> {
    if entry.status() != Status::Persistent {
        return Ok(());
    }
    let mut state = entry.write_for(operation)?;
    // No undo record: a rollback does not un-expire (it expires everything itself).
    if let Some(snap) = state.snapshot.take() {
        state.value.restore_columns(unshare(snap));
    }
    // Its foreign keys' unflushed changes go with its columns' (those a collection listed
    // were dropped with it first).
    entry.fk().drop_all_unflushed();
    entry.set_queued(false);
    entry.set_expired(true);
    Ok(())
}
