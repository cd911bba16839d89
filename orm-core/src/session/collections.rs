//! Relationship collections between objects: reading and changing them (`related`,
//! `set_related`, `append`, `remove`), the foreign keys and orphans a change implies, and the
//! other side (`back_populates`) kept in step.

use std::sync::Arc;

use super::fxhash::FxHashSet;
use super::persist::{Persist, TypedRelation};
use super::state::downcast;
use super::status::Status;
use super::tracked::Tracked;
use super::unit::{
    CollKey, Collection, ErasedEntry, ErasedRelation, Undo, UnitOfWork, collection_key, untargeted,
};
use crate::error::{Error, Result};
use crate::relation::{Cascade, Relation, RelationKind, Relationship};

impl UnitOfWork {
    /// The objects linked to `parent` through relationship `R`, or a `NotLoaded` error when the
    /// session never loaded or set that relationship for this object (or only appended to it
    /// without loading it).
    pub fn related<R: Relation>(
        &self,
        parent: &Tracked<R::Parent>,
    ) -> Result<Vec<Tracked<R::Target>>>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check_own(&*parent.entry, "read a relationship")?;
        let key = collection_key(parent.entry.id, R::META);
        let coll = self
            .collections
            .get(&key)
            .filter(|c| c.complete)
            .ok_or_else(not_loaded::<R>)?;
        Ok(coll
            .items
            .iter()
            .filter_map(downcast::<R::Target>)
            .map(Tracked::from_entry)
            .collect())
    }

    /// Replaces the objects linked to `parent` through `R`. New objects among them are added;
    /// the foreign keys are set at the next flush; removed children are deleted
    /// (`delete-orphan`) or their foreign key is set to `NULL`; for many-to-many, the
    /// association rows are inserted and deleted. The other side (`back_populates`) follows.
    ///
    /// Replacing a collection of a persistent object needs it loaded first (to know what is
    /// removed): otherwise an [`ObjectState`](crate::ErrorKind::ObjectState) error. When it
    /// fails (also when a guard holds an object whose foreign key it sets:
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse)), nothing is changed.
    pub fn set_related<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        _rel: Relationship<R>,
        targets: Vec<Tracked<R::Target>>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check_own(&*parent.entry, "set_related")?;
        for t in &targets {
            self.check_own(&*t.entry, "set_related")?;
        }
        self.all_or_nothing("set_related", |uow| {
            uow.set_related_as::<R>(parent, targets, "set_related")
        })
    }

    /// [`set_related`](Self::set_related), for `operation`.
    fn set_related_as<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        targets: Vec<Tracked<R::Target>>,
        operation: &'static str,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        let key = collection_key(parent.entry.id, R::META);
        let known = self.collections.get(&key).is_some_and(|c| c.complete);
        if !known && R::META.kind != RelationKind::BelongsTo && parent.status() != Status::Pending {
            return Err(Error::object_state(format!(
                "relationship `{}.{}` is not loaded for this object: load it first (`s.load(&[obj], {}::{}.selectin())`) or use append",
                R::META.model,
                R::META.name,
                R::META.model,
                R::META.name
            )));
        }
        self.link::<R>(parent, targets, true, operation)
    }

    /// Sets the collection (complete, or only what was appended to an unloaded one) and keeps
    /// the other side in step.
    fn link<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        targets: Vec<Tracked<R::Target>>,
        complete: bool,
        operation: &'static str,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        let ops = TypedRelation::<R>::ERASED;
        if targets.iter().any(|t| t.status() == Status::Detached) {
            return Err(not_in_session::<R>());
        }
        let key = collection_key(parent.entry.id, R::META);
        let before: Vec<Arc<dyn ErasedEntry>> = self
            .collections
            .get(&key)
            .map(|c| c.items.clone())
            .unwrap_or_default();
        let items: Vec<Arc<dyn ErasedEntry>> = targets.iter().map(Tracked::erased).collect();
        let added: Vec<Arc<dyn ErasedEntry>> = not_in(&items, &before).cloned().collect();
        let removed: Vec<Arc<dyn ErasedEntry>> = not_in(&before, &items).cloned().collect();
        self.replace_collection(&parent.erased(), ops, items, Some(operation))?;
        if let Some(c) = self.collections.get_mut(&key) {
            c.complete = complete;
        }
        self.sync_back::<R>(&parent.erased(), &added, &removed);
        Ok(())
    }

    /// Keeps the relationship named by `back_populates` in step with a change of `R`: a child
    /// appended to a parent's collection learns its parent (and leaves its old parent's
    /// collection); an owner pointed at a new target moves between their collections.
    fn sync_back<R: Relation>(
        &mut self,
        parent: &Arc<dyn ErasedEntry>,
        added: &[Arc<dyn ErasedEntry>],
        removed: &[Arc<dyn ErasedEntry>],
    ) where
        R::Parent: Persist,
        R::Target: Persist,
    {
        let Some(back) = R::META.back_populates else {
            return;
        };
        let Some(rev) = <R::Target as Persist>::RELATIONS
            .iter()
            .find(|r| r.meta().name == back)
        else {
            return;
        };
        let rev_meta = rev.meta();
        match (R::META.kind, rev_meta.kind) {
            (RelationKind::HasMany | RelationKind::HasOne, RelationKind::BelongsTo) => {
                for child in added {
                    let key = collection_key(child.id(), rev_meta);
                    let old = self
                        .collections
                        .get(&key)
                        .and_then(|c| c.items.first().cloned());
                    if let Some(old) = old.filter(|o| o.id() != parent.id()) {
                        self.remove_item(collection_key(old.id(), R::META), child.id());
                    }
                    let p = parent.clone();
                    let (rel, owner) = (rev.erased(), child.clone());
                    self.edit_or_insert(key, rel, owner, move |c| c.items = vec![p]);
                }
                for child in removed {
                    self.remove_item(collection_key(child.id(), rev_meta), parent.id());
                }
            }
            (RelationKind::BelongsTo, RelationKind::HasMany | RelationKind::HasOne) => {
                for old in removed {
                    self.remove_item(collection_key(old.id(), rev_meta), parent.id());
                }
                for new in added {
                    self.push_item(collection_key(new.id(), rev_meta), parent);
                }
            }
            _ => {}
        }
    }

    /// Changes an existing collection in place (no foreign-key effect), with an undo record.
    pub(super) fn edit_collection(&mut self, key: CollKey, f: impl FnOnce(&mut Collection)) {
        if let Some(c) = self.collections.get_mut(&key) {
            let previous = c.clone();
            f(c);
            self.link.push_undo(untargeted(move |uow: &mut UnitOfWork| {
                uow.collections.insert(key, previous);
            }));
        }
    }

    /// Takes the object with session id `id` out of an existing collection (no foreign-key
    /// effect), with an undo record that puts it back where it was: no copy of the collection,
    /// which may be long (a parent whose children move one by one to another).
    pub(super) fn remove_item(&mut self, key: CollKey, id: u64) {
        let Some(c) = self.collections.get_mut(&key) else {
            return;
        };
        let Some(at) = c.items.iter().position(|i| i.id() == id) else {
            return;
        };
        let item = c.items.remove(at);
        self.link.push_undo(undo_take(key, at, item, false));
    }

    /// Adds `item` to an existing collection unless it is there (no foreign-key effect), with
    /// an undo record that takes it out again.
    pub(super) fn push_item(&mut self, key: CollKey, item: &Arc<dyn ErasedEntry>) {
        let Some(c) = self.collections.get_mut(&key) else {
            return;
        };
        let id = item.id();
        if c.items.iter().any(|i| i.id() == id) {
            return;
        }
        c.items.push(item.clone());
        self.link.push_undo(undo_push(key, id, false));
    }

    /// Like [`edit_collection`](Self::edit_collection), creating the collection if needed.
    fn edit_or_insert(
        &mut self,
        key: CollKey,
        rel: &'static dyn ErasedRelation,
        owner: Arc<dyn ErasedEntry>,
        f: impl FnOnce(&mut Collection),
    ) {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.collections.entry(key) {
            slot.insert(Collection {
                rel,
                parent: owner,
                items: Vec::new(),
                original: None,
                complete: true,
            });
            self.link.push_undo(untargeted(move |uow: &mut UnitOfWork| {
                uow.collections.remove(&key);
            }));
        }
        self.edit_collection(key, f);
    }

    /// Adds `target` to `parent`'s collection `R`. The collection need not be loaded: then
    /// only the link is known (the foreign key, or the association row, is written by the
    /// flush) and `related` still says it is not loaded. When it fails, nothing is changed.
    pub fn append<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        _rel: Relationship<R>,
        target: &Tracked<R::Target>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check_own(&*parent.entry, "append")?;
        self.check_own(&*target.entry, "append")?;
        self.all_or_nothing("append", |uow| uow.append_to::<R>(parent, target))
    }

    /// The work of [`append`](Self::append). A collection of many children is changed in
    /// place: the target is linked and pushed, and the undo record pops it. Each call costs one
    /// scan of the collection's ids (is the target listed already?) and one object's link, not
    /// a rebuild of the collection and a saved copy of every child in it.
    fn append_to<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        target: &Tracked<R::Target>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        let key = collection_key(parent.entry.id, R::META);
        if R::META.kind == RelationKind::BelongsTo {
            // One target at most: the whole (short) collection is set.
            let (mut current, complete) = match self.collections.get(&key) {
                Some(c) => (
                    c.items
                        .iter()
                        .filter_map(downcast::<R::Target>)
                        .map(Tracked::from_entry)
                        .collect(),
                    c.complete,
                ),
                None => (Vec::new(), parent.status() == Status::Pending),
            };
            if !current
                .iter()
                .any(|c: &Tracked<R::Target>| Tracked::ptr_eq(c, target))
            {
                current.push(target.clone());
            }
            return self.link::<R>(parent, current, complete, "append");
        }
        if target.status() == Status::Detached {
            return Err(not_in_session::<R>());
        }
        let item = target.erased();
        let id = item.id();
        let parent = parent.erased();
        if matches!(R::META.kind, RelationKind::HasMany | RelationKind::HasOne) {
            // The child's foreign key points at the parent (a guard on the child fails here,
            // before the collection changes), also when it is listed already: without
            // `back_populates`, a child appended to another parent since is still listed here,
            // and appending it again brings it back.
            let keys = self.key_positions(R::META)?;
            item.erased_model()
                .link_fk(&item, &keys, Some(parent.clone()), Some("append"))?;
        }
        if self
            .collections
            .get(&key)
            .is_some_and(|c| c.items.iter().any(|i| i.id() == id))
        {
            // Listed already: the collection does not change.
            return Ok(());
        }
        let undo = match self.collections.get_mut(&key) {
            Some(c) => {
                let keeps_original = keep_original(c);
                c.items.push(item.clone());
                undo_push(key, id, keeps_original)
            }
            None => {
                // A new object's collections start empty; a persistent one's are unknown: only
                // what is appended is known.
                let complete = parent.status() == Status::Pending;
                self.collections.insert(
                    key,
                    Collection {
                        rel: TypedRelation::<R>::ERASED,
                        parent: parent.clone(),
                        items: vec![item.clone()],
                        original: Some(Vec::new()),
                        complete,
                    },
                );
                untargeted(move |uow: &mut UnitOfWork| {
                    uow.collections.remove(&key);
                })
            }
        };
        self.link.push_undo(undo);
        self.changed_collections.insert(key);
        self.sync_back::<R>(&parent, &[item], &[]);
        Ok(())
    }

    /// Removes `target` from `parent`'s collection `R`. When it fails, nothing is changed.
    pub fn remove<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        _rel: Relationship<R>,
        target: &Tracked<R::Target>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check_own(&*parent.entry, "remove")?;
        self.check_own(&*target.entry, "remove")?;
        if R::META.kind == RelationKind::BelongsTo {
            // One target at most: the whole (short) collection is set.
            let mut current = self.related::<R>(parent)?;
            current.retain(|c| !Tracked::ptr_eq(c, target));
            return self.all_or_nothing("remove", |uow| {
                uow.set_related_as::<R>(parent, current, "remove")
            });
        }
        let key = collection_key(parent.entry.id, R::META);
        let listed = match self.collections.get(&key).filter(|c| c.complete) {
            Some(c) => c.items.iter().find(|i| i.id() == target.entry.id).cloned(),
            None => return Err(not_loaded::<R>()),
        };
        let Some(removed) = listed else {
            // Not in the collection: nothing changes.
            return Ok(());
        };
        self.all_or_nothing("remove", |uow| uow.remove_listed::<R>(parent, key, removed))
    }

    /// The work of [`remove`](Self::remove) for a collection of children or a many-to-many
    /// one: `removed`, listed in it, leaves it in place, with an undo record that puts it back.
    /// Each call costs a scan of the collection's ids and one object's change, not a rebuild of
    /// the collection and a saved copy of every child in it.
    fn remove_listed<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        key: CollKey,
        removed: Arc<dyn ErasedEntry>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        if matches!(R::META.kind, RelationKind::HasMany | RelationKind::HasOne) {
            self.unlink_child(&removed, TypedRelation::<R>::ERASED, "remove")?;
        }
        // Found again, as a guard: no cascade of the orphan's deletion changes this collection
        // today, but its position is read only now.
        let id = removed.id();
        let Some((c, at)) = self.collections.get_mut(&key).and_then(|c| {
            let at = c.items.iter().position(|i| i.id() == id)?;
            Some((c, at))
        }) else {
            return Ok(());
        };
        let keeps_original = keep_original(c);
        let item = c.items.remove(at);
        self.link
            .push_undo(undo_take(key, at, item, keeps_original));
        self.changed_collections.insert(key);
        self.sync_back::<R>(&parent.erased(), &[], &[removed]);
        Ok(())
    }

    /// A child taken out of `rel`'s collection: deleted when the relationship deletes orphans,
    /// else its foreign key set to `NULL` (unless it is deleted already).
    fn unlink_child(
        &mut self,
        child: &Arc<dyn ErasedEntry>,
        rel: &'static dyn ErasedRelation,
        operation: &'static str,
    ) -> Result<()> {
        if rel.meta().cascade.contains(Cascade::DELETE_ORPHAN) {
            self.delete_erased(child, operation)
        } else if child.status() != Status::Deleted {
            self.set_fk_parent(child, rel, None, operation)
        } else {
            Ok(())
        }
    }

    /// Sets a collection, as loaded from the database (`change`: `None`) or as a change made
    /// by the named operation (which then locks the objects whose foreign keys it sets).
    pub(crate) fn replace_collection(
        &mut self,
        parent: &Arc<dyn ErasedEntry>,
        rel: &'static dyn ErasedRelation,
        items: Vec<Arc<dyn ErasedEntry>>,
        change: Option<&'static str>,
    ) -> Result<()> {
        let loaded = change.is_none();
        let meta = rel.meta();
        let key = collection_key(parent.id(), meta);
        let keys = self.key_positions(meta)?;
        let previous = self.collections.get(&key).cloned();
        // A load meeting a collection changed since the last flush (autoflush off): the
        // session's change is kept, as SQLAlchemy keeps a loaded attribute with pending
        // changes. A complete one stays as it is; one only appended to becomes the database's
        // rows plus what was appended, the rows as its original.
        let (items, loaded_original) = match &previous {
            Some(p) if loaded && p.original.is_some() && p.complete => return Ok(()),
            Some(p) if loaded && p.original.is_some() => {
                let mut merged = items.clone();
                merged.extend(not_in(&p.items, &items).cloned().collect::<Vec<_>>());
                (merged, Some(items))
            }
            _ => (items, None),
        };
        // Undo: put the previous collection back.
        {
            let prev = previous.clone();
            self.link
                .push_undo(untargeted(move |uow: &mut UnitOfWork| match prev {
                    Some(c) => {
                        uow.collections.insert(key, c);
                    }
                    None => {
                        uow.collections.remove(&key);
                    }
                }));
        }
        let original = if loaded {
            loaded_original
        } else {
            match &previous {
                Some(p) => Some(p.original.clone().unwrap_or_else(|| p.items.clone())),
                // A collection never loaded: for a new parent it was empty; for a persistent
                // one, only the additions are known (removals need it loaded).
                None => Some(Vec::new()),
            }
        };
        if change.is_some() || original.is_some() {
            self.changed_collections.insert(key);
        }
        // Foreign keys: the holder of the key points at its parent.
        match meta.kind {
            RelationKind::HasMany | RelationKind::HasOne => {
                if let Some(operation) = change {
                    for removed in removed_items(&previous, &items) {
                        self.unlink_child(&removed, rel, operation)?;
                    }
                }
                for child in &items {
                    child
                        .erased_model()
                        .link_fk(child, &keys, Some(parent.clone()), change)?;
                }
            }
            RelationKind::BelongsTo => {
                let target = items.first().cloned();
                parent
                    .erased_model()
                    .link_fk(parent, &keys, target, change)?;
            }
            RelationKind::ManyToMany => {}
        }
        self.collections.insert(
            key,
            Collection {
                rel,
                parent: parent.clone(),
                items,
                original,
                complete: true,
            },
        );
        Ok(())
    }
}

