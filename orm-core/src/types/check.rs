//! Decoding is lossless or a typed error.
//!
//! Some drivers' decoders give a wrong value instead of failing (`rust_decimal` rounds a
//! `NUMERIC` past 28 decimals), others fail with a message that names neither the value nor a
//! way out (chrono on `'infinity'`). Every column the ORM decodes goes through [`Checked`]: a
//! type that needs it checks the raw value first ([`SqlType::DECODE_CHECK`]), and when a decode
//! fails, the same check explains the failure. The check costs nothing for the types that do not
//! ask for it: the flag is a constant, and the explanation runs on the error path only.
//!
//! What a check finds is a [`ValueOutOfRange`], the source of the
//! [`ErrorKind::Decode`](crate::ErrorKind::Decode) that names the model and the column.

use postgres_types::{FromSql, Kind, Type};

use super::{SqlType, domain_base};
use crate::error::{BoxError, ValueOutOfRange};

/// Decodes `T` through its own `FromSql`, with `T`'s decode check: before the decode when `T`
/// asks for it, after a failed decode to explain the failure. Every column the ORM decodes
/// goes through it. Not public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct Checked<T>(pub T);

impl<'a, T: SqlType> FromSql<'a> for Checked<T> {
    #[inline]
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        if T::DECODE_CHECK {
            T::decode_check(ty, raw)?;
        }
        match T::decode_sql(ty, raw) {
            Ok(v) => Ok(Checked(v)),
            Err(e) => Err(T::decode_check(ty, raw).err().unwrap_or(e)),
        }
    }

    #[inline]
    fn from_sql_null(ty: &Type) -> Result<Self, BoxError> {
        <T as FromSql<'a>>::from_sql_null(ty).map(Checked)
    }

    #[inline]
    fn accepts(ty: &Type) -> bool {
        <T as FromSql<'a>>::accepts(ty)
    }
}

