//! Dates and timestamps that may be `infinity` or `-infinity`.

use std::fmt;

use bytes::BytesMut;
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::{ArrayElement, ColumnType, SqlType};
use crate::error::BoxError;

/// A `DATE`, `TIMESTAMP` or `TIMESTAMPTZ` that may be `'-infinity'` or `'infinity'`, which
/// PostgreSQL sorts before and after every other value (and so does this type).
///
/// chrono has no infinity: reading one into a plain `NaiveDate` is a decode error that names
/// the column and the value. Declare the field as `MaybeInfinite<NaiveDate>` to read and write
/// them; the column's SQL type stays the same.
///
/// ```
/// use chrono::NaiveDate;
/// use orm_core::types::MaybeInfinite;
/// use orm_core::{ColumnType, SqlType};
///
/// let until: MaybeInfinite<NaiveDate> = MaybeInfinite::Infinity;
/// let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
/// assert!(MaybeInfinite::Finite(day) < until);
/// assert_eq!(until.to_string(), "infinity");
/// assert_eq!(MaybeInfinite::from(day).finite(), Some(&day));
/// assert_eq!(<MaybeInfinite<NaiveDate> as SqlType>::COLUMN_TYPE, ColumnType::Date);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MaybeInfinite<T> {
    /// `'-infinity'`: before every date or timestamp.
    NegInfinity,
    /// A date or timestamp.
    Finite(T),
    /// `'infinity'`: after every date or timestamp.
    Infinity,
}

impl<T> MaybeInfinite<T> {
    /// The value, when it is finite.
    pub fn finite(&self) -> Option<&T> {
        match self {
            MaybeInfinite::Finite(v) => Some(v),
            _ => None,
        }
    }

    /// The value, when it is finite.
    pub fn into_finite(self) -> Option<T> {
        match self {
            MaybeInfinite::Finite(v) => Some(v),
            _ => None,
        }
    }

    /// Whether it is neither infinity.
    pub fn is_finite(&self) -> bool {
        matches!(self, MaybeInfinite::Finite(_))
    }
}

impl<T> From<T> for MaybeInfinite<T> {
    fn from(value: T) -> Self {
        MaybeInfinite::Finite(value)
    }
}

impl<T: Default> Default for MaybeInfinite<T> {
    fn default() -> Self {
        MaybeInfinite::Finite(T::default())
    }
}

/// As PostgreSQL writes them: `infinity`, `-infinity`, or the value.
impl<T: fmt::Display> fmt::Display for MaybeInfinite<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaybeInfinite::NegInfinity => f.write_str("-infinity"),
            MaybeInfinite::Finite(v) => v.fmt(f),
            MaybeInfinite::Infinity => f.write_str("infinity"),
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for chrono::NaiveDate {}
    impl Sealed for chrono::NaiveDateTime {}
    impl Sealed for chrono::DateTime<chrono::Utc> {}
}

/// The types whose SQL type has infinities: `NaiveDate` (`DATE`), `NaiveDateTime`
/// (`TIMESTAMP`) and `DateTime<Utc>` (`TIMESTAMPTZ`). Sealed.
pub trait Infinite: SqlType + Clone + sealed::Sealed {
    /// The width of the binary value: 4 (`i32` days) or 8 (`i64` microseconds), whose maximum
    /// is `infinity` and whose minimum is `-infinity`.
    #[doc(hidden)]
    const WIDTH: usize;
}

impl Infinite for chrono::NaiveDate {
    const WIDTH: usize = 4;
}
impl Infinite for chrono::NaiveDateTime {
    const WIDTH: usize = 8;
}
impl Infinite for chrono::DateTime<chrono::Utc> {
    const WIDTH: usize = 8;
}

