//! PostgreSQL range types: `int4range`, `int8range`, `numrange`, `tsrange`, `tstzrange`,
//! `daterange`, as one [`Range<T>`] over the element type.

use std::ops::Bound;

use bytes::BytesMut;
use postgres_protocol::types::{self as wire, RangeBound};
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::{ArrayElement, Checked, ColumnType, Retype, SqlType};
use crate::error::BoxError;

/// A range of `T`: empty, or from a lower to an upper [`Bound`] (each included, excluded or
/// absent). A column of `Range<i32>` is an `int4range`; see [`RangeElement`] for the others.
///
/// The server keeps discrete ranges (`int4range`, `int8range`, `daterange`) in canonical form,
/// `[lower, upper)`: `[1, 5]` reads back as `[1, 6)`, and `[5, 5)` as empty. The same set of
/// values, written differently; [`Range::canonical`] gives the form the server will return.
/// A range whose canonical upper bound does not fit the type (`[1, 2147483647]` as an
/// `int4range`), or whose lower bound is above its upper, is refused by the server with a
/// typed database error: never stored changed.
///
/// ```
/// use std::ops::Bound::{Excluded, Included, Unbounded};
/// use orm_core::types::Range;
///
/// let r = Range::new(Included(1), Included(5));
/// assert_eq!(r.canonical(), Range::new(Included(1), Excluded(6)));
/// assert!(r.contains(&5) && !r.contains(&6));
/// assert!(Range::new(Included(5), Excluded(5)).canonical().is_empty());
/// assert!(Range::<i32>::new(Unbounded, Excluded(0)).contains(&i32::MIN));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Range<T> {
    /// `'empty'`: holds no value.
    Empty,
    /// The values between two bounds.
    Bounded {
        /// The lower bound.
        lower: Bound<T>,
        /// The upper bound.
        upper: Bound<T>,
    },
}

impl<T> Range<T> {
    /// The range between `lower` and `upper`.
    pub fn new(lower: Bound<T>, upper: Bound<T>) -> Self {
        Range::Bounded { lower, upper }
    }

    /// The empty range.
    pub fn empty() -> Self {
        Range::Empty
    }

    /// `[lower, upper)`: the most common form, and the server's canonical one.
    pub fn closed_open(lower: T, upper: T) -> Self {
        Range::new(Bound::Included(lower), Bound::Excluded(upper))
    }

    /// Whether this is the empty range (as written: see [`canonical`](Self::canonical)).
    pub fn is_empty(&self) -> bool {
        matches!(self, Range::Empty)
    }

    /// The lower bound (`Unbounded` for an empty range).
    pub fn lower(&self) -> Bound<&T> {
        match self {
            Range::Empty => Bound::Unbounded,
            Range::Bounded { lower, .. } => lower.as_ref(),
        }
    }

    /// The upper bound (`Unbounded` for an empty range).
    pub fn upper(&self) -> Bound<&T> {
        match self {
            Range::Empty => Bound::Unbounded,
            Range::Bounded { upper, .. } => upper.as_ref(),
        }
    }
}

impl<T: PartialOrd> Range<T> {
    /// Whether `value` lies in the range (the server's `range @> element`).
    pub fn contains(&self, value: &T) -> bool {
        let above = match self.lower() {
            Bound::Included(l) => value >= l,
            Bound::Excluded(l) => value > l,
            Bound::Unbounded => true,
        };
        let below = match self.upper() {
            Bound::Included(u) => value <= u,
            Bound::Excluded(u) => value < u,
            Bound::Unbounded => true,
        };
        !self.is_empty() && above && below
    }
}

impl<T: RangeElement + Clone> Range<T> {
    /// The form the server stores: for discrete element types, bounds `[lower, upper)` (an
    /// excluded lower bound moves up one step, an included upper bound too) and empty when
    /// nothing lies between them; other ranges only become empty when their bounds meet with
    /// one excluded. A step past the type's end leaves the bound as written (the server
    /// refuses that range).
    pub fn canonical(&self) -> Self {
        let Range::Bounded { lower, upper } = self else {
            return Range::Empty;
        };
        let step = |b: &Bound<T>, up: bool| match b {
            Bound::Excluded(v) if !up => T::successor(v).map_or(b.clone(), Bound::Included),
            Bound::Included(v) if up => T::successor(v).map_or(b.clone(), Bound::Excluded),
            other => other.clone(),
        };
        let (lower, upper) = if T::DISCRETE {
            (step(lower, false), step(upper, true))
        } else {
            (lower.clone(), upper.clone())
        };
        let empty = match (&lower, &upper) {
            (Bound::Included(l), Bound::Included(u)) => l > u,
            (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
            | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
            _ => false,
        };
        if empty {
            Range::Empty
        } else {
            Range::Bounded { lower, upper }
        }
    }
}

/// The SQL range type over an element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeKind {
    /// `int4range` (of `INTEGER`)
    Int4,
    /// `int8range` (of `BIGINT`)
    Int8,
    /// `numrange` (of `NUMERIC`)
    Num,
    /// `tsrange` (of `TIMESTAMP`)
    Ts,
    /// `tstzrange` (of `TIMESTAMPTZ`)
    Tstz,
    /// `daterange` (of `DATE`)
    Date,
}

