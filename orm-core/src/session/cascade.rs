//! What follows relationships when an object is deleted, expunged or expired (the `delete`,
//! `expunge` and `refresh-expire` cascades, children set to `NULL`), and the foreign keys an
//! object holds towards other objects of the session.
//!
//! Each operation changes nothing when it fails: `delete` and `expunge` undo what they
//! changed (`all_or_nothing`), `expire` checks every object it expires first. An object a
//! guard holds fails them with [`ObjectInUse`](crate::ErrorKind::ObjectInUse).

use std::sync::Arc;

use super::fxhash::FxHashSet;
use super::persist::Persist;
use super::positions::KeyPositions;
use super::state::{Entry, FkLink};
use super::status::Status;
use super::tracked::{Tracked, save_undo, touch};
use super::unit::{CollKey, ErasedEntry, ErasedRelation, LinkBefore, UnitOfWork, collection_key};
use crate::error::{Error, Result};
use crate::relation::{Cascade, RelationKind, RelationMeta};

impl UnitOfWork {
    /// Marks a persistent object for deletion (cascading along `delete` relationships); the
    /// next flush deletes it. Deleting a pending object cancels its insert. When it fails (a
    /// guard holds an object it must change), nothing is changed.
    pub fn delete<T: Persist>(&mut self, t: &Tracked<T>) -> Result<()> {
        self.check_own(&*t.entry, "delete")?;
        let e = t.erased();
        self.all_or_nothing("delete", |uow| uow.delete_erased(&e, "delete"))
    }

    pub(crate) fn delete_erased(
        &mut self,
        e: &Arc<dyn ErasedEntry>,
        operation: &'static str,
    ) -> Result<()> {
        e.erased_model().mark_deleted(self, e, operation)
    }

