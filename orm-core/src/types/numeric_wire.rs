//! PostgreSQL's binary `NUMERIC` format, read and written exactly.
//!
//! A value travels as five 16-bit big-endian fields and its digits:
//!
//! | field | meaning |
//! |---|---|
//! | `ndigits` | how many base-10000 digits follow |
//! | `weight` | the power of 10000 of the first digit (`0`: units, `-1`: the first four decimals) |
//! | `sign` | `0x0000` positive, `0x4000` negative, `0xC000` NaN, `0xD000` +Infinity, `0xF000` -Infinity (PostgreSQL 14 on) |
//! | `dscale` | the display scale: how many decimals the value shows (at most 16383) |
//! | digits | `ndigits` digits, each `0..10000`, most significant first |
//!
//! Digit `i` is worth `digit * 10000^(weight - i)`. The server sends values without leading or
//! trailing zero digits (zero has no digits), and no non-zero digit past `dscale` decimals.
//! Nothing here rounds: a value is read into its exact decimal text, its exact significand, or
//! not at all.

use crate::error::BoxError;

/// The base of a digit.
pub(crate) const NBASE: u32 = 10_000;
/// The largest display scale the server accepts (`NUMERIC_DSCALE_MAX`).
pub(crate) const MAX_DSCALE: u16 = 0x3FFF;

const SIGN_POS: u16 = 0x0000;
const SIGN_NEG: u16 = 0x4000;
const SIGN_NAN: u16 = 0xC000;
const SIGN_PINF: u16 = 0xD000;
const SIGN_NINF: u16 = 0xF000;

/// What kind of value a `NUMERIC` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sign {
    /// Zero or more.
    Positive,
    /// Less than zero.
    Negative,
    /// `NaN`.
    NaN,
    /// `Infinity`.
    Infinity,
    /// `-Infinity`.
    NegInfinity,
}

/// A `NUMERIC` as received, its digits still in the message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Numeric<'a> {
    pub(crate) sign: Sign,
    pub(crate) weight: i16,
    pub(crate) dscale: u16,
    /// `ndigits` big-endian `u16` digits.
    digits: &'a [u8],
}

/// Reads a `NUMERIC` from its binary form, checking every field as the server's
/// `numeric_recv` does.
pub(crate) fn parse(raw: &[u8]) -> Result<Numeric<'_>, BoxError> {
    let field = |i: usize| -> Result<u16, BoxError> {
        raw.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "invalid numeric: the header is cut short".into())
    };
    let ndigits = usize::from(field(0)?);
    let weight = field(2)? as i16;
    let sign = match field(4)? {
        SIGN_POS => Sign::Positive,
        SIGN_NEG => Sign::Negative,
        SIGN_NAN => Sign::NaN,
        SIGN_PINF => Sign::Infinity,
        SIGN_NINF => Sign::NegInfinity,
        other => return Err(format!("invalid numeric: sign 0x{other:04X}").into()),
    };
    let dscale = field(6)?;
    if dscale > MAX_DSCALE {
        return Err(format!("invalid numeric: display scale {dscale}").into());
    }
    let digits = &raw[8..];
    if digits.len() != ndigits * 2 {
        return Err(format!(
            "invalid numeric: {ndigits} digits announced, {} bytes sent",
            digits.len()
        )
        .into());
    }
    let n = Numeric {
        sign,
        weight,
        dscale,
        digits,
    };
    if let Some(d) = n.digits().find(|&d| u32::from(d) >= NBASE) {
        return Err(format!("invalid numeric: digit {d}").into());
    }
    Ok(n)
}