impl RangeKind {
    /// The type's name, as the server prints it (`int4range`).
    pub fn name(self) -> &'static str {
        match self {
            RangeKind::Int4 => "int4range",
            RangeKind::Int8 => "int8range",
            RangeKind::Num => "numrange",
            RangeKind::Ts => "tsrange",
            RangeKind::Tstz => "tstzrange",
            RangeKind::Date => "daterange",
        }
    }

    fn of(ty: &Type) -> Option<RangeKind> {
        Some(match *ty {
            Type::INT4_RANGE => RangeKind::Int4,
            Type::INT8_RANGE => RangeKind::Int8,
            Type::NUM_RANGE => RangeKind::Num,
            Type::TS_RANGE => RangeKind::Ts,
            Type::TSTZ_RANGE => RangeKind::Tstz,
            Type::DATE_RANGE => RangeKind::Date,
            _ => return None,
        })
    }
}

/// A type that is the element of a built-in range type: `i32` (`int4range`), `i64`
/// (`int8range`), `rust_decimal::Decimal` and `BigNumeric` (`numrange`), chrono's
/// `NaiveDateTime` (`tsrange`), `DateTime<Utc>` (`tstzrange`) and `NaiveDate` (`daterange`), and
/// [`MaybeInfinite`](super::MaybeInfinite) of the last three (bounds at `±infinity`).
pub trait RangeElement: SqlType<Base = Self> + PartialOrd {
    /// The range type.
    const KIND: RangeKind;
    /// Whether the server canonicalizes the range to `[lower, upper)`.
    const DISCRETE: bool = false;
    /// The next value, for discrete types (`None` past the end, or for continuous types).
    fn successor(value: &Self) -> Option<Self> {
        let _ = value;
        None
    }
}

impl RangeElement for i32 {
    const KIND: RangeKind = RangeKind::Int4;
    const DISCRETE: bool = true;
    fn successor(value: &Self) -> Option<Self> {
        value.checked_add(1)
    }
}

impl RangeElement for i64 {
    const KIND: RangeKind = RangeKind::Int8;
    const DISCRETE: bool = true;
    fn successor(value: &Self) -> Option<Self> {
        value.checked_add(1)
    }
}

#[cfg(feature = "decimal")]
impl RangeElement for rust_decimal::Decimal {
    const KIND: RangeKind = RangeKind::Num;
}

#[cfg(feature = "bigdecimal")]
impl RangeElement for super::BigNumeric {
    const KIND: RangeKind = RangeKind::Num;
}

#[cfg(feature = "chrono")]
mod chrono_elements {
    use super::{RangeElement, RangeKind};
    use crate::types::MaybeInfinite;
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

    impl RangeElement for NaiveDate {
        const KIND: RangeKind = RangeKind::Date;
        const DISCRETE: bool = true;
        fn successor(value: &Self) -> Option<Self> {
            value.succ_opt()
        }
    }
    impl RangeElement for NaiveDateTime {
        const KIND: RangeKind = RangeKind::Ts;
    }
    impl RangeElement for DateTime<Utc> {
        const KIND: RangeKind = RangeKind::Tstz;
    }
    impl RangeElement for MaybeInfinite<NaiveDate> {
        const KIND: RangeKind = RangeKind::Date;
        const DISCRETE: bool = true;
        fn successor(value: &Self) -> Option<Self> {
            match value {
                MaybeInfinite::Finite(d) => d.succ_opt().map(MaybeInfinite::Finite),
                _ => None,
            }
        }
    }
    impl RangeElement for MaybeInfinite<NaiveDateTime> {
        const KIND: RangeKind = RangeKind::Ts;
    }
    impl RangeElement for MaybeInfinite<DateTime<Utc>> {
        const KIND: RangeKind = RangeKind::Tstz;
    }
}

