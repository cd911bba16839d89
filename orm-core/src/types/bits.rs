//! PostgreSQL bit strings: `BIT VARYING` ([`Bits`]).

use bytes::BytesMut;
use postgres_protocol::types as wire;
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::ColumnType;
use crate::error::BoxError;

/// A string of bits (`VARBIT`; reads `BIT(n)` too): any length, the first bit the most
/// significant of the first byte, as on the server.
///
/// ```
/// use orm_core::types::Bits;
/// let b = Bits::from_bools([true, false, true, true]);
/// assert_eq!(b.len(), 4);
/// assert_eq!(b.to_string(), "1011");
/// assert_eq!(b.get(1), Some(false));
/// assert_eq!(b.get(4), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Bits {
    len: usize,
    /// `len` bits, padded with zeros to whole bytes.
    bytes: Vec<u8>,
}

impl Bits {
    /// The bits, in order.
    pub fn from_bools(bits: impl IntoIterator<Item = bool>) -> Bits {
        let mut out = Bits::default();
        for bit in bits {
            out.push(bit);
        }
        out
    }

    /// Appends one bit.
    pub fn push(&mut self, bit: bool) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        if bit {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 0x80 >> (self.len % 8);
            }
        }
        self.len += 1;
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bit `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<bool> {
        (i < self.len).then(|| self.bytes[i / 8] & (0x80 >> (i % 8)) != 0)
    }

    /// The bits, in order.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).filter_map(|i| self.get(i))
    }
}

impl std::fmt::Display for Bits {
    /// `1011`, as the server writes a bit string.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.iter()
            .try_for_each(|b| f.write_str(if b { "1" } else { "0" }))
    }
}

impl ToSql for Bits {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        wire::varbit_to_sql(self.len, self.bytes.iter().copied(), out)?;
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::VARBIT || *ty == Type::BIT
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Bits {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let v = wire::varbit_from_sql(raw)?;
        let mut bytes = v.bytes().to_vec();
        // The server pads with zeros; clear them anyway, so equal strings are equal values.
        if v.len() % 8 != 0 {
            if let Some(last) = bytes.last_mut() {
                *last &= 0xff << (8 - v.len() % 8);
            }
        }
        Ok(Bits {
            len: v.len(),
            bytes,
        })
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::VARBIT || *ty == Type::BIT
    }
}

value_types! { Bits => ColumnType::VarBit }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_the_wire_format() {
        for n in [0, 1, 7, 8, 9, 100] {
            let b = Bits::from_bools((0..n).map(|i| i % 3 == 0));
            let mut raw = BytesMut::new();
            b.to_sql(&Type::VARBIT, &mut raw).expect("valid");
            assert_eq!(Bits::from_sql(&Type::VARBIT, &raw).expect("valid"), b);
        }
    }
}