/// Runs `check` over the elements of a binary array value (`None` for a `NULL` element), with
/// the element type. A value that is not a well-formed array passes: the decoder reports it.
pub(crate) fn each_element(
    ty: &Type,
    raw: &[u8],
    mut check: impl FnMut(&Type, Option<&[u8]>) -> Result<(), BoxError>,
) -> Result<(), BoxError> {
    let ty = domain_base(ty).unwrap_or(ty);
    let Kind::Array(member) = ty.kind() else {
        return Ok(());
    };
    let member = domain_base(member).unwrap_or(member);
    let int = |at: usize| -> Option<i32> {
        raw.get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let Some(ndim) = int(0).and_then(|n| usize::try_from(n).ok()) else {
        return Ok(());
    };
    // ndim, has-nulls flag, element type; then a length and a lower bound per dimension.
    let mut at = 12 + 8 * ndim;
    let mut count: usize = if ndim == 0 { 0 } else { 1 };
    for d in 0..ndim {
        let Some(len) = int(12 + 8 * d).and_then(|n| usize::try_from(n).ok()) else {
            return Ok(());
        };
        count = count.saturating_mul(len);
    }
    for _ in 0..count {
        let Some(len) = int(at) else {
            return Ok(());
        };
        at += 4;
        if len < 0 {
            check(member, None)?;
            continue;
        }
        let len = len as usize;
        let Some(value) = raw.get(at..at + len) else {
            return Ok(());
        };
        check(member, Some(value))?;
        at += len;
    }
    Ok(())
}

/// The check of a `TIME` value for a Rust time of day: PostgreSQL's `TIME` holds `24:00:00`,
/// which chrono's `NaiveTime` and the time crate's `Time` cannot (their decoders would wrap it
/// to midnight, a different value).
#[cfg(any(feature = "chrono", feature = "time"))]
pub(crate) fn check_time_of_day(raw: &[u8], rust_type: &'static str) -> Result<(), BoxError> {
    const DAY_MICROS: i64 = 86_400_000_000;
    let Ok(bytes) = <[u8; 8]>::try_from(raw) else {
        return Ok(());
    };
    if i64::from_be_bytes(bytes) < DAY_MICROS {
        return Ok(());
    }
    Err(Box::new(ValueOutOfRange::new(
        "time",
        "24:00:00",
        rust_type,
        "it ends at 23:59:59.999999, and would read 24:00:00 as midnight of the same day",
    )))
}

/// The check of an array of `T`: `T`'s check on each element, and a `NULL` element that `T`
/// cannot hold named (read the column as `Vec<Option<T>>`).
pub(crate) fn check_elements<T: SqlType>(ty: &Type, raw: &[u8]) -> Result<(), BoxError> {
    each_element(ty, raw, |member, value| match value {
        Some(value) => T::decode_check(member, value),
        None if T::NULLABLE => Ok(()),
        None => Err(Box::new(ValueOutOfRange::new(
            "array",
            "an array with NULL elements",
            std::any::type_name::<Vec<T>>(),
            "read it as `Vec<Option<T>>`",
        ))),
    })
}

/// The checks of `rust_decimal::Decimal`: it holds 28 decimals and 96 bits, no NaN and no
/// infinity, and its own decoder rounds what does not fit.
#[cfg(feature = "decimal")]
pub(crate) fn check_decimal(raw: &[u8]) -> Result<(), BoxError> {
    let n = super::numeric_wire::parse(raw)?;
    if n.fits_decimal() {
        return Ok(());
    }
    let reason = if n.is_finite() {
        "it holds at most 28 decimals and 96 bits (about 28 significant digits) and would round the value"
    } else {
        "it has no NaN or infinity"
    };
    Err(Box::new(ValueOutOfRange::new(
        "numeric",
        n.to_text(),
        "rust_decimal::Decimal",
        format!(
            "{reason}; read the column as `BigNumeric` (feature `bigdecimal`), which holds any numeric"
        ),
    )))
}

#[cfg(feature = "chrono")]
pub(crate) mod chrono_checks {
    //! Why a date or timestamp did not decode into chrono: an infinity, or a value beyond
    //! chrono's years (PostgreSQL's dates reach 5874897 AD, chrono's 262142).

    use super::{BoxError, ValueOutOfRange};

    const USECS_PER_DAY: i64 = 86_400_000_000;

    /// `date` as the server sends it: days since 2000-01-01, `i32::MAX`/`MIN` for ±infinity.
    pub(crate) fn date(raw: &[u8]) -> Option<i32> {
        Some(i32::from_be_bytes(raw.try_into().ok()?))
    }

    /// `timestamp`/`timestamptz` as the server sends it: microseconds since 2000-01-01
    /// 00:00, `i64::MAX`/`MIN` for ±infinity.
    pub(crate) fn timestamp(raw: &[u8]) -> Option<i64> {
        Some(i64::from_be_bytes(raw.try_into().ok()?))
    }

    /// The error for a date that chrono cannot hold.
    pub(crate) fn check_date(raw: &[u8], rust_type: &'static str) -> Result<(), BoxError> {
        let Some(days) = date(raw) else {
            return Ok(());
        };
        let base = chrono::NaiveDate::from_ymd_opt(2000, 1, 1);
        let fits = base.and_then(|b| b.checked_add_signed(chrono::Duration::days(days.into())));
        let (value, reason) = match days {
            i32::MAX => ("infinity".to_string(), infinity_reason(rust_type)),
            i32::MIN => ("-infinity".to_string(), infinity_reason(rust_type)),
            _ if fits.is_some() => return Ok(()),
            _ => (civil(i64::from(days)), range_reason()),
        };
        Err(Box::new(ValueOutOfRange::new(
            "date", value, rust_type, reason,
        )))
    }

    /// The error for a timestamp that chrono cannot hold.
    pub(crate) fn check_timestamp(
        raw: &[u8],
        sql_type: &'static str,
        rust_type: &'static str,
    ) -> Result<(), BoxError> {
        let Some(t) = timestamp(raw) else {
            return Ok(());
        };
        let base = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        let fits = base.and_then(|b| b.checked_add_signed(chrono::Duration::microseconds(t)));
        let (value, reason) = match t {
            i64::MAX => ("infinity".to_string(), infinity_reason(rust_type)),
            i64::MIN => ("-infinity".to_string(), infinity_reason(rust_type)),
            _ if fits.is_some() => return Ok(()),
            _ => {
                let (days, usecs) = (t.div_euclid(USECS_PER_DAY), t.rem_euclid(USECS_PER_DAY));
                let secs = usecs / 1_000_000;
                let mut text = civil(days);
                let mut time =
                    format!(" {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
                // Fractional seconds as the server shows them: only when there are some,
                // without trailing zeros.
                let fraction = usecs % 1_000_000;
                if fraction != 0 {
                    let digits = format!("{fraction:06}");
                    time.push('.');
                    time.push_str(digits.trim_end_matches('0'));
                }
                // As the server writes it: the era after the time.
                match text.strip_suffix(" BC") {
                    Some(date) => text = format!("{date}{time} BC"),
                    None => text.push_str(&time),
                }
                (text, range_reason())
            }
        };
        Err(Box::new(ValueOutOfRange::new(
            sql_type, value, rust_type, reason,
        )))
    }

    fn infinity_reason(rust_type: &str) -> String {
        let name = rust_type.rsplit("::").next().unwrap_or(rust_type);
        format!("chrono has no infinity; read the column as `MaybeInfinite<{name}>`")
    }

    fn range_reason() -> String {
        "it is outside chrono's range (years -262143 to 262142)".into()
    }

    /// The proleptic Gregorian date `days` after 2000-01-01, as PostgreSQL writes it
    /// (`4714-11-24 BC` for year -4713).
    fn civil(days: i64) -> String {
        // Howard Hinnant's days-to-civil, from 0000-03-01.
        let z = days + 10_957 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        if year <= 0 {
            format!("{:04}-{month:02}-{day:02} BC", 1 - year)
        } else {
            format!("{year:04}-{month:02}-{day:02}")
        }
    }

    #[cfg(test)]
    mod tests {
        use super::civil;

        #[test]
        fn civil_dates_are_the_servers() {
            assert_eq!(civil(0), "2000-01-01");
            assert_eq!(civil(59), "2000-02-29");
            assert_eq!(civil(-1), "1999-12-31");
            assert_eq!(civil(-10_957), "1970-01-01");
            // The server's extremes: 4713 BC (its day 0 of the Julian calendar) and 5874897 AD.
            assert_eq!(civil(-2_451_545), "4714-11-24 BC");
            assert_eq!(civil(2_145_031_948), "5874897-12-31");
        }
    }
}
