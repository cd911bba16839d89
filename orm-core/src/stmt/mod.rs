//! Statements: `SELECT`, `INSERT`, `UPDATE`, `DELETE`, as plain data with by-value builders.
//!
//! Each statement knows its output type (what a row decodes into) and compiles through
//! [`Statement::compile`] to SQL text plus parameters.

mod delete;
mod insert;
mod select;
mod update;

pub use delete::{Delete, delete, delete_model};
pub(crate) use insert::InsertSource;
pub use insert::{Insert, insert, insert_many};
pub(crate) use select::FromItem;
pub use select::{Select, SelectCore, exists, select, select_values};
pub use update::{Update, update, update_model};

use crate::compile::CompiledQuery;
use crate::error::Result;
use crate::expr::{Column, Expr, Node};
use crate::row::FromRow;
use crate::types::SqlType;

/// A statement that compiles to SQL and whose rows decode into [`Output`](Statement::Output).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a statement",
    label = "expected a select, insert, update or delete statement"
)]
pub trait Statement {
    /// What each returned row decodes into (`()` for statements without `RETURNING`).
    type Output: FromRow;

    /// Compiles to SQL text with `$n` placeholders and the parameters, in order.
    fn compile(&self) -> Result<CompiledQuery>;
}

impl<S: Statement + ?Sized> Statement for &S {
    type Output = S::Output;
    fn compile(&self) -> Result<CompiledQuery> {
        (**self).compile()
    }
}

/// What a `SELECT` list or `RETURNING` clause can be: a column, an expression, or a tuple of them
/// (up to 12). Its output is the column's type, or the tuple of their types.
pub trait Selection {
    /// The decoded row.
    type Output: FromRow;
    /// Appends the selected expressions.
    fn push_nodes(self, out: &mut Vec<Node>);
}

impl<M, T: SqlType> Selection for Column<M, T> {
    type Output = T;
    fn push_nodes(self, out: &mut Vec<Node>) {
        out.push(self.node());
    }
}

impl<T: SqlType> Selection for Expr<T> {
    type Output = T;
    fn push_nodes(self, out: &mut Vec<Node>) {
        out.push(self.into_node());
    }
}

macro_rules! tuple_selection {
    ($($name:ident $idx:tt)+) => {
        impl<$($name: Selection),+> Selection for ($($name,)+) {
            type Output = ($($name::Output,)+);
            fn push_nodes(self, out: &mut Vec<Node>) {
                $(self.$idx.push_nodes(out);)+
            }
        }
    };
}

tuple_selection!(A 0);
tuple_selection!(A 0 B 1);
tuple_selection!(A 0 B 1 C 2);
tuple_selection!(A 0 B 1 C 2 D 3);
tuple_selection!(A 0 B 1 C 2 D 3 E 4);
tuple_selection!(A 0 B 1 C 2 D 3 E 4 F 5);
tuple_selection!(A 0 B 1 C 2 D 3 E 4 F 5 G 6);
tuple_selection!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7);
tuple_selection!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8);
tuple_selection!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9);
tuple_selection!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10);
tuple_selection!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11);

/// All columns of a model's table, qualified by the table name.
pub(crate) fn model_columns(table: &'static crate::meta::Table) -> Vec<Node> {
    table
        .columns
        .iter()
        .map(|c| {
            Node::Column(crate::expr::ColumnRef {
                table: table.name,
                name: c.name,
            })
        })
        .collect()
}

/// ANDs a new condition onto an optional filter.
pub(crate) fn and_filter(filter: Option<Node>, cond: Expr<bool>) -> Option<Node> {
    Some(match filter {
        None => cond.into_node(),
        Some(prev) => Node::binary(crate::expr::BinOp::And, prev, cond.into_node()),
    })
}
