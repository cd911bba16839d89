//! PostgreSQL multirange types (PostgreSQL 14+): `int4multirange`, `int8multirange`,
//! `nummultirange`, `tsmultirange`, `tstzmultirange`, `datemultirange`, as one
//! [`Multirange<T>`] over the element type, made of [`Range<T>`]s.

use std::cmp::Ordering;
use std::ops::Bound;

use bytes::{BufMut, BytesMut};
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::{ArrayElement, ColumnType, Range, RangeElement, RangeKind, Retype, SqlType};
use crate::error::BoxError;

/// A set of values of `T` made of ranges: a column of `Multirange<i32>` is an
/// `int4multirange` (see [`RangeElement`] for the other element types).
///
/// The server keeps a multirange in a normal form: each range canonical (see
/// [`Range::canonical`]), empty ranges dropped, the others sorted and overlapping or adjacent
/// ones merged. A multirange is sent as written and read back in that form, which
/// [`normalized`](Self::normalized) predicts: `{[1,3), [3,5), empty}` comes back as `{[1,5)}`.
/// Two multiranges are the same set of values when their normal forms are equal; `==`
/// compares them as written. A range the server refuses (bounds out of order, a canonical bound
/// past the type's end) is the server's typed error: never stored changed.
///
/// ```
/// use std::ops::Bound::{Excluded, Included, Unbounded};
/// use orm_core::types::{Multirange, Range};
///
/// let m = Multirange::from(vec![
///     Range::closed_open(3, 5),
///     Range::new(Included(1), Included(2)),
///     Range::empty(),
/// ]);
/// assert_eq!(m.normalized(), Multirange::from(vec![Range::closed_open(1, 5)]));
/// assert!(m.contains(&4) && !m.contains(&5));
/// assert!(Multirange::<i32>::empty().normalized().is_empty());
/// assert!(Multirange::from(vec![Range::<i64>::new(Unbounded, Excluded(0))]).contains(&i64::MIN));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Multirange<T> {
    ranges: Vec<Range<T>>,
}

impl<T> Multirange<T> {
    /// The multirange of `ranges`, as written (see [`normalized`](Self::normalized)).
    pub fn new(ranges: Vec<Range<T>>) -> Self {
        Multirange { ranges }
    }

    /// The empty multirange (`'{}'`).
    pub fn empty() -> Self {
        Multirange { ranges: Vec::new() }
    }

    /// The ranges, as written (or, read from the server, in its normal form).
    pub fn ranges(&self) -> &[Range<T>] {
        &self.ranges
    }

    /// The ranges, owned.
    pub fn into_ranges(self) -> Vec<Range<T>> {
        self.ranges
    }

    /// Whether no range holds a value (as written: `{empty}` is empty too).
    pub fn is_empty(&self) -> bool {
        self.ranges.iter().all(Range::is_empty)
    }
}

impl<T> From<Vec<Range<T>>> for Multirange<T> {
    fn from(ranges: Vec<Range<T>>) -> Self {
        Multirange::new(ranges)
    }
}

impl<T> From<Range<T>> for Multirange<T> {
    /// The multirange of one range (the server's `multirange(range)`).
    fn from(range: Range<T>) -> Self {
        Multirange::new(vec![range])
    }
}

impl<T> FromIterator<Range<T>> for Multirange<T> {
    fn from_iter<I: IntoIterator<Item = Range<T>>>(iter: I) -> Self {
        Multirange::new(iter.into_iter().collect())
    }
}

impl<T: PartialOrd> Multirange<T> {
    /// Whether `value` lies in one of the ranges (the server's `multirange @> element`).
    pub fn contains(&self, value: &T) -> bool {
        self.ranges.iter().any(|r| r.contains(value))
    }
}

/// Where a bound sits on the line of values: below or above every value when unbounded, else
/// at its value, half a step before (`)` upper, `[` lower is at the value) or after it. Two
/// ranges touch when the second's lower edge is at most half a step past the first's upper.
#[derive(PartialEq, PartialOrd)]
enum Edge<'a, T> {
    Below,
    At(&'a T, i8),
    Above,
}

fn lower_edge<T>(r: &Range<T>) -> Edge<'_, T> {
    match r.lower() {
        Bound::Unbounded => Edge::Below,
        Bound::Included(v) => Edge::At(v, 0),
        Bound::Excluded(v) => Edge::At(v, 1),
    }
}

fn upper_edge<T>(r: &Range<T>) -> Edge<'_, T> {
    match r.upper() {
        Bound::Unbounded => Edge::Above,
        Bound::Included(v) => Edge::At(v, 0),
        Bound::Excluded(v) => Edge::At(v, -1),
    }
}

fn order<T: PartialOrd>(a: &Edge<'_, T>, b: &Edge<'_, T>) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}

