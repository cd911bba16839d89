//! The parameters of an unnamed statement: the type each one is declared as, found from its
//! value, and its encoding.
//!
//! A value of a user-named type (an enum, a domain, a composite type, `citext`, `ltree`,
//! `hstore`, or an array of one) names its type ([`declared_type`]), which `catalog.rs` looks up:
//! it is declared as that type and encoded as a prepared statement would encode it (a domain as
//! its base type). Any other [`Param`] is a `dyn ToSql`, which says which types it accepts only
//! by trying to encode itself for one (`to_sql_checked` fails with `WrongType` first). So each
//! value is encoded for the first type of [`BUILT_IN`] it accepts, once, into one buffer for the
//! whole statement (an `oid` then becomes an `int8`, see [`widen_oid`]); the driver then copies
//! the bytes into its Bind message. A value accepting
//! none of them (a `#[derive(DbEnum)]` value bound by hand, which accepts `unknown`) is sent as
//! untyped text, whose type the server infers from the value's place in the statement.

use std::ops::Range;
use std::sync::LazyLock;

use deadpool_postgres::tokio_postgres::types::{Format, IsNull, Kind, ToSql, Type, WrongType};

use crate::__private::BytesMut;
use crate::pg_row::check_size;
use crate::types::Param;
use crate::{BoxError, ColumnType, Error, ErrorKind};
use orm_core::driver::encode_value;
use orm_core::types::{declared_type, domain_base};

/// The built-in types a parameter may be declared as, in the order they are tried: the most
/// common first (a miss costs a small allocation), every scalar before any array (no Rust type
/// accepts both), `text` before the other string types and `jsonb` before `json` (`String` and
/// `serde_json::Value` accept both, and the ORM's columns are `text` and `jsonb`).
const BUILT_IN: [Type; 80] = [
    Type::INT8,
    Type::TEXT,
    Type::INT4,
    Type::BOOL,
    Type::TIMESTAMPTZ,
    Type::UUID,
    Type::FLOAT8,
    Type::NUMERIC,
    Type::INT2,
    Type::FLOAT4,
    Type::TIMESTAMP,
    Type::DATE,
    Type::TIME,
    Type::JSONB,
    Type::JSON,
    Type::BYTEA,
    Type::INTERVAL,
    Type::TS_VECTOR,
    Type::TSQUERY,
    Type::OID,
    Type::CHAR,
    Type::INET,
    Type::CIDR,
    Type::MACADDR,
    Type::MACADDR8,
    Type::MONEY,
    Type::VARBIT,
    Type::BIT,
    Type::INT4_RANGE,
    Type::INT8_RANGE,
    Type::NUM_RANGE,
    Type::TS_RANGE,
    Type::TSTZ_RANGE,
    Type::DATE_RANGE,
    Type::INT4MULTI_RANGE,
    Type::INT8MULTI_RANGE,
    Type::NUMMULTI_RANGE,
    Type::TSMULTI_RANGE,
    Type::TSTZMULTI_RANGE,
    Type::DATEMULTI_RANGE,
    Type::INT8_ARRAY,
    Type::TEXT_ARRAY,
    Type::INT4_ARRAY,
    Type::BOOL_ARRAY,
    Type::TIMESTAMPTZ_ARRAY,
    Type::UUID_ARRAY,
    Type::FLOAT8_ARRAY,
    Type::NUMERIC_ARRAY,
    Type::INT2_ARRAY,
    Type::FLOAT4_ARRAY,
    Type::TIMESTAMP_ARRAY,
    Type::DATE_ARRAY,
    Type::TIME_ARRAY,
    Type::JSONB_ARRAY,
    Type::JSON_ARRAY,
    Type::BYTEA_ARRAY,
    Type::INTERVAL_ARRAY,
    Type::TS_VECTOR_ARRAY,
    Type::TSQUERY_ARRAY,
    Type::OID_ARRAY,
    Type::CHAR_ARRAY,
    Type::INET_ARRAY,
    Type::CIDR_ARRAY,
    Type::MACADDR_ARRAY,
    Type::MACADDR8_ARRAY,
    Type::MONEY_ARRAY,
    Type::VARBIT_ARRAY,
    Type::BIT_ARRAY,
    Type::INT4_RANGE_ARRAY,
    Type::INT8_RANGE_ARRAY,
    Type::NUM_RANGE_ARRAY,
    Type::TS_RANGE_ARRAY,
    Type::TSTZ_RANGE_ARRAY,
    Type::DATE_RANGE_ARRAY,
    Type::INT4MULTI_RANGE_ARRAY,
    Type::INT8MULTI_RANGE_ARRAY,
    Type::NUMMULTI_RANGE_ARRAY,
    Type::TSMULTI_RANGE_ARRAY,
    Type::TSTZMULTI_RANGE_ARRAY,
    Type::DATEMULTI_RANGE_ARRAY,
];

