//! Ordering by an expression: `ORDER BY` items from columns and expressions (ascending by
//! default), and the free functions [`asc`] and [`desc`].

use super::{Column, Expr, Expression, OrderBy};
use crate::types::SqlType;

impl<M, T: SqlType, A> From<Column<M, T, A>> for OrderBy {
    fn from(c: Column<M, T, A>) -> Self {
        c.asc()
    }
}

impl<T: SqlType> From<Expr<T>> for OrderBy {
    fn from(e: Expr<T>) -> Self {
        e.asc()
    }
}

/// Ascending order of an expression.
pub fn asc<E: Expression>(e: E) -> OrderBy {
    e.asc()
}

/// Descending order of an expression.
pub fn desc<E: Expression>(e: E) -> OrderBy {
    e.desc()
}
