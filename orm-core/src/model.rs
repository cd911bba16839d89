//! The [`Model`] trait, implemented by `#[derive(Model)]`.

use std::hash::Hash;

use crate::error::Result;
use crate::meta::Table;
use crate::row::{Decode, FromRow, Row};
use crate::types::Param;

/// A struct mapped to a table. Derive it; do not implement it by hand.
///
/// What the derive generates, for `struct User { id: i64, name: String }`:
/// - `impl Model for User`, with the static [`Table`] metadata;
/// - one typed column handle per column field, as an associated constant named like the field
///   (`User::id: Column<User, i64>`, `User::name: Column<User, String>`);
/// - [`FromRow`], decoding by position in column order;
/// - the session's side: `impl Persist` (column access, snapshots, validators, the version
///   column, the relationships) and `impl Hooks`, both in [`session`](crate::session).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "not a model",
    note = "add `#[derive(Model)]` to the struct"
)]
pub trait Model:
    FromRow + crate::row::Decode<Output = Self> + crate::row::NullableRow + Sync
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

    /// One [`ColumnArray`](crate::types::ColumnArray) per [`Table::insert_columns`] (the
    /// column's values over `rows`), for multi-row inserts through `unnest`.
    fn insert_arrays(rows: &[Self]) -> Vec<crate::types::ColumnArray>;

    /// Appends references to the values of [`Table::insert_columns`], in order, to `out`: the
    /// row of a binary `COPY`, without copying a value.
    fn insert_values<'a>(&'a self, out: &mut Vec<&'a (dyn postgres_types::ToSql + Sync)>);

    /// Column `idx`'s value (a position in [`TABLE.columns`](Table::columns)), type-erased:
    /// the session copies keys between objects with it, and a loader reads a loaded row's key
    /// from the object instead of decoding the key column a second time. `None` for a position
    /// past the last column, and for models that do not say (the default).
    #[doc(hidden)]
    fn column_any(&self, idx: usize) -> Option<&(dyn std::any::Any + Send + Sync)> {
        let _ = idx;
        None
    }

    /// The shard key's column (`#[model(shard_key)]`): which shard of a sharded database holds
    /// a row is a function of this column's value (see the `shard` module). `None` when
    /// the model is not sharded.
    fn shard_key() -> Option<&'static crate::meta::ColumnDef> {
        Self::TABLE.shard_key_column()
    }

    /// This object's shard key value, as a parameter; `None` when the model is not sharded.
    fn shard_key_value(&self) -> Option<Param> {
        let key = Self::TABLE.shard_key?;
        let at = Self::TABLE.insert_columns().position(|c| c.name == key)?;
        self.insert_params().into_iter().nth(at)
    }
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

/// The struct whose fields a relationship's foreign-key check reads for a model: the model
/// itself, or for an inheritance enum its first variant (whose struct declares the shared
/// columns). Implemented by the derive; not public API.
#[doc(hidden)]
pub trait FieldsOf {
    /// The struct.
    type Fields;
}

/// A model whose columns a query of `M` reads: `M` itself, and each variant struct of the
/// inheritance enum `M` (implemented by the enum's derive). Lets the column options of a query
/// of the enum name a variant's columns: `select::<Employee>().undefer(Manager::notes)`.
#[diagnostic::on_unimplemented(
    message = "a query of `{M}` does not read the columns of `{Self}`",
    label = "a column of another model",
    note = "name a column of `{M}`, or of a variant struct of `{M}` when it is an inheritance enum"
)]
pub trait PartOf<M> {}

impl<M: Model> PartOf<M> for M {}
