//! Network addresses: `INET` (`std::net::IpAddr` for a host, [`Inet`] with a netmask), `CIDR`
//! ([`Cidr`]) and `MACADDR` ([`MacAddr`]), on the binary format of `postgres-protocol`: no
//! extra crate.

use std::fmt;
use std::net::IpAddr;

use bytes::BytesMut;
use postgres_protocol::types as wire;
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::{ArrayElement, ColumnType, Retype, SqlType};
use crate::error::{BoxError, ValueOutOfRange};

/// The longest netmask of the address's family: 32 or 128.
fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Why an address and netmask do not make an [`Inet`] or a [`Cidr`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The netmask is longer than the address (over 32 bits for IPv4, 128 for IPv6).
    #[error("netmask /{prefix} is longer than the {bits}-bit address {addr}")]
    PrefixTooLong {
        /// The address.
        addr: IpAddr,
        /// The netmask's length.
        prefix: u8,
        /// The address's length in bits.
        bits: u8,
    },
    /// A network (`CIDR`) with bits set right of its netmask (`10.1.2.3/8`).
    #[error("{addr}/{prefix} has bits set right of its netmask; the network is {network}/{prefix}")]
    HostBitsSet {
        /// The address.
        addr: IpAddr,
        /// The netmask's length.
        prefix: u8,
        /// The address with those bits cleared.
        network: IpAddr,
    },
}

/// An `INET` value: a host address with the netmask of its network (`192.168.0.7/24`). A column
/// of `std::net::IpAddr` is an `INET` too, for hosts alone: a value with a shorter netmask does
/// not decode into it (read it as `Inet`).
///
/// ```
/// use orm_core::types::Inet;
/// let host: Inet = Inet::new("192.168.0.7".parse().unwrap(), 24).unwrap();
/// assert_eq!(host.to_string(), "192.168.0.7/24");
/// assert!(Inet::new("10.0.0.1".parse().unwrap(), 33).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Inet {
    addr: IpAddr,
    prefix: u8,
}

impl Inet {
    /// The address with a netmask of `prefix` bits; an error past the address's length.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Inet, NetworkError> {
        let bits = max_prefix(addr);
        if prefix > bits {
            return Err(NetworkError::PrefixTooLong { addr, prefix, bits });
        }
        Ok(Inet { addr, prefix })
    }

    /// The address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The netmask's length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

impl From<IpAddr> for Inet {
    /// A host: the full netmask (`/32`, `/128`).
    fn from(addr: IpAddr) -> Inet {
        Inet {
            addr,
            prefix: max_prefix(addr),
        }
    }
}

impl fmt::Display for Inet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A `CIDR` value: a network, its address with no bits set right of the netmask (`10.0.0.0/8`).
///
/// ```
/// use orm_core::types::Cidr;
/// let net = Cidr::new("10.0.0.0".parse().unwrap(), 8).unwrap();
/// assert_eq!(net.to_string(), "10.0.0.0/8");
/// // `10.1.0.0/8` is not a network: the error names the one it is in.
/// let err = Cidr::new("10.1.0.0".parse().unwrap(), 8).unwrap_err();
/// assert_eq!(err.to_string(), "10.1.0.0/8 has bits set right of its netmask; the network is 10.0.0.0/8");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The network `addr/prefix`; an error when the netmask is too long or `addr` has bits set
    /// right of it (the server refuses those too).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, NetworkError> {
        let inet = Inet::new(addr, prefix)?;
        let network = mask(addr, prefix);
        if network != addr {
            return Err(NetworkError::HostBitsSet {
                addr,
                prefix,
                network,
            });
        }
        Ok(Cidr {
            addr: inet.addr,
            prefix,
        })
    }

    /// The network's address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The netmask's length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// `addr` with the bits right of `prefix` cleared.
fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

