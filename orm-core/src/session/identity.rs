//! The identity map: one object per model and primary key, so loading the same row twice
//! gives the same object.

use std::any::{Any, TypeId};
use std::sync::Arc;

use super::fxhash::FxHashMap;
use super::persist::Persist;
use super::state::{Entry, expire_entry};
use super::unit::{ErasedEntry, ErasedMap, UnitOfWork};

/// The objects of one model in the identity map.
pub(crate) struct ModelMap<T: Persist> {
    pub(crate) by_pk: FxHashMap<T::Pk, Arc<Entry<T>>>,
}

impl<T: Persist> ErasedMap for ModelMap<T> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn len(&self) -> usize {
        self.by_pk.len()
    }
    fn expire_all(&self) {
        for e in self.by_pk.values() {
            expire_entry(e);
        }
    }
}

impl UnitOfWork {
    pub(crate) fn map_mut<T: Persist>(&mut self) -> &mut ModelMap<T> {
        let map = self.maps.entry(TypeId::of::<T>()).or_insert_with(|| {
            Box::new(ModelMap::<T> {
                by_pk: FxHashMap::default(),
            })
        });
        // The map under `TypeId::of::<T>()` is always a `ModelMap<T>`.
        match map.as_any_mut().downcast_mut::<ModelMap<T>>() {
            Some(m) => m,
            None => unreachable_map(),
        }
    }

    pub(crate) fn map<T: Persist>(&self) -> Option<&ModelMap<T>> {
        self.maps
            .get(&TypeId::of::<T>())
            .and_then(|m| m.as_any().downcast_ref::<ModelMap<T>>())
    }

    pub(crate) fn map_insert<T: Persist>(&mut self, entry: Arc<Entry<T>>) {
        let pk = entry.read_lock().value.pk();
        self.map_mut::<T>().by_pk.insert(pk, entry);
    }

    pub(crate) fn map_remove<T: Persist>(&mut self, entry: &Arc<Entry<T>>) {
        let pk = entry.read_lock().value.pk();
        self.map_remove_pk(&pk, entry);
    }

    pub(crate) fn map_remove_pk<T: Persist>(&mut self, pk: &T::Pk, entry: &Arc<Entry<T>>) {
        let map = self.map_mut::<T>();
        if map.by_pk.get(pk).is_some_and(|e| Arc::ptr_eq(e, entry)) {
            map.by_pk.remove(pk);
        }
    }

    /// Fails when a `read()`/`write()` guard the caller holds would block the flush: the
    /// flush write-locks every object it writes (new, changed, deleted) and read-locks the
    /// parents their foreign keys come from, and a guard the flushing task itself holds
    /// across the flush would never be released. Checked before anything is locked or sent,
    /// so the session is untouched and the same flush succeeds once the guard is dropped.
    /// Costs a try-lock per object to write, not per object tracked.
    pub fn check_guards(&self) -> crate::error::Result<()> {
        let in_use = |object: String, guard: &'static str| {
            crate::error::Error::from(crate::error::ErrorKind::ObjectInUse { object, guard })
        };
        let dirty = self.link.dirty_entries();
        let writes = self.new.iter().chain(&self.deleted).chain(&dirty);
        for e in writes.clone() {
            if let Some(h) = ErasedEntry::held(&**e, true) {
                return Err(in_use(e.erased_model().describe(self, e), h));
            }
        }
        // Every object to write is free of guards, so its parents can be read.
        for e in writes {
            for (_, parent) in e.erased_model().fk_parents(e) {
                if let Some(h) = ErasedEntry::held(&*parent, false) {
                    return Err(in_use(parent.erased_model().describe(self, &parent), h));
                }
            }
        }
        Ok(())
    }

    /// Room for `n` more objects of model `T` in the identity map.
    pub fn reserve<T: Persist>(&mut self, n: usize) {
        self.map_mut::<T>().by_pk.reserve(n);
    }

    /// Expires every object of the identity map.
    pub fn expire_all(&mut self) {
        for map in self.maps.values() {
            map.expire_all();
        }
    }
}

#[cold]
fn unreachable_map<T>() -> T {
    // `maps` is keyed by the model's TypeId and always holds that model's map.
    unreachable!("identity map of the wrong type")
}
