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
use super::kinds::ArrayType;
use super::{Expr, Expression, Node, param};
use crate::types::{Retype, Retyped};

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
