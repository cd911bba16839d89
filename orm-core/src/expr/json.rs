//! JSONB and array operators and functions.
//!
//! The operators are methods of [`Expression`](super::Expression), available on expressions of
//! the right type: `.get(key)`, `.get_text(key)`, `.path(..)`, `.contains_json(v)`,
//! `.has_key(k)` on `JSONB` (`serde_json::Value` or [`Json<T>`](crate::types::Json));
//! `.contains_all(v)`, `.contained_by(v)`, `.overlaps(v)`, `.has_element(x)` on arrays
//! (`Vec<T>`). [`array_length`] and [`cardinality`] are functions.
//!
//! ```
//! use orm_core::prelude::*;
//!
//! let doc = func::value(serde_json::json!({"a": {"b": [1, 2]}}));
//! let q = select_values((doc.clone().get("a").path_text(["b", "0"]), doc.has_key("a")));
//! assert_eq!(
//!     q.compile().unwrap().sql,
//!     "SELECT (CAST($1 AS JSONB) -> $2) #>> $3, CAST($1 AS JSONB) ? $4"
//! );
//! ```

use super::functions::Base;
use super::{BinOp, Expr, Expression, Node, param};
use crate::types::{ArrayElement, Retype, Retyped, SqlType};

/// A `JSONB` type: `serde_json::Value` or [`Json<T>`](crate::types::Json).
#[cfg(feature = "json")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a JSONB type",
    label = "expected a JSONB (`serde_json::Value` or `Json<T>`) expression"
)]
pub trait JsonType: SqlType {}

#[cfg(feature = "json")]
impl JsonType for serde_json::Value {}

#[cfg(feature = "json")]
impl<T> JsonType for crate::types::Json<T> where crate::types::Json<T>: SqlType {}

/// An array type (`Vec<T>`, not `Vec<u8>`, which is `BYTEA`) and its element type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an array type",
    label = "expected an array (`Vec<T>`) expression"
)]
pub trait ArrayType: SqlType {
    /// The element type.
    type Element: SqlType;
}

impl<T: ArrayElement> ArrayType for Vec<T> {
    type Element = T;
}

/// `self -> key`
#[cfg(feature = "json")]
pub(crate) fn get(e: Node, key: Node) -> Node {
    Node::binary(BinOp::JsonGet, e, key)
}

/// `self -> CAST($n AS INTEGER)`: the cast makes the server read an array index, not a key.
#[cfg(feature = "json")]
pub(crate) fn get_index(e: Node, index: Node) -> Node {
    Node::binary(
        BinOp::JsonGet,
        e,
        super::functions::typed_param_of::<i32>(index),
    )
}

/// `self op $n` with a path as one `text[]` parameter.
#[cfg(feature = "json")]
pub(crate) fn path<I, S>(op: BinOp, e: Node, path: I) -> Node
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let path: Vec<String> = path.into_iter().map(|s| s.as_ref().to_owned()).collect();
    Node::binary(op, e, Node::Param(param(path)))
}

/// `value = ANY(array)`
pub(crate) fn has_element(array: Node, value: Node) -> Node {
    Node::Quantified {
        expr: Box::new(value),
        op: BinOp::Eq,
        array: Box::new(array),
        all: false,
    }
}

/// `array_length(e, dimension)`: the length along a dimension (from 1). `None` for an empty
/// array, as on the server.
pub fn array_length<E>(e: E, dimension: i32) -> Expr<Option<i32>>
where
    E: Expression,
    Base<E>: ArrayType,
{
    Expr::new(Node::Func(
        "array_length",
        vec![e.into_node(), Node::Param(param(dimension))],
    ))
}

/// `cardinality(e)`: the number of elements (0 for an empty array).
pub fn cardinality<E>(e: E) -> Expr<Retyped<E::Value, i32>>
where
    E: Expression,
    Base<E>: ArrayType,
    E::Value: Retype<i32>,
{
    Expr::new(Node::Func("cardinality", vec![e.into_node()]))
}
