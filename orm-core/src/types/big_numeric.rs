//! `BigNumeric`: every value a `NUMERIC` column holds.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use bigdecimal::BigDecimal;
use bigdecimal::num_bigint::{BigInt, BigUint, Sign as BigSign};
use bytes::BytesMut;
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::numeric_wire::{self, MAX_DSCALE, NBASE, Sign};
use super::{ArrayElement, ColumnType, SqlType};
use crate::error::BoxError;

/// Any `NUMERIC`: a number of any precision and scale (`BigDecimal`), `NaN`, and (PostgreSQL
/// 14 on) `Infinity` and `-Infinity`. Read and written exactly, display scale included
/// (`1.50` stays `1.50`). Needs the `bigdecimal` feature.
///
/// `rust_decimal::Decimal` holds 28 decimals; a value past that is a decode error, never a
/// rounded number. Declare such a column `BigNumeric` (the SQL type stays `NUMERIC`).
///
/// Equality is numeric (`1.5 == 1.50`) and `NaN` equals `NaN`; the order is PostgreSQL's:
/// `-Infinity` < numbers < `Infinity` < `NaN`.
///
/// ```
/// use orm_core::types::BigNumeric;
///
/// let n: BigNumeric = "0.12345678901234567890123456789012345678".parse().unwrap();
/// assert_eq!(n.to_string(), "0.12345678901234567890123456789012345678");
/// assert_eq!("NaN".parse::<BigNumeric>().unwrap(), BigNumeric::NaN);
/// assert!(BigNumeric::Infinity < BigNumeric::NaN);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BigNumeric {
    /// A number.
    Finite(BigDecimal),
    /// `NaN`.
    NaN,
    /// `Infinity` (PostgreSQL 14 and later).
    Infinity,
    /// `-Infinity` (PostgreSQL 14 and later).
    NegInfinity,
}

impl BigNumeric {
    /// The number, when it is one.
    pub fn finite(&self) -> Option<&BigDecimal> {
        match self {
            BigNumeric::Finite(d) => Some(d),
            _ => None,
        }
    }

    /// The number, when it is one.
    pub fn into_finite(self) -> Option<BigDecimal> {
        match self {
            BigNumeric::Finite(d) => Some(d),
            _ => None,
        }
    }

    /// Whether it is a number (not `NaN` or an infinity).
    pub fn is_finite(&self) -> bool {
        matches!(self, BigNumeric::Finite(_))
    }

    /// Where it sorts among the kinds of value.
    fn rank(&self) -> u8 {
        match self {
            BigNumeric::NegInfinity => 0,
            BigNumeric::Finite(_) => 1,
            BigNumeric::Infinity => 2,
            BigNumeric::NaN => 3,
        }
    }
}

impl Default for BigNumeric {
    fn default() -> Self {
        BigNumeric::Finite(BigDecimal::default())
    }
}

impl From<BigDecimal> for BigNumeric {
    fn from(d: BigDecimal) -> Self {
        BigNumeric::Finite(d)
    }
}

impl PartialOrd for BigNumeric {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigNumeric {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (BigNumeric::Finite(a), BigNumeric::Finite(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// As PostgreSQL writes it: `NaN`, `Infinity`, `-Infinity`, or every digit (never an
/// exponent).
impl fmt::Display for BigNumeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BigNumeric::Finite(d) => d.write_plain_string(f),
            BigNumeric::NaN => f.write_str("NaN"),
            BigNumeric::Infinity => f.write_str("Infinity"),
            BigNumeric::NegInfinity => f.write_str("-Infinity"),
        }
    }
}

/// Reads what PostgreSQL reads: a number (exponents too), `NaN`, `Infinity`, `inf`,
/// `-Infinity`, `-inf`, in any case.
impl FromStr for BigNumeric {
    type Err = bigdecimal::ParseBigDecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "nan" => BigNumeric::NaN,
            "infinity" | "+infinity" | "inf" | "+inf" => BigNumeric::Infinity,
            "-infinity" | "-inf" => BigNumeric::NegInfinity,
            _ => BigNumeric::Finite(BigDecimal::from_str(t)?),
        })
    }
}

/// The largest number of digits before the decimal point (weight at most `i16::MAX`).
const MAX_INTEGER_DIGITS: i64 = 4 * (i16::MAX as i64 + 1);

