//! Aggregate calls: `count`, `sum`, `avg`, `min`, `max`, `string_agg`, `array_agg`, `bool_and`,
//! `bool_or`, typed by what the server returns for them (`sum` of an `i32` column is an
//! `Option<i64>`, `NULL` over no rows), with `DISTINCT`, `ORDER BY`, `FILTER` and `OVER`.

use std::fmt;
use std::marker::PhantomData;

use super::functions::Base;
use super::{Aggregate, Expr, Expression, IntoExpr, Node, OrderBy, Over};
use crate::types::{ArrayElement, Interval, SqlType};

// ---------------------------------------------------------------------------------------------
// Aggregates
// ---------------------------------------------------------------------------------------------

/// An aggregate call whose result decodes into `T`, made by [`count`], [`sum`], [`avg`],
/// [`min`], [`max`], [`string_agg`], [`array_agg`], [`bool_and`] and friends.
///
/// It is an expression (select it, compare it in `HAVING`, sort by it), and a builder for the
/// parts of an aggregate call: [`distinct`](Self::distinct), [`order_by`](Self::order_by)
/// inside the call, [`filter`](Self::filter) (`FILTER (WHERE ...)`), and [`over`](Self::over)
/// to run it as a window function.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>()
///     .columns((func::count_all(), func::count(User::email).filter(User::name.starts_with("J"))));
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT count(*), count("users"."email") FILTER (WHERE "users"."name" LIKE $1) FROM "users""#
/// );
/// ```
#[must_use = "an aggregate does nothing until it is used in a statement"]
pub struct AggregateExpr<T> {
    call: Aggregate,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for AggregateExpr<T> {
    fn clone(&self) -> Self {
        AggregateExpr {
            call: self.call.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for AggregateExpr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.call.fmt(f)
    }
}

impl<T> AggregateExpr<T> {
    /// An aggregate `name(args)`. `name` is written into the SQL as given: a constant of your
    /// program, never user input. The caller vouches that it returns a `T`.
    pub fn new(name: &'static str, args: impl IntoIterator<Item = Node>) -> Self {
        AggregateExpr {
            call: Aggregate {
                name,
                distinct: false,
                args: args.into_iter().collect(),
                star: false,
                order_by: Vec::new(),
                filter: None,
            },
            _type: PhantomData,
        }
    }

    /// The untyped call.
    pub fn call(&self) -> &Aggregate {
        &self.call
    }

    /// `name(DISTINCT args)`: aggregates distinct values only.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().columns(func::count(Post::user_id).distinct());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(DISTINCT "posts"."user_id") FROM "posts""#);
    /// ```
    pub fn distinct(mut self) -> Self {
        self.call.distinct = true;
        self
    }

    /// `FILTER (WHERE condition)`: aggregates only the rows the condition holds for. Called
    /// twice, the conditions are `AND`ed.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(func::count_all().filter(User::email.is_null()));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) FILTER (WHERE "users"."email" IS NULL) FROM "users""#);
    /// ```
    pub fn filter(mut self, condition: impl Into<Expr<bool>>) -> Self {
        let cond = condition.into().into_node();
        self.call.filter = Some(match self.call.filter.take() {
            None => cond,
            Some(prev) => Node::binary(super::BinOp::And, prev, cond),
        });
        self
    }

    /// `ORDER BY` inside the call (`string_agg(x, ',' ORDER BY y)`): the order the values are
    /// aggregated in. Appends to earlier items.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(func::string_agg(User::name, ", ").order_by(User::name));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT string_agg("users"."name", $1 ORDER BY "users"."name") FROM "users""#);
    /// ```
    pub fn order_by(mut self, order: impl Into<OrderBy>) -> Self {
        self.call.order_by.push(order.into());
        self
    }

    /// Runs the aggregate as a window function over `spec` (see [`window`](fn@super::window)):
    /// `sum(x) OVER (PARTITION BY ... ORDER BY ...)`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().columns(func::count_all().over(func::window().partition_by(Post::user_id)));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) OVER (PARTITION BY "posts"."user_id") FROM "posts""#);
    /// ```
    pub fn over(self, spec: Over) -> Expr<T> {
        Expr::new(Node::Window(
            Box::new(Node::Aggregate(Box::new(self.call))),
            Box::new(spec),
        ))
    }

    /// Runs the aggregate over the named window `name` (declared with
    /// [`Select::window`](crate::Select::window)): `sum(x) OVER "w"`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>()
    ///     .columns(func::count_all().over_named("w"))
    ///     .window("w", func::window().partition_by(Post::user_id));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) OVER "w" FROM "posts" WINDOW "w" AS (PARTITION BY "posts"."user_id")"#);
    /// ```
    pub fn over_named(self, name: &'static str) -> Expr<T> {
        self.over(Over::named(name))
    }
}

impl<T: SqlType> Expression for AggregateExpr<T> {
    type Value = T;
    fn into_node(self) -> Node {
        Node::Aggregate(Box::new(self.call))
    }
}

impl<T: SqlType> IntoExpr<T::Base> for AggregateExpr<T> {
    fn into_expr_node(self) -> Node {
        Node::Aggregate(Box::new(self.call))
    }
}

impl<T> From<AggregateExpr<T>> for Expr<T> {
    fn from(a: AggregateExpr<T>) -> Expr<T> {
        Expr::new(Node::Aggregate(Box::new(a.call)))
    }
}

/// `bool_and(x)` / `bool_or(x)` as a `HAVING` condition (`NULL` over no rows counts as false).
impl From<AggregateExpr<Option<bool>>> for Expr<bool> {
    fn from(a: AggregateExpr<Option<bool>>) -> Expr<bool> {
        Expr::<Option<bool>>::from(a).into()
    }
}

impl<T: SqlType> From<AggregateExpr<T>> for OrderBy {
    fn from(a: AggregateExpr<T>) -> OrderBy {
        a.asc()
    }
}

/// `count(e)`: the number of rows where `e` is not `NULL`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::count(User::email));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT count("users"."email") FROM "users""#);
/// ```
pub fn count<E: Expression>(e: E) -> AggregateExpr<i64> {
    AggregateExpr::new("count", [e.into_node()])
}

/// `count(DISTINCT e)`: the number of distinct non-`NULL` values of `e`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::count_distinct(Post::user_id));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(DISTINCT "posts"."user_id") FROM "posts""#);
/// ```
pub fn count_distinct<E: Expression>(e: E) -> AggregateExpr<i64> {
    count(e).distinct()
}

/// `count(*)`: the number of rows. Unlike [`count_star`](super::count_star) it is a builder, so
/// it takes [`filter`](AggregateExpr::filter) and [`over`](AggregateExpr::over).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::count_all());
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) FROM "users""#);
/// ```
pub fn count_all() -> AggregateExpr<i64> {
    let mut a = AggregateExpr::new("count", []);
    a.call.star = true;
    a
}

/// A type `sum` accepts, and what the server's `sum` of it returns.
///
/// | input | `sum` | `avg` ([`Averageable`]) |
/// |---|---|---|
/// | `i16`, `i32` | `i64` (`bigint`) | `Decimal` (`numeric`) |
/// | `i64` | `Decimal` (`numeric`) | `Decimal` |
/// | `f32` | `f32` (`real`) | `f64` (`double precision`) |
/// | `f64` | `f64` | `f64` |
/// | `Decimal` | `Decimal` | `Decimal` |
/// | `BigNumeric` | `BigNumeric` | `BigNumeric` |
/// | [`Interval`] | `Interval` | `Interval` |
/// | [`Money`](crate::types::Money) | `Money` | (none) |
///
/// The `Decimal` rows need the `decimal` feature, the `BigNumeric` row the `bigdecimal` feature.
#[diagnostic::on_unimplemented(
    message = "`sum` is not defined for `{Self}`",
    label = "not an integer, float, numeric or interval expression",
    note = "`sum` takes i16, i32, i64 (with the `decimal` feature), f32, f64, Decimal, BigNumeric (with the `bigdecimal` feature), Interval and Money expressions"
)]
pub trait Summable: SqlType {
    /// The type of the sum (wrapped in `Option`: the sum over no rows is `NULL`).
    type Sum: SqlType;
}

