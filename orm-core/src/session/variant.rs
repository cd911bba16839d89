//! [`PersistVariant`]: what the session needs of a variant struct of an inheritance enum, and
//! the functions the enum's derived [`Persist`] and [`Model`] implementations delegate to.
//!
//! The session persists the enum, never a variant by itself (so one row is one object in the
//! identity map, keyed by the shared primary key). The enum's columns are the union of its
//! variants' ([`crate::meta::merge_columns`]); a variant maps each of the enum's column
//! positions to one of its own through an *inverse* table (`usize::MAX` when it does not have
//! the column), built at compile time by [`crate::meta::inverse`].

use std::any::Any;
use std::sync::Arc;

use postgres_types::ToSql;

use super::column_rows::ColumnRows;
use super::columns::ColumnSet;
use super::hooks::Hooks;
use super::persist::Persist;
use crate::error::{Error, Result};
use crate::expr::Param;
use crate::inherit::{ErasedArray, NULL, null_param};
use crate::meta::{ColumnDef, Table};
use crate::model::Model;
use crate::row::Row;
use crate::types::ColumnArray;

/// A variant struct of an inheritance enum as the session sees it through its enum: column
/// access by position in the variant's own [`TABLE.columns`](crate::meta::Table::columns)
/// (its fields, then the discriminator), snapshots and validators, as in [`Persist`].
/// Implemented by `#[derive(Model)]` with `#[model(inherits = ...)]`, instead of `Persist`.
pub trait PersistVariant: Model + Hooks {
    /// Whether the struct implements its own [`Hooks`] (`#[model(hooks)]`).
    const CUSTOM_HOOKS: bool = false;

    /// Decodes the variant from a row of its enum: column field `i` from position `start +
    /// positions[i]`, column property `k` (`#[model(column_property = ...)]`) from `start +
    /// properties + k`.
    fn decode_at<R: Row + ?Sized>(
        row: &R,
        start: usize,
        positions: &[usize],
        properties: usize,
    ) -> Result<Self>;

    /// A reference to column `idx`'s value (for a binary `COPY` row).
    fn column_ref(&self, idx: usize) -> Option<&(dyn ToSql + Sync)>;

    /// As [`Persist::column_param`].
    fn column_param(&self, idx: usize) -> Option<Param>;

    /// An empty [`ColumnRows`] of column `idx`'s type, with room for `rows` rows (`None` past
    /// the last column): what gathers an array column's values over rows of several variants.
    /// The derived implementation knows each column's Rust type; the default knows none.
    fn column_rows(idx: usize, rows: usize) -> Option<Box<dyn ColumnRows>> {
        let _ = (idx, rows);
        None
    }

    /// As [`Persist::column_value`].
    fn column_value(&self, idx: usize) -> Option<&(dyn Any + Send + Sync)> {
        self.column_any(idx)
    }

    /// As [`Persist::set_column_value`].
    fn set_column_value(&mut self, idx: usize, value: &dyn Any) -> Result<()>;

    /// As [`Persist::set_column_null`].
    fn set_column_null(&mut self, idx: usize) -> Result<()>;

    /// As [`Persist::decode_column`].
    fn decode_column<R: Row + ?Sized>(&mut self, idx: usize, row: &R, at: usize) -> Result<()>;

    /// As [`Persist::copy_columns`].
    fn copy_columns(&self) -> Self;

    /// As [`Persist::copy_columns_into`].
    fn copy_columns_into(&self, into: &mut Self) {
        *into = self.copy_columns();
    }

    /// As [`Persist::changed_columns`].
    fn changed_columns(&self, old: &Self) -> ColumnSet;

    /// As [`Persist::restore_columns`].
    fn restore_columns(&mut self, from: Self);

    /// As [`Persist::validate`].
    fn validate(&self, columns: ColumnSet) -> Result<()>;

    /// As [`Persist::VALIDATES`].
    #[doc(hidden)]
    const VALIDATES: bool = true;

    /// As [`Persist::VERSION`]: the version column's position in the variant's columns. The
    /// enum's is that column's position in its own ([`crate::meta::merged_version`]).
    const VERSION: Option<usize> = None;

