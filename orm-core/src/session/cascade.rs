//! What follows relationships when an object is deleted, expunged or expired (the `delete`,
//! `expunge` and `refresh-expire` cascades, children set to `NULL`), and the foreign keys an
//! object holds towards other objects of the session.

use std::sync::Arc;

use super::persist::Persist;
use super::positions::KeyPositions;
use super::state::{Entry, FkLink, expire_entry};
use super::status::Status;
use super::tracked::{Tracked, save_undo, touch};
use super::unit::{CollKey, ErasedEntry, ErasedRelation, UnitOfWork, collection_key};
use crate::error::{Error, Result};
use crate::relation::{Cascade, RelationKind, RelationMeta};

impl UnitOfWork {
    /// Marks a persistent object for deletion (cascading along `delete` relationships); the
    /// next flush deletes it. Deleting a pending object cancels its insert.
    pub fn delete<T: Persist>(&mut self, t: &Tracked<T>) -> Result<()> {
        self.delete_erased(&t.erased())
    }

    pub(crate) fn delete_erased(&mut self, e: &Arc<dyn ErasedEntry>) -> Result<()> {
        e.erased_model().mark_deleted(self, e)
    }

    /// Marks one entry deleted (the typed part of [`delete`](Self::delete)).
    pub(crate) fn mark_entry_deleted<T: Persist>(&mut self, entry: &Arc<Entry<T>>) -> Result<()> {
        let status = entry.read_lock().status;
        match status {
            Status::Deleted => return Ok(()),
            Status::Detached => {
                return Err(Error::object_state(format!(
                    "cannot delete this `{}`: it is not in the session",
                    T::TABLE.model
                )));
            }
            Status::Pending => {
                self.expunge_erased(&(entry.clone() as Arc<dyn ErasedEntry>));
                return Ok(());
            }
            Status::Persistent => {}
        }
        {
            let mut inner = entry.lock();
            save_undo(entry, &mut inner, &self.link);
            inner.status = Status::Deleted;
        }
        let erased: Arc<dyn ErasedEntry> = entry.clone();
        self.deleted.push(erased.clone());
        // Cascade along relationships whose collections are loaded; unloaded ones are loaded
        // by the flush (unless passive).
        for ops in T::RELATIONS {
            let meta = ops.meta();
            let key = collection_key(entry.id, meta);
            let Some(coll) = self.collections.get(&key).cloned() else {
                continue;
            };
            match meta.kind {
                RelationKind::HasMany | RelationKind::HasOne => {
                    if meta.cascade.contains(Cascade::DELETE) {
                        for child in &coll.items {
                            self.delete_erased(child)?;
                        }
                    } else {
                        // Children stay: their foreign key is set to NULL.
                        for child in &coll.items {
                            if child.status() == Status::Persistent {
                                self.set_fk_parent(child, coll.rel, None)?;
                            }
                        }
                    }
                }
                RelationKind::BelongsTo => {
                    if meta.cascade.contains(Cascade::DELETE) {
                        for target in &coll.items {
                            self.delete_erased(target)?;
                        }
                    }
                }
                RelationKind::ManyToMany => {
                    if meta.cascade.contains(Cascade::DELETE) {
                        for target in &coll.items {
                            self.delete_erased(target)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes an object from the session (and its `expunge` cascades): it is no longer
    /// tracked, and changes to it are not flushed.
    pub fn expunge<T: Persist>(&mut self, t: &Tracked<T>) {
        self.expunge_erased(&t.erased());
    }

    pub(crate) fn expunge_erased(&mut self, e: &Arc<dyn ErasedEntry>) {
        e.erased_model().expunge(self, e);
    }

    pub(crate) fn expunge_entry<T: Persist>(&mut self, entry: &Arc<Entry<T>>) {
        let status = {
            let mut inner = entry.lock();
            if inner.session.is_none() {
                return;
            }
            save_undo(entry, &mut inner, &self.link);
            let s = inner.status;
            inner.status = Status::Detached;
            inner.session = None;
            inner.queued = false;
            inner.snapshot = None;
            s
        };
        let id = entry.id;
        match status {
            Status::Pending => self.new.retain(|e| e.id() != id),
            Status::Deleted => {
                self.deleted.retain(|e| e.id() != id);
                self.map_remove(entry);
            }
            _ => self.map_remove(entry),
        }
        let keys: Vec<CollKey> = T::RELATIONS
            .iter()
            .map(|ops| collection_key(id, ops.meta()))
            .collect();
        for (ops, key) in T::RELATIONS.iter().zip(keys) {
            if ops.meta().cascade.contains(Cascade::EXPUNGE) {
                if let Some(coll) = self.collections.get(&key).cloned() {
                    for child in &coll.items {
                        self.expunge_erased(child);
                    }
                }
            }
        }
    }

    /// Expires an object: unflushed changes are discarded and its values are replaced by the
    /// next row that loads it.
    pub fn expire<T: Persist>(&mut self, t: &Tracked<T>) {
        expire_entry(&t.entry);
        // Along `refresh-expire` cascades, the loaded children too.
        for ops in T::RELATIONS {
            if ops.meta().cascade.contains(Cascade::REFRESH_EXPIRE) {
                let key = collection_key(t.entry.id, ops.meta());
                if let Some(coll) = self.collections.get(&key).cloned() {
                    for child in &coll.items {
                        child.erased_model().expire(child);
                    }
                }
            }
        }
    }

    /// Points `child`'s foreign key (of relationship `rel`, a has-many/has-one seen from the
    /// parent) at `parent`, or at nothing.
    pub(crate) fn set_fk_parent(
        &mut self,
        child: &Arc<dyn ErasedEntry>,
        rel: &'static dyn ErasedRelation,
        parent: Option<Arc<dyn ErasedEntry>>,
    ) -> Result<()> {
        let keys = self.key_positions(rel.meta())?;
        child.erased_model().link_fk(child, &keys, parent, true)
    }

    /// A relationship's key columns as positions, cached.
    pub(crate) fn key_positions(
        &mut self,
        meta: &'static RelationMeta,
    ) -> Result<Arc<KeyPositions>> {
        let key = (meta.model, meta.name);
        if let Some(r) = self.key_positions.get(&key) {
            return Ok(r.clone());
        }
        let r = Arc::new(KeyPositions::new(meta)?);
        self.key_positions.insert(key, r.clone());
        Ok(r)
    }
}

/// Points an entry's foreign key at a parent: the typed part of `ErasedModel::link_fk`.
pub(crate) fn link_entry_fk<T: Persist>(
    entry: &Arc<Entry<T>>,
    keys: &KeyPositions,
    parent: Option<Arc<dyn ErasedEntry>>,
    changed: bool,
) -> Result<()> {
    let mut inner = entry.lock();
    if changed {
        touch(entry, &mut inner);
    }
    let link = FkLink {
        fk_cols: keys.fk_cols.clone(),
        parent,
        parent_cols: keys.key_cols.clone(),
    };
    match inner.fk.iter_mut().find(|l| l.fk_cols == keys.fk_cols) {
        Some(existing) => *existing = link,
        None => inner.fk.push(link),
    }
    Ok(())
}
