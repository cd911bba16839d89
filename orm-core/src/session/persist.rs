//! [`Persist`]: what the session needs of a model beyond its metadata, implemented by
//! `#[derive(Model)]` next to [`Model`]; [`RelationOps`]: what it needs of each relationship,
//! listed in [`Persist::RELATIONS`] as [`TypedRelation`]s.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

use super::column_rows::ColumnRows;
use super::columns::ColumnSet;
use super::hooks::Hooks;
use super::unit::{ErasedEntry, ErasedRelation, UnitOfWork};
use crate::compile::CompiledQuery;
use crate::error::Result;
use crate::expr::Param;
use crate::load::RowAccess;
use crate::model::Model;
use crate::relation::{Relation, RelationMeta};
use crate::row::Row;

/// A model as the session persists it: column-level access by position in
/// [`TABLE.columns`](crate::meta::Table::columns), snapshots, validators, the version column,
/// the relationships and the lifecycle [`Hooks`]. Derive [`Model`]; do not implement it by hand.
///
/// [`Model`] holds what every statement needs (metadata, keys, encoding and decoding); this
/// trait holds the rest, which only the session uses (as SQLAlchemy keeps the mapper apart from
/// persistence). The derive implements both. The session's methods taking objects bound on
/// this trait, so generic code over a session names it: `fn save<M: Persist>(..)`.
///
/// Positions out of range give `None` / an error, never a panic.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "not a model",
    note = "add `#[derive(Model)]` to the struct",
    note = "a variant struct of an inheritance enum (`#[model(inherits = ...)]`) is persisted through its enum: `session.add(Employee::from(manager))`"
)]
pub trait Persist: Model + Hooks {
    /// The position of the `#[model(version)]` column, if any.
    const VERSION: Option<usize> = None;

    /// Whether the model implements its own [`Hooks`] (`#[model(hooks)]`): the session then
    /// saves an object's state before running them, to undo their changes if the flush fails.
    const CUSTOM_HOOKS: bool = false;

    /// The relationships, for the session's cascades and graph saving.
    const RELATIONS: &'static [&'static dyn RelationOps<Self>] = &[];

    /// Column `idx` of this object as a parameter.
    fn column_param(&self, idx: usize) -> Option<Param>;

    /// Column `idx` of every row, as array parameters (for `unnest`).
    fn column_array(rows: &[&Self], idx: usize) -> Option<crate::types::ColumnArray>;

    /// An inheritance enum's: an empty [`ColumnRows`] of column `idx`'s type, from this
    /// object's variant (`None` when it does not have the column), with room for `rows` rows.
    /// What gathers an array column over rows of several variants (see
    /// [`enum_column_array`](super::enum_column_array)); a struct has no need of it.
    #[doc(hidden)]
    fn column_rows(&self, idx: usize, rows: usize) -> Option<Box<dyn ColumnRows>> {
        let _ = (idx, rows);
        None
    }

    /// Column `idx`'s value, type-erased (to copy keys between objects): the derive's
    /// [`Model::column_any`].
    fn column_value(&self, idx: usize) -> Option<&(dyn Any + Send + Sync)> {
        self.column_any(idx)
    }

    /// Sets column `idx` from a value of its type (or of its non-null type, for an `Option`
    /// field); an error when the types differ.
    fn set_column_value(&mut self, idx: usize, value: &dyn Any) -> Result<()>;

    /// Sets column `idx` to `NULL`; an error when the field is not an `Option`.
    fn set_column_null(&mut self, idx: usize) -> Result<()>;

    /// Decodes column `idx` from position `at` of `row` into this object.
    fn decode_column<R: Row + ?Sized>(&mut self, idx: usize, row: &R, at: usize) -> Result<()>;

    /// A copy holding only the column values (relationships not loaded, skipped fields at their
    /// default): the session's snapshot.
    fn copy_columns(&self) -> Self;

    /// [`copy_columns`](Persist::copy_columns) into `into`, a copy made earlier: the derive
    /// clones each column with `clone_from`, so a snapshot taken again reuses the buffers of
    /// its strings and vectors.
    fn copy_columns_into(&self, into: &mut Self) {
        *into = self.copy_columns();
    }

    /// The columns whose values differ from `old`'s.
    fn changed_columns(&self, old: &Self) -> ColumnSet;

    /// Moves the column values of `from` into this object, keeping its relationships and
    /// skipped fields.
    fn restore_columns(&mut self, from: Self);

    /// Whether the model has deferred columns (`#[model(deferred)]`).
    const DEFERRED: bool = false;

    /// Copies the deferred columns `from` has loaded and this object has not (a later query
    /// loaded them).
    fn fill_unloaded(&mut self, from: &Self) {
        let _ = from;
    }

    /// Runs the field validators (`#[model(validate = path)]`) of the given columns.
    fn validate(&self, columns: ColumnSet) -> Result<()>;

    /// Whether [`validate`](Self::validate) may fail: `false` spares a flush the pass that
    /// validates every changed object before anything is written (the derive's, for a model
    /// without validators).
    #[doc(hidden)]
    const VALIDATES: bool = true;

    /// Increments the version column (no-op without one).
    fn bump_version(&mut self);

    /// Joined-table inheritance: the subtype table holding this object's own columns (its
    /// variant's table), if it has one.
    fn joined_part(&self) -> Option<&'static crate::meta::Table> {
        None
    }
}