impl<'a> FromSql<'a> for BigNumeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let n = numeric_wire::parse(raw)?;
        let negative = match n.sign {
            Sign::NaN => return Ok(BigNumeric::NaN),
            Sign::Infinity => return Ok(BigNumeric::Infinity),
            Sign::NegInfinity => return Ok(BigNumeric::NegInfinity),
            Sign::Positive => false,
            Sign::Negative => true,
        };
        let dscale = i64::from(n.dscale);
        if n.ndigits() == 0 {
            return Ok(BigNumeric::Finite(BigDecimal::new(
                BigInt::default(),
                dscale,
            )));
        }
        // The digits as one integer, in decimal digits (num-bigint converts from radix 10 in
        // large chunks), and where its last digit stands.
        let mut decimal = Vec::with_capacity(4 * n.ndigits());
        for d in n.digits() {
            decimal.extend_from_slice(&[
                (d / 1000) as u8,
                (d / 100 % 10) as u8,
                (d / 10 % 10) as u8,
                (d % 10) as u8,
            ]);
        }
        let magnitude =
            BigUint::from_radix_be(&decimal, 10).ok_or("invalid numeric: a digit out of range")?;
        let sign = if negative {
            BigSign::Minus
        } else {
            BigSign::Plus
        };
        let scale = 4 * (n.ndigits() as i64 - 1 - i64::from(n.weight));
        let exact = BigDecimal::new(BigInt::from_biguint(sign, magnitude), scale);
        // Shown with the display scale; the server sends no non-zero digit past it, and a
        // value that had one keeps all its digits.
        let shown = exact.with_scale(dscale);
        Ok(BigNumeric::Finite(if dscale >= scale || shown == exact {
            shown
        } else {
            exact
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

impl ToSql for BigNumeric {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let d = match self {
            BigNumeric::NaN => return special(Sign::NaN, out),
            BigNumeric::Infinity => return special(Sign::Infinity, out),
            BigNumeric::NegInfinity => return special(Sign::NegInfinity, out),
            BigNumeric::Finite(d) => d,
        };
        // value = ±digits × 10^-scale
        let (int, mut scale) = d.as_bigint_and_exponent();
        let (sign, magnitude) = int.into_parts();
        let mut digits = magnitude.to_radix_be(10);
        // A scale as low as `i64::MIN` (`1e9223372036854775807` parses) saturates.
        let integer_digits = (digits.len() as i64).saturating_sub(scale);
        if integer_digits > MAX_INTEGER_DIGITS {
            return Err(format!(
                "the number has {integer_digits} digits before the decimal point; NUMERIC holds at most {MAX_INTEGER_DIGITS}"
            )
            .into());
        }
        if scale < 0 {
            digits.resize(integer_digits as usize, 0);
            scale = 0;
        }
        // Zeros past the largest display scale are no part of the value.
        while scale > i64::from(MAX_DSCALE) && digits.last() == Some(&0) {
            digits.pop();
            scale -= 1;
        }
        if scale > i64::from(MAX_DSCALE) {
            return Err(format!(
                "the number has {scale} decimals; NUMERIC holds at most {MAX_DSCALE} after the decimal point"
            )
            .into());
        }
        let dscale = scale as usize;
        // Pad to whole base-10000 digits: the integer part on the left, the fraction on the
        // right, so that the decimal point falls between two of them.
        if digits.len() < dscale {
            let mut padded = vec![0; dscale - digits.len()];
            padded.extend_from_slice(&digits);
            digits = padded;
        }
        let int_len = digits.len() - dscale;
        let left = (4 - int_len % 4) % 4;
        let right = (4 - dscale % 4) % 4;
        let mut padded = vec![0u8; left];
        padded.extend_from_slice(&digits);
        padded.resize(padded.len() + right, 0);
        let mut groups: Vec<u16> = padded
            .chunks_exact(4)
            .map(|c| c.iter().fold(0u16, |acc, &d| acc * 10 + u16::from(d)))
            .collect();
        let mut weight = ((int_len + left) / 4) as i64 - 1;
        // No leading or trailing zero digits, as the server stores them.
        let lead = groups.iter().take_while(|&&g| g == 0).count();
        groups.drain(..lead);
        weight -= lead as i64;
        while groups.last() == Some(&0) {
            groups.pop();
        }
        let sign = if groups.is_empty() {
            weight = 0;
            Sign::Positive
        } else if sign == BigSign::Minus {
            Sign::Negative
        } else {
            Sign::Positive
        };
        debug_assert!(groups.iter().all(|&g| u32::from(g) < NBASE));
        numeric_wire::write(sign, weight as i16, dscale as u16, &groups, out);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    to_sql_checked!();
}

fn special(sign: Sign, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    numeric_wire::write(sign, 0, 0, &[], out);
    Ok(IsNull::No)
}

impl SqlType for BigNumeric {
    type Base = BigNumeric;
    const COLUMN_TYPE: ColumnType = ColumnType::Numeric;

    clone_from_any!();
}

impl ArrayElement for BigNumeric {}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(n: &BigNumeric) -> BigNumeric {
        let mut out = BytesMut::new();
        n.to_sql(&Type::NUMERIC, &mut out).expect("encodes");
        BigNumeric::from_sql(&Type::NUMERIC, &out).expect("decodes")
    }

    fn num(s: &str) -> BigNumeric {
        s.parse().expect("a number")
    }

    #[test]
    fn values_round_trip_with_their_scale() {
        for s in [
            "0",
            "0.00",
            "1.50",
            "-1.5",
            "123456789",
            "100000000",
            "0.000000012",
            "-0.12345678901234567890123456789012345678",
            "79228162514264337593543950336",
            "1e40",
            "12345.6789e-50",
        ] {
            let n = num(s);
            let back = round_trip(&n);
            assert_eq!(back.to_string(), n.to_string(), "{s}");
        }
        for n in [
            BigNumeric::NaN,
            BigNumeric::Infinity,
            BigNumeric::NegInfinity,
        ] {
            assert_eq!(round_trip(&n), n);
        }
    }

    #[test]
    fn the_wire_is_the_servers() {
        let mut out = BytesMut::new();
        num("-1.50")
            .to_sql(&Type::NUMERIC, &mut out)
            .expect("encodes");
        // 2 digits, weight 0, negative, 2 decimals: 1, 5000.
        assert_eq!(&out[..], &[0, 2, 0, 0, 0x40, 0, 0, 2, 0, 1, 0x13, 0x88]);
        out.clear();
        num("0").to_sql(&Type::NUMERIC, &mut out).expect("encodes");
        assert_eq!(&out[..], &[0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn what_numeric_cannot_hold_is_an_error() {
        let mut out = BytesMut::new();
        let e = num("1e200000")
            .to_sql(&Type::NUMERIC, &mut out)
            .err()
            .expect("too large");
        assert!(e.to_string().contains("at most 131072"), "{e}");
        // An exponent at the end of i64's range: an error, not an overflow.
        for extreme in [
            BigNumeric::Finite(BigDecimal::new(BigInt::from(7), i64::MIN)),
            num("1e9223372036854775807"),
        ] {
            let e = extreme
                .to_sql(&Type::NUMERIC, &mut out)
                .err()
                .expect("too large");
            assert!(e.to_string().contains("at most 131072"), "{e}");
        }
        let e = num("1e-20000")
            .to_sql(&Type::NUMERIC, &mut out)
            .err()
            .expect("too small");
        assert!(e.to_string().contains("at most 16383"), "{e}");
        // Trailing zeros past that are dropped, not an error.
        let n = BigNumeric::Finite(BigDecimal::new(
            BigInt::from(15) * BigInt::from(10).pow(20_000),
            20_001,
        ));
        assert_eq!(round_trip(&n), num("1.5"));
    }

    #[test]
    fn order_is_the_servers() {
        let mut v = vec![
            BigNumeric::NaN,
            num("2"),
            BigNumeric::Infinity,
            num("-1e100"),
            BigNumeric::NegInfinity,
        ];
        v.sort();
        assert_eq!(
            v,
            [
                BigNumeric::NegInfinity,
                num("-1e100"),
                num("2"),
                BigNumeric::Infinity,
                BigNumeric::NaN
            ]
        );
        assert_eq!(num("1.5"), num("1.50"));
    }

    proptest::proptest! {
        /// Any value with up to 60 digits and any scale comes back equal, with its scale.
        #[test]
        fn any_value_round_trips(digits in "-?[0-9]{1,60}", scale in -40i64..80) {
            let int = BigInt::from_str(&digits).expect("digits");
            let n = BigNumeric::Finite(BigDecimal::new(int, scale));
            let back = round_trip(&n);
            proptest::prop_assert_eq!(&back, &n);
            let want = n.finite().expect("finite").with_scale(scale.max(0));
            proptest::prop_assert_eq!(back.to_string(), BigNumeric::Finite(want).to_string());
        }

        /// What the server sends reads as the exact decimal text of the wire value.
        #[test]
        fn decoding_matches_the_wire_text(
            neg in proptest::bool::ANY,
            weight in -12i16..12,
            digits in proptest::collection::vec(1u16..10_000, 1..10),
            extra in 0u16..6,
        ) {
            let last_power = i32::from(weight) - digits.len() as i32 + 1;
            let dscale = if last_power < 0 { (-last_power * 4) as u16 } else { 0 } + extra;
            let sign = if neg { Sign::Negative } else { Sign::Positive };
            let mut raw = BytesMut::new();
            numeric_wire::write(sign, weight, dscale, &digits, &mut raw);
            let text = numeric_wire::parse(&raw).expect("valid").to_text();
            let n = BigNumeric::from_sql(&Type::NUMERIC, &raw).expect("decodes");
            proptest::prop_assert_eq!(n.to_string(), text);
        }
    }
}
