//! The unit of work: identity map, new / dirty / deleted objects, relationship links and the
//! undo log.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::fxhash::FxHashMap;
use super::persist::Persist;
use super::relations::{AnyRelation, Resolved};
use super::tracked::{
    AnyEntry, Entry, ErasedEntry, FkLink, Status, Tracked, downcast, save_undo, touch,
};
use crate::error::{Error, Result};
use crate::relation::{Cascade, Relation, RelationKind, RelationMeta, Relationship};

/// An undo record: restores what it saved.
pub(crate) type Undo = Box<dyn FnOnce(&mut UnitOfWork) + Send>;

/// One frame of the undo log: the transaction, a savepoint, or a flush in progress.
struct Frame {
    generation: u64,
    records: Vec<Undo>,
}

/// What handles share with their unit of work: the dirty queue and the undo log.
#[doc(hidden)]
pub struct Shared {
    dirty: Mutex<Vec<Arc<dyn ErasedEntry>>>,
    frames: Mutex<Vec<Frame>>,
    current: AtomicU64,
    /// Objects loaded before this epoch are expired.
    expire_epoch: AtomicU64,
}

impl Shared {
    fn new() -> Self {
        Shared {
            dirty: Mutex::new(Vec::new()),
            frames: Mutex::new(vec![Frame {
                generation: 1,
                records: Vec::new(),
            }]),
            current: AtomicU64::new(1),
            expire_epoch: AtomicU64::new(1),
        }
    }

    pub(crate) fn expire_epoch(&self) -> u64 {
        self.expire_epoch.load(Ordering::Relaxed)
    }

