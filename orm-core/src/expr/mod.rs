//! The expression language.
//!
//! Types live at the edges: [`Column<M, T>`] and [`Expr<T>`] carry the Rust type of their value
//! so comparisons are checked by the compiler, and both lower to an untyped [`Node`] tree that the
//! [compiler](crate::compile) walks. Values are never part of the SQL text: they sit in the tree as
//! [`Param`]s and are sent as bound parameters.

mod aggregate;
mod case;
mod column;
mod composite;
mod conversions;
mod datetime;
mod extension_ops;
mod functions;
pub mod hybrid;
mod json;
mod kinds;
mod ops;
mod ordering;
mod range_ops;
mod text_search;
mod window;

pub use aggregate::{
    AggregateExpr, Averageable, Summable, array_agg, avg, bool_and, bool_or, count, count_all,
    count_distinct, max, min, string_agg, sum,
};
pub use case::{CaseWhen, SimpleCase, SimpleCaseWhen, case, case_when};
pub use column::{Column, access};
pub use composite::CompositeExpression;
pub use conversions::IntoExpr;
#[cfg(feature = "decimal")]
pub use datetime::extract;
pub use datetime::{
    Aged, DatePart, ExtractField, Temporal, Truncatable, age, date_part, date_trunc,
};
#[cfg(feature = "chrono")]
pub use datetime::{current_date, now};
pub use extension_ops::{HstoreExpression, LtreeExpression};
pub use functions::{
    TextList, coalesce, concat_ws, greatest, least, length, lower, nullif, substring, trim, upper,
};
#[cfg(feature = "json")]
pub use json::JsonExpression;
pub use json::{array_length, cardinality};
#[cfg(feature = "json")]
pub use kinds::JsonType;
pub use kinds::{
    Arithmetic, ArrayType, Containment, IntervalArith, Numeric, RangeType, Remainder, Signed,
};
pub use ops::{Expression, SubqueryOf, escape_like};
pub use ordering::{asc, desc};
pub use range_ops::{RangeExpression, multirange, range_agg};
pub use text_search::{
    phraseto_tsquery, plainto_tsquery, to_tsquery, to_tsvector, ts_rank, websearch_to_tsquery,
};
pub use window::{
    ExprList, WindowFunc, WindowSpecified, cume_dist, current_row, dense_rank, first_value,
    following, lag, last_value, lead, nth_value, ntile, percent_rank, preceding, rank, row_number,
    unbounded_following, unbounded_preceding, window,
};

use std::fmt;
use std::marker::PhantomData;

pub use crate::ast::{
    Aggregate, BinOp, Case, CastType, ColumnRef, Frame, FrameBound, FrameUnits, Node, OrderBy,
    Ordering, Over, Param, UnaryOp, param,
};
use crate::types::SqlType;

/// A typed SQL expression whose value decodes into `T`.
///
/// Built from columns, values and operators: `User::age.gt(18)` is an `Expr<bool>`,
/// `count_star()` an `Expr<i64>`. Combine conditions with [`and`](Expr::and) /
/// [`or`](Expr::or) / [`not`](Expr::not) or the `&`, `|` and `!` operators.
pub struct Expr<T> {
    node: Node,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Expr<T> {
    fn clone(&self) -> Self {
        Expr::new(self.node.clone())
    }
}

impl<T> fmt::Debug for Expr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl<T> Expr<T> {
    /// Wraps an untyped node. The caller vouches that it yields a `T`.
    pub fn new(node: Node) -> Self {
        Expr {
            node,
            _type: PhantomData,
        }
    }

    /// The untyped node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Unwraps the untyped node.
    pub fn into_node(self) -> Node {
        self.node
    }
}

impl Expr<bool> {
    /// `self AND other`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::name.eq("Jane").and(User::email.is_null()));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE ("users"."name" = $1) AND ("users"."email" IS NULL)"#);
    /// ```
    pub fn and(self, other: Expr<bool>) -> Expr<bool> {
        Expr::new(Node::binary(BinOp::And, self.node, other.node))
    }

    /// `self OR other`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.lt(10).or(User::id.gt(100)));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE ("users"."id" < $1) OR ("users"."id" > $2)"#);
    /// ```
    pub fn or(self, other: Expr<bool>) -> Expr<bool> {
        Expr::new(Node::binary(BinOp::Or, self.node, other.node))
    }