/// A type `avg` accepts, and what the server's `avg` of it returns; see [`Summable`].
#[diagnostic::on_unimplemented(
    message = "`avg` is not defined for `{Self}`",
    label = "not an integer, float, numeric or interval expression",
    note = "`avg` takes i16, i32, i64 and Decimal (with the `decimal` feature), BigNumeric (with the `bigdecimal` feature), f32, f64 and Interval expressions"
)]
pub trait Averageable: SqlType {
    /// The type of the average (wrapped in `Option`: the average over no rows is `NULL`).
    type Avg: SqlType;
}

macro_rules! aggregate_types {
    ($trait:ident $assoc:ident: $($ty:ty => $out:ty),* $(,)?) => {$(
        impl $trait for $ty {
            type $assoc = $out;
        }
    )*};
}

aggregate_types!(Summable Sum: i16 => i64, i32 => i64, f32 => f32, f64 => f64, Interval => Interval, crate::types::Money => crate::types::Money);
aggregate_types!(Averageable Avg: f32 => f64, f64 => f64, Interval => Interval);

#[cfg(feature = "bigdecimal")]
aggregate_types!(Summable Sum: crate::types::BigNumeric => crate::types::BigNumeric);
#[cfg(feature = "bigdecimal")]
aggregate_types!(Averageable Avg: crate::types::BigNumeric => crate::types::BigNumeric);

