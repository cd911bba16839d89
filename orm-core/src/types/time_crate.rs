//! Dates and times through the `time` crate (feature `time`), next to chrono: `time::Date`,
//! `Time`, `PrimitiveDateTime` and `OffsetDateTime` (`TIMESTAMPTZ`, read back in UTC).
//!
//! The crate's years end at ±9999 (PostgreSQL's at 4713 BC and 5874897 AD) and it has no
//! infinity: such a value is a decode error naming it, never a clamped one.

use postgres_types::Type;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::{ArrayElement, ColumnType, Retype, SqlType};
use crate::error::{BoxError, ValueOutOfRange};

/// The error for an infinite date or timestamp (`i32::MAX`/`MIN` days, `i64::MAX`/`MIN`
/// microseconds on the wire).
fn check_infinity(
    raw: &[u8],
    sql_type: &'static str,
    rust_type: &'static str,
) -> Result<(), BoxError> {
    let value = match raw.len() {
        4 => i64::from(i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])),
        8 => i64::from_be_bytes([
            raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
        ]),
        _ => return Ok(()),
    };
    let infinite = match raw.len() {
        4 => value == i64::from(i32::MAX) || value == i64::from(i32::MIN),
        _ => value == i64::MAX || value == i64::MIN,
    };
    if !infinite {
        return Ok(());
    }
    let text = if value > 0 { "infinity" } else { "-infinity" };
    Err(Box::new(ValueOutOfRange::new(
        sql_type,
        text,
        rust_type,
        "the time crate has no infinity; read the column through chrono as `MaybeInfinite<T>`",
    )))
}

macro_rules! time_types {
    ($($ty:ty => $ct:ident, $sql:literal, $name:literal;)*) => {$(
        impl SqlType for $ty {
            type Base = $ty;
            const COLUMN_TYPE: ColumnType = ColumnType::$ct;
            clone_from_any!();
            fn decode_check(_: &Type, raw: &[u8]) -> Result<(), BoxError> {
                check_infinity(raw, $sql, $name)
            }
        }
        impl ArrayElement for $ty {}
        impl<B: SqlType> Retype<B> for $ty {
            type Output = B;
        }
    )*};
}

impl SqlType for Time {
    type Base = Time;
    const COLUMN_TYPE: ColumnType = ColumnType::Time;
    clone_from_any!();
    const DECODE_CHECK: bool = true;
    fn decode_check(_: &Type, raw: &[u8]) -> Result<(), BoxError> {
        super::check::check_time_of_day(raw, "time::Time")
    }
}
impl ArrayElement for Time {}
impl<B: SqlType> Retype<B> for Time {
    type Output = B;
}

time_types! {
    Date => Date, "date", "time::Date";
    PrimitiveDateTime => Timestamp, "timestamp", "time::PrimitiveDateTime";
    OffsetDateTime => Timestamptz, "timestamptz", "time::OffsetDateTime";
}
