//! The [`Model`] trait, implemented by `#[derive(Model)]`.

use std::hash::Hash;

use crate::expr::{BinOp, ColumnRef, Expr, Node, Param};
use crate::meta::Table;
use crate::row::FromRow;

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
    FromRow + crate::row::Decode<Output = Self> + crate::stmt::NullableRow + Sync
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

/// `pk1 = $1 AND pk2 = $2 ...` for a model's key.
pub fn pk_filter<M: Model>(pk: M::Pk) -> Expr<bool> {
    let table = M::TABLE;
    let mut node: Option<Node> = None;
    for (col, value) in table.primary_key().zip(M::pk_params(pk)) {
        let eq = Node::binary(
            BinOp::Eq,
            Node::Column(ColumnRef {
                table: table.name,
                name: col.name,
            }),
            Node::Param(value),
        );
        node = Some(match node {
            None => eq,
            Some(prev) => Node::binary(BinOp::And, prev, eq),
        });
    }
    // A model always has a key: the derive refuses a struct without one.
    Expr::new(node.unwrap_or(Node::Keyword("FALSE")))
}
