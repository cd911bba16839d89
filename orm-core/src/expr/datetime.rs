//! Dates, times and intervals: `date_trunc`, `EXTRACT`, interval arithmetic, `age`, `now()`.
//!
//! Field names (`'month'`, `YEAR`) come from the fixed [`DatePart`] and [`ExtractField`] sets and
//! are written into the SQL as literals, never taken from user text; values are parameters.
//!
//! Typing: `date_trunc` keeps its input's type (a `DATE` is truncated through `TIMESTAMP` and
//! cast back, where the server would return a `TIMESTAMPTZ`); [`extract`] returns the server's
//! `numeric` (PostgreSQL 14 and later) as `Decimal`, exact even for `EPOCH` with microseconds,
//! and [`date_part`] the `double precision` of the older function; `date + interval` is a
//! `TIMESTAMP`, as on the server.

use super::functions::Base;
use super::kinds::typed_param_of;
use super::{CastType, Expr, Expression, IntoExpr, Node};
use crate::types::{ColumnType, Interval, Retype, Retyped, SqlType};

/// A unit both `date_trunc` and `EXTRACT` know. (More fields for `EXTRACT` only, such as the day
/// of the week, are in [`ExtractField`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatePart {
    /// Microseconds.
    Microseconds,
    /// Milliseconds.
    Milliseconds,
    /// Second. (`EXTRACT` includes the fractional part.)
    Second,
    /// Minute.
    Minute,
    /// Hour.
    Hour,
    /// Day (of the month, for `EXTRACT`).
    Day,
    /// ISO 8601 week (starting on Monday).
    Week,
    /// Month.
    Month,
    /// Quarter.
    Quarter,
    /// Year.
    Year,
    /// Decade.
    Decade,
    /// Century.
    Century,
    /// Millennium.
    Millennium,
}

impl DatePart {
    /// The unit as `date_trunc` takes it, an SQL string literal: `'month'`.
    pub fn trunc_literal(self) -> &'static str {
        match self {
            DatePart::Microseconds => "'microseconds'",
            DatePart::Milliseconds => "'milliseconds'",
            DatePart::Second => "'second'",
            DatePart::Minute => "'minute'",
            DatePart::Hour => "'hour'",
            DatePart::Day => "'day'",
            DatePart::Week => "'week'",
            DatePart::Month => "'month'",
            DatePart::Quarter => "'quarter'",
            DatePart::Year => "'year'",
            DatePart::Decade => "'decade'",
            DatePart::Century => "'century'",
            DatePart::Millennium => "'millennium'",
        }
    }
}

/// A field `EXTRACT` and [`date_part`] read: any [`DatePart`], or one of the fields only they
/// know. `DatePart`s convert into it, so `extract(DatePart::Year, ...)` works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtractField {
    /// A unit `date_trunc` knows too.
    Part(DatePart),
    /// Day of the week, Sunday = 0 (`DOW`).
    DayOfWeek,
    /// ISO day of the week, Monday = 1 to Sunday = 7 (`ISODOW`).
    IsoDayOfWeek,
    /// Day of the year, from 1 (`DOY`).
    DayOfYear,
    /// Seconds since 1970-01-01 00:00 UTC, or an interval's total seconds (`EPOCH`).
    Epoch,
    /// The ISO 8601 week-numbering year (`ISOYEAR`).
    IsoYear,
    /// The Julian day (`JULIAN`).
    Julian,
}

impl From<DatePart> for ExtractField {
    fn from(p: DatePart) -> ExtractField {
        ExtractField::Part(p)
    }
}

impl ExtractField {
    /// The field as `EXTRACT` takes it, a keyword: `YEAR`.
    pub fn keyword(self) -> &'static str {
        match self {
            ExtractField::Part(p) => match p {
                DatePart::Microseconds => "MICROSECONDS",
                DatePart::Milliseconds => "MILLISECONDS",
                DatePart::Second => "SECOND",
                DatePart::Minute => "MINUTE",
                DatePart::Hour => "HOUR",
                DatePart::Day => "DAY",
                DatePart::Week => "WEEK",
                DatePart::Month => "MONTH",
                DatePart::Quarter => "QUARTER",
                DatePart::Year => "YEAR",
                DatePart::Decade => "DECADE",
                DatePart::Century => "CENTURY",
                DatePart::Millennium => "MILLENNIUM",
            },
            ExtractField::DayOfWeek => "DOW",
            ExtractField::IsoDayOfWeek => "ISODOW",
            ExtractField::DayOfYear => "DOY",
            ExtractField::Epoch => "EPOCH",
            ExtractField::IsoYear => "ISOYEAR",
            ExtractField::Julian => "JULIAN",
        }
    }

    /// The field as `date_part` takes it, an SQL string literal: `'year'`.
    pub fn literal(self) -> &'static str {
        match self {
            ExtractField::Part(p) => p.trunc_literal(),
            ExtractField::DayOfWeek => "'dow'",
            ExtractField::IsoDayOfWeek => "'isodow'",
            ExtractField::DayOfYear => "'doy'",
            ExtractField::Epoch => "'epoch'",
            ExtractField::IsoYear => "'isoyear'",
            ExtractField::Julian => "'julian'",
        }
    }
}

/// A date, time, timestamp or interval type: what `EXTRACT` reads.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a date, time, timestamp or interval type",
    label = "expected a date, time, timestamp or interval expression"
)]
pub trait Temporal: SqlType {}