/// An array of `unknown`: what an array of enum values encodes for, element type unknown. Not
/// a type of the server; only ever handed to `to_sql_checked`.
static UNKNOWN_ARRAY: LazyLock<Type> = LazyLock::new(|| {
    Type::new(
        "_unknown".into(),
        0,
        Kind::Array(Type::UNKNOWN),
        "pg_catalog".into(),
    )
});

/// The parameters of one statement, encoded: one buffer, and each parameter's declared type,
/// format and byte range in it (`None` for `NULL`).
#[derive(Debug)]
pub(crate) struct Encoded {
    buf: BytesMut,
    slots: Vec<Slot>,
}

#[derive(Debug)]
struct Slot {
    ty: Type,
    format: Format,
    value: Option<Range<usize>>,
}

/// One encoded parameter as the driver takes it: its bytes, written as they are.
#[derive(Debug)]
pub(crate) struct Raw<'a> {
    value: Option<&'a [u8]>,
    format: Format,
}

impl ToSql for Raw<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.value {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, _: &Type) -> Format {
        self.format
    }

    deadpool_postgres::tokio_postgres::types::to_sql_checked!();
}

impl Encoded {
    /// Types and encodes every parameter: as `declared[i]` when given (the type a value of a
    /// user-named type names, looked up), else as the first built-in type it accepts.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`] naming the parameter: its value failed to encode, is too large
    /// for the server, or accepts none of the types the unnamed mode can declare (a value that
    /// names its type but has none in `declared`).
    pub(crate) fn new(params: &[Param], declared: &[Option<Type>]) -> Result<Encoded, Error> {
        let mut buf = BytesMut::new();
        let mut slots = Vec::with_capacity(params.len());
        for (index, p) in params.iter().enumerate() {
            let slot = match declared.get(index) {
                Some(Some(ty)) => encode_declared(&**p, ty, &mut buf),
                _ => encode(&**p, &mut buf),
            };
            let slot = slot
                .and_then(|slot| {
                    let size = slot.value.as_ref().map_or(0, Range::len);
                    check_size(size, buf.len())?;
                    Ok(slot)
                })
                .map_err(|source| {
                    Error::from(ErrorKind::Encode {
                        index: index + 1,
                        source,
                    })
                })?;
            slots.push(slot);
        }
        Ok(Encoded { buf, slots })
    }

    /// Each parameter with its declared type, for `query_typed_raw`.
    pub(crate) fn typed(&self) -> impl ExactSizeIterator<Item = (Raw<'_>, Type)> {
        self.slots.iter().map(|s| {
            let raw = Raw {
                value: s.value.clone().map(|r| &self.buf[r]),
                format: s.format,
            };
            (raw, s.ty.clone())
        })
    }

    /// Appends each parameter's type, format and bytes to `out`: equal for equal values, so a
    /// result cache keys on it.
    #[cfg(feature = "cache")]
    pub(crate) fn write_key(&self, out: &mut Vec<u8>) {
        for s in &self.slots {
            out.extend_from_slice(&s.ty.oid().to_le_bytes());
            out.push(matches!(s.format, Format::Binary) as u8);
            match &s.value {
                Some(r) => {
                    out.extend_from_slice(&(r.len() as u64).to_le_bytes());
                    out.extend_from_slice(&self.buf[r.clone()]);
                }
                None => out.extend_from_slice(&u64::MAX.to_le_bytes()),
            }
        }
    }

    /// The declared types, in order (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn types(&self) -> Vec<Type> {
        self.slots.iter().map(|s| s.ty.clone()).collect()
    }
}

/// The column type each parameter names (see [`declared_type`]), or an empty list when none
/// does (nothing allocated).
pub(crate) fn declared(params: &[Param]) -> Vec<Option<&'static ColumnType>> {
    let mut out = Vec::new();
    for (i, p) in params.iter().enumerate() {
        if let Some(ty) = declared_type(&**p) {
            if out.is_empty() {
                out.resize(params.len(), None);
            }
            out[i] = Some(ty);
        }
    }
    out
}