/// A relationship of model `P`, as the session uses it. Implemented by [`TypedRelation`] for
/// every relationship the derive declares; listed in [`Persist::RELATIONS`].
pub trait RelationOps<P: Persist>: Send + Sync + 'static {
    /// The relationship's metadata.
    fn meta(&self) -> &'static RelationMeta;

    /// Takes the loaded value out of `parent`'s field (leaving it not loaded), boxed.
    #[doc(hidden)]
    fn take(&self, parent: &mut P) -> Option<Box<dyn Any + Send>>;

    /// Puts children taken by [`take`](Self::take) into the session (as loaded rows or as new
    /// objects) and links them to `parent`.
    #[doc(hidden)]
    fn attach(
        &self,
        uow: &mut UnitOfWork,
        parent: &Arc<dyn ErasedEntry>,
        children: Box<dyn Any + Send>,
        loaded: bool,
    ) -> Result<()>;

    /// The type-erased operations.
    #[doc(hidden)]
    fn erased(&self) -> &'static dyn ErasedRelation;

    /// Children taken by [`take`](Self::take) from a detached `parent`, to merge into the
    /// session (the `merge` cascade).
    #[doc(hidden)]
    fn merge_children(
        &self,
        children: Box<dyn Any + Send>,
        parent: Arc<dyn ErasedEntry>,
    ) -> Result<Box<dyn MergeBatch>>;
}

/// The session's operations of relationship `R` (a marker type the derive generates): its
/// [`RelationOps`] (in `relations.rs`) and its [`ErasedRelation`] (in `flush/links.rs`).
pub struct TypedRelation<R>(PhantomData<fn() -> R>);

impl<R: Relation> TypedRelation<R>
where
    R::Parent: Persist,
    R::Target: Persist,
{
    /// The operations, as the derive lists them in `Persist::RELATIONS`.
    pub const OPS: &'static dyn RelationOps<R::Parent> = &TypedRelation::<R>(PhantomData);
    /// The type-erased operations.
    pub(crate) const ERASED: &'static dyn ErasedRelation = &TypedRelation::<R>(PhantomData);
}

/// Detached objects of one model that a merge reached at one level, with the parents (and
/// relationship) each run of them belongs to.
#[doc(hidden)]
pub trait MergeBatch: Send {
    /// The relationship that reached them (`None` for the object `merge` was called with).
    fn relation(&self) -> Option<&'static RelationMeta>;
    /// The query loading those of them the identity map lacks (or holds expired), of the
    /// rows `criteria` let through.
    fn load_query(
        &self,
        uow: &UnitOfWork,
        criteria: Option<&crate::stmt::Criteria>,
    ) -> Result<Option<CompiledQuery>>;
    /// Registers a row of that query in the session.
    fn register_row(&mut self, uow: &mut UnitOfWork, row: &dyn RowAccess) -> Result<()>;
    /// Merges them into the session and links them to their parents; returns the merged
    /// objects and the batches of the next level.
    fn merge(self: Box<Self>, uow: &mut UnitOfWork) -> Result<Merged>;
    /// Appends another batch of the same model and relationship.
    fn absorb(&mut self, other: Box<dyn MergeBatch>) -> Result<()>;
    /// For [`absorb`](Self::absorb).
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// What a [`MergeBatch`] merged: its objects, in order, and the next level.
#[doc(hidden)]
pub struct Merged {
    pub(crate) objects: Vec<Arc<dyn ErasedEntry>>,
    pub(crate) next: Vec<Box<dyn MergeBatch>>,
}