    /// Expires every object of the session at once.
    fn expire_everything(&self) {
        self.expire_epoch.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn queue_dirty(&self, entry: Arc<dyn ErasedEntry>) {
        self.dirty
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }

    fn take_dirty(&self) -> Vec<Arc<dyn ErasedEntry>> {
        std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn current_gen(&self) -> u64 {
        self.current.load(Ordering::Relaxed)
    }

    pub(crate) fn push_undo(&self, undo: Undo) {
        let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = frames.last_mut() {
            f.records.push(undo);
        }
    }

    fn push_frame(&self, generation: u64) {
        self.frames
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Frame {
                generation,
                records: Vec::new(),
            });
        self.current.store(generation, Ordering::Relaxed);
    }

    /// Pops the top frame (never the transaction's), returning its records.
    fn pop_frame(&self) -> Vec<Undo> {
        let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        let records = if frames.len() > 1 {
            frames.pop().map(|f| f.records).unwrap_or_default()
        } else {
            Vec::new()
        };
        if let Some(top) = frames.last() {
            self.current.store(top.generation, Ordering::Relaxed);
        }
        records
    }

    /// Merges the top frame into the one below (a released savepoint, a successful flush).
    fn merge_frame(&self) {
        let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        if frames.len() > 1 {
            if let Some(top) = frames.pop() {
                if let Some(below) = frames.last_mut() {
                    // The frame below keeps its generation: objects it already saved need no
                    // new record (objects saved only in the merged frame save once more if they
                    // change again, which is harmless).
                    below.records.extend(top.records);
                }
            }
        }
        if let Some(top) = frames.last() {
            self.current.store(top.generation, Ordering::Relaxed);
        }
    }

    /// Drops every record of the transaction's frame (after commit) or takes them (rollback).
    fn reset_transaction(&self, next_gen: u64) -> Vec<Undo> {
        let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        let mut records = Vec::new();
        while let Some(f) = frames.pop() {
            let mut r = f.records;
            r.extend(std::mem::take(&mut records));
            records = r;
        }
        frames.push(Frame {
            generation: next_gen,
            records: Vec::new(),
        });
        self.current.store(next_gen, Ordering::Relaxed);
        records
    }

    fn depth(&self) -> usize {
        self.frames.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// The objects of one model in the identity map.
struct ModelMap<T: Persist> {
    by_pk: FxHashMap<T::Pk, Arc<Entry<T>>>,
}

/// What the unit of work does with every model's map without knowing the model.
trait AnyMap: Send + Sync {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn as_any(&self) -> &dyn Any;
    fn len(&self) -> usize;
    fn expire_all(&self);
}

impl<T: Persist> AnyMap for ModelMap<T> {
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

/// A relationship collection of one parent object.
#[derive(Clone)]
pub(crate) struct Collection {
    pub(crate) rel: &'static dyn AnyRelation,
    /// The object owning the collection.
    pub(crate) parent: Arc<dyn ErasedEntry>,
    pub(crate) items: Vec<Arc<dyn ErasedEntry>>,
    /// The items as the database has them, kept from the first change since the last flush.
    pub(crate) original: Option<Vec<Arc<dyn ErasedEntry>>>,
    /// Whether `items` is the whole collection (loaded or set), not only appended items.
    pub(crate) complete: bool,
}

/// A savepoint's place in the undo log, returned by [`UnitOfWork::begin_savepoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavepointToken {
    depth: usize,
}

/// The unit of work of a session. See [the module docs](super).
pub struct UnitOfWork {
    shared: Arc<Shared>,
    next_id: u64,
    next_gen: u64,
    maps: HashMap<TypeId, Box<dyn AnyMap>>,
    pub(crate) new: Vec<Arc<dyn ErasedEntry>>,
    pub(crate) deleted: Vec<Arc<dyn ErasedEntry>>,
    pub(crate) collections: FxHashMap<CollKey, Collection>,
    pub(crate) changed_collections: Vec<CollKey>,
    resolved: HashMap<(&'static str, &'static str), Arc<Resolved>>,
    pub(crate) sql_cache: super::flush::SqlCache,
}

impl std::fmt::Debug for UnitOfWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnitOfWork")
            .field("tracked", &self.len())
            .field("new", &self.new.len())
            .field("deleted", &self.deleted.len())
            .field(
                "dirty",
                &self
                    .shared
                    .dirty
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .filter(|e| e.is_queued())
                    .count(),
            )
            .field("changed_collections", &self.changed_collections.len())
            .finish()
    }
}

impl Default for UnitOfWork {
    fn default() -> Self {
        UnitOfWork::new()
    }
}

/// The key of a relationship collection: the parent's entry and the relationship.
pub(crate) fn collection_key(parent: u64, meta: &'static RelationMeta) -> CollKey {
    (parent, meta.model, meta.name)
}

/// The key of a relationship collection: the parent's entry, the model and the field.
pub(crate) type CollKey = (u64, &'static str, &'static str);

/// Whether two metadata describe the same relationship. By name, not by address: a `const`
/// reference may have several addresses (one per crate using it).
pub(crate) fn same_rel(a: &RelationMeta, b: &RelationMeta) -> bool {
    a.name == b.name && a.model == b.model
}

impl UnitOfWork {
    /// An empty unit of work.
    pub fn new() -> Self {
        UnitOfWork {
            shared: Arc::new(Shared::new()),
            next_id: 1,
            next_gen: 2,
            maps: HashMap::new(),
            new: Vec::new(),
            deleted: Vec::new(),
            collections: FxHashMap::default(),
            changed_collections: Vec::new(),
            resolved: HashMap::new(),
            sql_cache: Default::default(),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn next_gen(&mut self) -> u64 {
        self.next_gen += 1;
        self.next_gen
    }

    /// The number of objects in the identity map.
    pub fn len(&self) -> usize {
        self.maps.values().map(|m| m.len()).sum()
    }

    /// Whether the identity map is empty and nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.new.is_empty()
    }

    /// Whether a flush has anything to do.
    pub fn has_changes(&self) -> bool {
        !self.new.is_empty()
            || !self.deleted.is_empty()
            || !self.changed_collections.is_empty()
            || self
                .shared
                .dirty
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|e| e.is_queued() && e.status() != Status::Detached)
    }