/// Relationship `R` was never loaded or set for the object.
fn not_loaded<R: Relation>() -> Error {
    Error::from(crate::ErrorKind::NotLoaded {
        model: R::META.model,
        relationship: R::META.name,
    })
}

/// Keeps the items as the database has them, at the first change since the last flush (what
/// a many-to-many flush diffs against); whether this change kept them.
fn keep_original(c: &mut Collection) -> bool {
    let keeps = c.original.is_none();
    if keeps {
        c.original = Some(c.items.clone());
    }
    keeps
}

/// The undo record of the object with session id `id` pushed onto collection `key`: takes it
/// out again (and forgets the original items, when that change kept them).
fn undo_push(key: CollKey, id: u64, kept_original: bool) -> Undo {
    untargeted(move |uow: &mut UnitOfWork| {
        if let Some(c) = uow.collections.get_mut(&key) {
            if let Some(at) = c.items.iter().rposition(|i| i.id() == id) {
                c.items.remove(at);
            }
            if kept_original {
                c.original = None;
            }
        }
    })
}

/// The undo record of `item` taken out of collection `key` at `at`: puts it back there (and
/// forgets the original items, when that change kept them).
fn undo_take(key: CollKey, at: usize, item: Arc<dyn ErasedEntry>, kept_original: bool) -> Undo {
    untargeted(move |uow: &mut UnitOfWork| {
        if let Some(c) = uow.collections.get_mut(&key) {
            c.items.insert(at.min(c.items.len()), item);
            if kept_original {
                c.original = None;
            }
        }
    })
}

