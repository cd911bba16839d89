//! Objects entering the session: added ([`UnitOfWork::add`], also from a hook with
//! [`HookContext::add`]), registered as loaded rows, refreshed, looked up by key.

use super::persist::Persist;
use super::status::Status;
use super::tracked::{Tracked, save_added, save_undo};
use super::unit::{HookContext, UnitOfWork};
use crate::error::Result;
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
        let t = Tracked::new_entry(id, value, Status::Pending, Some(self.link.clone()));
        {
            let mut inner = t.entry.lock();
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

    /// Registers a row loaded by a query: the object already in the identity map (its values
    /// refreshed when it was expired and has no unflushed change), or a new persistent one.
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
                // Refreshed when expired, unless the caller holds a guard on it right now (it
                // then stays expired and is refreshed by a later load).
                if let Some(mut inner) = entry.try_lock() {
                    if inner.is_expired() && !inner.queued {
                        inner.value.restore_columns(value);
                        inner.mark_fresh();
                    }
                }
                (Tracked::from_entry(entry), false)
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                // Loaded objects stay in the session when a transaction rolls back: no undo.
                let t = Tracked::new_entry(id, value, Status::Persistent, Some(link));
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

    /// Links the relationships loaded into `value` (a copy of `parent` that a loader filled)
    /// to `parent`, registering the loaded objects.
    pub fn attach_loaded<T: Persist>(&mut self, parent: &Tracked<T>, mut value: T) -> Result<()> {
        for ops in T::RELATIONS {
            if let Some(children) = ops.take(&mut value) {
                ops.attach(self, &parent.erased(), children, true)?;
            }
        }
        Ok(())
    }

    /// Replaces an object's columns with freshly loaded values (`refresh`): unflushed changes
    /// are discarded, the object is no longer expired.
    pub fn refresh_with<T: Persist>(&mut self, t: &Tracked<T>, value: T) {
        let mut inner = t.entry.lock();
        save_undo(&t.entry, &mut inner, &self.link);
        inner.value.restore_columns(value);
        inner.snapshot = None;
        inner.queued = false;
        inner.mark_fresh();
    }
}