/// Encodes one value declared as `ty`, a type looked up by name: for a domain, as its base type
/// (as a prepared statement's parameter is, see `pg_row::DomainParam`).
fn encode_declared(
    p: &(dyn ToSql + Send + Sync),
    ty: &Type,
    buf: &mut BytesMut,
) -> Result<Slot, BoxError> {
    let base = domain_base(ty).unwrap_or(ty);
    let start = buf.len();
    let value = match encode_value(p, base, buf)? {
        IsNull::No => Some(start..buf.len()),
        IsNull::Yes => {
            buf.truncate(start);
            None
        }
    };
    Ok(Slot {
        ty: ty.clone(),
        format: p.encode_format(base),
        value,
    })
}

/// Encodes one value for the first built-in type it accepts, else as untyped text.
fn encode(p: &(dyn ToSql + Send + Sync), buf: &mut BytesMut) -> Result<Slot, BoxError> {
    for ty in &BUILT_IN {
        if let Some(slot) = try_encode(p, ty, buf)? {
            // A value of any type (the `NULL` of a column an inheritance variant lacks, an
            // array of them) accepts the first one tried, which is no more its type than any
            // other: declared `unknown`, its type is the one its place in the statement gives.
            if typeless(p, &slot)? {
                buf.truncate(slot.value.as_ref().map_or(buf.len(), |r| r.start));
                return untyped(p, buf);
            }
            return widen_oid(slot, buf);
        }
    }
    untyped(p, buf)
}

/// Whether `p`, encoded as `slot` (the first built-in type it accepts: `int8`, or `int8[]`
/// for arrays), is a value of any type: a `NULL` that is `text` too, or an array of them.
fn typeless(p: &(dyn ToSql + Send + Sync), slot: &Slot) -> Result<bool, BoxError> {
    let other = match slot.ty {
        Type::INT8 if slot.value.is_none() => Type::TEXT,
        Type::INT8_ARRAY => Type::TEXT_ARRAY,
        _ => return Ok(false),
    };
    Ok(try_encode(p, &other, &mut BytesMut::new())?.is_some())
}

/// Encodes a value no built-in type is declared for, as untyped text (`unknown`).
fn untyped(p: &(dyn ToSql + Send + Sync), buf: &mut BytesMut) -> Result<Slot, BoxError> {
    // An enum value: its label (text and binary alike), in text format, type `unknown`.
    if let Some(mut slot) = try_encode(p, &Type::UNKNOWN, buf)? {
        if let Some(r) = &slot.value {
            std::str::from_utf8(&buf[r.clone()])
                .map_err(|_| "an untyped value must be UTF-8 text")?;
        }
        slot.format = Format::Text;
        return Ok(slot);
    }
    // An array of enum values: its binary form (element type 0) rewritten as an array literal.
    let mut scratch = BytesMut::new();
    if let Some(slot) = try_encode(p, &UNKNOWN_ARRAY, &mut scratch)? {
        let value = match slot.value {
            Some(r) => {
                let start = buf.len();
                buf.extend_from_slice(array_literal(&scratch[r])?.as_bytes());
                Some(start..buf.len())
            }
            None => None,
        };
        return Ok(Slot {
            ty: Type::UNKNOWN,
            format: Format::Text,
            value,
        });
    }
    Err(UNDECLARED.into())
}

/// Why a value that names no type and accepts no built-in one cannot be sent in the unnamed
/// mode, and what to do about it: declare the type through the value's `SqlType`.
const UNDECLARED: &str = "in the unnamed statement mode each parameter's type is declared by the client, and this \
     value gives none: its column type (`SqlType::COLUMN_TYPE`) names no PostgreSQL type and its \
     ToSql accepts none of the built-in types (numbers, text, bytea, dates and times, uuid, json, \
     numeric, interval, tsvector, tsquery, inet, cidr, macaddr, money, bit strings, ranges, \
     multiranges, arrays of these). Declare the type its ToSql encodes for in its SqlType impl, \
     `const COLUMN_TYPE: ColumnType = ColumnType::Named(&NamedType::new(\"mood\"))` (or an \
     `Enum`, `Domain` or `Composite`, as #[derive(DbEnum)], #[derive(SqlType)] and a CustomType \
     naming a type do), and bind it as that type (a column of it, `bind`, `types::param_of`): \
     the unnamed mode then looks the type up by name; or use StatementMode::Cached, where the \
     server infers it";

