//! Objects entering the session: added ([`UnitOfWork::add`], also from a hook with
//! [`HookContext::add`]), registered as loaded rows, refreshed, looked up by key.

use std::sync::Arc;

use super::persist::Persist;
use super::state::{Entry, ObjectState};
use super::status::Status;
use super::tracked::{Tracked, save_added, save_added_all, save_undo, touch};
use super::unit::{ErasedEntry, HookContext, UnitOfWork};
use crate::error::{Error, Result};
use crate::relation::Cascade;

impl HookContext {
    /// Adds a new object to the session, to be inserted by this flush.
    pub fn add<M: Persist>(&mut self, object: M) {
        self.deferred.push(Box::new(move |uow: &mut UnitOfWork| {
            uow.add(object);
        }));
    }
}

impl UnitOfWork {
    /// The object with this key, if the identity map has it (no query).
    pub fn lookup<T: Persist>(&self, pk: &T::Pk) -> Option<Tracked<T>> {
        self.map::<T>()
            .and_then(|m| m.by_pk.get(pk))
            .map(|e| Tracked::from_entry(e.clone()))
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds a new object (and, through `save-update` cascades, the objects in its loaded
    /// relationships): the next flush inserts it.
    pub fn add<T: Persist>(&mut self, mut value: T) -> Tracked<T> {
        let id = self.new_id();
        let relations = T::RELATIONS;
        let mut taken = Vec::new();
        for ops in relations {
            if ops.meta().cascade.contains(Cascade::SAVE_UPDATE) {
                taken.push((*ops, ops.take(&mut value)));
            }
        }
        let t = Tracked::from_entry(Arc::new(Entry::new(
            id,
            value,
            Status::Pending,
            Some(self.link.clone()),
            None,
        )));
        // Nobody else has the new object yet: its lock is free.
        if let Ok(mut inner) = t.entry.write_for("add") {
            save_added(&t.entry, &mut inner, &self.link);
        }
        self.new.push(t.erased());
        for (ops, children) in taken {
            if let Some(children) = children {
                // Errors here are key resolution failures: reported again, with the
                // relationship named, by the flush.
                let _ = ops.attach(self, &t.erased(), children, false);
            }
        }
        t
    }

    /// Adds several new objects, as [`add`](Self::add) each: the next flush inserts them. A
    /// model without `save-update` cascades takes one undo record for all of them (undoing it
    /// detaches them all) and reserves room for them up front.
    pub fn add_all<T: Persist>(&mut self, objects: impl IntoIterator<Item = T>) -> Vec<Tracked<T>> {
        let cascades = T::RELATIONS
            .iter()
            .any(|ops| ops.meta().cascade.contains(Cascade::SAVE_UPDATE));
        if cascades {
            // Each object's children are added (with their own records) right after it.
            return objects.into_iter().map(|o| self.add(o)).collect();
        }
        let objects = objects.into_iter();
        let (lower, _) = objects.size_hint();
        let mut handles = Vec::with_capacity(lower);
        let mut entries = Vec::with_capacity(lower);
        self.new.reserve(lower);
        let generation = self.link.current_gen();
        for value in objects {
            let id = self.new_id();
            let mut entry = Entry::new(id, value, Status::Pending, Some(self.link.clone()), None);
            // Nobody else has the new object yet: no lock to take.
            entry.state.get_mut().undo_gen = generation;
            let entry = Arc::new(entry);
            self.new.push(entry.clone());
            entries.push(entry.clone());
            handles.push(Tracked::from_entry(entry));
        }
        save_added_all(entries, &self.link);
        handles
    }

    /// Adds new objects that the next flush inserts with binary `COPY`, whatever their number
    /// (see [`set_copy_threshold`](Self::set_copy_threshold)): every new `T` of that flush
    /// goes by `COPY`, in one statement per dependency level. Objects reached through their
    /// relationships are added as by [`add`](Self::add), and inserted as usual.
    ///
    /// `COPY` returns nothing. An integer identity or `serial` key that is the model's only
    /// server-generated column is taken from its sequence first (one `SELECT nextval(…)` for
    /// all the objects) and copied with the rows; a model with other server-generated columns
    /// (a `#[model(generated)]` default, a computed column, a composite generated key) is
    /// refused with [`CopyNeedsReturning`](crate::ErrorKind::CopyNeedsReturning), nothing
    /// added.
    pub fn add_all_copy<T: Persist>(
        &mut self,
        objects: impl IntoIterator<Item = T>,
    ) -> Result<Vec<Tracked<T>>> {
        if super::flush::sequence_key_column(T::TABLE).is_none() {
            crate::copy::check_copyable(T::TABLE)?;
        }
        let model = std::any::TypeId::of::<T>();
        if !self.copy.requested.contains(&model) {
            self.copy.requested.push(model);
        }
        Ok(self.add_all(objects))
    }

    /// The smallest batch of new objects of one table that the flush inserts with binary
    /// `COPY` instead of `INSERT`, when they need nothing back from the server (no generated
    /// column: keys set by the application) or only an integer identity or `serial` key (taken
    /// from its sequence first); `None` never. The session sets it from
    /// `SessionOptions::copy_threshold`.
    pub fn set_copy_threshold(&mut self, threshold: Option<usize>) {
        self.copy.threshold = threshold;
    }

    /// Registers a row loaded by a query: the object already in the identity map (its values
    /// refreshed when it was expired and has no unflushed change), or a new persistent one.
    ///
    /// An object already in the map is only locked when its values are replaced (it is
    /// expired): then a guard held on it fails the load with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) (operation `load`), the object
    /// unchanged.
    pub fn register_loaded<T: Persist>(&mut self, mut value: T) -> Result<Tracked<T>> {
        let mut taken = Vec::new();
        for ops in T::RELATIONS {
            if let Some(children) = ops.take(&mut value) {
                taken.push((*ops, children));
            }
        }
        let id = self.next_id + 1;
        let link = self.link.clone();
        let (t, created) = match self.map_mut::<T>().by_pk.entry(value.pk()) {
            std::collections::hash_map::Entry::Occupied(slot) => {
                let entry = slot.get().clone();
                if !entry.is_queued() && entry.is_expired_in(&link) {
                    let mut inner = entry.write_for("load")?;
                    inner.value.restore_columns(value);
                    drop(inner);
                    entry.mark_fresh(&link);
                } else if T::DEFERRED {
                    // Deferred columns this query loaded and the object lacks fill in; an object
                    // a guard holds keeps them unloaded (reading them stays a `NotLoaded` error).
                    if let Ok(mut inner) = entry.write_for("load") {
                        fill_unloaded(&mut inner, &value);
                    }
                }
                (Tracked::from_entry(entry), false)
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                // Loaded objects stay in the session when a transaction rolls back: no undo.
                let key = slot.key().clone();
                let t = Tracked::from_entry(Arc::new(Entry::new(
                    id,
                    value,
                    Status::Persistent,
                    Some(link),
                    Some(key),
                )));
                slot.insert(t.entry.clone());
                (t, true)
            }
        };
        if created {
            self.next_id = id;
        }
        for (ops, children) in taken {
            ops.attach(self, &t.erased(), children, true)?;
        }
        Ok(t)
    }

    /// An [`ObjectState`](crate::ErrorKind::ObjectState) error for `operation` when `entry`
    /// was made in another session: its id, links and status are that session's, so this one
    /// must not read or change them (SQLAlchemy refuses an object "already attached to session
    /// X" too). An object moves between sessions as a copy: `merge(t.to_detached())`.
    pub(crate) fn check_own(&self, entry: &dyn ErasedEntry, operation: &'static str) -> Result<()> {
        match entry.owner() {
            0 => Ok(()),
            owner if owner == self.link.serial() => Ok(()),
            _ => Err(Error::object_state(format!(
                "cannot {operation} with this `{}`: it belongs to another session; bring a copy \
                 into this one with `merge(object.to_detached())`",
                entry.table().model
            ))),
        }
    }

    /// [`ObjectState`](crate::ErrorKind::ObjectState) for `operation` when `t` belongs to
    /// another session (see `check_own`): for a caller that must refuse before its own work.
    pub fn check_member<T: Persist>(&self, t: &Tracked<T>, operation: &'static str) -> Result<()> {
        self.check_own(&*t.entry, operation)
    }

    /// Links the relationships loaded into `value` (a copy of `parent` that a loader filled)
    /// to `parent`, registering the loaded objects.
    pub fn attach_loaded<T: Persist>(&mut self, parent: &Tracked<T>, mut value: T) -> Result<()> {
        self.check_own(&*parent.entry, "load")?;
        for ops in T::RELATIONS {
            if let Some(children) = ops.take(&mut value) {
                ops.attach(self, &parent.erased(), children, true)?;
            }
        }
        Ok(())
    }

    /// Fills the deferred columns `value` loaded and `t` has not (`load_deferred`), in the
    /// object and in its snapshot, so they are not changes. A guard held on it fails with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse), the object unchanged.
    pub fn fill_deferred<T: Persist>(&mut self, t: &Tracked<T>, value: &T) -> Result<()> {
        self.check_own(&*t.entry, "load_deferred")?;
        let mut inner = t.entry.write_for("load_deferred")?;
        fill_unloaded(&mut inner, value);
        Ok(())
    }

    /// Replaces an object's columns with freshly loaded values (`refresh`): unflushed changes
    /// are discarded (those of its relationships too, as [`expire`](Self::expire) says), the
    /// object is no longer expired. A guard held on it (or on an object whose foreign key a
    /// discarded change set) fails with [`ObjectInUse`](crate::ErrorKind::ObjectInUse), the
    /// session unchanged.
    pub fn refresh_with<T: Persist>(&mut self, t: &Tracked<T>, value: T) -> Result<()> {
        self.check_own(&*t.entry, "refresh")?;
        t.entry.check_free("refresh", true)?;
        let id = t.entry.id;
        self.drop_expired_links(&|e| e.id() == id, "refresh")?;
        let mut inner = t.entry.write_for("refresh")?;
        save_undo(&t.entry, &mut inner, &self.link);
        inner.value.restore_columns(value);
        inner.snapshot = None;
        t.entry.fk().drop_all_unflushed();
        drop(inner);
        t.entry.set_queued(false);
        t.entry.mark_fresh(&self.link);
        Ok(())
    }

    /// Copies a detached object's columns onto `t` (`merge`): the next flush writes the
    /// columns that differ. A guard held on `t` fails with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse), `t` unchanged.
    pub fn merge_into<T: Persist>(&mut self, t: &Tracked<T>, value: T) -> Result<()> {
        self.check_own(&*t.entry, "merge")?;
        let mut inner = t.entry.write_for("merge")?;
        touch(&t.entry, &mut inner);
        inner.value.restore_columns(value);
        Ok(())
    }

    /// Whether `t` is expired (by `expire`, or by a commit or rollback since it was loaded),
    /// read without its lock: a guard held on it does not matter.
    pub fn is_expired<T: Persist>(&self, t: &Tracked<T>) -> bool {
        t.entry.is_expired_in(&self.link)
    }

    /// The primary key of `t`, which `operation` is about to replace the values of
    /// (`refresh`): [`ObjectInUse`](crate::ErrorKind::ObjectInUse) when a guard holds it.
    pub fn key_to_replace<T: Persist>(
        &self,
        t: &Tracked<T>,
        operation: &'static str,
    ) -> Result<T::Pk> {
        self.check_own(&*t.entry, operation)?;
        t.entry.check_free(operation, true)?;
        Ok(t.entry.read_for(operation)?.value.pk())
    }

    /// A copy of `t`'s columns for `operation` (`load`):
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) when a `write()` guard holds it.
    pub fn columns_of<T: Persist>(&self, t: &Tracked<T>, operation: &'static str) -> Result<T> {
        self.check_own(&*t.entry, operation)?;
        Ok(t.entry.read_for(operation)?.value.copy_columns())
    }
}

/// Fills the deferred columns `from` loaded into an object and its snapshot.
fn fill_unloaded<T: Persist>(state: &mut ObjectState<T>, from: &T) {
    state.value.fill_unloaded(from);
    if let Some(snapshot) = state.snapshot.as_mut() {
        match Arc::get_mut(snapshot) {
            Some(s) => s.fill_unloaded(from),
            None => {
                let mut copy = snapshot.copy_columns();
                copy.fill_unloaded(from);
                *snapshot = Arc::new(copy);
            }
        }
    }
}
