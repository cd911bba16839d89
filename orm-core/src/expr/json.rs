//! JSONB and array operators and functions.
//!
//! The JSONB operators are the methods of [`JsonExpression`] (in the prelude), available on
//! `JSONB` expressions (`serde_json::Value` or [`Json<T>`](crate::types::Json)): `.get(key)`,
//! `.get_text(key)`, `.path(..)`, `.contains_json(v)`, `.has_key(k)`. The array operators are
//! methods of [`Expression`]: `.contains_all(v)`, `.contained_by(v)`, `.overlaps(v)`,
//! `.has_element(x)` on arrays (`Vec<T>`). [`array_length`] and [`cardinality`] are functions.
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
#[cfg(feature = "json")]
use super::kinds::{self, JsonType, get, get_index};
#[cfg(feature = "json")]
use super::ops::compare;
#[cfg(feature = "json")]
use super::{BinOp, IntoExpr};
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

/// The operators of `JSONB` expressions (`serde_json::Value` and [`Json<T>`](crate::types::Json)
/// columns and expressions).
#[cfg(feature = "json")]
pub trait JsonExpression: Expression
where
    Base<Self>: JsonType,
{
    /// `self -> key`: the JSONB object's field `key` (`None` when missing or not an object).
    fn get<K: IntoExpr<String>>(self, key: K) -> Expr<Option<serde_json::Value>> {
        Expr::new(get(self.into_node(), key.into_expr_node()))
    }

    /// `self -> index`: the JSONB array's element `index` (from 0; negative counts from the
    /// end). The index is sent as `CAST($n AS INTEGER)`.
    fn get_index<I: IntoExpr<i32>>(self, index: I) -> Expr<Option<serde_json::Value>> {
        Expr::new(get_index(self.into_node(), index.into_expr_node()))
    }

    /// `self ->> key`: the JSONB object's field `key` as text (a string without its quotes).
    fn get_text<K: IntoExpr<String>>(self, key: K) -> Expr<Option<String>> {
        Expr::new(Node::binary(
            BinOp::JsonGetText,
            self.into_node(),
            key.into_expr_node(),
        ))
    }

    /// `self #> path`: the JSONB value at a path of keys and array indexes (`["a", "0"]`), sent
    /// as one `text[]` parameter.
    fn path<I, S>(self, path: I) -> Expr<Option<serde_json::Value>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Expr::new(kinds::path(BinOp::JsonPath, self.into_node(), path))
    }

    /// `self #>> path`: the JSONB value at a path, as text.
    fn path_text<I, S>(self, path: I) -> Expr<Option<String>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Expr::new(kinds::path(BinOp::JsonPathText, self.into_node(), path))
    }

    /// `self @> v`: the JSONB document contains `v` (`{"a": 1, "b": 2} @> {"a": 1}`).
    fn contains_json<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::Contains, v)
    }

    /// `self <@ v`: the JSONB document is contained in `v`.
    fn contained_in_json<V: IntoExpr<Base<Self>>>(self, v: V) -> Expr<bool> {
        compare(self, BinOp::ContainedBy, v)
    }

    /// `self ? key`: the JSONB object has the top-level key (or the array has the string).
    fn has_key<K: IntoExpr<String>>(self, key: K) -> Expr<bool> {
        Expr::new(Node::binary(
            BinOp::HasKey,
            self.into_node(),
            key.into_expr_node(),
        ))
    }
}

#[cfg(feature = "json")]
impl<E: Expression> JsonExpression for E where Base<E>: JsonType {}
