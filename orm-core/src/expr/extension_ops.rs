//! The operators of the contrib extensions' types: `hstore` (`->`, `?`, `@>`) and `ltree`
//! (`@>`, `<@`, `~` with an `lquery`), as typed methods. A bare value operand is cast to its
//! type (`CAST($1 AS TEXT)`, `CAST($1 AS "ltree")`): the server has several operators of each
//! name and cannot choose for an untyped parameter.

use std::collections::HashMap;

use super::kinds::{typed_param, typed_param_of};
use super::{BinOp, CastType, Expr, Expression, IntoExpr, Node};
use crate::types::{ColumnType, Ltree, NamedType, SqlType};

/// An `hstore` value: `HashMap<String, Option<String>>`.
type Hstore = HashMap<String, Option<String>>;

/// The operators of `hstore` expressions (`HashMap<String, Option<String>>` columns).
pub trait HstoreExpression: Expression {
    /// `self -> key`: the key's value; `NULL` when the key is missing or its value is.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::Gadget;
    /// let q = select::<Gadget>().filter(Gadget::attrs.get_value("color").eq("red"));
    /// assert!(q.compile().unwrap().sql.ends_with(r#"WHERE ("gadgets"."attrs" -> CAST($1 AS TEXT)) = $2"#));
    /// ```
    fn get_value<K: IntoExpr<String>>(self, key: K) -> Expr<Option<String>> {
        binary(
            BinOp::JsonGet,
            self,
            typed_param_of::<String>(key.into_expr_node()),
        )
    }

    /// `self ? key`: the key is present (with any value, `NULL` too).
    fn holds_key<K: IntoExpr<String>>(self, key: K) -> Expr<bool> {
        binary(
            BinOp::HasKey,
            self,
            typed_param_of::<String>(key.into_expr_node()),
        )
    }

    /// `self @> pairs`: every key of `pairs` is present with the same value.
    fn contains_pairs<V: IntoExpr<Hstore>>(self, pairs: V) -> Expr<bool> {
        binary(
            BinOp::Contains,
            self,
            typed_param_of::<Hstore>(pairs.into_expr_node()),
        )
    }
}

impl<E: Expression> HstoreExpression for E where E::Value: SqlType<Base = Hstore> {}

/// The `lquery` type (a label path pattern such as `*.Science.*`), for casts.
const LQUERY: ColumnType = ColumnType::Named(&NamedType::new("lquery").extension("ltree"));

/// The operators of `ltree` expressions ([`Ltree`] columns).
pub trait LtreeExpression: Expression {
    /// `self @> path`: `self` is an ancestor of `path` (or equal to it).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::Gadget;
    /// let q = select::<Gadget>().filter(Gadget::path.matches_lquery("Top.*"));
    /// assert!(q.compile().unwrap().sql.ends_with(r#"WHERE "gadgets"."path" ~ CAST($1 AS "lquery")"#));
    /// ```
    fn ancestor_of<V: IntoExpr<Ltree>>(self, path: V) -> Expr<bool> {
        binary(
            BinOp::Contains,
            self,
            typed_param_of::<Ltree>(path.into_expr_node()),
        )
    }

    /// `self <@ path`: `self` is a descendant of `path` (or equal to it).
    fn descendant_of<V: IntoExpr<Ltree>>(self, path: V) -> Expr<bool> {
        binary(
            BinOp::ContainedBy,
            self,
            typed_param_of::<Ltree>(path.into_expr_node()),
        )
    }

    /// `self ~ lquery`: the path matches the pattern (`*.Science.*`, `Top.*{1}`, ...). A
    /// pattern the server cannot parse is its error (SQLSTATE 42601).
    fn matches_lquery<Q: IntoExpr<String>>(self, lquery: Q) -> Expr<bool> {
        let pattern = typed_param(lquery.into_expr_node(), CastType::Column(LQUERY));
        binary(BinOp::Match, self, pattern)
    }
}

impl<E: Expression> LtreeExpression for E where E::Value: SqlType<Base = Ltree> {}

fn binary<E: Expression, T>(op: BinOp, e: E, operand: Node) -> Expr<T> {
    Expr::new(Node::binary(op, e.into_node(), operand))
}
