//! The [`Model`] trait, implemented by `#[derive(Model)]`.

use std::any::Any;
use std::hash::Hash;

use crate::error::Result;
use crate::meta::Table;
use crate::row::{Decode, FromRow, Row};
use crate::session::{ColumnSet, Hooks, RelationOps};
use crate::types::Param;

/// A struct mapped to a table. Derive it; do not implement it by hand.
///
/// What the derive generates, for `struct User { id: i64, name: String }`:
/// - `impl Model for User`, with the static [`Table`] metadata;
/// - one typed column handle per column field, as an associated constant named like the field
///   (`User::id: Column<User, i64>`, `User::name: Column<User, String>`);
/// - [`FromRow`], decoding by position in column order.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "not a model",
    note = "add `#[derive(Model)]` to the struct"
)]
pub trait Model:
    FromRow + crate::row::Decode<Output = Self> + crate::row::NullableRow + Sync + Hooks
{
    /// The table's metadata.
    const TABLE: &'static Table;

    /// The primary key: the key field's type, or a tuple of them for a composite key.
    type Pk: Clone + Eq + Hash + Send + Sync + std::fmt::Debug + 'static;

    /// The primary key of this object.
    fn pk(&self) -> Self::Pk;

    /// The primary key's values as parameters, in key-column order.
    fn pk_params(pk: Self::Pk) -> Vec<Param>;

    /// Values of [`Table::insert_columns`], in order.
    fn insert_params(&self) -> Vec<Param>;

    /// Values of [`Table::update_columns`], in order.
    fn update_params(&self) -> Vec<Param>;

    /// One array per [`Table::insert_columns`] (the column's values over `rows`), for multi-row
    /// inserts through `unnest`.
    fn insert_arrays(rows: &[Self]) -> Vec<Param>;

    // What the session needs: column-level access by position in `TABLE.columns`. Generated
    // by the derive; positions out of range give `None` / an error, never a panic.

    /// The position of the `#[model(version)]` column, if any.
    const VERSION: Option<usize> = None;

    /// Whether the model implements its own [`Hooks`] (`#[model(hooks)]`): the session then
    /// saves an object's state before running them, to undo their changes if the flush fails.
    const CUSTOM_HOOKS: bool = false;

    /// The relationships, for the session's cascades and graph saving.
    const RELATIONS: &'static [&'static dyn RelationOps<Self>] = &[];

    /// Column `idx` of this object as a parameter.
    fn column_param(&self, idx: usize) -> Option<Param>;

    /// Column `idx` of every row, as one array parameter (for `unnest`).
    fn column_array(rows: &[&Self], idx: usize) -> Option<Param>;

    /// Column `idx`'s value, type-erased (to copy keys between objects).
    fn column_value(&self, idx: usize) -> Option<&(dyn Any + Send + Sync)>;

    /// Sets column `idx` from a value of its type (or of its non-null type, for an `Option`
    /// field); an error when the types differ.
    fn set_column_value(&mut self, idx: usize, value: &dyn Any) -> crate::error::Result<()>;

    /// Sets column `idx` to `NULL`; an error when the field is not an `Option`.
    fn set_column_null(&mut self, idx: usize) -> crate::error::Result<()>;

    /// Decodes column `idx` from position `at` of `row` into this object.
    fn decode_column<R: Row + ?Sized>(
        &mut self,
        idx: usize,
        row: &R,
        at: usize,
    ) -> crate::error::Result<()>;

    /// A copy holding only the column values (relationships not loaded, skipped fields at their
    /// default): the session's snapshot.
    fn copy_columns(&self) -> Self;

    /// The columns whose values differ from `old`'s.
    fn changed_columns(&self, old: &Self) -> ColumnSet;

    /// Moves the column values of `from` into this object, keeping its relationships and
    /// skipped fields.
    fn restore_columns(&mut self, from: Self);

    /// Runs the field validators (`#[model(validate = path)]`) of the given columns.
    fn validate(&self, columns: ColumnSet) -> crate::error::Result<()>;

    /// Increments the version column (no-op without one).
    fn bump_version(&mut self);
}

/// Decodes a model that may be missing (the outer side of a join): `None` when its primary-key
/// columns are all `NULL`. Used by the derive's `FromRow for Option<Model>`.
pub fn decode_optional<M: Model, R: crate::row::Row + ?Sized>(
    row: &R,
    start: usize,
) -> crate::error::Result<Option<M>> {
    let mut any_key = false;
    for (i, c) in M::TABLE.columns.iter().enumerate() {
        if c.primary_key {
            any_key = true;
            let present: Option<crate::row::AnyValue> = row
                .get_at(start + i)
                .map_err(|e| crate::error::Error::decode(M::TABLE.model, c.name, e))?;
            if present.is_none() {
                return Ok(None);
            }
        }
    }
    if !any_key {
        return Ok(None);
    }
    M::from_row(row, start).map(Some)
}

/// Decodes model `M` as `Option<M>`: `None` when its key columns are `NULL`.
pub struct OptionalModel<M>(std::marker::PhantomData<fn() -> M>);

impl<M: Model> Decode for OptionalModel<M> {
    type Output = Option<M>;
    const WIDTH: usize = <M as FromRow>::WIDTH;
    fn decode<R: Row + ?Sized>(row: &R, start: usize) -> Result<Option<M>> {
        decode_optional::<M, R>(row, start)
    }
}