/// Whether `next` (starting at or after `prev`) overlaps or is adjacent to `prev`.
fn touches<T: PartialOrd>(prev: &Range<T>, next: &Range<T>) -> bool {
    match (upper_edge(prev), lower_edge(next)) {
        (Edge::At(u, du), Edge::At(l, dl)) if u == l => dl - du <= 1,
        (upper, lower) => order(&lower, &upper) != Ordering::Greater,
    }
}

impl<T: RangeElement + Clone> Multirange<T> {
    /// The form the server stores: each range [canonical](Range::canonical), empty ones
    /// dropped, the rest sorted by lower bound and merged where they overlap or are adjacent
    /// (`[1,3)` and `[3,5)`; `[1.0,2.0]` and `(2.0,3.0)`; not `[1.0,2.0)` and `(2.0,3.0)`,
    /// which leave `2.0` out).
    pub fn normalized(&self) -> Self {
        let mut ranges: Vec<Range<T>> = self
            .ranges
            .iter()
            .map(Range::canonical)
            .filter(|r| !r.is_empty())
            .collect();
        ranges.sort_by(|a, b| {
            order(&lower_edge(a), &lower_edge(b)).then(order(&upper_edge(a), &upper_edge(b)))
        });
        let mut out: Vec<Range<T>> = Vec::with_capacity(ranges.len());
        for next in ranges {
            match out.last_mut() {
                Some(prev) if touches(prev, &next) => {
                    if order(&upper_edge(&next), &upper_edge(prev)) == Ordering::Greater {
                        let Range::Bounded { upper, .. } = next else {
                            continue;
                        };
                        if let Range::Bounded { upper: end, .. } = prev {
                            *end = upper;
                        }
                    }
                }
                _ => out.push(next),
            }
        }
        Multirange { ranges: out }
    }
}

impl RangeKind {
    /// The multirange type's name, as the server prints it (`int4multirange`).
    pub fn multirange_name(self) -> &'static str {
        match self {
            RangeKind::Int4 => "int4multirange",
            RangeKind::Int8 => "int8multirange",
            RangeKind::Num => "nummultirange",
            RangeKind::Ts => "tsmultirange",
            RangeKind::Tstz => "tstzmultirange",
            RangeKind::Date => "datemultirange",
        }
    }

    /// The range type, as the driver names it.
    fn range_type(self) -> Type {
        match self {
            RangeKind::Int4 => Type::INT4_RANGE,
            RangeKind::Int8 => Type::INT8_RANGE,
            RangeKind::Num => Type::NUM_RANGE,
            RangeKind::Ts => Type::TS_RANGE,
            RangeKind::Tstz => Type::TSTZ_RANGE,
            RangeKind::Date => Type::DATE_RANGE,
        }
    }

    fn of_multirange(ty: &Type) -> Option<RangeKind> {
        Some(match *ty {
            Type::INT4MULTI_RANGE => RangeKind::Int4,
            Type::INT8MULTI_RANGE => RangeKind::Int8,
            Type::NUMMULTI_RANGE => RangeKind::Num,
            Type::TSMULTI_RANGE => RangeKind::Ts,
            Type::TSTZMULTI_RANGE => RangeKind::Tstz,
            Type::DATEMULTI_RANGE => RangeKind::Date,
            _ => return None,
        })
    }
}

/// The binary format (`multirange_send`): the number of ranges, then each range as its length
/// and its range binary format, all lengths big-endian `int4`.
impl<T: RangeElement> ToSql for Multirange<T> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let range_type = T::KIND.range_type();
        let count = i32::try_from(self.ranges.len()).map_err(|_| "too many ranges")?;
        out.put_i32(count);
        for range in &self.ranges {
            let at = out.len();
            out.put_i32(0);
            range.to_sql(&range_type, out)?;
            let len = i32::try_from(out.len() - at - 4).map_err(|_| "a range is too long")?;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        RangeKind::of_multirange(ty) == Some(T::KIND)
    }

    to_sql_checked!();
}

/// Reads a big-endian `int4` length off the front of `raw`, refusing a negative one.
fn take_len(raw: &mut &[u8]) -> Result<usize, BoxError> {
    let (head, rest) = raw
        .split_first_chunk::<4>()
        .ok_or("a multirange is cut short")?;
    *raw = rest;
    usize::try_from(i32::from_be_bytes(*head)).map_err(|_| "a multirange length is negative".into())
}

impl<'a, T: RangeElement> FromSql<'a> for Multirange<T> {
    fn from_sql(_: &Type, mut raw: &'a [u8]) -> Result<Self, BoxError> {
        let range_type = T::KIND.range_type();
        let count = take_len(&mut raw)?;
        // Each range takes at least 5 bytes: do not trust the count for the allocation.
        let mut ranges = Vec::with_capacity(count.min(raw.len() / 5));
        for _ in 0..count {
            let len = take_len(&mut raw)?;
            if raw.len() < len {
                return Err("a multirange is cut short".into());
            }
            let (range, rest) = raw.split_at(len);
            ranges.push(Range::<T>::from_sql(&range_type, range)?);
            raw = rest;
        }
        if !raw.is_empty() {
            return Err("a multirange has bytes past its last range".into());
        }
        Ok(Multirange { ranges })
    }

