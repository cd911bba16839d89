//! The [`UnitOfWork`] type — what it holds — and the type-erased interfaces through which its
//! untyped code reaches the typed code of each model and relationship.
//!
//! The lowest file of the session that names `UnitOfWork`. The typed code behind the
//! interfaces calls back into the unit of work (a hook adds an object, a relationship registers
//! its loaded children, a delete cascades), so the interfaces name `UnitOfWork`; and
//! `UnitOfWork` stores its objects and relationships through them. Those types name each other,
//! so they are declared together here; what they do is in the files above (see [the module
//! docs](super)):
//! - `impl UnitOfWork` blocks, one per concept (`identity.rs`, `savepoint.rs`, `cascade.rs`,
//!   `collections.rs`, `objects.rs`, `flush/steps.rs`);
//! - [`ErasedEntry`] for `Entry<T>` in `state.rs`;
//! - [`ErasedModel`] for `TypedModel<T>` (declared in `state.rs`) in `flush/ops.rs`;
//! - [`ErasedRelation`] for [`TypedRelation<R>`](super::TypedRelation) (declared in
//!   `persist.rs`) in `flush/links.rs`;
//! - [`ErasedMap`] for the identity map of one model in `identity.rs`;
//! - [`HookContext::add`] in `objects.rs`.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::columns::ColumnSet;
use super::fxhash::{FxHashMap, FxHashSet};
use super::job::{CopyPolicy, FlushJob, InsertStep};
use super::positions::KeyPositions;
use super::status::Status;
use super::undo::UndoLog;
use crate::error::Result;
use crate::meta::Table;
use crate::relation::RelationMeta;

/// What the handles of a session's objects share with their unit of work: the undo log with
/// the dirty queue beside it (one lock for a change that saves a record and queues its
/// object), and the expiry epoch.
#[doc(hidden)]
pub struct SessionLink {
    pub(crate) undo: UndoLog<Undo, Vec<Arc<dyn ErasedEntry>>>,
    /// Objects loaded before this epoch are expired.
    expire_epoch: AtomicU64,
    /// The session's number, unique in the process: the owner its objects record.
    serial: u64,
}

/// The number of the next session (0 stands for none).
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

