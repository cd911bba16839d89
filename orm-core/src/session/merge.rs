//! `merge` along relationships (the `merge` cascade), SQLAlchemy's way: merging a detached
//! object merges the objects loaded in its relationships whose `cascade` has `merge`, then
//! theirs, level by level. Each object becomes the session's object for its primary key (from
//! the identity map, else loaded, else added as new) with the detached object's columns, and
//! each parent's relationship is set to the merged objects (so the flush sets foreign keys,
//! deletes orphans under `delete-orphan`, writes many-to-many rows).
//!
//! The driver runs it: [`UnitOfWork::merge_begin`], then for each level the loads of
//! [`Merge::loads`] (rows handed to [`Merge::register_row`]) and [`UnitOfWork::merge_next`];
//! [`Merge::finish`] gives the merged root. One query per model and level loads every object
//! of it the identity map lacks.

use std::any::Any;
use std::ops::Range;
use std::sync::Arc;

use super::flush::select_by_keys;
use super::persist::{MergeBatch, Merged, Persist, RelationOps};
use super::state::downcast;
use super::status::Status;
use super::tracked::Tracked;
use super::unit::{ErasedEntry, ErasedRelation, UnitOfWork, same_rel};
use crate::compile::CompiledQuery;
use crate::error::{Error, Result};
use crate::load::RowAccess;
use crate::relation::{Cascade, RelationMeta};
use crate::row::Decode;

/// The run `range` of a batch's objects is relationship `rel` of `parent`.
struct Link {
    parent: Arc<dyn ErasedEntry>,
    rel: &'static dyn ErasedRelation,
    range: Range<usize>,
}

/// A [`MergeBatch`] of model `T`.
pub(crate) struct TypedMerge<T: Persist> {
    objects: Vec<T>,
    links: Vec<Link>,
}

impl<T: Persist> TypedMerge<T> {
    /// The children of `parent` in relationship `rel`.
    pub(crate) fn children(
        objects: Vec<T>,
        parent: Arc<dyn ErasedEntry>,
        rel: &'static dyn ErasedRelation,
    ) -> Self {
        let range = 0..objects.len();
        TypedMerge {
            objects,
            links: vec![Link { parent, rel, range }],
        }
    }
}

impl<T: Persist> MergeBatch for TypedMerge<T> {
    fn relation(&self) -> Option<&'static RelationMeta> {
        self.links.first().map(|l| l.rel.meta())
    }

    fn load_query(
        &self,
        uow: &UnitOfWork,
        criteria: Option<&crate::stmt::Criteria>,
    ) -> Result<Option<CompiledQuery>> {
        let missing: Vec<&T> = self
            .objects
            .iter()
            .filter(|o| match uow.lookup::<T>(&o.pk()) {
                Some(t) => uow.is_expired(&t),
                None => true,
            })
            .collect();
        if missing.is_empty() {
            return Ok(None);
        }
        let condition = criteria.and_then(|c| c.condition(T::TABLE.as_ref()));
        select_by_keys(&missing, condition).map(Some)
    }

    fn register_row(&mut self, uow: &mut UnitOfWork, row: &dyn RowAccess) -> Result<()> {
        let value = <T as Decode>::decode(row, 0)?;
        uow.register_loaded(value).map(|_| ())
    }

    fn merge(self: Box<Self>, uow: &mut UnitOfWork) -> Result<Merged> {
        let mut merged = Vec::with_capacity(self.objects.len());
        let mut next: Vec<Box<dyn MergeBatch>> = Vec::new();
        for mut object in self.objects {
            // The relationships to follow leave the object first: its own columns are merged.
            let mut follow: Vec<(&'static dyn RelationOps<T>, Box<dyn Any + Send>)> = Vec::new();
            for ops in T::RELATIONS {
                if ops.meta().cascade.contains(Cascade::MERGE) {
                    if let Some(children) = ops.take(&mut object) {
                        follow.push((*ops, children));
                    }
                }
            }
            let t = uow.merge_one(object)?;
            for (ops, children) in follow {
                let batch = ops.merge_children(children, t.erased())?;
                match next
                    .iter_mut()
                    .find(|b| same_rel_opt(b.relation(), batch.relation()))
                {
                    Some(b) => b.absorb(batch)?,
                    None => next.push(batch),
                }
            }
            merged.push(t.erased());
        }
        for link in self.links {
            let items = merged
                .get(link.range)
                .map(<[_]>::to_vec)
                .unwrap_or_default();
            uow.replace_collection(&link.parent, link.rel, items, Some("merge"))?;
        }
        Ok(Merged {
            objects: merged,
            next,
        })
    }

    fn absorb(&mut self, other: Box<dyn MergeBatch>) -> Result<()> {
        let other = other
            .into_any()
            .downcast::<TypedMerge<T>>()
            .map_err(|_| Error::object_state("merge: objects of another model"))?;
        let shift = self.objects.len();
        self.objects.extend(other.objects);
        self.links.extend(other.links.into_iter().map(|l| Link {
            range: l.range.start + shift..l.range.end + shift,
            ..l
        }));
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

fn same_rel_opt(a: Option<&'static RelationMeta>, b: Option<&'static RelationMeta>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_rel(a, b),
        _ => false,
    }
}

/// A merge under way: the batches of the current level, and the merged object once its level
/// is done.
pub struct Merge<T: Persist> {
    batches: Vec<Box<dyn MergeBatch>>,
    root: Option<Tracked<T>>,
}

impl<T: Persist> std::fmt::Debug for Merge<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merge")
            .field("batches", &self.batches.len())
            .field("merged", &self.root.is_some())
            .finish()
    }
}

