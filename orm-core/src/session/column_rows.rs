//! [`ColumnRows`]: one column's values over rows of an inheritance enum, gathered as one Rust
//! type, so that an array column is flattened for `unnest` as a plain struct's is (see
//! `variant.rs`, `enum_column_array`).

use std::any::Any;

use crate::types::{ColumnArray, SqlType};

/// One column's values over rows of an inheritance enum, gathered as one Rust type (the
/// column's, without its `Option`), whichever variant each row is: what flattens an array
/// column for [`ColumnArray::Nested`], as [`ColumnArray::of`] does a plain struct's. Made by
/// [`PersistVariant::column_rows`](super::PersistVariant::column_rows) (see [`column_rows`]).
pub trait ColumnRows {
    /// Appends a row's value (`None`: `NULL`, a row whose variant does not have the column).
    /// `false`, nothing appended, when the value is not of the column's type: a variant that
    /// declares the column as another Rust type than the first (a [`Deferred`] one, say).
    ///
    /// [`Deferred`]: crate::deferred::Deferred
    fn push(&mut self, value: Option<&dyn Any>) -> bool;

    /// The values as the parameters of a multi-row statement.
    fn finish(self: Box<Self>) -> ColumnArray;
}

/// The values of a column whose type is `Option<B>` or `B`.
struct TypedRows<B>(Vec<Option<B>>);

impl<B: SqlType> ColumnRows for TypedRows<B> {
    fn push(&mut self, value: Option<&dyn Any>) -> bool {
        let value = match value {
            None => None,
            // A `B` or an `Option<B>`.
            Some(v) => match Option::<B>::clone_from_any(v) {
                Some(v) => v,
                None => return false,
            },
        };
        self.0.push(value);
        true
    }

    fn finish(self: Box<Self>) -> ColumnArray {
        ColumnArray::of(self.0)
    }
}

/// An empty [`ColumnRows`] of a column of Rust type `T`, with room for `rows` rows (the
/// derive's [`PersistVariant::column_rows`](super::PersistVariant::column_rows)).
pub fn column_rows<T: SqlType>(rows: usize) -> Box<dyn ColumnRows> {
    Box::new(TypedRows::<T::Base>(Vec::with_capacity(rows)))
}
