//! A group's type-erased objects as entries of their model: downcasts, and the read locks a
//! statement of the flush takes on them.

use std::sync::Arc;

use parking_lot::RwLockReadGuard;

use super::FLUSH;
use crate::error::{Error, Result};
use crate::session::persist::Persist;
use crate::session::state::{Entry, ObjectState, downcast};
use crate::session::unit::ErasedEntry;

pub(super) fn typed<T: Persist>(e: &Arc<dyn ErasedEntry>) -> Result<Arc<Entry<T>>> {
    downcast::<T>(e).ok_or_else(wrong_type)
}

/// [`typed`], borrowed: for the steps that keep no handle on the object (no reference count
/// changed).
pub(super) fn typed_ref<T: Persist>(e: &Arc<dyn ErasedEntry>) -> Result<&Entry<T>> {
    e.as_any().downcast_ref::<Entry<T>>().ok_or_else(wrong_type)
}

#[cold]
pub(super) fn wrong_type() -> Error {
    Error::object_state("object of the wrong type")
}

pub(super) fn typed_all<T: Persist>(group: &[Arc<dyn ErasedEntry>]) -> Result<Vec<Arc<Entry<T>>>> {
    group.iter().map(typed::<T>).collect()
}

/// Read-locks every entry of a group for a statement of the flush: typed handles
/// ([`typed_entries`]), or the group's erased ones borrowed by [`typed_ref`].
pub(super) fn read_all<'a, T: Persist>(
    entries: impl ExactSizeIterator<Item = Result<&'a Entry<T>>>,
) -> Result<Vec<RwLockReadGuard<'a, ObjectState<T>>>> {
    let mut guards = Vec::with_capacity(entries.len());
    for e in entries {
        guards.push(e?.read_for(FLUSH)?);
    }
    Ok(guards)
}

/// Typed handles as [`read_all`] takes them.
pub(super) fn typed_entries<T: Persist>(
    entries: &[Arc<Entry<T>>],
) -> impl ExactSizeIterator<Item = Result<&Entry<T>>> {
    entries.iter().map(|e| Ok(&**e))
}

/// Arrays of the columns `cols` over the objects as the database has them (a changed
/// object's snapshot): the keys (and version) a statement about their rows matches.
pub(super) fn stored_key_arrays<T: Persist>(
    entries: &[Arc<Entry<T>>],
    cols: &[usize],
) -> Result<Vec<crate::expr::Param>> {
    let guards = read_all(typed_entries(entries))?;
    let old: Vec<&T> = guards
        .iter()
        .map(|g| g.snapshot.as_deref().unwrap_or(&g.value))
        .collect();
    super::sql::key_arrays(&old, cols)
}