/// `Some(true)` for `infinity`, `Some(false)` for `-infinity`.
fn infinity<T: Infinite>(raw: &[u8]) -> Option<bool> {
    match T::WIDTH {
        4 => match i32::from_be_bytes(raw.try_into().ok()?) {
            i32::MAX => Some(true),
            i32::MIN => Some(false),
            _ => None,
        },
        _ => match i64::from_be_bytes(raw.try_into().ok()?) {
            i64::MAX => Some(true),
            i64::MIN => Some(false),
            _ => None,
        },
    }
}

impl<'a, T: Infinite> FromSql<'a> for MaybeInfinite<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        match infinity::<T>(raw) {
            Some(true) => Ok(MaybeInfinite::Infinity),
            Some(false) => Ok(MaybeInfinite::NegInfinity),
            None => <T as FromSql>::from_sql(ty, raw).map(MaybeInfinite::Finite),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <T as FromSql>::accepts(ty)
    }
}

impl<T: Infinite> ToSql for MaybeInfinite<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let positive = match self {
            MaybeInfinite::Finite(v) => return v.to_sql(ty, out),
            MaybeInfinite::Infinity => true,
            MaybeInfinite::NegInfinity => false,
        };
        match (T::WIDTH, positive) {
            (4, true) => out.extend_from_slice(&i32::MAX.to_be_bytes()),
            (4, false) => out.extend_from_slice(&i32::MIN.to_be_bytes()),
            (_, true) => out.extend_from_slice(&i64::MAX.to_be_bytes()),
            (_, false) => out.extend_from_slice(&i64::MIN.to_be_bytes()),
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        <T as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<T: Infinite> SqlType for MaybeInfinite<T> {
    type Base = MaybeInfinite<T>;
    const COLUMN_TYPE: ColumnType = T::COLUMN_TYPE;

    clone_from_any!();

    fn decode_check(ty: &Type, raw: &[u8]) -> Result<(), BoxError> {
        match infinity::<T>(raw) {
            Some(_) => Ok(()),
            None => T::decode_check(ty, raw),
        }
    }
}

impl<T: Infinite> ArrayElement for MaybeInfinite<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn round_trip<T: Infinite + PartialEq + fmt::Debug>(v: MaybeInfinite<T>, ty: &Type) {
        let mut out = BytesMut::new();
        v.to_sql(ty, &mut out).expect("encodes");
        assert_eq!(MaybeInfinite::<T>::from_sql(ty, &out).expect("decodes"), v);
    }

    #[test]
    fn infinities_and_values_round_trip() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).expect("date");
        for v in [
            MaybeInfinite::NegInfinity,
            day.into(),
            MaybeInfinite::Infinity,
        ] {
            round_trip(v, &Type::DATE);
        }
        let ts = day.and_hms_opt(1, 2, 3).expect("time");
        for v in [
            MaybeInfinite::NegInfinity,
            ts.into(),
            MaybeInfinite::Infinity,
        ] {
            round_trip(v, &Type::TIMESTAMP);
        }
        let tz = Utc
            .with_ymd_and_hms(2001, 9, 9, 1, 46, 40)
            .single()
            .expect("time");
        for v in [
            MaybeInfinite::NegInfinity,
            tz.into(),
            MaybeInfinite::Infinity,
        ] {
            round_trip(v, &Type::TIMESTAMPTZ);
        }
        // The wire values of the server's infinities.
        let mut out = BytesMut::new();
        MaybeInfinite::<NaiveDate>::Infinity
            .to_sql(&Type::DATE, &mut out)
            .expect("encodes");
        assert_eq!(&out[..], &[0x7f, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn order_is_the_servers() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).expect("date");
        let mut v = vec![
            MaybeInfinite::Infinity,
            day.into(),
            MaybeInfinite::NegInfinity,
            NaiveDate::MIN.into(),
        ];
        v.sort();
        assert_eq!(
            v,
            [
                MaybeInfinite::NegInfinity,
                NaiveDate::MIN.into(),
                day.into(),
                MaybeInfinite::Infinity
            ]
        );
    }
}