    fn map_mut<T: Persist>(&mut self) -> &mut ModelMap<T> {
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

    fn map<T: Persist>(&self) -> Option<&ModelMap<T>> {
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

    // ----- adding and loading -----

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
        let t = Tracked::new_entry(id, value, Status::Pending, Some(self.shared.clone()));
        {
            let mut inner = t.entry.lock();
            save_added(&t.entry, &mut inner, &self.shared);
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
        let shared = self.shared.clone();
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
                let t = Tracked::new_entry(id, value, Status::Persistent, Some(shared));
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

    /// Room for `n` more objects of model `T` in the identity map.
    pub fn reserve<T: Persist>(&mut self, n: usize) {
        self.map_mut::<T>().by_pk.reserve(n);
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
        save_undo(&t.entry, &mut inner, &self.shared);
        inner.value.restore_columns(value);
        inner.snapshot = None;
        inner.queued = false;
        inner.mark_fresh();
    }

    // ----- deleting, expiring, expunging -----

    /// Marks a persistent object for deletion (cascading along `delete` relationships); the
    /// next flush deletes it. Deleting a pending object cancels its insert.
    pub fn delete<T: Persist>(&mut self, t: &Tracked<T>) -> Result<()> {
        self.delete_erased(&t.erased())
    }

    pub(crate) fn delete_erased(&mut self, e: &Arc<dyn ErasedEntry>) -> Result<()> {
        e.flush_ops().mark_deleted(self, e)
    }

    /// Marks one entry deleted (the typed part of [`delete`](Self::delete)).
    pub(crate) fn mark_deleted_typed<T: Persist>(&mut self, entry: &Arc<Entry<T>>) -> Result<()> {
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
            save_undo(entry, &mut inner, &self.shared);
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
        e.flush_ops().expunge(self, e);
    }

    pub(crate) fn expunge_typed<T: Persist>(&mut self, entry: &Arc<Entry<T>>) {
        let status = {
            let mut inner = entry.lock();
            if inner.session.is_none() {
                return;
            }
            save_undo(entry, &mut inner, &self.shared);
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
                        child.flush_ops().expire(child);
                    }
                }
            }
        }
    }

    /// Expires every object of the identity map.
    pub fn expire_all(&mut self) {
        for map in self.maps.values() {
            map.expire_all();
        }
    }

    // ----- relationships -----

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
        let key = collection_key(parent.entry.id, R::META);
        let coll = self
            .collections
            .get(&key)
            .filter(|c| c.complete)
            .ok_or_else(|| {
                Error::from(crate::ErrorKind::NotLoaded {
                    model: R::META.model,
                    relationship: R::META.name,
                })
            })?;
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
    /// removed): otherwise an [`ObjectState`](crate::ErrorKind::ObjectState) error.
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
        self.link::<R>(parent, targets, true)
    }