// `Decimal`'s check reads the value; `BigNumeric` only its digits.
#[cfg_attr(not(feature = "decimal"), allow(dead_code))]
impl Numeric<'_> {
    /// The number of base-10000 digits.
    #[cfg_attr(not(feature = "bigdecimal"), allow(dead_code))]
    pub(crate) fn ndigits(&self) -> usize {
        self.digits.len() / 2
    }

    /// The base-10000 digits, most significant first.
    pub(crate) fn digits(&self) -> impl DoubleEndedIterator<Item = u16> + ExactSizeIterator + '_ {
        self.digits
            .chunks_exact(2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// Digit `i` (zero outside the digits sent).
    fn digit(&self, i: i64) -> u16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.digits.get(2 * i..2 * i + 2))
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// Whether this is a number (not NaN or an infinity).
    pub(crate) fn is_finite(&self) -> bool {
        matches!(self.sign, Sign::Positive | Sign::Negative)
    }

    /// The value as PostgreSQL writes it: `NaN`, `Infinity`, `-Infinity`, or the digits with
    /// exactly `dscale` decimals (`-0.50`, `12`, `1.000`).
    pub(crate) fn to_text(self) -> String {
        match self.sign {
            Sign::NaN => return "NaN".into(),
            Sign::Infinity => return "Infinity".into(),
            Sign::NegInfinity => return "-Infinity".into(),
            Sign::Positive | Sign::Negative => {}
        }
        let weight = i64::from(self.weight);
        let mut out = String::new();
        if self.sign == Sign::Negative {
            out.push('-');
        }
        if weight < 0 {
            out.push('0');
        } else {
            for i in 0..=weight {
                let d = self.digit(i);
                if i == 0 {
                    out.push_str(&d.to_string());
                } else {
                    out.push_str(&format!("{d:04}"));
                }
            }
        }
        if self.dscale > 0 {
            out.push('.');
            let mut left = usize::from(self.dscale);
            let mut i = weight + 1;
            while left > 0 {
                let group = format!("{:04}", self.digit(i));
                let take = left.min(4);
                out.push_str(&group[..take]);
                left -= take;
                i += 1;
            }
        }
        out
    }

    /// The exact value as `(negative, significand, scale)` with the smallest scale, meaning
    /// `±significand / 10^scale`; `None` for NaN and the infinities, and when the significand
    /// does not fit 128 bits.
    pub(crate) fn significand(&self) -> Option<(bool, u128, u32)> {
        if !self.is_finite() {
            return None;
        }
        let negative = self.sign == Sign::Negative;
        // The last non-zero digit: every digit after it adds nothing.
        let Some(last) = self.digits().rposition(|d| d != 0) else {
            return Some((false, 0, 0));
        };
        let mut m: u128 = 0;
        for d in self.digits().take(last + 1) {
            m = m
                .checked_mul(u128::from(NBASE))?
                .checked_add(u128::from(d))?;
        }
        // The last digit kept is worth 10000^(weight - last).
        let exponent = i64::from(self.weight) - last as i64;
        if exponent >= 0 {
            for _ in 0..exponent {
                m = m.checked_mul(u128::from(NBASE))?;
            }
            return Some((negative, m, 0));
        }
        let mut scale = u32::try_from(-exponent).ok()?.checked_mul(4)?;
        while scale > 0 && m % 10 == 0 {
            m /= 10;
            scale -= 1;
        }
        Some((negative, m, scale))
    }

    /// Whether `rust_decimal::Decimal` holds the value exactly: a finite value whose significand
    /// fits 96 bits with at most 28 decimals. (Trailing zeros of the display scale past 28
    /// decimals are not part of the value.)
    pub(crate) fn fits_decimal(&self) -> bool {
        const MAX_SCALE: u32 = 28;
        const MAX_SIGNIFICAND: u128 = (1 << 96) - 1;
        self.significand()
            .is_some_and(|(_, m, scale)| scale <= MAX_SCALE && m <= MAX_SIGNIFICAND)
    }
}

