//! [`ColumnArray`]: one column's values over many rows, as the parameters of a multi-row
//! statement (`INSERT … SELECT … FROM unnest(...)`, the flush's `UPDATE … FROM unnest(...)`).
//!
//! A column of a plain type travels as one array. A column that is itself an array cannot:
//! PostgreSQL arrays do not nest (`unnest` of a `text[][]` flattens it, and a `text[][]` must
//! be rectangular). Its arrays travel flattened instead, as three arrays whose shape is
//! independent of the rows: each row's length (`NULL` for a `NULL` array), the row number of
//! each element, and the elements; the statement puts each row's array back together with
//! `array_agg(... ORDER BY position)` grouped by row. So the SQL text is the same for any
//! number of rows and any array lengths, and no statement has more than a few parameters.

use std::sync::Arc;

use super::{ArrayElement, Param, SqlType};

/// One column's values over many rows, as statement parameters: see the module docs.
#[derive(Clone)]
pub enum ColumnArray {
    /// One array of the column's values (`$1::int8[]`).
    Flat(Param),
    /// The column's arrays, flattened.
    Nested {
        /// Each row's array length, `NULL` for a `NULL` array (`int4[]`).
        lengths: Param,
        /// The row number (1-based) of each element (`int8[]`).
        owners: Param,
        /// Every row's elements, in row order (`element[]`).
        elements: Param,
    },
}

impl std::fmt::Debug for ColumnArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ColumnArray::Flat(_) => "ColumnArray::Flat",
            ColumnArray::Nested { .. } => "ColumnArray::Nested",
        })
    }
}

impl ColumnArray {
    /// The values of a column of type `T` over rows, as [`SqlType::column_array`] arranges
    /// them.
    pub fn of<T: SqlType>(values: Vec<T>) -> ColumnArray {
        T::column_array(values)
    }

    /// Whether the arrays are flattened.
    pub fn is_nested(&self) -> bool {
        matches!(self, ColumnArray::Nested { .. })
    }

    /// The single array of a [`Flat`](ColumnArray::Flat) column.
    pub fn flat(self) -> Option<Param> {
        match self {
            ColumnArray::Flat(p) => Some(p),
            ColumnArray::Nested { .. } => None,
        }
    }
}

/// Flattens rows of arrays (`None` a `NULL` array) into a [`ColumnArray::Nested`].
pub(crate) fn nest<T: ArrayElement>(rows: Vec<Option<Vec<T>>>) -> ColumnArray {
    let mut lengths: Vec<Option<i32>> = Vec::with_capacity(rows.len());
    let mut owners: Vec<i64> = Vec::new();
    let mut elements: Vec<T> = Vec::new();
    for (row, value) in (1i64..).zip(rows) {
        match value {
            None => lengths.push(None),
            Some(items) => {
                // Only whether it is NULL matters to the statement; a length past i32 is
                // beyond what PostgreSQL stores in one array anyway.
                lengths.push(Some(i32::try_from(items.len()).unwrap_or(i32::MAX)));
                owners.extend(std::iter::repeat_n(row, items.len()));
                elements.extend(items);
            }
        }
    }
    ColumnArray::Nested {
        lengths: Arc::new(lengths),
        owners: Arc::new(owners),
        elements: super::param_of(elements),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_columns_are_one_array_and_array_columns_are_flattened() {
        assert!(!ColumnArray::of(vec![1i32, 2]).is_nested());
        assert!(!ColumnArray::of(vec![Some(1i32), None]).is_nested());
        assert!(ColumnArray::of(vec![vec![1i32], vec![]]).is_nested());
        assert!(ColumnArray::of(vec![Some(vec![Some(1i32)]), None]).is_nested());
        assert!(
            ColumnArray::of(vec![vec![1u8, 2]]).flat().is_some(),
            "bytea"
        );
    }

    #[test]
    fn flattening_keeps_rows_lengths_and_nulls() {
        let ColumnArray::Nested {
            lengths,
            owners,
            elements,
        } = nest(vec![
            Some(vec![Some("a".to_owned()), None]),
            None,
            Some(vec![]),
            Some(vec![Some("b".to_owned())]),
        ])
        else {
            panic!("not nested");
        };
        let text = |p: &Param| format!("{p:?}");
        assert_eq!(text(&lengths), "[Some(2), None, Some(0), Some(1)]");
        assert_eq!(text(&owners), "[1, 1, 4]");
        assert_eq!(text(&elements), r#"[Some("a"), None, Some("b")]"#);
    }
}