    /// As [`Persist::bump_version`].
    fn bump_version(&mut self) {}

    /// As [`Persist::DEFERRED`].
    const DEFERRED: bool = false;

    /// As [`Persist::fill_unloaded`].
    fn fill_unloaded(&mut self, from: &Self) {
        let _ = from;
    }
}

/// The variant's position of the enum's column `idx`, if it has the column.
#[inline]
fn local(inverse: &[usize], idx: usize) -> Option<usize> {
    inverse.get(idx).copied().filter(|&j| j != usize::MAX)
}

/// The enum's column `idx` of a row of variant `v`: its value, or `NULL` when the variant does
/// not have the column. `None` past the last column.
pub fn variant_param<V: PersistVariant>(v: &V, inverse: &[usize], idx: usize) -> Option<Param> {
    match *inverse.get(idx)? {
        usize::MAX => Some(null_param()),
        j => v.column_param(j),
    }
}

/// The value of the enum's column `idx` (`None` when the variant does not have it).
pub fn variant_value<'a, V: PersistVariant>(
    v: &'a V,
    inverse: &[usize],
    idx: usize,
) -> Option<&'a (dyn Any + Send + Sync)> {
    local(inverse, idx).and_then(|j| v.column_value(j))
}

/// Sets the enum's column `idx`; an error when the variant does not have it.
pub fn set_variant_value<V: PersistVariant>(
    v: &mut V,
    inverse: &[usize],
    idx: usize,
    value: &dyn Any,
) -> Result<()> {
    match local(inverse, idx) {
        Some(j) => v.set_column_value(j, value),
        None => Err(no_variant_column::<V>(idx)),
    }
}

/// Sets the enum's column `idx` to `NULL` (nothing to do when the variant does not have it:
/// its rows hold `NULL` there).
pub fn set_variant_null<V: PersistVariant>(v: &mut V, inverse: &[usize], idx: usize) -> Result<()> {
    match local(inverse, idx) {
        Some(j) => v.set_column_null(j),
        None if idx < inverse.len() => Ok(()),
        None => Err(no_variant_column::<V>(idx)),
    }
}

/// Decodes the enum's column `idx` into the variant (skipped when it does not have it).
pub fn decode_variant_column<V: PersistVariant, R: Row + ?Sized>(
    v: &mut V,
    inverse: &[usize],
    idx: usize,
    row: &R,
    at: usize,
) -> Result<()> {
    match local(inverse, idx) {
        Some(j) => v.decode_column(j, row, at),
        None if idx < inverse.len() => Ok(()),
        None => Err(no_variant_column::<V>(idx)),
    }
}

/// The variant's changed columns as the enum's positions.
pub fn changed_variant_columns<V: PersistVariant>(
    v: &V,
    old: &V,
    positions: &[usize],
) -> ColumnSet {
    let mut out = ColumnSet::empty();
    for j in v.changed_columns(old).iter() {
        if let Some(&i) = positions.get(j) {
            out.insert(i);
        }
    }
    out
}

/// The enum's columns `columns` as the variant's positions (those it has).
pub fn variant_columns(inverse: &[usize], columns: ColumnSet) -> ColumnSet {
    let mut own = ColumnSet::empty();
    for i in columns.iter() {
        if let Some(j) = local(inverse, i) {
            own.insert(j);
        }
    }
    own
}

/// Runs the variant's validators of the enum's columns `columns`.
pub fn validate_variant<V: PersistVariant>(
    v: &V,
    inverse: &[usize],
    columns: ColumnSet,
) -> Result<()> {
    v.validate(variant_columns(inverse, columns))
}

/// Values of the enum's [`Table::insert_columns`] for a row of variant `v`.
pub fn variant_insert_params<V: PersistVariant>(
    v: &V,
    inverse: &[usize],
    table: &'static Table,
) -> Vec<Param> {
    variant_params(v, inverse, table, |c| !c.server_written())
}

/// Values of the enum's [`Table::update_columns`] for a row of variant `v`.
pub fn variant_update_params<V: PersistVariant>(
    v: &V,
    inverse: &[usize],
    table: &'static Table,
) -> Vec<Param> {
    variant_params(v, inverse, table, |c| {
        !c.primary_key && c.computed.is_none()
    })
}