/// A target of relationship `R` is not in the session.
fn not_in_session<R: Relation>() -> Error {
    Error::object_state(format!(
        "relationship `{}.{}`: a target is not in the session; add or merge it first",
        R::META.model,
        R::META.name
    ))
}

/// The items of `previous` that are not in `items`.
fn removed_items(
    previous: &Option<Collection>,
    items: &[Arc<dyn ErasedEntry>],
) -> Vec<Arc<dyn ErasedEntry>> {
    match previous {
        Some(previous) => not_in(&previous.items, items).cloned().collect(),
        None => Vec::new(),
    }
}

/// The objects of `items` that are not among `others` (by session id), in order. `others` is
/// scanned when it holds a few, put in a set when it holds many: diffing collections of
/// thousands takes linear time, not quadratic.
pub(crate) fn not_in<'a>(
    items: &'a [Arc<dyn ErasedEntry>],
    others: &'a [Arc<dyn ErasedEntry>],
) -> impl Iterator<Item = &'a Arc<dyn ErasedEntry>> {
    let others = entry_ids(others);
    items.iter().filter(move |i| !others.contains(&i.id()))
}

/// The session ids of `entries`, to tell whether an object is among them: a scan of a few, a
/// set of many.
fn entry_ids(entries: &[Arc<dyn ErasedEntry>]) -> EntryIds<'_> {
    if entries.len() <= 16 {
        EntryIds::Few(entries)
    } else {
        EntryIds::Many(entries.iter().map(|e| e.id()).collect())
    }
}

/// See [`entry_ids`].
enum EntryIds<'a> {
    Few(&'a [Arc<dyn ErasedEntry>]),
    Many(FxHashSet<u64>),
}

impl EntryIds<'_> {
    /// Whether the object with session id `id` is among the entries.
    fn contains(&self, id: &u64) -> bool {
        match self {
            EntryIds::Few(entries) => entries.iter().any(|e| e.id() == *id),
            EntryIds::Many(ids) => ids.contains(id),
        }
    }
}
