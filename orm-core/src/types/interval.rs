//! PostgreSQL `INTERVAL`.

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::{ArrayElement, ColumnType, SqlType};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A PostgreSQL `INTERVAL`: months, days and microseconds, kept apart as the server keeps them
/// (a month is not a fixed number of days, nor a day a fixed number of hours across a DST change).
///
/// Equality is field by field: `Interval::months(1)` and `Interval::days(30)` differ here although
/// the server's `=` calls them equal. The binary wire format is 8 bytes of microseconds, 4 of
/// days, 4 of months, big-endian.
///
/// ```
/// use orm_core::types::Interval;
///
/// let i = Interval::months(1) + Interval::days(2) + Interval::hours(3);
/// assert_eq!(i, Interval::new(1, 2, 3 * 3_600_000_000));
/// assert_eq!(i.to_string(), "1 mon 2 days 03:00:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// Months (a year is 12).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds (hours, minutes, seconds and fractions).
    pub microseconds: i64,
}

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;

impl Interval {
    /// An interval of `months`, `days` and `microseconds`.
    pub const fn new(months: i32, days: i32, microseconds: i64) -> Self {
        Interval {
            months,
            days,
            microseconds,
        }
    }

    /// `n` years (`12 * n` months, saturating).
    pub const fn years(n: i32) -> Self {
        Interval::new(n.saturating_mul(12), 0, 0)
    }

    /// `n` months.
    pub const fn months(n: i32) -> Self {
        Interval::new(n, 0, 0)
    }

    /// `n` weeks (`7 * n` days, saturating).
    pub const fn weeks(n: i32) -> Self {
        Interval::new(0, n.saturating_mul(7), 0)
    }

    /// `n` days.
    pub const fn days(n: i32) -> Self {
        Interval::new(0, n, 0)
    }

    /// `n` hours (saturating).
    pub const fn hours(n: i64) -> Self {
        Interval::new(0, 0, n.saturating_mul(MICROS_PER_HOUR))
    }

    /// `n` minutes (saturating).
    pub const fn minutes(n: i64) -> Self {
        Interval::new(0, 0, n.saturating_mul(MICROS_PER_MINUTE))
    }

    /// `n` seconds (saturating).
    pub const fn seconds(n: i64) -> Self {
        Interval::new(0, 0, n.saturating_mul(MICROS_PER_SECOND))
    }

    /// `n` microseconds.
    pub const fn micros(n: i64) -> Self {
        Interval::new(0, 0, n)
    }

    /// Field-wise sum, or `None` on overflow.
    pub const fn checked_add(self, other: Interval) -> Option<Interval> {
        match (
            self.months.checked_add(other.months),
            self.days.checked_add(other.days),
            self.microseconds.checked_add(other.microseconds),
        ) {
            (Some(months), Some(days), Some(microseconds)) => Some(Interval {
                months,
                days,
                microseconds,
            }),
            _ => None,
        }
    }
}

/// Field-wise, saturating at the bounds of each field.
impl std::ops::Add for Interval {
    type Output = Interval;
    fn add(self, rhs: Interval) -> Interval {
        Interval {
            months: self.months.saturating_add(rhs.months),
            days: self.days.saturating_add(rhs.days),
            microseconds: self.microseconds.saturating_add(rhs.microseconds),
        }
    }
}

/// Field-wise, saturating.
impl std::ops::Neg for Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        Interval {
            months: self.months.saturating_neg(),
            days: self.days.saturating_neg(),
            microseconds: self.microseconds.saturating_neg(),
        }
    }
}

#[cfg(feature = "chrono")]
impl Interval {
    /// The interval of a `chrono::TimeDelta`, all in microseconds (no months or days); `None`
    /// when it does not fit 64-bit microseconds.
    pub fn from_time_delta(d: chrono::TimeDelta) -> Option<Interval> {
        d.num_microseconds().map(Interval::micros)
    }
}

/// The server's default (`postgres`) output style: `1 year 2 mons 3 days 04:05:06.5`, with a `+`
/// before a positive part that follows a negative one (`-1 days +02:00:00`).
impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut is_zero = true;
        let mut is_before = false;
        let parts = [
            (i64::from(self.months / 12), "year"),
            (i64::from(self.months % 12), "mon"),
            (i64::from(self.days), "day"),
        ];
        for (value, unit) in parts {
            if value == 0 {
                continue;
            }
            let space = if is_zero { "" } else { " " };
            let plus = if is_before && value > 0 { "+" } else { "" };
            let plural = if value == 1 { "" } else { "s" };
            write!(f, "{space}{plus}{value} {unit}{plural}")?;
            is_before = value < 0;
            is_zero = false;
        }
        if is_zero || self.microseconds != 0 {
            let us = self.microseconds.unsigned_abs();
            let space = if is_zero { "" } else { " " };
            let sign = if self.microseconds < 0 {
                "-"
            } else if is_before {
                "+"
            } else {
                ""
            };
            let secs = us / 1_000_000;
            let frac = us % 1_000_000;
            write!(
                f,
                "{space}{sign}{:02}:{:02}:{:02}",
                secs / 3600,
                (secs / 60) % 60,
                secs % 60
            )?;
            if frac != 0 {
                let digits = format!("{frac:06}");
                write!(f, ".{}", digits.trim_end_matches('0'))?;
            }
        }
        Ok(())
    }
}

impl ToSql for Interval {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.microseconds);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let bytes: &[u8; 16] = raw
            .try_into()
            .map_err(|_| format!("invalid interval: {} bytes, expected 16", raw.len()))?;
        let (us, rest) = bytes.split_at(8);
        let (days, months) = rest.split_at(4);
        let us: [u8; 8] = us.try_into()?;
        let days: [u8; 4] = days.try_into()?;
        let months: [u8; 4] = months.try_into()?;
        Ok(Interval {
            months: i32::from_be_bytes(months),
            days: i32::from_be_bytes(days),
            microseconds: i64::from_be_bytes(us),
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

impl SqlType for Interval {
    type Base = Interval;
    const COLUMN_TYPE: ColumnType = ColumnType::Interval;
}

impl ArrayElement for Interval {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip() {
        let i = Interval::new(-14, 3, -1_500_000);
        let mut buf = BytesMut::new();
        i.to_sql(&Type::INTERVAL, &mut buf).expect("encode");
        assert_eq!(buf.len(), 16);
        assert_eq!(&buf[..8], &(-1_500_000_i64).to_be_bytes());
        assert_eq!(
            Interval::from_sql(&Type::INTERVAL, &buf).expect("decode"),
            i
        );
        assert!(Interval::from_sql(&Type::INTERVAL, &buf[..15]).is_err());
    }

    #[test]
    fn display_like_the_server() {
        assert_eq!(Interval::default().to_string(), "00:00:00");
        assert_eq!(Interval::years(1).to_string(), "1 year");
        assert_eq!(Interval::months(14).to_string(), "1 year 2 mons");
        assert_eq!(Interval::days(-1).to_string(), "-1 days");
        assert_eq!(
            (Interval::days(1) + Interval::micros(-1_500_000)).to_string(),
            "1 day -00:00:01.5"
        );
        assert_eq!(
            (Interval::days(-1) + Interval::hours(2)).to_string(),
            "-1 days +02:00:00"
        );
        assert_eq!(
            Interval::new(-13, 1, 0).to_string(),
            "-1 years -1 mons +1 day"
        );
    }
}
