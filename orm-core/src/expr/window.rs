//! Window functions and window specifications.
//!
//! A window function (`row_number()`, `rank()`, `lag(...)`, ...) is a [`WindowFunc`], which is
//! not an expression: it becomes one only with [`over`](WindowFunc::over), so forgetting the
//! `OVER` clause does not compile. Aggregates run as window functions through
//! [`AggregateExpr::over`](super::AggregateExpr::over).
//!
//! ```
//! use orm_core::prelude::*;
//! # use orm_core::__doc_fixture::User;
//!
//! let running = func::sum(User::id).over(
//!     func::window()
//!         .partition_by(User::name)
//!         .order_by(User::id)
//!         .rows_between(func::unbounded_preceding(), func::current_row()),
//! );
//! let position = func::row_number().over(func::window().order_by(User::id));
//! let q = select::<User>().columns((User::id, position, running));
//! assert_eq!(
//!     q.compile().unwrap().sql,
//!     r#"SELECT "users"."id", row_number() OVER (ORDER BY "users"."id"), sum("users"."id") OVER (PARTITION BY "users"."name" ORDER BY "users"."id" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM "users""#
//! );
//! ```

use std::fmt;
use std::marker::PhantomData;

use super::functions::Base;
use super::{
    CastType, Expr, Expression, Frame, FrameBound, FrameUnits, IntoExpr, Node, OrderBy, Over, param,
};
use crate::types::SqlType;

