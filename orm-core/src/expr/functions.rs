//! Conditional and scalar functions (`coalesce`, `nullif`, `greatest`, `least`, text functions);
//! aggregates are in `aggregate.rs`, `CASE` in `case.rs`.
//!
//! Every function here and there is typed by what the server returns for it, so a result decodes into the
//! Rust type the expression says: `sum` of an `i32` column is an `Option<i64>` (the server's
//! `bigint`, `NULL` over no rows), `count` an `i64`, `length` of a nullable text an
//! `Option<i32>`. Values are bound parameters; where the server could not infer a parameter's
//! type from its position (a `CASE` branch, a variadic argument) the parameter is cast to the
//! type the Rust value has, so the SQL text still depends only on the expression's shape.

use super::kinds::typed_param_of;
use super::{Expr, Expression, IntoExpr, Node};
use crate::types::{Retype, Retyped, SqlType};

/// The base type of an expression's value.
pub(crate) type Base<E> = <<E as Expression>::Value as SqlType>::Base;

// ---------------------------------------------------------------------------------------------
// Conditional functions
// ---------------------------------------------------------------------------------------------

/// `name(first, ..., next)`, appending to `first` when it already is a call of `name`:
/// `coalesce(coalesce(a, b), c)` is `coalesce(a, b, c)` (the same value).
fn variadic(name: &'static str, first: Node, next: Node) -> Node {
    match first {
        Node::Func(n, mut args) if n == name => {
            args.push(next);
            Node::Func(name, args)
        }
        other => Node::Func(name, vec![other, next]),
    }
}

/// `coalesce(value, fallback)`: `value` unless it is `NULL`, else `fallback`. Typed as the base
/// type, so `coalesce(User::email, "none")` is an `Expr<String>`: the fallback is expected not to
/// be `NULL`. Nest calls for more arguments: `coalesce(coalesce(a, b), c)` compiles to
/// `coalesce(a, b, c)`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>().columns(func::coalesce(User::email, "none"));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT coalesce("users"."email", $1) FROM "users""#);
/// ```
pub fn coalesce<E, V>(value: E, fallback: V) -> Expr<Base<E>>
where
    E: Expression,
    V: IntoExpr<Base<E>>,
{
    Expr::new(variadic(
        "coalesce",
        value.into_node(),
        fallback.into_expr_node(),
    ))
}

/// `nullif(value, other)`: `NULL` when `value = other`, else `value`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::nullif(User::name, ""));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT nullif("users"."name", $1) FROM "users""#);
/// ```
pub fn nullif<E, V>(value: E, other: V) -> Expr<Option<Base<E>>>
where
    E: Expression,
    V: IntoExpr<Base<E>>,
{
    Expr::new(Node::Func(
        "nullif",
        vec![value.into_node(), other.into_expr_node()],
    ))
}

/// `greatest(a, b)`: the larger, ignoring `NULL`s (so `NULL` only when both are). Nest for more:
/// `greatest(greatest(a, b), c)` compiles to `greatest(a, b, c)`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::greatest(User::id, 10));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT greatest("users"."id", $1) FROM "users""#);
/// ```
pub fn greatest<E, V>(a: E, b: V) -> Expr<E::Value>
where
    E: Expression,
    V: IntoExpr<Base<E>>,
{
    Expr::new(variadic("greatest", a.into_node(), b.into_expr_node()))
}

/// `least(a, b)`: the smaller, ignoring `NULL`s. Nests like [`greatest`].
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::least(User::id, 10));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT least("users"."id", $1) FROM "users""#);
/// ```
pub fn least<E, V>(a: E, b: V) -> Expr<E::Value>
where
    E: Expression,
    V: IntoExpr<Base<E>>,
{
    Expr::new(variadic("least", a.into_node(), b.into_expr_node()))
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/// `lower(e)`: lower case.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().filter(func::lower(User::name).eq("jane"));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE lower("users"."name") = $1"#);
/// ```
pub fn lower<E>(e: E) -> Expr<E::Value>
where
    E: Expression,
    E::Value: SqlType<Base = String>,
{
    Expr::new(Node::Func("lower", vec![e.into_node()]))
}

/// `upper(e)`: upper case.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::upper(User::name));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT upper("users"."name") FROM "users""#);
/// ```
pub fn upper<E>(e: E) -> Expr<E::Value>
where
    E: Expression,
    E::Value: SqlType<Base = String>,
{
    Expr::new(Node::Func("upper", vec![e.into_node()]))
}

/// `btrim(e)`: without leading and trailing spaces.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::trim(User::name));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT btrim("users"."name") FROM "users""#);
/// ```
pub fn trim<E>(e: E) -> Expr<E::Value>
where
    E: Expression,
    E::Value: SqlType<Base = String>,
{
    Expr::new(Node::Func("btrim", vec![e.into_node()]))
}

/// `length(e)`: the number of characters (`NULL` for `NULL`).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().filter(func::length(User::name).gt(3));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE length("users"."name") > $1"#);
/// ```
pub fn length<E>(e: E) -> Expr<Retyped<E::Value, i32>>
where
    E: Expression,
    E::Value: SqlType<Base = String> + Retype<i32>,
{
    Expr::new(Node::Func("length", vec![e.into_node()]))
}

/// `substr(e, from, len)`: `len` characters starting at character `from` (1-based), the
/// standard `SUBSTRING(e FROM from FOR len)`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::substring(User::name, 1, 3));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT substr("users"."name", $1, $2) FROM "users""#);
/// ```
pub fn substring<E>(e: E, from: i32, len: i32) -> Expr<E::Value>
where
    E: Expression,
    E::Value: SqlType<Base = String>,
{
    Expr::new(Node::Func(
        "substr",
        vec![
            e.into_node(),
            Node::Param(super::param(from)),
            Node::Param(super::param(len)),
        ],
    ))
}

/// Text arguments of [`concat_ws`]: a tuple (of up to 8) of text values, columns and expressions.
pub trait TextList {
    /// Appends the arguments, bare parameters cast to `TEXT`.
    fn push_text_nodes(self, out: &mut Vec<Node>);
}

macro_rules! text_list {
    ($($name:ident $idx:tt)+) => {
        impl<$($name: IntoExpr<String>),+> TextList for ($($name,)+) {
            fn push_text_nodes(self, out: &mut Vec<Node>) {
                $(out.push(typed_param_of::<String>(self.$idx.into_expr_node()));)+
            }
        }
    };
}

text_list!(A 0);
text_list!(A 0 B 1);
text_list!(A 0 B 1 C 2);
text_list!(A 0 B 1 C 2 D 3);
text_list!(A 0 B 1 C 2 D 3 E 4);
text_list!(A 0 B 1 C 2 D 3 E 4 F 5);
text_list!(A 0 B 1 C 2 D 3 E 4 F 5 G 6);
text_list!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7);

/// `concat_ws(separator, parts...)`: the non-`NULL` parts joined with `separator` (never `NULL`
/// itself). `parts` is a tuple of text values, columns and expressions.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>().columns(func::concat_ws(" ", (User::name, User::email, "!")));
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT concat_ws($1, "users"."name", "users"."email", CAST($2 AS TEXT)) FROM "users""#
/// );
/// ```
pub fn concat_ws<S: IntoExpr<String>, L: TextList>(separator: S, parts: L) -> Expr<String> {
    let mut args = vec![separator.into_expr_node()];
    parts.push_text_nodes(&mut args);
    Expr::new(Node::Func("concat_ws", args))
}