    /// Sets the collection (complete, or only what was appended to an unloaded one) and keeps
    /// the other side in step.
    fn link<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        targets: Vec<Tracked<R::Target>>,
        complete: bool,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        let ops = super::relations::any_relation::<R>();
        for t in &targets {
            if t.status() == Status::Detached {
                return Err(Error::object_state(format!(
                    "relationship `{}.{}`: a target is not in the session; add or merge it first",
                    R::META.model,
                    R::META.name
                )));
            }
        }
        let key = collection_key(parent.entry.id, R::META);
        let before: Vec<AnyEntry> = self
            .collections
            .get(&key)
            .map(|c| c.items.clone())
            .unwrap_or_default();
        let items: Vec<AnyEntry> = targets.iter().map(Tracked::erased).collect();
        let added: Vec<AnyEntry> = items
            .iter()
            .filter(|i| !before.iter().any(|b| b.id() == i.id()))
            .cloned()
            .collect();
        let removed: Vec<AnyEntry> = before
            .iter()
            .filter(|b| !items.iter().any(|i| i.id() == b.id()))
            .cloned()
            .collect();
        self.replace_collection(&parent.erased(), ops, items, false)?;
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
        parent: &AnyEntry,
        added: &[AnyEntry],
        removed: &[AnyEntry],
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
                        let id = child.id();
                        self.edit_collection(collection_key(old.id(), R::META), |c| {
                            c.items.retain(|i| i.id() != id)
                        });
                    }
                    let p = parent.clone();
                    let (rel, owner) = (rev.any(), child.clone());
                    self.edit_or_insert(key, rel, owner, move |c| c.items = vec![p]);
                }
                for child in removed {
                    let id = parent.id();
                    self.edit_collection(collection_key(child.id(), rev_meta), |c| {
                        c.items.retain(|i| i.id() != id)
                    });
                }
            }
            (RelationKind::BelongsTo, RelationKind::HasMany | RelationKind::HasOne) => {
                let id = parent.id();
                for old in removed {
                    self.edit_collection(collection_key(old.id(), rev_meta), |c| {
                        c.items.retain(|i| i.id() != id)
                    });
                }
                for new in added {
                    let p = parent.clone();
                    self.edit_collection(collection_key(new.id(), rev_meta), |c| {
                        if !c.items.iter().any(|i| i.id() == p.id()) {
                            c.items.push(p);
                        }
                    });
                }
            }
            _ => {}
        }
    }

    /// Changes an existing collection in place (no foreign-key effect), with an undo record.
    fn edit_collection(&mut self, key: CollKey, f: impl FnOnce(&mut Collection)) {
        if let Some(c) = self.collections.get_mut(&key) {
            let previous = c.clone();
            f(c);
            self.shared.push_undo(Box::new(move |uow: &mut UnitOfWork| {
                uow.collections.insert(key, previous);
            }));
        }
    }

    /// Like [`edit_collection`](Self::edit_collection), creating the collection if needed.
    fn edit_or_insert(
        &mut self,
        key: CollKey,
        rel: &'static dyn AnyRelation,
        owner: AnyEntry,
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
            self.shared.push_undo(Box::new(move |uow: &mut UnitOfWork| {
                uow.collections.remove(&key);
            }));
        }
        self.edit_collection(key, f);
    }

    /// Adds `target` to `parent`'s collection `R`. The collection need not be loaded: then
    /// only the link is known (the foreign key, or the association row, is written by the
    /// flush) and `related` still says it is not loaded.
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
        let key = collection_key(parent.entry.id, R::META);
        let (mut current, complete) = match self.collections.get(&key) {
            Some(c) => (
                c.items
                    .iter()
                    .filter_map(downcast::<R::Target>)
                    .map(Tracked::from_entry)
                    .collect(),
                c.complete,
            ),
            // A new object's collections start empty; a persistent one's are unknown.
            None => (Vec::new(), parent.status() == Status::Pending),
        };
        if !current
            .iter()
            .any(|c: &Tracked<R::Target>| Tracked::ptr_eq(c, target))
        {
            current.push(target.clone());
        }
        self.link::<R>(parent, current, complete)
    }

    /// Removes `target` from `parent`'s collection `R`.
    pub fn remove<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
        target: &Tracked<R::Target>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        let mut current = self.related::<R>(parent)?;
        current.retain(|c| !Tracked::ptr_eq(c, target));
        self.set_related(parent, rel, current)
    }

    /// Sets a collection, as loaded from the database (`loaded`) or as a change.
    pub(crate) fn replace_collection(
        &mut self,
        parent: &Arc<dyn ErasedEntry>,
        rel: &'static dyn AnyRelation,
        items: Vec<Arc<dyn ErasedEntry>>,
        loaded: bool,
    ) -> Result<()> {
        let meta = rel.meta();
        let key = collection_key(parent.id(), meta);
        let resolved = self.resolved(meta)?;
        let previous = self.collections.get(&key).cloned();
        // Undo: put the previous collection back.
        {
            let prev = previous.clone();
            self.shared
                .push_undo(Box::new(move |uow: &mut UnitOfWork| match prev {
                    Some(c) => {
                        uow.collections.insert(key, c);
                    }
                    None => {
                        uow.collections.remove(&key);
                    }
                }));
        }
        let original = if loaded {
            None
        } else {
            match &previous {
                Some(p) => Some(p.original.clone().unwrap_or_else(|| p.items.clone())),
                // A collection never loaded: for a new parent it was empty; for a persistent
                // one, only the additions are known (removals need it loaded).
                None => Some(Vec::new()),
            }
        };
        if !loaded && !self.changed_collections.contains(&key) {
            self.changed_collections.push(key);
        }
        // Foreign keys: the holder of the key points at its parent.
        match meta.kind {
            RelationKind::HasMany | RelationKind::HasOne => {
                if !loaded {
                    let before: Vec<Arc<dyn ErasedEntry>> = previous
                        .as_ref()
                        .map(|p| p.items.clone())
                        .unwrap_or_default();
                    for removed in before
                        .iter()
                        .filter(|b| !items.iter().any(|i| i.id() == b.id()))
                    {
                        if meta.cascade.contains(Cascade::DELETE_ORPHAN) {
                            self.delete_erased(removed)?;
                        } else if removed.status() != Status::Deleted {
                            self.set_fk_parent(removed, rel, None)?;
                        }
                    }
                }
                for child in &items {
                    if loaded {
                        child
                            .flush_ops()
                            .link_fk(child, &resolved, Some(parent.clone()), false)?;
                    } else {
                        self.set_fk_parent(child, rel, Some(parent.clone()))?;
                    }
                }
            }
            RelationKind::BelongsTo => {
                let target = items.first().cloned();
                parent
                    .flush_ops()
                    .link_fk(parent, &resolved, target, !loaded)?;
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

    /// Points `child`'s foreign key (of relationship `rel`, a has-many/has-one seen from the
    /// parent) at `parent`, or at nothing.
    fn set_fk_parent(
        &mut self,
        child: &Arc<dyn ErasedEntry>,
        rel: &'static dyn AnyRelation,
        parent: Option<Arc<dyn ErasedEntry>>,
    ) -> Result<()> {
        let resolved = self.resolved(rel.meta())?;
        child.flush_ops().link_fk(child, &resolved, parent, true)
    }

    /// A relationship's columns as positions, cached.
    pub(crate) fn resolved(&mut self, meta: &'static RelationMeta) -> Result<Arc<Resolved>> {
        let key = (meta.model, meta.name);
        if let Some(r) = self.resolved.get(&key) {
            return Ok(r.clone());
        }
        let r = Arc::new(Resolved::new(meta)?);
        self.resolved.insert(key, r.clone());
        Ok(r)
    }

    // ----- transactions and savepoints -----

    /// Starts a savepoint frame: [`rollback_savepoint`](Self::rollback_savepoint) restores
    /// every object changed since.
    pub fn begin_savepoint(&mut self) -> SavepointToken {
        let generation = self.next_gen();
        self.shared.push_frame(generation);
        SavepointToken {
            depth: self.shared.depth(),
        }
    }

    /// Keeps what happened since the savepoint (its frame merges into the one below).
    pub fn release_savepoint(&mut self, token: SavepointToken) {
        while self.shared.depth() >= token.depth && self.shared.depth() > 1 {
            self.shared.merge_frame();
        }
    }

    /// Restores every object to its state when the savepoint began.
    pub fn rollback_savepoint(&mut self, token: SavepointToken) {
        while self.shared.depth() >= token.depth && self.shared.depth() > 1 {
            let records = self.shared.pop_frame();
            self.replay(records);
        }
    }

    /// Starts the undo frame of a flush.
    pub(crate) fn begin_flush_frame(&mut self) -> SavepointToken {
        self.begin_savepoint()
    }

    /// After `COMMIT`: forget the undo log; expire every object when asked.
    pub fn committed(&mut self, expire: bool) {
        let generation = self.next_gen();
        drop(self.shared.reset_transaction(generation));
        self.deleted.clear();
        if expire {
            // Nothing is dirty after the flush of a commit: moving the epoch expires all.
            self.shared.expire_everything();
        }
    }

    /// After `ROLLBACK`: every object back to its state when the transaction began (objects
    /// added since are expunged, deleted ones are back), and expired.
    pub fn rolled_back(&mut self) {
        let generation = self.next_gen();
        let records = self.shared.reset_transaction(generation);
        self.replay(records);
        // Other transactions may have changed the rows meanwhile: the next load refreshes
        // every object (SQLAlchemy expires everything on rollback too). The replay left
        // nothing dirty that was not dirty when the transaction began.
        self.shared.expire_everything();
    }

    fn replay(&mut self, records: Vec<Undo>) {
        for undo in records.into_iter().rev() {
            undo(self);
        }
        // Lists are rebuilt from the restored states.
        self.new.retain(|e| e.status() == Status::Pending);
        self.deleted.retain(|e| e.status() == Status::Deleted);
        let mut seen = super::fxhash::FxHashSet::default();
        self.new.retain(|e| seen.insert(e.id()));
        let mut seen = super::fxhash::FxHashSet::default();
        self.deleted.retain(|e| seen.insert(e.id()));
        let collections = &self.collections;
        self.changed_collections
            .retain(|k| collections.get(k).is_some_and(|c| c.original.is_some()));
    }

    pub(crate) fn take_dirty(&mut self) -> Vec<Arc<dyn ErasedEntry>> {
        self.shared.take_dirty()
    }
}

/// Records that `entry` was just added to the session: undoing it detaches the object.
fn save_added<T: Persist>(
    entry: &Arc<Entry<T>>,
    inner: &mut super::tracked::Inner<T>,
    shared: &Shared,
) {
    inner.undo_gen = shared.current_gen();
    let entry = entry.clone();
    shared.push_undo(Box::new(move |uow: &mut UnitOfWork| {
        let (was, pk) = {
            let mut inner = entry.lock();
            let was = inner.status;
            let pk = inner.value.pk();
            inner.status = Status::Detached;
            inner.session = None;
            inner.queued = false;
            inner.snapshot = None;
            (was, pk)
        };
        if was == Status::Persistent || was == Status::Deleted {
            uow.map_remove_pk(&pk, &entry);
        }
        let id = entry.id;
        uow.new.retain(|e| e.id() != id);
    }));
}

/// Expires one entry: unflushed changes are discarded.
pub(crate) fn expire_entry<T: Persist>(entry: &Arc<Entry<T>>) {
    let mut inner = entry.lock();
    if inner.status != Status::Persistent {
        return;
    }
    // No undo record: a rollback does not un-expire (it expires everything itself).
    if let Some(snap) = inner.snapshot.take() {
        inner.value.restore_columns(super::tracked::unshare(snap));
    }
    inner.queued = false;
    inner.expired = true;
}

/// Points an entry's foreign key at a parent (typed part of the relationship code).
pub(crate) fn link_fk_typed<T: Persist>(
    entry: &Arc<Entry<T>>,
    resolved: &Resolved,
    parent: Option<Arc<dyn ErasedEntry>>,
    changed: bool,
) -> Result<()> {
    let mut inner = entry.lock();
    if changed {
        touch(entry, &mut inner);
    }
    let link = FkLink {
        fk_cols: resolved.fk_cols.clone(),
        parent,
        parent_cols: resolved.key_cols.clone(),
    };
    match inner.fk.iter_mut().find(|l| l.fk_cols == resolved.fk_cols) {
        Some(existing) => *existing = link,
        None => inner.fk.push(link),
    }
    Ok(())
}

#[cold]
fn unreachable_map<T>() -> T {
    // `maps` is keyed by the model's TypeId and always holds that model's map.
    unreachable!("identity map of the wrong type")
}