/// A window function call whose result decodes into `T`. Not an expression until
/// [`over`](Self::over) (or [`over_named`](Self::over_named)) gives it its window.
#[must_use = "a window function needs .over(func::window()...) or .over_named(name)"]
pub struct WindowFunc<T> {
    call: Node,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for WindowFunc<T> {
    fn clone(&self) -> Self {
        WindowFunc {
            call: self.call.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for WindowFunc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WindowFunc").field(&self.call).finish()
    }
}

impl<T> WindowFunc<T> {
    /// A window function `name(args)`. `name` is written into the SQL as given: a constant of
    /// your program, never user input. The caller vouches that it returns a `T`.
    pub fn new(name: &'static str, args: impl IntoIterator<Item = Node>) -> Self {
        WindowFunc {
            call: Node::Func(name, args.into_iter().collect()),
            _type: PhantomData,
        }
    }

    /// `call OVER (spec)`; build `spec` with [`window`].
    pub fn over(self, spec: Over) -> Expr<T> {
        Expr::new(Node::Window(Box::new(self.call), Box::new(spec)))
    }

    /// `call OVER "name"`: the window declared with [`Select::window`](crate::Select::window).
    pub fn over_named(self, name: &'static str) -> Expr<T> {
        self.over(Over::named(name))
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Never implemented: the bound of the impls that make a [`WindowFunc`] without its `OVER`
/// clause fail to compile with a message saying so (where an expression, a selection or an
/// `ORDER BY` item is expected). Call [`over`](WindowFunc::over) instead.
#[diagnostic::on_unimplemented(
    message = "a window function needs `.over(...)` before it is an expression",
    label = "add `.over(func::window()...)` or `.over_named(\"w\")` to this call",
    note = "`func::row_number()`, `func::rank()`, `func::lag(..)`, ... are computed over a window: `func::row_number().over(func::window().order_by(col))`"
)]
pub trait WindowSpecified: sealed::Sealed {}

impl<T: SqlType> Expression for WindowFunc<T>
where
    WindowFunc<T>: WindowSpecified,
{
    type Value = T;
    fn into_node(self) -> Node {
        self.call
    }
}

impl<T: SqlType> From<WindowFunc<T>> for OrderBy
where
    WindowFunc<T>: WindowSpecified,
{
    fn from(f: WindowFunc<T>) -> OrderBy {
        OrderBy::from_node(f.call)
    }
}

/// `row_number()`: the row's number in its partition, from 1.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns((Post::id, func::row_number().over(func::window().order_by(Post::id))));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."id", row_number() OVER (ORDER BY "posts"."id") FROM "posts""#);
/// ```
pub fn row_number() -> WindowFunc<i64> {
    WindowFunc::new("row_number", [])
}

/// `rank()`: the row's rank with gaps (peers share a rank).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::rank().over(func::window().partition_by(Post::user_id).order_by(Post::id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT rank() OVER (PARTITION BY "posts"."user_id" ORDER BY "posts"."id") FROM "posts""#);
/// ```
pub fn rank() -> WindowFunc<i64> {
    WindowFunc::new("rank", [])
}

/// `dense_rank()`: the row's rank without gaps.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::dense_rank().over(func::window().order_by(Post::user_id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT dense_rank() OVER (ORDER BY "posts"."user_id") FROM "posts""#);
/// ```
pub fn dense_rank() -> WindowFunc<i64> {
    WindowFunc::new("dense_rank", [])
}

/// `percent_rank()`: `(rank - 1) / (rows - 1)`, from 0 to 1.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::percent_rank().over(func::window().order_by(Post::id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT percent_rank() OVER (ORDER BY "posts"."id") FROM "posts""#);
/// ```
pub fn percent_rank() -> WindowFunc<f64> {
    WindowFunc::new("percent_rank", [])
}

/// `cume_dist()`: the fraction of rows before or peer with this one.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::cume_dist().over(func::window().order_by(Post::id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT cume_dist() OVER (ORDER BY "posts"."id") FROM "posts""#);
/// ```
pub fn cume_dist() -> WindowFunc<f64> {
    WindowFunc::new("cume_dist", [])
}

/// `ntile(buckets)`: the bucket, from 1 to `buckets`, dividing the partition as evenly as
/// possible.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::ntile(4).over(func::window().order_by(Post::id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT ntile($1) OVER (ORDER BY "posts"."id") FROM "posts""#);
/// ```
pub fn ntile(buckets: i32) -> WindowFunc<i32> {
    WindowFunc::new("ntile", [Node::Param(param(buckets))])
}

/// `lag(e, offset, default)`: `e` at the row `offset` rows before this one in the partition, or
/// `default` when there is none. `None` when that value (or the default) is `NULL`; for no
/// default pass a typed `None` (`None::<i32>`).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::lag(Post::title, 1, None::<String>).over(func::window().order_by(Post::id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT lag("posts"."title", $1, $2) OVER (ORDER BY "posts"."id") FROM "posts""#);
/// ```
pub fn lag<E, D>(e: E, offset: i32, default: D) -> WindowFunc<Option<Base<E>>>
where
    E: Expression,
    D: IntoExpr<Base<E>>,
{
    WindowFunc::new(
        "lag",
        [
            e.into_node(),
            Node::Param(param(offset)),
            default.into_expr_node(),
        ],
    )
}

/// `lead(e, offset, default)`: like [`lag`], `offset` rows after this one.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::lead(Post::title, 1, None::<String>).over(func::window().order_by(Post::id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT lead("posts"."title", $1, $2) OVER (ORDER BY "posts"."id") FROM "posts""#);
/// ```
pub fn lead<E, D>(e: E, offset: i32, default: D) -> WindowFunc<Option<Base<E>>>
where
    E: Expression,
    D: IntoExpr<Base<E>>,
{
    WindowFunc::new(
        "lead",
        [
            e.into_node(),
            Node::Param(param(offset)),
            default.into_expr_node(),
        ],
    )
}

/// `first_value(e)`: `e` at the first row of the window frame (`None` for an empty frame or a
/// `NULL` value).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::first_value(Post::title).over(func::window().partition_by(Post::user_id).order_by(Post::id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT first_value("posts"."title") OVER (PARTITION BY "posts"."user_id" ORDER BY "posts"."id") FROM "posts""#);
/// ```
pub fn first_value<E: Expression>(e: E) -> WindowFunc<Option<Base<E>>> {
    WindowFunc::new("first_value", [e.into_node()])
}

/// `last_value(e)`: `e` at the last row of the window frame. With the default frame that is the
/// current row's last peer: use `rows_between(.., unbounded_following())` for the partition's
/// last row.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::last_value(Post::title).over(func::window().order_by(Post::id).rows_between(func::unbounded_preceding(), func::unbounded_following())));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT last_value("posts"."title") OVER (ORDER BY "posts"."id" ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM "posts""#);
/// ```
pub fn last_value<E: Expression>(e: E) -> WindowFunc<Option<Base<E>>> {
    WindowFunc::new("last_value", [e.into_node()])
}

/// `nth_value(e, n)`: `e` at the `n`th row (from 1) of the window frame.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<Post>().columns(func::nth_value(Post::title, 2).over(func::window().order_by(Post::id)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT nth_value("posts"."title", $1) OVER (ORDER BY "posts"."id") FROM "posts""#);
/// ```
pub fn nth_value<E: Expression>(e: E, n: i32) -> WindowFunc<Option<Base<E>>> {
    WindowFunc::new("nth_value", [e.into_node(), Node::Param(param(n))])
}

/// An empty window specification, `OVER ()`: the whole result is one partition. Add
/// [`partition_by`](Over::partition_by), [`order_by`](Over::order_by) and a frame
/// ([`rows_between`](Over::rows_between), ...).
pub fn window() -> Over {
    Over::default()
}

/// One or more expressions: a column, an expression, or a tuple (up to 8) of them. Used by
/// [`Over::partition_by`].
pub trait ExprList {
    /// Appends the expressions.
    fn push_expr_nodes(self, out: &mut Vec<Node>);
}

impl<E: Expression> ExprList for E {
    fn push_expr_nodes(self, out: &mut Vec<Node>) {
        out.push(self.into_node());
    }
}

macro_rules! expr_list {
    ($($name:ident $idx:tt)+) => {
        impl<$($name: Expression),+> ExprList for ($($name,)+) {
            fn push_expr_nodes(self, out: &mut Vec<Node>) {
                $(out.push(self.$idx.into_node());)+
            }
        }
    };
}

expr_list!(A 0);
expr_list!(A 0 B 1);
expr_list!(A 0 B 1 C 2);
expr_list!(A 0 B 1 C 2 D 3);
expr_list!(A 0 B 1 C 2 D 3 E 4);
expr_list!(A 0 B 1 C 2 D 3 E 4 F 5);
expr_list!(A 0 B 1 C 2 D 3 E 4 F 5 G 6);
expr_list!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7);

impl Over {
    /// A window based on the named window `name` (`OVER ("name" ...)`), declared with
    /// [`Select::window`](crate::Select::window); add an order or frame the named one lacks.
    pub fn named(name: &'static str) -> Over {
        Over {
            name: Some(name),
            ..Over::default()
        }
    }

