//! [`IntoExpr`]: what converts into an expression of a base type (values, references, `Option`s,
//! columns and expressions).

use super::kinds::typed_param_of;
use super::{Column, Expr, Node, param};
use crate::types::{ColumnType, SqlType};

/// A value of `T` as a parameter: cast to its type when the server cannot infer it from the
/// value's place (a composite value compared with a column is a `record` to the server, which
/// cannot read one in binary), else bare. Depends only on `T`, never on the value.
fn value_node<T: SqlType>(value: T) -> Node {
    let node = Node::Param(crate::types::param_of(value));
    match T::COLUMN_TYPE {
        ColumnType::Composite(_) => typed_param_of::<T>(node),
        _ => node,
    }
}

/// A value usable where an expression of base type `B` is expected: a value of type `B` (or a
/// reference to one, or `&str` for text), `Option<B>` (a typed `NULL` when `None`), or a column or
/// expression whose base type is `B`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as an SQL value of type `{B}`",
    label = "expected a `{B}` value, column or expression",
    note = "a column is compared with values, columns and expressions of its own type (for `Option<T>` columns: of `T`)"
)]
pub trait IntoExpr<B> {
    /// Lowers to an untyped node.
    fn into_expr_node(self) -> Node;
}

impl<T: SqlType> IntoExpr<T> for T {
    fn into_expr_node(self) -> Node {
        value_node(self)
    }
}

impl<T: SqlType + Clone> IntoExpr<T> for &T {
    fn into_expr_node(self) -> Node {
        value_node(self.clone())
    }
}

impl IntoExpr<String> for &str {
    fn into_expr_node(self) -> Node {
        Node::Param(param(self.to_owned()))
    }
}

impl<T: SqlType> IntoExpr<T> for Option<T> {
    fn into_expr_node(self) -> Node {
        value_node(self)
    }
}

impl IntoExpr<String> for Option<&str> {
    fn into_expr_node(self) -> Node {
        Node::Param(param(self.map(str::to_owned)))
    }
}

impl<M, T: SqlType, A> IntoExpr<T::Base> for Column<M, T, A> {
    fn into_expr_node(self) -> Node {
        self.node()
    }
}

impl<T: SqlType> IntoExpr<T::Base> for Expr<T> {
    fn into_expr_node(self) -> Node {
        Expr::into_node(self)
    }
}