/// The element type of a range type: `Type::INT4` for `int4range`.
fn element_type(ty: &Type) -> &Type {
    match ty.kind() {
        postgres_types::Kind::Range(element) => element,
        _ => ty,
    }
}

impl<T: RangeElement> ToSql for Range<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let Range::Bounded { lower, upper } = self else {
            wire::empty_range_to_sql(out);
            return Ok(IsNull::No);
        };
        let element = element_type(ty);
        // The driver's `IsNull` and the protocol's are two types.
        let null = |n: IsNull| match n {
            IsNull::Yes => postgres_protocol::IsNull::Yes,
            IsNull::No => postgres_protocol::IsNull::No,
        };
        let bound = |b: &Bound<T>,
                     out: &mut BytesMut|
         -> Result<RangeBound<postgres_protocol::IsNull>, BoxError> {
            Ok(match b {
                Bound::Included(v) => RangeBound::Inclusive(null(v.to_sql(element, out)?)),
                Bound::Excluded(v) => RangeBound::Exclusive(null(v.to_sql(element, out)?)),
                Bound::Unbounded => RangeBound::Unbounded,
            })
        };
        wire::range_to_sql(|out| bound(lower, out), |out| bound(upper, out), out)?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        RangeKind::of(ty) == Some(T::KIND)
    }

    to_sql_checked!();
}

impl<'a, T: RangeElement> FromSql<'a> for Range<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let element = element_type(ty);
        let bound = |b: RangeBound<Option<&'a [u8]>>| -> Result<Bound<T>, BoxError> {
            let value = |v: Option<&'a [u8]>| -> Result<T, BoxError> {
                let v = v.ok_or("a range bound is NULL")?;
                Ok(Checked::<T>::from_sql(element, v)?.0)
            };
            Ok(match b {
                RangeBound::Inclusive(v) => Bound::Included(value(v)?),
                RangeBound::Exclusive(v) => Bound::Excluded(value(v)?),
                RangeBound::Unbounded => Bound::Unbounded,
            })
        };
        Ok(match wire::range_from_sql(raw)? {
            wire::Range::Empty => Range::Empty,
            wire::Range::Nonempty(lower, upper) => Range::Bounded {
                lower: bound(lower)?,
                upper: bound(upper)?,
            },
        })
    }

    fn accepts(ty: &Type) -> bool {
        RangeKind::of(ty) == Some(T::KIND)
    }
}

impl<T: RangeElement + Clone> SqlType for Range<T> {
    type Base = Range<T>;
    const COLUMN_TYPE: ColumnType = ColumnType::Range(T::KIND);
    clone_from_any!();
}

impl<T: RangeElement + Clone> ArrayElement for Range<T> {}

impl<T: RangeElement + Clone, B: SqlType> Retype<B> for Range<T> {
    type Output = B;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode<T: RangeElement>(r: &Range<T>, ty: &Type) -> BytesMut {
        let mut out = BytesMut::new();
        r.to_sql(ty, &mut out).expect("valid");
        out
    }

    #[test]
    fn every_bound_shape_round_trips_the_wire_format() {
        use Bound::{Excluded, Included, Unbounded};
        let cases = [
            Range::Empty,
            Range::new(Unbounded, Unbounded),
            Range::new(Included(i64::MIN), Excluded(i64::MAX)),
            Range::new(Excluded(-1), Included(1)),
            Range::new(Unbounded, Included(0)),
        ];
        for r in cases {
            let raw = encode(&r, &Type::INT8_RANGE);
            let back = Range::<i64>::from_sql(&Type::INT8_RANGE, &raw).expect("valid");
            assert_eq!(back, r);
        }
    }

    #[test]
    fn accepts_only_its_own_range_type() {
        assert!(<Range<i32> as ToSql>::accepts(&Type::INT4_RANGE));
        assert!(!<Range<i32> as ToSql>::accepts(&Type::INT8_RANGE));
        assert!(!<Range<i64> as FromSql>::accepts(&Type::INT8));
    }

    #[test]
    fn canonical_form_is_the_servers() {
        use Bound::{Excluded, Included, Unbounded};
        assert_eq!(
            Range::new(Excluded(1), Included(5)).canonical(),
            Range::new(Included(2), Excluded(6))
        );
        assert_eq!(
            Range::new(Included(3), Excluded(3)).canonical(),
            Range::Empty
        );
        assert_eq!(
            Range::new(Unbounded, Included(i32::MAX)).canonical(),
            Range::new(Unbounded, Included(i32::MAX))
        );
    }
}