    /// `PARTITION BY keys` (a column, an expression or a tuple); appends to earlier keys.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().columns(func::count_all().over(func::window().partition_by((Post::user_id, Post::title))));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) OVER (PARTITION BY "posts"."user_id", "posts"."title") FROM "posts""#);
    /// ```
    pub fn partition_by<K: ExprList>(mut self, keys: K) -> Over {
        keys.push_expr_nodes(&mut self.partition_by);
        self
    }

    /// Appends an `ORDER BY` item (a column or expression sorts ascending).
    pub fn order_by(mut self, order: impl Into<OrderBy>) -> Over {
        self.order_by.push(order.into());
        self
    }

    fn frame(mut self, units: FrameUnits, start: FrameBound, end: Option<FrameBound>) -> Over {
        self.frame = Some(Frame { units, start, end });
        self
    }

    /// `ROWS BETWEEN start AND end`: the frame counted in rows.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let w = func::window().order_by(Post::id).rows_between(func::preceding(2_i64), func::current_row());
    /// let q = select::<Post>().columns(func::count_all().over(w));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) OVER (ORDER BY "posts"."id" ROWS BETWEEN CAST($1 AS BIGINT) PRECEDING AND CURRENT ROW) FROM "posts""#);
    /// ```
    pub fn rows_between(self, start: FrameBound, end: FrameBound) -> Over {
        self.frame(FrameUnits::Rows, start, Some(end))
    }