/// A `MACADDR` value: six bytes.
///
/// ```
/// use orm_core::types::MacAddr;
/// assert_eq!(MacAddr([0x08, 0, 0x2b, 1, 2, 3]).to_string(), "08:00:2b:01:02:03");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// A `MACADDR8` value: eight bytes (EUI-64). A [`MacAddr`] converts into one the way the server
/// casts `macaddr` to `macaddr8`, with `ff:fe` in the middle.
///
/// ```
/// use orm_core::types::{MacAddr, MacAddr8};
/// let eui64 = MacAddr8::from(MacAddr([0x08, 0, 0x2b, 1, 2, 3]));
/// assert_eq!(eui64.to_string(), "08:00:2b:ff:fe:01:02:03");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr8(pub [u8; 8]);

impl fmt::Display for MacAddr8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl From<MacAddr> for MacAddr8 {
    fn from(m: MacAddr) -> Self {
        let [a, b, c, d, e, g] = m.0;
        MacAddr8([a, b, c, 0xff, 0xfe, d, e, g])
    }
}

impl ToSql for MacAddr8 {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::MACADDR8
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for MacAddr8 {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let bytes: [u8; 8] = raw
            .try_into()
            .map_err(|_| format!("a macaddr8 value has 8 bytes, not {}", raw.len()))?;
        Ok(MacAddr8(bytes))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::MACADDR8
    }
}

impl ToSql for Inet {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        wire::inet_to_sql(self.addr, self.prefix, out);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INET
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Inet {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let v = wire::inet_from_sql(raw)?;
        Ok(Inet::new(v.addr(), v.netmask())?)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INET
    }
}

impl ToSql for Cidr {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        wire::inet_to_sql(self.addr, self.prefix, out);
        Ok(IsNull::No)
    }
    /// `INET` too: the server types a parameter in a multi-row `VALUES` list as the network
    /// category's preferred type, `inet`, and casts it to `cidr` on assignment (unchanged: a
    /// `Cidr` has no bits right of its netmask).
    fn accepts(ty: &Type) -> bool {
        *ty == Type::CIDR || *ty == Type::INET
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Cidr {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let v = wire::inet_from_sql(raw)?;
        Ok(Cidr::new(v.addr(), v.netmask())?)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::CIDR
    }
}

impl ToSql for MacAddr {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        wire::macaddr_to_sql(self.0, out);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::MACADDR
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for MacAddr {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(MacAddr(wire::macaddr_from_sql(raw)?))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::MACADDR
    }
}

value_types! {
    Inet => ColumnType::Inet,
    Cidr => ColumnType::Cidr,
    MacAddr => ColumnType::MacAddr,
    MacAddr8 => ColumnType::MacAddr8,
}

/// A host address in an `INET` column. The driver's own decoder drops a netmask, so every
/// value is checked first: `10.0.0.1/8` is an error saying to read it as [`Inet`].
impl SqlType for IpAddr {
    type Base = IpAddr;
    const COLUMN_TYPE: ColumnType = ColumnType::Inet;
    clone_from_any!();
    const DECODE_CHECK: bool = true;
    fn decode_check(_: &Type, raw: &[u8]) -> Result<(), BoxError> {
        let v = wire::inet_from_sql(raw)?;
        if v.netmask() == max_prefix(v.addr()) {
            return Ok(());
        }
        Err(Box::new(ValueOutOfRange::new(
            "inet",
            format!("{}/{}", v.addr(), v.netmask()),
            "std::net::IpAddr",
            "it holds no netmask; read the column as `Inet`",
        )))
    }
}
impl ArrayElement for IpAddr {}
impl<B: SqlType> Retype<B> for IpAddr {
    type Output = B;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_mask_their_host_bits() {
        let v6: IpAddr = "2001:db8::1".parse().expect("valid");
        assert!(Cidr::new(v6, 128).is_ok());
        assert!(Cidr::new(v6, 127).is_err());
        assert!(Cidr::new("0.0.0.0".parse().expect("valid"), 0).is_ok());
        assert!(Cidr::new("1.0.0.0".parse().expect("valid"), 0).is_err());
        assert_eq!(mask(v6, 0), "::".parse::<IpAddr>().expect("valid"));
    }
}