/// Values of the enum's columns that `keep` selects, for a row of variant `v`.
fn variant_params<V: PersistVariant>(
    v: &V,
    inverse: &[usize],
    table: &'static Table,
    keep: impl Fn(&ColumnDef) -> bool,
) -> Vec<Param> {
    let columns = table.columns.iter().enumerate();
    columns
        .filter(|(_, c)| keep(c))
        .filter_map(|(i, _)| variant_param(v, inverse, i))
        .collect()
}

/// References to the values of the enum's [`Table::insert_columns`] for a row of variant `v`
/// (`NULL` for the columns it does not have): a binary `COPY` row.
pub fn variant_insert_values<'a, V: PersistVariant>(
    v: &'a V,
    inverse: &[usize],
    table: &'static Table,
    out: &mut Vec<&'a (dyn ToSql + Sync)>,
) {
    for (i, c) in table.columns.iter().enumerate() {
        if c.server_written() {
            continue;
        }
        match local(inverse, i).and_then(|j| v.column_ref(j)) {
            Some(value) => out.push(value),
            None => out.push(&NULL),
        }
    }
}

/// Column `idx` of every row of the enum as array parameters. A plain column is one array of
/// the rows' values, each encoded on its own (its rows are of several variants). An array
/// column is flattened as a plain struct's is ([`ColumnArray::Nested`], since PostgreSQL's
/// arrays do not nest): its values are gathered typed by a [`ColumnRows`] of the first row's
/// variant that has the column, the other rows' `NULL`. `None` past the last column.
pub fn enum_column_array<E: Persist>(rows: &[&E], idx: usize) -> Option<ColumnArray> {
    if E::TABLE.columns.get(idx)?.ty.is_array() {
        if let Some(nested) = nested_column_array(rows, idx) {
            return Some(nested);
        }
    }
    let values: Option<Vec<Param>> = rows.iter().map(|r| r.column_param(idx)).collect();
    Some(ColumnArray::Flat(Arc::new(ErasedArray(values?))))
}

/// The array column `idx` of the enum's rows, flattened; `None` when a variant's value is not
/// of the type of the first variant's (see [`ColumnRows::push`]): the erased values then
/// make the statement fail with a typed error.
fn nested_column_array<E: Persist>(rows: &[&E], idx: usize) -> Option<ColumnArray> {
    let Some(mut gathered) = rows.iter().find_map(|r| r.column_rows(idx, rows.len())) else {
        // No row has the column: every row's array is NULL, and there are no elements.
        return Some(ColumnArray::Nested {
            lengths: Arc::new(vec![None::<i32>; rows.len()]),
            owners: Arc::new(Vec::<i64>::new()),
            elements: Arc::new(ErasedArray(Vec::new())),
        });
    };
    for r in rows {
        if !gathered.push(r.column_value(idx).map(|v| v as &dyn Any)) {
            return None;
        }
    }
    Some(gathered.finish())
}

/// [`Persist::column_rows`] of the enum: the variant's, for the enum's column `idx`.
pub fn variant_column_rows<V: PersistVariant>(
    _: &V,
    inverse: &[usize],
    idx: usize,
    rows: usize,
) -> Option<Box<dyn ColumnRows>> {
    local(inverse, idx).and_then(|j| V::column_rows(j, rows))
}

/// One array per [`Table::insert_columns`] of the enum, over `rows`.
pub fn enum_insert_arrays<E: Persist>(rows: &[E]) -> Vec<ColumnArray> {
    let refs: Vec<&E> = rows.iter().collect();
    E::TABLE
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.server_written())
        .filter_map(|(i, _)| enum_column_array(&refs, i))
        .collect()
}

/// The error of a row whose discriminator names no variant of the enum.
pub fn unknown_variant(model: &'static str, column: &'static str, value: &str) -> Error {
    Error::decode(
        model,
        column,
        format!("no variant of `{model}` has the discriminator value {value:?}").into(),
    )
}

/// The error for a column the variant does not have.
fn no_variant_column<V: Model>(idx: usize) -> Error {
    Error::object_state(format!(
        "`{}` has no column at the enum's position {idx}",
        V::TABLE.model
    ))
}
