//! Aggregates, conditionals and scalar functions.
//!
//! Every function here is typed by what the server returns for it, so a result decodes into the
//! Rust type the expression says: `sum` of an `i32` column is an `Option<i64>` (the server's
//! `bigint`, `NULL` over no rows), `count` an `i64`, `length` of a nullable text an
//! `Option<i32>`. Values are bound parameters; where the server could not infer a parameter's
//! type from its position (a `CASE` branch, a variadic argument) the parameter is cast to the
//! type the Rust value has, so the SQL text still depends only on the expression's shape.

use std::fmt;
use std::marker::PhantomData;

use super::kinds::typed_param_of;
use super::{Aggregate, Case, Expr, Expression, IntoExpr, Node, OrderBy, Over};
use crate::types::{ArrayElement, Interval, Retype, Retyped, SqlType};

/// The base type of an expression's value.
pub(crate) type Base<E> = <<E as Expression>::Value as SqlType>::Base;

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

    /// Runs the aggregate as a window function over `spec` (see [`window`](super::window)):
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

// ---------------------------------------------------------------------------------------------
// CASE
// ---------------------------------------------------------------------------------------------

/// A searched `CASE WHEN ... THEN ... END` whose branches are `R` values; made by
/// [`case_when`]. Finish it with [`otherwise`](Self::otherwise) (`ELSE`, an `Expr<R>`) or
/// [`end`](Self::end) (no `ELSE`: `NULL` when no branch matches, an `Expr<Option<R>>`).
#[must_use = "finish the CASE with .otherwise(value) or .end()"]
pub struct CaseWhen<R> {
    case: Case,
    _type: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for CaseWhen<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.case.fmt(f)
    }
}

impl<R> Clone for CaseWhen<R> {
    fn clone(&self) -> Self {
        CaseWhen {
            case: self.case.clone(),
            _type: PhantomData,
        }
    }
}

/// `CASE WHEN condition THEN value ...`: the first branch of a searched `CASE`. A bare value in
/// a branch is sent as a parameter cast to its type (`CAST($1 AS INTEGER)`), since the server
/// cannot infer it.
///
/// The result is typed by the branches' base type: a branch that can be `NULL` (a nullable
/// column) needs [`end`](CaseWhen::end) or [`Expression::nullable`] to decode safely.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let size = func::case_when(User::id.lt(10), "small")
///     .when(User::id.lt(100), "medium")
///     .otherwise("large");
/// let q = select::<User>().columns(size);
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT CASE WHEN "users"."id" < $1 THEN CAST($2 AS TEXT) WHEN "users"."id" < $3 THEN CAST($4 AS TEXT) ELSE CAST($5 AS TEXT) END FROM "users""#
/// );
/// ```
pub fn case_when<R, V>(condition: impl Into<Expr<bool>>, then: V) -> CaseWhen<R>
where
    R: SqlType,
    V: IntoExpr<R>,
{
    CaseWhen {
        case: Case {
            operand: None,
            whens: Vec::new(),
            else_: None,
        },
        _type: PhantomData,
    }
    .when(condition, then)
}

impl<R: SqlType> CaseWhen<R> {
    /// Another `WHEN condition THEN value` branch.
    pub fn when<V: IntoExpr<R>>(mut self, condition: impl Into<Expr<bool>>, then: V) -> Self {
        self.case.whens.push((
            condition.into().into_node(),
            typed_param_of::<R>(then.into_expr_node()),
        ));
        self
    }

    /// `ELSE value END`.
    pub fn otherwise<V: IntoExpr<R>>(mut self, value: V) -> Expr<R> {
        self.case.else_ = Some(typed_param_of::<R>(value.into_expr_node()));
        Expr::new(Node::Case(Box::new(self.case)))
    }

    /// `END` without `ELSE`: `NULL` when no branch matches.
    pub fn end(self) -> Expr<Option<R>> {
        Expr::new(Node::Case(Box::new(self.case)))
    }
}

/// A simple `CASE operand` before its first branch; made by [`case`].
#[must_use = "add branches with .when(value, result)"]
pub struct SimpleCase<O> {
    operand: Node,
    _type: PhantomData<fn() -> O>,
}

impl<O> fmt::Debug for SimpleCase<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SimpleCase").field(&self.operand).finish()
    }
}

/// A simple `CASE operand WHEN value THEN result ...` with `R` results; finish it like
/// [`CaseWhen`].
#[must_use = "finish the CASE with .otherwise(value) or .end()"]
pub struct SimpleCaseWhen<O, R> {
    case: Case,
    _type: PhantomData<fn() -> (O, R)>,
}

impl<O, R> fmt::Debug for SimpleCaseWhen<O, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.case.fmt(f)
    }
}

/// `CASE operand WHEN value THEN result ...`: compares `operand` with each branch's value (of
/// the operand's type).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let label = func::case(User::id).when(1, "one").when(2, "two").otherwise("many");
/// let q = select::<User>().columns(label);
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT CASE "users"."id" WHEN $1 THEN CAST($2 AS TEXT) WHEN $3 THEN CAST($4 AS TEXT) ELSE CAST($5 AS TEXT) END FROM "users""#
/// );
/// ```
pub fn case<E: Expression>(operand: E) -> SimpleCase<Base<E>> {
    SimpleCase {
        operand: operand.into_node(),
        _type: PhantomData,
    }
}

impl<O: SqlType> SimpleCase<O> {
    /// The first `WHEN value THEN result` branch; it fixes the result type `R`.
    pub fn when<R, W, V>(self, value: W, then: V) -> SimpleCaseWhen<O, R>
    where
        R: SqlType,
        W: IntoExpr<O>,
        V: IntoExpr<R>,
    {
        SimpleCaseWhen {
            case: Case {
                operand: Some(self.operand),
                whens: Vec::new(),
                else_: None,
            },
            _type: PhantomData,
        }
        .when(value, then)
    }
}

impl<O: SqlType, R: SqlType> SimpleCaseWhen<O, R> {
    /// Another `WHEN value THEN result` branch.
    pub fn when<W: IntoExpr<O>, V: IntoExpr<R>>(mut self, value: W, then: V) -> Self {
        self.case.whens.push((
            value.into_expr_node(),
            typed_param_of::<R>(then.into_expr_node()),
        ));
        self
    }

    /// `ELSE value END`.
    pub fn otherwise<V: IntoExpr<R>>(mut self, value: V) -> Expr<R> {
        self.case.else_ = Some(typed_param_of::<R>(value.into_expr_node()));
        Expr::new(Node::Case(Box::new(self.case)))
    }

    /// `END` without `ELSE`: `NULL` when no branch matches.
    pub fn end(self) -> Expr<Option<R>> {
        Expr::new(Node::Case(Box::new(self.case)))
    }
}

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
// Numbers
// ---------------------------------------------------------------------------------------------

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
