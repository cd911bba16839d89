//! PostgreSQL `MONEY`.

use bytes::BytesMut;
use postgres_protocol::types as wire;
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::ColumnType;
use crate::error::BoxError;

/// A `MONEY` amount, in the currency's smallest unit: what the server stores, a 64-bit integer
/// (cents where `lc_monetary` has two fractional digits, as in `C` and `en_US`). The server
/// formats and parses text with `lc_monetary`; the binary value this type carries does not
/// depend on it, so every amount from `i64::MIN` to `i64::MAX` round-trips exactly. Prefer
/// `NUMERIC` for new schemas; `Money` reads the ones that have it.
///
/// ```
/// use orm_core::types::Money;
/// assert_eq!(Money(1_050).to_string(), "10.50");
/// assert_eq!(Money(-5).to_string(), "-0.05");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl std::fmt::Display for Money {
    /// With two fractional digits (the unit is a hundredth), without a currency symbol.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl ToSql for Money {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        wire::int8_to_sql(self.0, out);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::MONEY
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Money {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Money(wire::int8_from_sql(raw)?))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::MONEY
    }
}

value_types! { Money => ColumnType::Money }
