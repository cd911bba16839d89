//! The identity map: one object per model and primary key, so loading the same row twice
//! gives the same object.

use std::any::{Any, TypeId};
use std::sync::Arc;

use super::fxhash::FxHashMap;
use super::persist::Persist;
use super::state::Entry;
use super::status::Status;
use super::unit::{ErasedEntry, ErasedMap, UnitOfWork};
use crate::error::Result;

/// The objects of one model in the identity map.
pub(crate) struct ModelMap<T: Persist> {
    pub(crate) by_pk: FxHashMap<T::Pk, Arc<Entry<T>>>,
}

/// From this many objects on, a dropped map frees its objects in the order of their addresses.
const ORDERED_DROP: usize = 4096;

impl<T: Persist> Drop for ModelMap<T> {
    fn drop(&mut self) {
        // The table's order is the hash's: freeing a large map's objects in it touches memory
        // at random, a cache miss or more per object. In address order (mostly the order they
        // were allocated in, with their own fields' allocations beside) it is a sequential walk.
        if self.by_pk.len() < ORDERED_DROP {
            return;
        }
        let mut entries: Vec<Arc<Entry<T>>> = self.by_pk.drain().map(|(_, e)| e).collect();
        entries.sort_unstable_by_key(|e| Arc::as_ptr(e) as usize);
    }
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
    fn try_for_each(&self, f: &mut dyn FnMut(&dyn ErasedEntry) -> Result<()>) -> Result<()> {
        self.by_pk.values().try_for_each(|e| f(&**e))
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

    /// Puts an entry into the identity map under `pk` (remembered by the entry).
    pub(crate) fn map_insert<T: Persist>(&mut self, entry: Arc<Entry<T>>, pk: T::Pk) {
        entry.set_key(Some(pk.clone()));
        self.map_mut::<T>().by_pk.insert(pk, entry);
    }

    /// Takes an entry out of the identity map (found by the key it was put under, so its
    /// values are not read).
    pub(crate) fn map_remove<T: Persist>(&mut self, entry: &Arc<Entry<T>>) {
        let Some(pk) = entry.key() else {
            return;
        };
        let map = self.map_mut::<T>();
        if map.by_pk.get(&pk).is_some_and(|e| Arc::ptr_eq(e, entry)) {
            map.by_pk.remove(&pk);
        }
    }

    /// Room for `n` more objects of model `T` in the identity map.
    pub fn reserve<T: Persist>(&mut self, n: usize) {
        self.map_mut::<T>().by_pk.reserve(n);
    }

    /// Expires every object of the identity map (unflushed changes dropped, those of their
    /// relationships too, as [`expire`](Self::expire) says). A guard held on any of them
    /// fails it with [`ObjectInUse`](crate::ErrorKind::ObjectInUse) before anything is
    /// expired.
    pub fn expire_all(&mut self) -> Result<()> {
        const OPERATION: &str = "expire_all";
        for map in self.maps.values() {
            map.try_for_each(&mut |e| match e.status() {
                Status::Persistent => e.check_free(OPERATION, true),
                _ => Ok(()),
            })?;
        }
        self.drop_expired_links(&|_| true, OPERATION)?;
        for map in self.maps.values() {
            map.try_for_each(&mut |e| e.expire(OPERATION))?;
        }
        Ok(())
    }
}

#[cold]
fn unreachable_map<T>() -> T {
    // `maps` is keyed by the model's TypeId and always holds that model's map.
    unreachable!("identity map of the wrong type")
}