impl SessionLink {
    fn new() -> Self {
        SessionLink {
            undo: UndoLog::new(Vec::new()),
            expire_epoch: AtomicU64::new(1),
            serial: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The session's number, unique in the process.
    pub(crate) fn serial(&self) -> u64 {
        self.serial
    }

    pub(crate) fn expire_epoch(&self) -> u64 {
        self.expire_epoch.load(Ordering::Relaxed)
    }

    /// Expires every object of the session at once.
    pub(crate) fn expire_everything(&self) {
        self.expire_epoch.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn queue_dirty(&self, entry: Arc<dyn ErasedEntry>) {
        self.undo.side(|dirty| dirty.push(entry));
    }

    fn take_dirty(&self) -> Vec<Arc<dyn ErasedEntry>> {
        self.undo.side(std::mem::take)
    }

    /// Gives the queue back the buffer a flush took from it (emptied), so that the next
    /// flush's changes do not grow a new one from nothing.
    pub(crate) fn recycle_dirty(&self, mut taken: Vec<Arc<dyn ErasedEntry>>) {
        taken.clear();
        self.undo.side(|dirty| {
            if dirty.is_empty() && dirty.capacity() < taken.capacity() {
                *dirty = taken;
            }
        });
    }

    /// The objects queued as changed.
    pub(crate) fn dirty_entries(&self) -> Vec<Arc<dyn ErasedEntry>> {
        self.undo.side(|dirty| dirty.clone())
    }

    /// Runs `f` on each entry of the dirty queue (under the log's lock: `f` must not queue nor
    /// use the undo log), up to the first error.
    pub(crate) fn try_for_each_dirty(
        &self,
        f: impl FnMut(&Arc<dyn ErasedEntry>) -> Result<()>,
    ) -> Result<()> {
        self.undo.side(|dirty| dirty.iter().try_for_each(f))
    }

    /// Whether an entry of the dirty queue passes `f`.
    fn any_dirty(&self, f: impl FnMut(&Arc<dyn ErasedEntry>) -> bool) -> bool {
        self.undo.side(|dirty| dirty.iter().any(f))
    }

    /// The generation of the undo log's top frame.
    pub(crate) fn current_gen(&self) -> u64 {
        self.undo.current_gen()
    }

    pub(crate) fn push_undo(&self, undo: Undo) {
        self.undo.push(undo);
    }
}

/// A record of the undo log: restores what it saved when a rollback (of the transaction, of a
/// savepoint, of a failed flush or of a failed operation) replays it. Implemented in
/// `tracked.rs` (an object's state) and here ([`untargeted`]).
pub(crate) trait UndoRecord: Send {
    /// Calls `f` on each object it restores, whose lock it takes, up to the first error (none:
    /// it restores a relationship collection and takes no object's lock). A rollback checks
    /// these first.
    fn targets(&self, f: &mut dyn FnMut(&dyn ErasedEntry) -> Result<()>) -> Result<()>;

    /// Restores what it saved, for the named operation. On an error (its object is held by a
    /// guard) nothing was changed and it can run again.
    fn restore(&mut self, uow: &mut UnitOfWork, operation: &'static str) -> Result<()>;

    /// The record as `Any`, when later records of its kind can be appended to it.
    fn as_batch(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

/// An undo record, boxed as the log keeps it.
pub(crate) type Undo = Box<dyn UndoRecord>;

/// A record restoring something that is not an object (it takes no lock, cannot fail).
pub(crate) fn untargeted(f: impl FnOnce(&mut UnitOfWork) + Send + 'static) -> Undo {
    struct Untargeted<F>(Option<F>);
    impl<F: FnOnce(&mut UnitOfWork) + Send> UndoRecord for Untargeted<F> {
        fn targets(&self, _: &mut dyn FnMut(&dyn ErasedEntry) -> Result<()>) -> Result<()> {
            Ok(())
        }
        fn restore(&mut self, uow: &mut UnitOfWork, _: &'static str) -> Result<()> {
            if let Some(f) = self.0.take() {
                f(uow);
            }
            Ok(())
        }
    }
    Box::new(Untargeted(Some(f)))
}

/// What the unit of work needs from an object of any model (implemented by the entry of a
/// tracked object, in `state.rs`). Not public API.
#[doc(hidden)]
pub trait ErasedEntry: Send + Sync + 'static {
    fn id(&self) -> u64;
    /// The [serial](SessionLink::serial) of the session it was made in (0: none). Fixed for
    /// its life: objects move between sessions only as copies (`merge`).
    fn owner(&self) -> u64;
    /// An [`ObjectInUse`](crate::ErrorKind::ObjectInUse) error for `operation` when a guard
    /// held on it would stop a lock of this kind (`write`: any guard; else a `write()` guard).
    /// Takes no lock and never waits for ever.
    fn check_free(&self, operation: &'static str, write: bool) -> Result<()>;
    /// [`check_free`](Self::check_free) for a write of this object, then for a read of each
    /// object its foreign keys point at (what a flush that writes it locks).
    fn check_writable(&self, operation: &'static str) -> Result<()>;
    fn table(&self) -> &'static Table;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    /// Its status (read without its lock).
    fn status(&self) -> Status;
    /// Whether it is queued for the next flush (read without its lock).
    fn is_queued(&self) -> bool;
    /// Marks it as carried by the statement of flush number `flight` (0: by none), before
    /// the statement reads its values. Takes no lock.
    fn set_flight(&self, flight: u64);
    /// The flush number it is marked with (0: none). Takes no lock.
    fn flight(&self) -> u64;
    /// Takes it into flush number `flight` as a changed object: `false` when it is not
    /// persistent or already taken; else it is checked for `operation` as
    /// [`check_writable`](Self::check_writable) and marked ([`set_flight`](Self::set_flight)).
    fn enter_flight(&self, flight: u64, operation: &'static str) -> Result<bool>;
    /// Runs its model's validators on its changed columns (nothing for a model without),
    /// read-locked for `operation`.
    fn validate_changes(&self, operation: &'static str) -> Result<()>;
    /// Runs `f` with the value of column `idx` (`None` out of range), read-locked for
    /// `operation`.
    fn with_column(
        &self,
        idx: usize,
        operation: &'static str,
        f: &mut dyn FnMut(Option<&dyn Any>),
    ) -> Result<()>;
    /// Expires it (unflushed changes dropped), write-locked for `operation`.
    fn expire(&self, operation: &'static str) -> Result<()>;
    /// The objects its foreign keys point at: (link index, parent). Takes no object's lock.
    fn fk_parents(&self) -> Vec<(usize, Arc<dyn ErasedEntry>)>;
    /// Whether its foreign keys have links to other objects of the session (no lock taken).
    fn has_fk_links(&self) -> bool;
    /// Whether the session changed where its foreign key `fk_cols` points since it was
    /// loaded: a change's link not flushed yet, to another parent than one being deleted, or
    /// the columns written. A child moved away from a parent being deleted is not its child.
    fn moved_away(&self, fk_cols: &[usize], operation: &'static str) -> Result<bool>;
    /// The operations of the entry's model.
    fn erased_model(&self) -> &'static dyn ErasedModel;
}

/// Where a foreign key pointed before a change, as a load recorded it: at this object (`None`:
/// at none), or unknown (`None`: no load recorded it).
#[doc(hidden)]
pub type LinkBefore = Option<Option<Arc<dyn ErasedEntry>>>;

/// A parent and a target linked by a many-to-many relationship: one association row.
pub(crate) type AssociationPair = (Arc<dyn ErasedEntry>, Arc<dyn ErasedEntry>);

/// What the session needs of one model's objects, without knowing the model (implemented by
/// `TypedModel<T>`, in `flush/ops.rs`). Not public API.
#[doc(hidden)]
pub trait ErasedModel: Send + Sync + 'static {
    /// Marks it deleted, for `operation` (cascading).
    fn mark_deleted(
        &self,
        uow: &mut UnitOfWork,
        e: &Arc<dyn ErasedEntry>,
        operation: &'static str,
    ) -> Result<()>;
    /// Removes it from the session, for `operation` (cascading).
    fn expunge(
        &self,
        uow: &mut UnitOfWork,
        e: &Arc<dyn ErasedEntry>,
        operation: &'static str,
    ) -> Result<()>;
    /// Points its foreign key at `parent`: a change made by the named operation (saved and
    /// queued for the flush, under its lock), or (`None`) a link found by a load.
    fn link_fk(
        &self,
        e: &Arc<dyn ErasedEntry>,
        keys: &KeyPositions,
        parent: Option<Arc<dyn ErasedEntry>>,
        changed: Option<&'static str>,
    ) -> Result<()>;
    /// Drops its unflushed link of foreign key `fk_cols` if it points at the object with
    /// session id `parent` (`None`: at no object), the load's link it replaced put back (its
    /// state saved first, for a rollback): where that one points, or `None` when there was no
    /// such link to drop. Write-locks it for `operation`.
    fn drop_link(
        &self,
        e: &Arc<dyn ErasedEntry>,
        fk_cols: &[usize],
        parent: Option<u64>,
        operation: &'static str,
    ) -> Result<Option<LinkBefore>>;
    fn relation_by_meta(&self, meta: &'static RelationMeta) -> Option<&'static dyn ErasedRelation>;
    /// A new object takes over the row of the deleted object holding its key, if there is one
    /// (see `flush/row_switch.rs`): `true` when it did, and is now to be updated.
    fn row_switch(&self, uow: &mut UnitOfWork, e: &Arc<dyn ErasedEntry>) -> Result<bool>;
    /// Whether its model has validators or `before_insert` hooks to run on a new object.
    fn runs_before_insert(&self) -> bool;
    /// Validation and `before_insert` hooks of a new object.
    fn before_insert(&self, e: &Arc<dyn ErasedEntry>, ctx: &mut HookContext) -> Result<()>;
    /// The model's type (what groups its objects in a flush step).
    fn model_type(&self) -> std::any::TypeId;
    /// The statements inserting a group of its new objects, and what runs once they are
    /// done (see `flush/insert.rs`).
    fn insert(
        &self,
        group: Vec<Arc<dyn ErasedEntry>>,
        step: &InsertStep<'_>,
    ) -> Result<(Vec<FlushJob>, AfterStep)>;
    /// Joined-table inheritance: the subtype-table rows of objects whose base rows were
    /// inserted by the previous step (none for other models).
    fn insert_parts_job(&self, group: &[Arc<dyn ErasedEntry>]) -> Result<Vec<FlushJob>>;
    /// Before an `UPDATE`: saves a dirty object's state and snapshot, sets its foreign keys,
    /// runs its hooks; its changed columns (`None`: nothing to write).
    fn prepare_update(
        &self,
        e: &Arc<dyn ErasedEntry>,
        ctx: &mut HookContext,
    ) -> Result<Option<ColumnSet>>;
    fn update_job(
        &self,
        group: &[Arc<dyn ErasedEntry>],
        columns: ColumnSet,
    ) -> Result<Vec<FlushJob>>;
    /// The objects of `group` were updated (their `columns`): clean, hooks run, and those
    /// whose key changed moved to it in the identity map.
    fn updated(
        &self,
        uow: &mut UnitOfWork,
        group: &[Arc<dyn ErasedEntry>],
        columns: ColumnSet,
        ctx: &mut HookContext,
    ) -> Result<()>;
    fn before_delete(&self, e: &Arc<dyn ErasedEntry>, ctx: &mut HookContext) -> Result<()>;
    fn delete_job(&self, group: &[Arc<dyn ErasedEntry>]) -> Result<Vec<FlushJob>>;
    /// Before the `DELETE`s: the statements setting the foreign keys `cols` of the deleted
    /// objects of `group` to `NULL`, which breaks a cycle between tables (see `flush/plan.rs`).
    fn unlink_job(&self, group: &[Arc<dyn ErasedEntry>], cols: &[usize]) -> Result<Vec<FlushJob>>;
    fn deleted(
        &self,
        uow: &mut UnitOfWork,
        group: &[Arc<dyn ErasedEntry>],
        ctx: &mut HookContext,
    ) -> Result<()>;
    /// The relationships whose children must be loaded to cascade this object's delete.
    fn cascade_relations(&self) -> Vec<&'static dyn ErasedRelation>;
    /// The many-to-many relationships (their association rows go with the object).
    fn many_to_many(&self) -> Vec<&'static dyn ErasedRelation>;
}

/// What runs after a flush step's statements succeeded.
pub(crate) type AfterStep = Box<dyn FnOnce(&mut UnitOfWork) -> Result<()> + Send>;

/// What the flush needs of a relationship without knowing its types (implemented by
/// `TypedRelation<R>`, in `flush/links.rs`). Not public API.
#[doc(hidden)]
pub trait ErasedRelation: Send + Sync + 'static {
    fn meta(&self) -> &'static RelationMeta;

    /// Many-to-many: the statement inserting (or deleting) association rows for the pairs.
    fn link_job(
        &self,
        keys: &KeyPositions,
        pairs: &[AssociationPair],
        insert: bool,
    ) -> Result<FlushJob>;

    /// Many-to-many: the statement deleting every association row of `parents`.
    fn unlink_all_job(
        &self,
        keys: &KeyPositions,
        parents: &[Arc<dyn ErasedEntry>],
    ) -> Result<FlushJob>;

    /// The query loading the children of `parents` (to cascade a delete), the sink decoding
    /// its rows, and what to do with them afterwards: link them and delete them.
    fn cascade_load(
        &self,
        parents: Vec<Arc<dyn ErasedEntry>>,
    ) -> Result<Option<(FlushJob, AfterStep)>>;
}

/// What the unit of work does with every model's part of the identity map without knowing
/// the model (implemented in `identity.rs`).
pub(crate) trait ErasedMap: Send + Sync {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn as_any(&self) -> &dyn Any;
    fn len(&self) -> usize;
    /// Runs `f` on every object of the map, up to the first error.
    fn try_for_each(&self, f: &mut dyn FnMut(&dyn ErasedEntry) -> Result<()>) -> Result<()>;
}

/// A relationship collection of one parent object (changed in `collections.rs`).
#[derive(Clone)]
pub(crate) struct Collection {
    pub(crate) rel: &'static dyn ErasedRelation,
    /// The object owning the collection.
    pub(crate) parent: Arc<dyn ErasedEntry>,
    pub(crate) items: Vec<Arc<dyn ErasedEntry>>,
    /// The items as the database has them, kept from the first change since the last flush.
    pub(crate) original: Option<Vec<Arc<dyn ErasedEntry>>>,
    /// Whether `items` is the whole collection (loaded or set), not only appended items.
    pub(crate) complete: bool,
}

/// The key of a relationship collection: the parent's entry, the model and the field.
pub(crate) type CollKey = (u64, &'static str, &'static str);

/// The collections changed since the last flush, each once, in the order of their first
/// change (the order the flush writes them in). A set beside the list: a session that changes
/// the collections of many parents checks each key in constant time, not against every key
/// before it.
#[derive(Default)]
pub(crate) struct ChangedCollections {
    order: Vec<CollKey>,
    seen: FxHashSet<CollKey>,
}

impl ChangedCollections {
    /// Adds `key`, unless it is there already.
    pub(crate) fn insert(&mut self, key: CollKey) {
        if self.seen.insert(key) {
            self.order.push(key);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, CollKey> {
        self.order.iter()
    }

    /// The keys, in order, leaving them here.
    pub(crate) fn to_vec(&self) -> Vec<CollKey> {
        self.order.clone()
    }

    /// The keys, in order, leaving none.
    pub(crate) fn take(&mut self) -> Vec<CollKey> {
        self.seen.clear();
        std::mem::take(&mut self.order)
    }

    /// Keeps the keys `keep` says to keep, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&CollKey) -> bool) {
        let seen = &mut self.seen;
        self.order.retain(|k| {
            let kept = keep(k);
            if !kept {
                seen.remove(k);
            }
            kept
        });
    }
}

/// The key of a relationship collection: the parent's entry and the relationship.
pub(crate) fn collection_key(parent: u64, meta: &'static RelationMeta) -> CollKey {
    (parent, meta.model, meta.name)
}

/// Whether two metadata describe the same relationship. By name, not by address: a `const`
/// reference may have several addresses (one per crate using it).
pub(crate) fn same_rel(a: &RelationMeta, b: &RelationMeta) -> bool {
    a.name == b.name && a.model == b.model
}

/// A deferred action of a hook on the unit of work (adding an object).
pub(crate) type Deferred = Box<dyn FnOnce(&mut UnitOfWork) + Send>;

/// What a hook can do besides changing its own object: add more objects to the flush (an
/// audit row, say, with [`add`](HookContext::add)). Objects added by `before_*` hooks are
/// written by the same flush; objects added by `after_*` hooks by a second round of the same
/// flush.
#[derive(Default)]
pub struct HookContext {
    pub(crate) deferred: Vec<Deferred>,
}

impl HookContext {
    pub(crate) fn new() -> Self {
        HookContext {
            deferred: Vec::new(),
        }
    }
}

/// The unit of work of a session. See [the module docs](super).
pub struct UnitOfWork {
    pub(crate) link: Arc<SessionLink>,
    pub(crate) next_id: u64,
    pub(crate) next_gen: u64,
    /// The identity map: one map per model, by primary key (see `identity.rs`).
    pub(crate) maps: FxHashMap<TypeId, Box<dyn ErasedMap>>,
    pub(crate) new: Vec<Arc<dyn ErasedEntry>>,
    pub(crate) deleted: Vec<Arc<dyn ErasedEntry>>,
    pub(crate) collections: FxHashMap<CollKey, Collection>,
    pub(crate) changed_collections: ChangedCollections,
    /// The key positions of every relationship used so far, by (model, field).
    pub(crate) key_positions: HashMap<(&'static str, &'static str), Arc<KeyPositions>>,
    /// When new objects are inserted with `COPY`.
    pub(crate) copy: CopyPolicy,
    /// The depth of the undo frame holding records a rollback could not replay (their objects
    /// were held by guards): until a rollback at or below that depth replays them, the
    /// session refuses work ([`needs_rollback`](UnitOfWork::needs_rollback)).
    pub(crate) unrestored: Option<usize>,
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
                    .link
                    .undo
                    .side(|dirty| dirty.iter().filter(|e| e.is_queued()).count()),
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

impl UnitOfWork {
    /// An empty unit of work.
    pub fn new() -> Self {
        UnitOfWork {
            link: Arc::new(SessionLink::new()),
            next_id: 1,
            next_gen: 2,
            maps: FxHashMap::default(),
            new: Vec::new(),
            deleted: Vec::new(),
            collections: FxHashMap::default(),
            changed_collections: ChangedCollections::default(),
            key_positions: HashMap::new(),
            copy: CopyPolicy::default(),
            unrestored: None,
        }
    }

    /// The number of objects in the identity map.
    pub fn len(&self) -> usize {
        self.maps.values().map(|m| m.len()).sum()
    }

    /// Whether the identity map is empty and nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.new.is_empty()
    }

    /// Whether a flush has anything to do. Takes no object's lock: a guard held on an object
    /// never stops it.
    pub fn has_changes(&self) -> bool {
        !self.new.is_empty()
            || !self.deleted.is_empty()
            || !self.changed_collections.is_empty()
            || self
                .link
                .any_dirty(|e| e.is_queued() && e.status() != Status::Detached)
    }

    /// Whether a rollback could not restore every object (a guard held one while it was
    /// replayed; see [`ObjectInUse`](crate::ErrorKind::ObjectInUse)): the objects are not
    /// where the transaction or savepoint began until a rollback runs again, so the session
    /// must refuse other work until then.
    pub fn needs_rollback(&self) -> bool {
        self.unrestored.is_some()
    }

    pub(crate) fn take_dirty(&mut self) -> Vec<Arc<dyn ErasedEntry>> {
        self.link.take_dirty()
    }
}