    /// `NOT self`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::email.is_null().not());
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE NOT ("users"."email" IS NULL)"#);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Expr<bool> {
        Expr::new(Node::unary(UnaryOp::Not, self.node))
    }

    /// `TRUE`: the neutral element of [`all`].
    pub fn true_() -> Expr<bool> {
        Expr::new(Node::Keyword("TRUE"))
    }

    /// `FALSE`: the neutral element of [`any`].
    pub fn false_() -> Expr<bool> {
        Expr::new(Node::Keyword("FALSE"))
    }
}

/// A nullable condition is a condition: in `WHERE`, `HAVING` and `ON`, `NULL` counts as false,
/// as in SQL.
impl From<Expr<Option<bool>>> for Expr<bool> {
    fn from(e: Expr<Option<bool>>) -> Expr<bool> {
        Expr::new(e.into_node())
    }
}

impl std::ops::BitAnd for Expr<bool> {
    type Output = Expr<bool>;
    fn bitand(self, rhs: Expr<bool>) -> Expr<bool> {
        self.and(rhs)
    }
}

impl std::ops::BitOr for Expr<bool> {
    type Output = Expr<bool>;
    fn bitor(self, rhs: Expr<bool>) -> Expr<bool> {
        self.or(rhs)
    }
}

impl std::ops::Not for Expr<bool> {
    type Output = Expr<bool>;
    fn not(self) -> Expr<bool> {
        Expr::not(self)
    }
}

/// All conditions joined with `AND`; `TRUE` when there are none.
///
/// For filters built at run time from optional input.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().filter(func::all([User::id.gt(1), User::name.ne("x")]));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE ("users"."id" > $1) AND ("users"."name" <> $2)"#);
/// ```
pub fn all(conditions: impl IntoIterator<Item = Expr<bool>>) -> Expr<bool> {
    conditions
        .into_iter()
        .reduce(Expr::and)
        .unwrap_or_else(Expr::true_)
}

/// Any of the conditions joined with `OR`; `FALSE` when there are none.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().filter(func::any([User::id.eq(1), User::id.eq(2)]));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE ("users"."id" = $1) OR ("users"."id" = $2)"#);
/// ```
pub fn any(conditions: impl IntoIterator<Item = Expr<bool>>) -> Expr<bool> {
    conditions
        .into_iter()
        .reduce(Expr::or)
        .unwrap_or_else(Expr::false_)
}

/// A call of any server function, typed by what it returns: the escape hatch for functions the
/// builder has no method for. `name` is written into the SQL as given, so it must be a constant
/// of your program, never user input.
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::expr;
///
/// let upper = expr::func::<String>("upper", [func::value("abc".to_string()).into_node()]);
/// let q = select_values(upper);
/// assert_eq!(q.compile().unwrap().sql, "SELECT upper(CAST($1 AS TEXT))");
/// ```
pub fn func<T>(name: &'static str, args: impl IntoIterator<Item = Node>) -> Expr<T> {
    Expr::new(Node::Func(name, args.into_iter().collect()))
}

/// An output column of the query by its name, unqualified: to order a set operation by a
/// label of its first query (`.order_by(output::<String>("kind"))`).
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::expr::output;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>()
///     .columns((User::name, func::label(func::value("user".to_string()), "kind")))
///     .union(select::<User>().columns((User::name, func::value("admin".to_string()))))
///     .order_by(output::<String>("kind").desc());
/// assert!(q.compile().unwrap().sql.ends_with(r#"ORDER BY "kind" DESC"#));
/// ```
pub fn output<T>(name: &'static str) -> Expr<T> {
    Expr::new(Node::Name(name))
}

/// `count(*)`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns(func::count_star());
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT count(*) FROM "users""#);
/// ```
pub fn count_star() -> Expr<i64> {
    Expr::new(Node::CountStar)
}

/// A bound value as an expression, cast to its SQL type (`CAST($1 AS INTEGER)`), so it has a
/// type wherever it stands: in a select list, a `UNION`, a CTE, or on the left of an operator.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().columns((User::id, func::value(1_i32)));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", CAST($1 AS INTEGER) FROM "users""#);
/// ```
pub fn value<T: SqlType>(v: T) -> Expr<T> {
    Expr::new(Node::Cast(
        Box::new(Node::Param(param(v))),
        CastType::Column(T::COLUMN_TYPE),
    ))
}