    /// `RANGE BETWEEN start AND end`: the frame by the ordering value (offsets are in the
    /// ordering column's unit: a number, or an [`Interval`](crate::types::Interval) for dates).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let w = func::window().order_by(Post::id).range_between(func::unbounded_preceding(), func::current_row());
    /// let q = select::<Post>().columns(func::count_all().over(w));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) OVER (ORDER BY "posts"."id" RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM "posts""#);
    /// ```
    pub fn range_between(self, start: FrameBound, end: FrameBound) -> Over {
        self.frame(FrameUnits::Range, start, Some(end))
    }

    /// `GROUPS BETWEEN start AND end`: the frame counted in peer groups.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let w = func::window().order_by(Post::user_id).groups_between(func::current_row(), func::following(1_i64));
    /// let q = select::<Post>().columns(func::count_all().over(w));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) OVER (ORDER BY "posts"."user_id" GROUPS BETWEEN CURRENT ROW AND CAST($1 AS BIGINT) FOLLOWING) FROM "posts""#);
    /// ```
    pub fn groups_between(self, start: FrameBound, end: FrameBound) -> Over {
        self.frame(FrameUnits::Groups, start, Some(end))
    }

    /// `ROWS start` (the frame ends at the current row).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let w = func::window().order_by(Post::id).rows(func::preceding(3_i64));
    /// let q = select::<Post>().columns(func::count_all().over(w));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) OVER (ORDER BY "posts"."id" ROWS CAST($1 AS BIGINT) PRECEDING) FROM "posts""#);
    /// ```
    pub fn rows(self, start: FrameBound) -> Over {
        self.frame(FrameUnits::Rows, start, None)
    }

    /// `RANGE start` (the frame ends at the current row's last peer).
    pub fn range(self, start: FrameBound) -> Over {
        self.frame(FrameUnits::Range, start, None)
    }
}

/// `UNBOUNDED PRECEDING`: the partition's first row.
pub fn unbounded_preceding() -> FrameBound {
    FrameBound::UnboundedPreceding
}

/// `CURRENT ROW` (in `RANGE` and `GROUPS` mode: the current row's first or last peer).
pub fn current_row() -> FrameBound {
    FrameBound::CurrentRow
}

/// `UNBOUNDED FOLLOWING`: the partition's last row.
pub fn unbounded_following() -> FrameBound {
    FrameBound::UnboundedFollowing
}

fn offset<V: SqlType<Base = V>>(v: V) -> Box<Node> {
    // Cast, so the server need not guess the offset's type from the frame mode and ordering
    // column (it cannot choose among `integer`, `bigint` and `smallint` offsets for `RANGE`).
    Box::new(Node::Cast(
        Box::new(Node::Param(param(v))),
        CastType::Column(V::COLUMN_TYPE),
    ))
}

/// `offset PRECEDING`: a number of rows or groups (`ROWS`, `GROUPS`; any integer type), or a
/// distance in the ordering value (`RANGE`: a number, an
/// [`Interval`](crate::types::Interval) for dates and times). Sent as a parameter cast to its
/// type.
pub fn preceding<V: SqlType<Base = V>>(offset_value: V) -> FrameBound {
    FrameBound::Preceding(offset(offset_value))
}

/// `offset FOLLOWING`; see [`preceding`].
pub fn following<V: SqlType<Base = V>>(offset_value: V) -> FrameBound {
    FrameBound::Following(offset(offset_value))
}