impl<T: Persist> Merge<T> {
    /// The queries of the current level, by batch: run each, handing its rows to
    /// [`register_row`](Self::register_row) with the batch's index. They read only the rows
    /// `criteria` let through (a row they hide is not there to merge into: the object is new).
    pub fn loads(
        &self,
        uow: &UnitOfWork,
        criteria: Option<&crate::stmt::Criteria>,
    ) -> Result<Vec<(usize, CompiledQuery)>> {
        let mut out = Vec::new();
        for (i, b) in self.batches.iter().enumerate() {
            if let Some(q) = b.load_query(uow, criteria)? {
                out.push((i, q));
            }
        }
        Ok(out)
    }

    /// Registers a row of batch `batch`'s query.
    pub fn register_row(
        &mut self,
        batch: usize,
        uow: &mut UnitOfWork,
        row: &dyn RowAccess,
    ) -> Result<()> {
        match self.batches.get_mut(batch) {
            Some(b) => b.register_row(uow, row),
            None => Err(Error::object_state("merge: no such batch")),
        }
    }

    /// The merged object, once every level is merged.
    pub fn finish(self) -> Result<Tracked<T>> {
        self.root
            .ok_or_else(|| Error::object_state("merge: not finished"))
    }
}

impl UnitOfWork {
    /// Starts merging `object` (see the module docs).
    pub fn merge_begin<T: Persist>(&mut self, object: T) -> Merge<T> {
        Merge {
            batches: vec![Box::new(TypedMerge {
                objects: vec![object],
                links: Vec::new(),
            })],
            root: None,
        }
    }

    /// Merges the current level (its loads done) and moves to the next; `false` when none is
    /// left. A guard held on an object it must change fails it with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) (operation `merge`).
    pub fn merge_next<T: Persist>(&mut self, merge: &mut Merge<T>) -> Result<bool> {
        let mut next: Vec<Box<dyn MergeBatch>> = Vec::new();
        for batch in std::mem::take(&mut merge.batches) {
            let merged = batch.merge(self)?;
            if merge.root.is_none() {
                merge.root = merged
                    .objects
                    .first()
                    .and_then(downcast::<T>)
                    .map(Tracked::from_entry);
            }
            for b in merged.next {
                match next
                    .iter_mut()
                    .find(|n| same_rel_opt(n.relation(), b.relation()))
                {
                    Some(n) => n.absorb(b)?,
                    None => next.push(b),
                }
            }
        }
        merge.batches = next;
        Ok(!merge.batches.is_empty())
    }

    /// One detached object into the session: its columns copied onto the session's object
    /// for its key (in the identity map, or loaded by the level's query), or added as new.
    fn merge_one<T: Persist>(&mut self, object: T) -> Result<Tracked<T>> {
        match self.lookup::<T>(&object.pk()) {
            Some(t) if t.status() == Status::Deleted => Err(Error::object_state(format!(
                "cannot merge this `{}`: the session's object for its key is deleted",
                T::TABLE.model
            ))),
            Some(t) => {
                self.merge_into(&t, object)?;
                Ok(t)
            }
            None => Ok(self.add(object)),
        }
    }
}
