//! Ranges and multiranges against their parts: `@>` and `&&` with a range operand, the
//! `range_agg` aggregate and the `multirange(range)` constructor. (The operators between two
//! values of one type, `@>`, `<@`, `&&` and `-|-`, and `@>` with an element, are
//! [`Expression`] methods.)

use super::aggregate::AggregateExpr;
use super::functions::Base;
use super::kinds::{Containment, RangeType};
use super::{BinOp, Expr, Expression, IntoExpr, Node};

/// The operators of range and multirange expressions ([`Range<T>`](crate::types::Range) and
/// [`Multirange<T>`](crate::types::Multirange) columns) with a range operand.
pub trait RangeExpression: Expression
where
    Base<Self>: RangeType,
{
    /// `self @> range`: the range or multirange contains the whole range (a bare range is cast
    /// to its range type). On a range it is [`contains_all`](Expression::contains_all).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// use orm_core::types::{Multirange, Range};
    /// #[derive(Model, Clone)]
    /// #[model(table = "rooms", crate = "orm_core")]
    /// struct Room { #[model(primary_key)] id: i64, free: Multirange<i32> }
    ///
    /// let q = select::<Room>().filter(Room::free.contains_range(Range::closed_open(9, 12)));
    /// assert!(q.compile().unwrap().sql.ends_with(r#"WHERE "rooms"."free" @> CAST($1 AS INT4RANGE)"#));
    /// ```
    fn contains_range<V>(self, range: V) -> Expr<bool>
    where
        V: IntoExpr<<Base<Self> as RangeType>::Part>,
    {
        with_part(self, BinOp::Contains, range)
    }

    /// `self && range`: the range or multirange shares a value with the range.
    fn overlaps_range<V>(self, range: V) -> Expr<bool>
    where
        V: IntoExpr<<Base<Self> as RangeType>::Part>,
    {
        with_part(self, BinOp::Overlaps, range)
    }
}

impl<E: Expression> RangeExpression for E where Base<E>: RangeType {}

fn with_part<E, V>(e: E, op: BinOp, range: V) -> Expr<bool>
where
    E: Expression,
    Base<E>: RangeType,
    V: IntoExpr<<Base<E> as RangeType>::Part>,
{
    let range = <<Base<E> as RangeType>::Part as Containment>::operand(range.into_expr_node());
    Expr::new(Node::binary(op, e.into_node(), range))
}

/// `range_agg(e)`: the union of the ranges (or multiranges) as one multirange, `NULL` over no
/// rows (PostgreSQL 14+).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::Booking;
/// let q = select::<Booking>().columns((Booking::room, func::range_agg(Booking::during))).group_by(Booking::room);
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT "bookings"."room", range_agg("bookings"."during") FROM "bookings" GROUP BY "bookings"."room""#);
/// ```
pub fn range_agg<E>(e: E) -> AggregateExpr<Option<<Base<E> as RangeType>::Multi>>
where
    E: Expression,
    Base<E>: RangeType,
{
    AggregateExpr::new("range_agg", [e.into_node()])
}

/// `multirange(e)`: the multirange of one range (PostgreSQL 14+).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::Booking;
/// let q = select::<Booking>().columns(func::multirange(Booking::during));
/// assert_eq!(q.compile().unwrap().sql, r#"SELECT multirange("bookings"."during") FROM "bookings""#);
/// ```
pub fn multirange<E>(e: E) -> Expr<<Base<E> as RangeType>::Multi>
where
    E: Expression,
    Base<E>: RangeType<Part = Base<E>>,
{
    Expr::new(Node::Func("multirange", vec![e.into_node()]))
}