/// Encodes `p` for `ty` at the end of `buf`, or `None` when `p` does not accept `ty`.
fn try_encode(
    p: &(dyn ToSql + Send + Sync),
    ty: &Type,
    buf: &mut BytesMut,
) -> Result<Option<Slot>, BoxError> {
    let start = buf.len();
    match encode_value(p, ty, buf) {
        Ok(null) => {
            let value = match null {
                IsNull::No => Some(start..buf.len()),
                IsNull::Yes => {
                    buf.truncate(start);
                    None
                }
            };
            Ok(Some(Slot {
                ty: ty.clone(),
                format: p.encode_format(ty),
                value,
            }))
        }
        Err(e) if e.is::<WrongType>() => {
            buf.truncate(start);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A value of type `oid` (a `u32`) is declared as `int8`: the server casts an `oid` into
/// `int4` bit for bit (4,000,000,000 becomes -294,967,296), where it range-checks an `int8`
/// ("integer out of range"); it casts an `int8` into `oid` implicitly and compares the two as
/// well. (A prepared statement refuses a `u32` for an `int4` column outright.) An `oid[]` stays
/// one: array operators (`=`, `@>`, `&&` on an `oid[]` column) take no `int8[]`. The slot is the
/// last value of `buf`, rewritten in place.
fn widen_oid(slot: Slot, buf: &mut BytesMut) -> Result<Slot, BoxError> {
    if slot.ty != Type::OID {
        return Ok(slot);
    }
    let range = match &slot.value {
        // A NULL, or digits that read as `int8` alike.
        Some(range) if matches!(slot.format, Format::Binary) => range.clone(),
        _ => {
            return Ok(Slot {
                ty: Type::INT8,
                ..slot
            });
        }
    };
    let raw = buf.split_off(range.start);
    let bytes: [u8; 4] = raw[..].try_into().map_err(|_| "malformed oid")?;
    buf.extend_from_slice(&i64::from(u32::from_be_bytes(bytes)).to_be_bytes());
    Ok(Slot {
        ty: Type::INT8,
        format: Format::Binary,
        value: Some(range.start..buf.len()),
    })
}

/// The text form (`{"a","b",NULL}`) of a binary array value whose elements are text (enum
/// labels), for the server to read as an array of the type it infers.
fn array_literal(raw: &[u8]) -> Result<String, BoxError> {
    let mut r = Reader(raw);
    let ndim = r.i32()?;
    let _has_nulls = r.i32()?;
    let _element_type = r.i32()?;
    let ndim = usize::try_from(ndim)
        .ok()
        .filter(|&n| n <= 6)
        .ok_or("malformed array: bad dimension count")?;
    let mut dims = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        let len = usize::try_from(r.i32()?).map_err(|_| "malformed array: negative length")?;
        if r.i32()? != 1 {
            return Err("an untyped array must start at index 1".into());
        }
        dims.push(len);
    }
    // Each element takes at least its 4-byte length: more elements than that, or more
    // sub-arrays at any depth (`[2^31, 0]` holds no element but would be written as 2^31
    // pairs of braces), is no array, and writing it would take as long as its lengths claim.
    // An empty array may have one dimension of length 0 (as the driver encodes `Vec::new()`).
    let limit = r.0.len() / 4;
    let mut count = 1usize;
    for &d in &dims {
        count = count.saturating_mul(d);
        if count > limit {
            return Err("malformed array: more elements than its bytes hold".into());
        }
    }
    let mut out = String::with_capacity(raw.len() + 2);
    if dims.is_empty() {
        out.push_str("{}");
    } else {
        write_dimension(&mut out, &dims, &mut r)?;
    }
    if !r.0.is_empty() {
        return Err("malformed array: trailing bytes".into());
    }
    Ok(out)
}

/// One dimension of an array literal: `{elem,...}`, nested for the inner dimensions.
fn write_dimension(out: &mut String, dims: &[usize], r: &mut Reader<'_>) -> Result<(), BoxError> {
    let Some((&len, inner)) = dims.split_first() else {
        return Ok(());
    };
    out.push('{');
    for i in 0..len {
        if i > 0 {
            out.push(',');
        }
        if !inner.is_empty() {
            write_dimension(out, inner, r)?;
            continue;
        }
        let len = r.i32()?;
        if len < 0 {
            out.push_str("NULL");
            continue;
        }
        let bytes = r.take(usize::try_from(len).map_err(|_| "malformed array")?)?;
        let text = std::str::from_utf8(bytes).map_err(|_| "an untyped value must be UTF-8 text")?;
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    Ok(())
}

/// Reads big-endian integers and byte runs off a binary value.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BoxError> {
        if self.0.len() < n {
            return Err("malformed array: truncated".into());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn i32(&mut self) -> Result<i32, BoxError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests;
