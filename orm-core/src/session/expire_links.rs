//! What `expire`, `expire_all` and `refresh` discard besides columns: the unflushed
//! relationship changes involving the objects they expire (collections, foreign-key links,
//! the `back_populates` side), each undone through the undo log.

use std::sync::Arc;

use super::collections::not_in;
use super::status::Status;
use super::unit::{CollKey, ErasedEntry, UnitOfWork, collection_key, untargeted};
use crate::error::Result;
use crate::relation::RelationKind;

impl UnitOfWork {
    /// Discards the unflushed relationship changes involving the objects `expired` selects,
    /// which `operation` (`expire`, `expire_all`, `refresh`) is about to expire: as their
    /// columns' changes, these are not written by a later flush. Called before the objects
    /// themselves are expired (which drops their own unflushed foreign-key links).
    ///
    /// A change of a changed collection is discarded when one of its two ends (the collection's
    /// owner, and the object appended, removed or set) is expired, unless the object holding
    /// the link is new: a new object keeps its links (its foreign keys, its many-to-many rows),
    /// which is how its `INSERT` gets its parents' keys (it has no row to go back to). A
    /// many-to-one change is one change (the owner from its old target to its new one),
    /// discarded when the owner or the new target is expired. Discarding puts back
    /// the collection as loaded, the foreign key's link as loaded (the column was never
    /// written), and the `back_populates` side: the child back in its old parent's collection
    /// (when that one was loaded), the owner out of its new target's. A child that a removal
    /// deleted (`delete-orphan`) stays deleted: the deletion is a change of its own.
    ///
    /// Every change is saved in the undo log, so a rollback puts back the changes as they were.
    /// When an object whose foreign key it restores is held by a guard, it fails with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) and changes nothing.
    pub(crate) fn drop_expired_links(
        &mut self,
        expired: &dyn Fn(&dyn ErasedEntry) -> bool,
        operation: &'static str,
    ) -> Result<()> {
        if self.changed_collections.is_empty() {
            return Ok(());
        }
        self.all_or_nothing(operation, |uow| {
            for key in uow.changed_collections.to_vec() {
                uow.drop_expired_changes(key, expired, operation)?;
            }
            Ok(())
        })
    }