#[cfg(feature = "decimal")]
aggregate_types!(Summable Sum:
    i64 => rust_decimal::Decimal,
    rust_decimal::Decimal => rust_decimal::Decimal,
);

#[cfg(feature = "decimal")]
aggregate_types!(Averageable Avg:
    i16 => rust_decimal::Decimal,
    i32 => rust_decimal::Decimal,
    i64 => rust_decimal::Decimal,
    rust_decimal::Decimal => rust_decimal::Decimal,
);

/// `sum(e)`, typed by the server's result for `e`'s type ([`Summable`]): `Option<i64>` for
/// `i16`/`i32`, `Option<Decimal>` for `i64` and `Decimal`, `Option<f32>`/`Option<f64>` for
/// floats. `None` when there are no non-`NULL` values.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>().columns(func::sum(User::id)); // rows decode into Option<Decimal>
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT sum("users"."id") FROM "users""#);
/// ```
pub fn sum<E>(e: E) -> AggregateExpr<Option<<Base<E> as Summable>::Sum>>
where
    E: Expression,
    Base<E>: Summable,
{
    AggregateExpr::new("sum", [e.into_node()])
}

/// `avg(e)`, typed by the server's result ([`Averageable`]): `Option<Decimal>` for integers and
/// `Decimal`, `Option<f64>` for floats.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::avg(Post::id.cast::<f64>()));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT avg(CAST("posts"."id" AS DOUBLE PRECISION)) FROM "posts""#);
/// ```
pub fn avg<E>(e: E) -> AggregateExpr<Option<<Base<E> as Averageable>::Avg>>
where
    E: Expression,
    Base<E>: Averageable,
{
    AggregateExpr::new("avg", [e.into_node()])
}

/// `min(e)`: the smallest non-`NULL` value, `None` when there is none.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::min(User::name));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT min("users"."name") FROM "users""#);
/// ```
pub fn min<E: Expression>(e: E) -> AggregateExpr<Option<Base<E>>> {
    AggregateExpr::new("min", [e.into_node()])
}

/// `max(e)`: the largest non-`NULL` value, `None` when there is none.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::max(User::id));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT max("users"."id") FROM "users""#);
/// ```
pub fn max<E: Expression>(e: E) -> AggregateExpr<Option<Base<E>>> {
    AggregateExpr::new("max", [e.into_node()])
}

/// `string_agg(e, separator)`: the non-`NULL` values joined with `separator`; sort them with
/// [`order_by`](AggregateExpr::order_by).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>().columns(func::string_agg(User::name, ", ").order_by(User::name));
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT string_agg("users"."name", $1 ORDER BY "users"."name") FROM "users""#
/// );
/// ```
pub fn string_agg<E, S>(e: E, separator: S) -> AggregateExpr<Option<String>>
where
    E: Expression,
    E::Value: SqlType<Base = String>,
    S: IntoExpr<String>,
{
    AggregateExpr::new("string_agg", [e.into_node(), separator.into_expr_node()])
}

/// `array_agg(e)`: the values as an array, in [`order_by`](AggregateExpr::order_by) order.
///
/// `NULL` values are collected too and fail to decode into `Vec<T>`: on a nullable column,
/// [`filter`](AggregateExpr::filter) them out (`.filter(col.is_not_null())`).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns((Post::user_id, func::array_agg(Post::title))).group_by(Post::user_id);
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."user_id", array_agg("posts"."title") FROM "posts" GROUP BY "posts"."user_id""#);
/// ```
pub fn array_agg<E>(e: E) -> AggregateExpr<Option<Vec<Base<E>>>>
where
    E: Expression,
    Base<E>: ArrayElement,
{
    AggregateExpr::new("array_agg", [e.into_node()])
}

/// `bool_and(e)`: whether `e` is true for every non-`NULL` row.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::bool_and(User::email.is_null()));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT bool_and("users"."email" IS NULL) FROM "users""#);
/// ```
pub fn bool_and<E>(e: E) -> AggregateExpr<Option<bool>>
where
    E: Expression,
    E::Value: SqlType<Base = bool>,
{
    AggregateExpr::new("bool_and", [e.into_node()])
}

/// `bool_or(e)`: whether `e` is true for any non-`NULL` row.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::bool_or(User::email.is_null()));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT bool_or("users"."email" IS NULL) FROM "users""#);
/// ```
pub fn bool_or<E>(e: E) -> AggregateExpr<Option<bool>>
where
    E: Expression,
    E::Value: SqlType<Base = bool>,
{
    AggregateExpr::new("bool_or", [e.into_node()])
}