/// A type `date_trunc` truncates, keeping the type.
#[diagnostic::on_unimplemented(
    message = "`date_trunc` is not defined for `{Self}`",
    label = "expected a date, timestamp or interval expression"
)]
pub trait Truncatable: Temporal {
    /// Truncated through `TIMESTAMP` and cast back (for `DATE`, which the server would
    /// otherwise truncate into a `TIMESTAMPTZ`).
    const THROUGH_TIMESTAMP: bool = false;
}

/// A type `age` takes: dates and timestamps.
#[diagnostic::on_unimplemented(
    message = "`age` is not defined for `{Self}`",
    label = "expected a date or timestamp expression"
)]
pub trait Aged: SqlType {}

impl Temporal for Interval {}
impl Truncatable for Interval {}

#[cfg(feature = "chrono")]
mod chrono_impls {
    use super::{Aged, Temporal, Truncatable};
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

    impl Temporal for NaiveDate {}
    impl Temporal for NaiveTime {}
    impl Temporal for NaiveDateTime {}
    impl Temporal for DateTime<Utc> {}
    impl Truncatable for NaiveDate {
        const THROUGH_TIMESTAMP: bool = true;
    }
    impl Truncatable for NaiveDateTime {}
    impl Truncatable for DateTime<Utc> {}
    impl Aged for NaiveDate {}
    impl Aged for NaiveDateTime {}
    impl Aged for DateTime<Utc> {}

    // The same SQL types, their infinities included.
    use crate::types::{Infinite, MaybeInfinite};
    impl<T: Infinite + Temporal> Temporal for MaybeInfinite<T> {}
    impl<T: Infinite + Truncatable> Truncatable for MaybeInfinite<T> {
        const THROUGH_TIMESTAMP: bool = T::THROUGH_TIMESTAMP;
    }
    impl<T: Infinite + Aged> Aged for MaybeInfinite<T> {}
}

/// `date_trunc('field', e)`: `e` truncated to the unit, of `e`'s type. A `DATE` is truncated as
/// `CAST(date_trunc('month', CAST(e AS TIMESTAMP)) AS DATE)`. A `TIMESTAMPTZ` is truncated in the
/// session's time zone.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let month = func::date_trunc(func::DatePart::Month, func::value(Interval::days(40)));
/// let q = select::<User>().columns(month);
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT date_trunc('month', CAST($1 AS INTERVAL)) FROM "users""#
/// );
/// ```
pub fn date_trunc<E>(field: DatePart, e: E) -> Expr<E::Value>
where
    E: Expression,
    Base<E>: Truncatable,
{
    let field = Node::Keyword(field.trunc_literal());
    let e = e.into_node();
    Expr::new(if <Base<E> as Truncatable>::THROUGH_TIMESTAMP {
        Node::Cast(
            Box::new(Node::Func(
                "date_trunc",
                vec![
                    field,
                    Node::Cast(Box::new(e), CastType::Column(ColumnType::Timestamp)),
                ],
            )),
            CastType::Column(ColumnType::Date),
        )
    } else {
        Node::Func("date_trunc", vec![field, e])
    })
}

/// `EXTRACT(FIELD FROM e)`, the server's exact `numeric` (PostgreSQL 14 and later) as a
/// `Decimal`. Cast it for an integer: `extract(DatePart::Year, d).cast::<i32>()`.
///
/// ```
/// use orm_core::prelude::*;
///
/// let q = select_values(func::extract(func::DatePart::Year, func::value(Interval::months(30))));
/// assert_eq!(q.compile().unwrap().sql, "SELECT EXTRACT(YEAR FROM CAST($1 AS INTERVAL))");
/// ```
#[cfg(feature = "decimal")]
pub fn extract<E>(
    field: impl Into<ExtractField>,
    e: E,
) -> Expr<Retyped<E::Value, rust_decimal::Decimal>>
where
    E: Expression,
    Base<E>: Temporal,
    E::Value: Retype<rust_decimal::Decimal>,
{
    Expr::new(Node::Extract(
        field.into().keyword(),
        Box::new(e.into_node()),
    ))
}

/// `date_part('field', e)`: the field as `double precision` (no `decimal` feature needed;
/// inexact for `EPOCH` with microseconds).
pub fn date_part<E>(field: impl Into<ExtractField>, e: E) -> Expr<Retyped<E::Value, f64>>
where
    E: Expression,
    Base<E>: Temporal,
    E::Value: Retype<f64>,
{
    Expr::new(Node::Func(
        "date_part",
        vec![Node::Keyword(field.into().literal()), e.into_node()],
    ))
}

/// `age(a, b)`: `a - b` as an interval in years, months and days (rather than days only).
pub fn age<E, V>(a: E, b: V) -> Expr<Retyped<E::Value, Interval>>
where
    E: Expression,
    Base<E>: Aged,
    E::Value: Retype<Interval>,
    V: IntoExpr<Base<E>>,
{
    Expr::new(Node::Func(
        "age",
        vec![a.into_node(), typed_param_of::<Base<E>>(b.into_expr_node())],
    ))
}

/// `now()`: the start of the current transaction.
#[cfg(feature = "chrono")]
pub fn now() -> Expr<chrono::DateTime<chrono::Utc>> {
    Expr::new(Node::Func("now", Vec::new()))
}

/// `CURRENT_DATE`: today, in the session's time zone.
#[cfg(feature = "chrono")]
pub fn current_date() -> Expr<chrono::NaiveDate> {
    Expr::new(Node::Keyword("CURRENT_DATE"))
}