/// Writes a `NUMERIC` in its binary form. The digits must be `0..10000`; the caller keeps
/// `ndigits` within 16 bits.
#[cfg_attr(not(any(feature = "bigdecimal", test)), allow(dead_code))]
pub(crate) fn write(
    sign: Sign,
    weight: i16,
    dscale: u16,
    digits: &[u16],
    out: &mut bytes::BytesMut,
) {
    use bytes::BufMut;
    let sign = match sign {
        Sign::Positive => SIGN_POS,
        Sign::Negative => SIGN_NEG,
        Sign::NaN => SIGN_NAN,
        Sign::Infinity => SIGN_PINF,
        Sign::NegInfinity => SIGN_NINF,
    };
    out.reserve(8 + 2 * digits.len());
    out.put_u16(digits.len() as u16);
    out.put_i16(weight);
    out.put_u16(sign);
    out.put_u16(dscale);
    for &d in digits {
        out.put_u16(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(sign: Sign, weight: i16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut out = bytes::BytesMut::new();
        write(sign, weight, dscale, digits, &mut out);
        out.to_vec()
    }

    fn text(sign: Sign, weight: i16, dscale: u16, digits: &[u16]) -> String {
        parse(&wire(sign, weight, dscale, digits))
            .expect("valid")
            .to_text()
    }

    #[test]
    fn text_is_the_servers() {
        use Sign::*;
        assert_eq!(text(Positive, 0, 0, &[]), "0");
        assert_eq!(text(Positive, 0, 2, &[]), "0.00");
        assert_eq!(text(Negative, 0, 2, &[1, 5000]), "-1.50");
        assert_eq!(text(Positive, 1, 0, &[12, 3456]), "123456");
        assert_eq!(text(Positive, 2, 0, &[1]), "100000000");
        assert_eq!(text(Positive, -2, 8, &[12]), "0.00000012");
        assert_eq!(text(Positive, -1, 3, &[1230]), "0.123");
        assert_eq!(text(NaN, 0, 0, &[]), "NaN");
        assert_eq!(text(Infinity, 0, 0, &[]), "Infinity");
        assert_eq!(text(NegInfinity, 0, 0, &[]), "-Infinity");
    }

    #[test]
    fn the_significand_is_exact_and_minimal() {
        let sig = |w, d, digits: &[u16]| {
            parse(&wire(Sign::Positive, w, d, digits))
                .expect("valid")
                .significand()
        };
        assert_eq!(sig(0, 2, &[1, 5000]), Some((false, 15, 1)));
        assert_eq!(sig(2, 0, &[7]), Some((false, 7_0000_0000, 0)));
        assert_eq!(sig(-2, 8, &[1]), Some((false, 1, 8)));
        assert_eq!(sig(0, 0, &[]), Some((false, 0, 0)));
        // 10 digits of 10000: 40 decimal digits, more than 128 bits hold.
        assert_eq!(sig(9, 0, &[9999; 10]), None);
    }

    #[test]
    fn decimal_fits_up_to_28_decimals_and_96_bits() {
        let fits = |w, d, digits: &[u16]| {
            parse(&wire(Sign::Positive, w, d, digits))
                .expect("valid")
                .fits_decimal()
        };
        // 0.1234...(28 decimals): 7 digits after the point.
        assert!(fits(-1, 28, &[1234; 7]));
        // 29 decimals.
        assert!(!fits(
            -1,
            29,
            &[1234, 1234, 1234, 1234, 1234, 1234, 1234, 1000]
        ));
        // 1.5 shown with 40 decimals is still 1.5.
        assert!(fits(0, 40, &[1, 5000]));
        // 79228162514264337593543950335 (2^96 - 1) fits, one more does not.
        assert!(fits(7, 0, &[7, 9228, 1625, 1426, 4337, 5935, 4395, 335]));
        assert!(!fits(7, 0, &[7, 9228, 1625, 1426, 4337, 5935, 4395, 336]));
        assert!(
            !parse(&wire(Sign::NaN, 0, 0, &[]))
                .expect("valid")
                .fits_decimal()
        );
    }

    /// A canonical value, as the server sends it: no leading or trailing zero digits, zero
    /// without digits, and a display scale at least the scale of its last digit.
    fn canonical() -> impl proptest::strategy::Strategy<Value = (Sign, i16, u16, Vec<u16>)> {
        use proptest::prelude::*;
        (
            any::<bool>(),
            -12i16..12,
            proptest::collection::vec(0u16..10_000, 0..12),
            0u16..8,
        )
            .prop_map(|(neg, weight, mut digits, extra)| {
                while digits.first() == Some(&0) {
                    digits.remove(0);
                }
                while digits.last() == Some(&0) {
                    digits.pop();
                }
                let last_power = i32::from(weight) - digits.len() as i32 + 1;
                let needed = if last_power < 0 {
                    (-last_power * 4) as u16
                } else {
                    0
                };
                let (sign, weight) = match (neg, digits.is_empty()) {
                    (_, true) => (Sign::Positive, 0),
                    (true, false) => (Sign::Negative, weight),
                    (false, false) => (Sign::Positive, weight),
                };
                (sign, weight, needed + extra, digits)
            })
    }

    proptest::proptest! {
        /// The text and the significand say the same number.
        #[test]
        fn text_and_significand_agree((sign, weight, dscale, digits) in canonical()) {
            let raw = wire(sign, weight, dscale, &digits);
            let n = parse(&raw).expect("valid");
            let text = n.to_text();
            let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
            proptest::prop_assert_eq!(decimals, usize::from(dscale));
            if let Some((neg, m, scale)) = n.significand() {
                // Written back with `dscale` decimals, the significand is the text.
                let dscale = usize::from(dscale);
                let mut digits = m.to_string();
                digits.push_str(&"0".repeat(dscale - scale as usize));
                if digits.len() <= dscale {
                    digits = format!("{}{digits}", "0".repeat(dscale + 1 - digits.len()));
                }
                let (int, frac) = digits.split_at(digits.len() - dscale);
                let mut back = String::new();
                if neg {
                    back.push('-');
                }
                back.push_str(int);
                if dscale > 0 {
                    back.push('.');
                    back.push_str(frac);
                }
                proptest::prop_assert_eq!(back, text);
            }
        }

        /// What the check lets through, `rust_decimal`'s own decoder reads exactly; what it
        /// stops, it would not.
        #[cfg(feature = "decimal")]
        #[test]
        fn decimal_fits_exactly_when_the_check_says((sign, weight, dscale, digits) in canonical()) {
            use postgres_types::{FromSql, Type};
            let raw = wire(sign, weight, dscale, &digits);
            let n = parse(&raw).expect("valid");
            let exact = n.to_text();
            // The exact value, when any Decimal holds it.
            let trimmed = match exact.contains('.') {
                true => exact.trim_end_matches('0').trim_end_matches('.'),
                false => &exact,
            };
            let wanted = rust_decimal::Decimal::from_str_exact(trimmed);
            if n.fits_decimal() {
                let decoded = rust_decimal::Decimal::from_sql(&Type::NUMERIC, &raw).expect("decodes");
                proptest::prop_assert_eq!(decoded.normalize(), wanted.expect("exact").normalize());
            } else {
                // Never handed to rust_decimal's decoder, which would round it, fail, or panic.
                proptest::prop_assert!(wanted.is_err() || !n.is_finite() || exact.len() > 28);
            }
        }
    }

    /// Why the check exists: rust_decimal's decoder rounds a value past 28 decimals, and panics
    /// on some values past its range.
    #[cfg(feature = "decimal")]
    #[test]
    fn rust_decimal_alone_rounds_and_panics() {
        use postgres_types::{FromSql, Type};
        // 0.12345678901234567890123456789012345678 (38 decimals)
        let raw = wire(
            Sign::Positive,
            -1,
            38,
            &[1234, 5678, 9012, 3456, 7890, 1234, 5678, 9012, 3456, 7800],
        );
        let rounded = rust_decimal::Decimal::from_sql(&Type::NUMERIC, &raw).expect("decodes");
        assert_eq!(rounded.to_string(), "0.1234567890123456789012345679");
        assert!(!parse(&raw).expect("valid").fits_decimal());
        // 10^32 (one digit of weight 8): rust_decimal's decoder panics.
        let raw = wire(Sign::Positive, 8, 0, &[1]);
        assert!(!parse(&raw).expect("valid").fits_decimal());
        let outcome = std::panic::catch_unwind(|| {
            rust_decimal::Decimal::from_sql(&Type::NUMERIC, &raw).is_ok()
        });
        assert!(outcome.is_err(), "rust_decimal no longer panics on 10^32");
    }

    #[test]
    fn malformed_values_are_errors() {
        assert!(parse(&[0, 1]).is_err());
        assert!(parse(&wire(Sign::Positive, 0, 0, &[10_000])).is_err());
        assert!(parse(&wire(Sign::Positive, 0, 0x4000, &[])).is_err());
        let mut cut = wire(Sign::Positive, 0, 0, &[1, 2]);
        cut.pop();
        assert!(parse(&cut).is_err());
        let mut bad_sign = wire(Sign::Positive, 0, 0, &[]);
        bad_sign[4] = 0x80;
        assert!(parse(&bad_sign).is_err());
    }
}