    /// [`drop_expired_links`](Self::drop_expired_links) for one changed collection.
    fn drop_expired_changes(
        &mut self,
        key: CollKey,
        expired: &dyn Fn(&dyn ErasedEntry) -> bool,
        operation: &'static str,
    ) -> Result<()> {
        let Some(c) = self.collections.get(&key) else {
            return Ok(());
        };
        let Some(original) = c.original.clone() else {
            return Ok(());
        };
        let (rel, owner, items) = (c.rel, c.parent.clone(), c.items.clone());
        let meta = rel.meta();
        let settled = |e: &Arc<dyn ErasedEntry>| e.status() == Status::Persistent;
        let gone = |e: &Arc<dyn ErasedEntry>| settled(e) && expired(&**e);
        let added: Vec<Arc<dyn ErasedEntry>> = not_in(&items, &original).cloned().collect();
        let removed: Vec<Arc<dyn ErasedEntry>> = not_in(&original, &items).cloned().collect();
        // Whether the change between the owner and `item` is discarded: one of them expired,
        // and the object holding the link (whose foreign key it sets; both for a
        // many-to-many row) not new.
        let holder_settled = |item: &Arc<dyn ErasedEntry>| match meta.kind {
            RelationKind::HasMany | RelationKind::HasOne => settled(item),
            RelationKind::BelongsTo => settled(&owner),
            RelationKind::ManyToMany => settled(&owner) && settled(item),
        };
        let (undo_added, undo_removed) = if meta.kind == RelationKind::BelongsTo {
            // One change: the owner from its old target to its new one (or to none).
            let dropped = settled(&owner) && (gone(&owner) || added.iter().any(gone));
            if !dropped {
                return Ok(());
            }
            (added.clone(), removed.clone())
        } else {
            let pair =
                |item: &&Arc<dyn ErasedEntry>| holder_settled(item) && (gone(&owner) || gone(item));
            let undo_added: Vec<_> = added.iter().filter(pair).cloned().collect();
            let undo_removed: Vec<_> = removed.iter().filter(pair).cloned().collect();
            (undo_added, undo_removed)
        };
        if undo_added.is_empty() && undo_removed.is_empty() {
            return Ok(());
        }
        let keys = self.key_positions(meta)?;
        let back = meta.back_populates.map(|name| (meta.target.model, name));
        match meta.kind {
            RelationKind::HasMany | RelationKind::HasOne => {
                for child in &undo_added {
                    let model = child.erased_model();
                    let before =
                        model.drop_link(child, &keys.fk_cols, Some(owner.id()), operation)?;
                    if let (Some((m, n)), Some(before)) = (back, before) {
                        self.unmirror_child(child, (m, n), meta, before);
                    }
                }
                for child in &undo_removed {
                    let model = child.erased_model();
                    model.drop_link(child, &keys.fk_cols, None, operation)?;
                    if let Some((m, n)) = back {
                        let owner = owner.clone();
                        self.edit_collection((child.id(), m, n), move |c| c.items = vec![owner]);
                    }
                }
            }
            RelationKind::BelongsTo => {
                let new = added.first().map(|t| t.id());
                owner
                    .erased_model()
                    .drop_link(&owner, &keys.fk_cols, new, operation)?;
                if let Some((m, n)) = back {
                    for target in &added {
                        self.remove_item((target.id(), m, n), owner.id());
                    }
                    for target in &removed {
                        self.push_loaded_item((target.id(), m, n), &owner);
                    }
                }
            }
            RelationKind::ManyToMany => {}
        }
        // The collection without the discarded changes: as loaded, when none is left.
        let rest = undo_added.len() < added.len() || undo_removed.len() < removed.len();
        let complete = self.collections.get(&key).is_some_and(|c| c.complete);
        if !rest && !complete && original.is_empty() {
            // Only appended to, never loaded: no collection at all.
            self.forget_collection(key);
        } else {
            self.edit_collection(key, |c| {
                if rest {
                    let kept: Vec<Arc<dyn ErasedEntry>> =
                        not_in(&c.items, &undo_added).cloned().collect();
                    c.items = kept;
                    c.items.extend(undo_removed.iter().cloned());
                } else {
                    c.items = original;
                    c.original = None;
                }
            });
        }
        if !rest {
            self.changed_collections.retain(|k| *k != key);
            self.link.push_undo(untargeted(move |uow: &mut UnitOfWork| {
                uow.changed_collections.insert(key);
            }));
        }
        Ok(())
    }

    /// The `back_populates` side of a child whose move to `meta`'s owner was discarded: its
    /// many-to-one back to where the load left it (`before`; not loaded when no load said),
    /// and it back in that old parent's collection, when that one is loaded.
    fn unmirror_child(
        &mut self,
        child: &Arc<dyn ErasedEntry>,
        (model, name): (&'static str, &'static str),
        meta: &'static crate::relation::RelationMeta,
        before: super::unit::LinkBefore,
    ) {
        let key = (child.id(), model, name);
        match before {
            Some(old) => {
                let items: Vec<Arc<dyn ErasedEntry>> = old.iter().cloned().collect();
                self.edit_collection(key, move |c| c.items = items);
                if let Some(old) = old {
                    self.push_loaded_item(collection_key(old.id(), meta), child);
                }
            }
            None => self.forget_collection(key),
        }
    }

    /// Takes collection `key` out of the session (not loaded any more), with an undo record
    /// that puts it back.
    fn forget_collection(&mut self, key: CollKey) {
        if let Some(previous) = self.collections.remove(&key) {
            self.link.push_undo(untargeted(move |uow: &mut UnitOfWork| {
                uow.collections.insert(key, previous);
            }));
        }
    }

    /// [`push_item`](Self::push_item) into a collection that was loaded (a complete one): one
    /// only appended to does not list what the database has.
    fn push_loaded_item(&mut self, key: CollKey, item: &Arc<dyn ErasedEntry>) {
        if self.collections.get(&key).is_some_and(|c| c.complete) {
            self.push_item(key, item);
        }
    }
}