    fn accepts(ty: &Type) -> bool {
        RangeKind::of_multirange(ty) == Some(T::KIND)
    }
}

impl<T: RangeElement + Clone> SqlType for Multirange<T> {
    type Base = Multirange<T>;
    const COLUMN_TYPE: ColumnType = ColumnType::Multirange(T::KIND);
    clone_from_any!();
}

impl<T: RangeElement + Clone> ArrayElement for Multirange<T> {}

impl<T: RangeElement + Clone, B: SqlType> Retype<B> for Multirange<T> {
    type Output = B;
}

#[cfg(test)]
mod tests {
    use super::*;
    use Bound::{Excluded, Included, Unbounded};

    fn round_trip(m: &Multirange<i64>) -> Result<Multirange<i64>, BoxError> {
        let mut out = BytesMut::new();
        m.to_sql(&Type::INT8MULTI_RANGE, &mut out)?;
        Multirange::from_sql(&Type::INT8MULTI_RANGE, &out)
    }

    #[test]
    fn every_shape_round_trips_the_wire_format() {
        for m in [
            Multirange::empty(),
            Multirange::new(vec![Range::Empty]),
            Multirange::new(vec![Range::new(Unbounded, Unbounded)]),
            Multirange::new(vec![
                Range::new(Unbounded, Excluded(0)),
                Range::new(Excluded(-1), Included(i64::MAX)),
                Range::new(Included(i64::MIN), Unbounded),
            ]),
        ] {
            assert_eq!(round_trip(&m).expect("valid"), m);
        }
    }

    #[test]
    fn malformed_input_is_an_error() {
        let ty = &Type::INT4MULTI_RANGE;
        for raw in [
            &[][..],
            &[0, 0, 0, 1][..],
            &[0, 0, 0, 1, 0, 0, 0, 9, 1][..],
            &[0, 0, 0, 0, 7][..],
            &[255, 255, 255, 255][..],
            &[0, 0, 0, 1, 255, 255, 255, 255][..],
        ] {
            assert!(Multirange::<i32>::from_sql(ty, raw).is_err(), "{raw:?}");
        }
        // A huge count with no ranges after it: an error, not a huge allocation.
        assert!(Multirange::<i32>::from_sql(ty, &[127, 255, 255, 255]).is_err());
    }

    #[test]
    fn accepts_only_its_own_multirange_type() {
        assert!(<Multirange<i32> as ToSql>::accepts(&Type::INT4MULTI_RANGE));
        assert!(!<Multirange<i32> as ToSql>::accepts(&Type::INT4_RANGE));
        assert!(!<Multirange<i64> as FromSql>::accepts(
            &Type::INT4MULTI_RANGE
        ));
    }

    #[cfg(feature = "decimal")]
    #[test]
    fn normal_form_merges_as_the_server_does() {
        use rust_decimal::Decimal;
        let m = |r: Vec<Range<f64>>| {
            let d = |b: Bound<f64>| b.map(|v| Decimal::try_from(v).expect("finite"));
            let r = r.into_iter().map(|r| match r {
                Range::Empty => Range::Empty,
                Range::Bounded { lower, upper } => Range::new(d(lower), d(upper)),
            });
            let back = |b: Bound<Decimal>| b.map(|v| f64::try_from(v).expect("fits"));
            r.collect::<Multirange<Decimal>>()
                .normalized()
                .into_ranges()
                .into_iter()
                .map(|r| match r {
                    Range::Empty => Range::Empty,
                    Range::Bounded { lower, upper } => Range::new(back(lower), back(upper)),
                })
                .collect::<Vec<_>>()
        };
        // Touching at 2.0 with one side including it: merged.
        assert_eq!(
            m(vec![
                Range::new(Excluded(2.0), Excluded(3.0)),
                Range::new(Included(1.0), Included(2.0)),
            ]),
            vec![Range::new(Included(1.0), Excluded(3.0))]
        );
        // Both sides leave 2.0 out: two ranges.
        assert_eq!(
            m(vec![
                Range::new(Included(1.0), Excluded(2.0)),
                Range::new(Excluded(2.0), Excluded(3.0)),
            ])
            .len(),
            2
        );
        // A range inside another disappears into it; unbounded ends win.
        assert_eq!(
            m(vec![
                Range::new(Unbounded, Included(5.0)),
                Range::new(Included(1.0), Excluded(2.0)),
                Range::new(Included(4.0), Unbounded),
            ]),
            vec![Range::new(Unbounded, Unbounded)]
        );
    }
}