    /// Marks one entry deleted (the typed part of [`delete`](Self::delete)).
    pub(crate) fn mark_entry_deleted<T: Persist>(
        &mut self,
        entry: &Arc<Entry<T>>,
        operation: &'static str,
    ) -> Result<()> {
        match entry.status() {
            Status::Deleted => return Ok(()),
            Status::Detached => {
                return Err(Error::object_state(format!(
                    "cannot delete this `{}`: it is not in the session",
                    T::TABLE.model
                )));
            }
            Status::Pending => {
                return self.expunge_erased(&(entry.clone() as Arc<dyn ErasedEntry>), operation);
            }
            Status::Persistent => {}
        }
        {
            let mut inner = entry.write_for(operation)?;
            save_undo(entry, &mut inner, &self.link);
            entry.set_status(Status::Deleted);
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
                    // A child the session moved to another parent since the collection was
                    // loaded (without taking it out of this one) is that parent's now.
                    let fk_cols = self.key_positions(meta)?.fk_cols.clone();
                    let mut children = Vec::with_capacity(coll.items.len());
                    for child in &coll.items {
                        if !child.moved_away(&fk_cols, operation)? {
                            children.push(child);
                        }
                    }
                    if meta.cascade.contains(Cascade::DELETE) {
                        for child in children {
                            self.delete_erased(child, operation)?;
                        }
                    } else {
                        // Children stay: their foreign key is set to NULL.
                        for child in children {
                            if child.status() == Status::Persistent {
                                self.set_fk_parent(child, coll.rel, None, operation)?;
                            }
                        }
                    }
                }
                RelationKind::BelongsTo => {
                    if meta.cascade.contains(Cascade::DELETE) {
                        for target in &coll.items {
                            self.delete_erased(target, operation)?;
                        }
                    }
                }
                RelationKind::ManyToMany => {
                    if meta.cascade.contains(Cascade::DELETE) {
                        for target in &coll.items {
                            self.delete_erased(target, operation)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes an object from the session (and its `expunge` cascades): it is no longer
    /// tracked, and changes to it are not flushed. When it fails (a guard holds an object it
    /// must change), nothing is changed.
    pub fn expunge<T: Persist>(&mut self, t: &Tracked<T>) -> Result<()> {
        self.check_own(&*t.entry, "expunge")?;
        let e = t.erased();
        self.all_or_nothing("expunge", |uow| uow.expunge_erased(&e, "expunge"))
    }

    pub(crate) fn expunge_erased(
        &mut self,
        e: &Arc<dyn ErasedEntry>,
        operation: &'static str,
    ) -> Result<()> {
        e.erased_model().expunge(self, e, operation)
    }

    pub(crate) fn expunge_entry<T: Persist>(
        &mut self,
        entry: &Arc<Entry<T>>,
        operation: &'static str,
    ) -> Result<()> {
        let status = {
            let mut inner = entry.write_for(operation)?;
            if inner.session.is_none() {
                return Ok(());
            }
            save_undo(entry, &mut inner, &self.link);
            inner.session = None;
            inner.snapshot = None;
            let s = entry.status();
            entry.set_status(Status::Detached);
            entry.set_queued(false);
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
                        self.expunge_erased(child, operation)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Expires an object: unflushed changes are discarded and its values are replaced by the
    /// next row that loads it; along `refresh-expire` cascades, its loaded children too. The
    /// unflushed relationship changes involving them are discarded with their columns' (a
    /// new object keeps its links: its insert needs them). A guard held on any of them fails
    /// it with [`ObjectInUse`](crate::ErrorKind::ObjectInUse) before anything is expired.
    pub fn expire<T: Persist>(&mut self, t: &Tracked<T>) -> Result<()> {
        const OPERATION: &str = "expire";
        self.check_own(&*t.entry, OPERATION)?;
        let mut objects: Vec<Arc<dyn ErasedEntry>> = vec![t.erased()];
        for ops in T::RELATIONS {
            if ops.meta().cascade.contains(Cascade::REFRESH_EXPIRE) {
                let key = collection_key(t.entry.id, ops.meta());
                if let Some(coll) = self.collections.get(&key) {
                    objects.extend(coll.items.iter().cloned());
                }
            }
        }
        for e in &objects {
            if e.status() == Status::Persistent {
                e.check_free(OPERATION, true)?;
            }
        }
        let ids: FxHashSet<u64> = objects.iter().map(|e| e.id()).collect();
        self.drop_expired_links(&|e| ids.contains(&e.id()), OPERATION)?;
        objects.iter().try_for_each(|e| e.expire(OPERATION))
    }

    /// Points `child`'s foreign key (of relationship `rel`, a has-many/has-one seen from the
    /// parent) at `parent`, or at nothing.
    pub(crate) fn set_fk_parent(
        &mut self,
        child: &Arc<dyn ErasedEntry>,
        rel: &'static dyn ErasedRelation,
        parent: Option<Arc<dyn ErasedEntry>>,
        operation: &'static str,
    ) -> Result<()> {
        let keys = self.key_positions(rel.meta())?;
        child
            .erased_model()
            .link_fk(child, &keys, parent, Some(operation))
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

/// Points an entry's foreign key at a parent: the typed part of `ErasedModel::link_fk`. A
/// change (`changed`: the operation making it) saves and queues the object, which needs its
/// lock; a link made by a load only records it.
pub(crate) fn link_entry_fk<T: Persist>(
    entry: &Arc<Entry<T>>,
    keys: &KeyPositions,
    parent: Option<Arc<dyn ErasedEntry>>,
    changed: Option<&'static str>,
) -> Result<()> {
    if let Some(operation) = changed {
        let mut inner = entry.write_for(operation)?;
        touch(entry, &mut inner);
    }
    entry.fk().put(FkLink {
        fk_cols: keys.fk_cols.clone(),
        parent,
        parent_cols: keys.key_cols.clone(),
        sync: changed.is_some(),
        replaced: None,
    });
    Ok(())
}

/// Drops an entry's unflushed link of `fk_cols` to the object with session id `parent` (the
/// typed part of `ErasedModel::drop_link`): its state is saved first, so that a rollback puts
/// the link back with the collections' changes.
pub(crate) fn drop_entry_link<T: Persist>(
    entry: &Arc<Entry<T>>,
    fk_cols: &[usize],
    parent: Option<u64>,
    operation: &'static str,
) -> Result<Option<LinkBefore>> {
    let mut inner = entry.write_for(operation)?;
    if let Some(link) = inner.session.clone() {
        save_undo(entry, &mut inner, &link);
    }
    let dropped = entry.fk().drop_unflushed(fk_cols, parent);
    Ok(dropped.map(|before| before.map(|l| l.parent)))
}
