//! Which Rust types can be stored in a column, and as what SQL type.
//!
//! | Rust | PostgreSQL |
//! |---|---|
//! | `bool` | `BOOLEAN` |
//! | `i16`, `i32`, `i64` | `SMALLINT`, `INTEGER`, `BIGINT` |
//! | `f32`, `f64` | `REAL`, `DOUBLE PRECISION` |
//! | `String` | `TEXT` (`VARCHAR(n)` with `#[model(len = n)]`) |
//! | `Vec<u8>` | `BYTEA` |
//! | `chrono::NaiveDate`, `NaiveTime`, `NaiveDateTime`, `DateTime<Utc>` | `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ` |
//! | [`MaybeInfinite<T>`] of a date or timestamp above | the same, with `'infinity'` and `'-infinity'` |
//! | `uuid::Uuid` | `UUID` |
//! | `serde_json::Value`, [`Json<T>`] | `JSONB` |
//! | `rust_decimal::Decimal` | `NUMERIC` (values with at most 28 decimals and 96 bits) |
//! | `BigNumeric` (feature `bigdecimal`) | `NUMERIC`: any precision and scale, `NaN`, `±Infinity` |
//! | [`Interval`] | `INTERVAL` |
//! | [`TsVector`], [`TsQuery`] | `TSVECTOR`, `TSQUERY` |
//! | `std::net::IpAddr`, [`Inet`] (with a netmask), [`Cidr`] | `INET`, `INET`, `CIDR` |
//! | [`MacAddr`], [`MacAddr8`] | `MACADDR`, `MACADDR8` |
//! | [`Money`] | `MONEY` (the amount in the smallest unit) |
//! | [`Bits`] | `VARBIT` (reads `BIT(n)` too) |
//! | `time::Date`, `Time`, `PrimitiveDateTime`, `OffsetDateTime` (feature `time`) | `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ` |
//! | [`Citext`], [`Ltree`], `HashMap<String, Option<String>>` | `CITEXT`, `LTREE`, `HSTORE` (their extensions are created) |
//! | a [`CustomType`] naming a [`DomainType`] or a [`NamedType`] | that domain (created) or that existing type |
//! | [`Range<T>`] of `i32`, `i64`, `Decimal`/`BigNumeric`, `NaiveDateTime`, `DateTime<Utc>`, `NaiveDate` (and `MaybeInfinite` of the last three) | `INT4RANGE`, `INT8RANGE`, `NUMRANGE`, `TSRANGE`, `TSTZRANGE`, `DATERANGE` |
//! | [`Multirange<T>`] of the same element types (PostgreSQL 14+) | `INT4MULTIRANGE`, `INT8MULTIRANGE`, `NUMMULTIRANGE`, `TSMULTIRANGE`, `TSTZMULTIRANGE`, `DATEMULTIRANGE` |
//! | `Vec<T>` of any of the above but `u8` | `T[]` |
//! | `Vec<Option<T>>` | `T[]` with `NULL` elements |
//! | an enum with `#[derive(DbEnum)]` | a PostgreSQL `ENUM` type |
//! | a [`CustomType`] with `#[derive(SqlType)]` | its representation's type (or the one it names) |
//! | a struct with `#[derive(SqlType)] #[sql_type(composite = "name")]` ([`Composite`]) | that composite type (created) |
//! | `Option<T>` | `T`, nullable |
//!
//! Decoding is lossless or an error: a value the Rust type cannot hold (a `NUMERIC` past
//! `Decimal`'s 28 decimals, `NaN`, an infinite date into a chrono type, a `NULL` element into a
//! `Vec<T>`) is an [`ErrorKind::Decode`](crate::ErrorKind::Decode) naming the model and the
//! column, whose source is a [`ValueOutOfRange`] with the value; it is never rounded or clamped.

/// `SqlType::clone_from_any` for a type that is its own value (defined before the modules, so
/// that theirs use it too).
macro_rules! clone_from_any {
    () => {
        fn clone_from_any(value: &dyn std::any::Any) -> Option<Self> {
            value.downcast_ref::<Self>().cloned()
        }
    };
}

/// `SqlType` (not nullable, copied between objects with `Clone`), `ArrayElement` and
/// `Retype` for value types whose `ToSql` and `FromSql` are their own.
macro_rules! value_types {
    ($($ty:ty => $ct:expr),* $(,)?) => {$(
        impl $crate::types::SqlType for $ty {
            type Base = $ty;
            const COLUMN_TYPE: $crate::types::ColumnType = $ct;
            clone_from_any!();
        }
        impl $crate::types::ArrayElement for $ty {}
        impl<B: $crate::types::SqlType> $crate::types::Retype<B> for $ty {
            type Output = B;
        }
    )*};
}

mod array;
#[cfg(feature = "bigdecimal")]
mod big_numeric;
mod bits;
mod check;
pub(crate) mod composite;
pub(crate) mod custom;
mod declared;
pub(crate) mod encode;
mod extension;
#[cfg(feature = "chrono")]
mod infinite;
mod interval;
#[cfg(feature = "json")]
mod json;
mod money;
mod multirange;
mod named;
mod network;
#[cfg(any(feature = "decimal", feature = "bigdecimal"))]
pub(crate) mod numeric_wire;
mod packed_array;
mod range;
mod text_search;
#[cfg(feature = "time")]
mod time_crate;
mod type_mod;

pub use crate::error::ValueOutOfRange;
pub use array::ColumnArray;
#[cfg(feature = "bigdecimal")]
pub use big_numeric::BigNumeric;
/// The `bigdecimal` crate, whose `BigDecimal` a [`BigNumeric`] holds.
#[cfg(feature = "bigdecimal")]
pub use bigdecimal;
pub use bits::Bits;
#[doc(hidden)]
pub use check::Checked;
pub use composite::{
    Composite, CompositeAttribute, CompositeField, CompositeMismatch, CompositeType,
};
pub use custom::CustomType;
#[doc(hidden)]
pub use declared::{Declared, array_param as declared_array, declared_type, names_type, param_of};
pub use extension::{Citext, Ltree};
#[cfg(feature = "chrono")]
pub use infinite::{Infinite, MaybeInfinite};
pub use interval::Interval;
pub use money::Money;
pub use multirange::Multirange;
pub use named::{DomainType, NamedType};
pub use network::{Cidr, Inet, MacAddr, MacAddr8, NetworkError};
pub use range::{Range, RangeElement, RangeKind};
pub use text_search::{Lexeme, MAX_POSITION, Position, TsQuery, TsQueryItem, TsVector, Weight};
pub use type_mod::TypeMod;
#[doc(hidden)]
pub use type_mod::assert_column_type;

use postgres_types::{FromSql, Kind, ToSql, Type};

use crate::error::BoxError;

/// A bound parameter value.
pub type Param = std::sync::Arc<dyn ToSql + Send + Sync>;

/// Wraps a value as a parameter.
pub fn param<T: ToSql + Send + Sync + 'static>(value: T) -> Param {
    std::sync::Arc::new(value)
}

/// The base type of a domain (through nested domains), if `ty` is one.
pub fn domain_base(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Domain(base) => Some(domain_base(base).unwrap_or(base)),
        _ => None,
    }
}

/// The SQL type of a column, as written in DDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnType {
    /// `BOOLEAN`
    Bool,
    /// `SMALLINT`
    SmallInt,
    /// `INTEGER`
    Integer,
    /// `BIGINT`
    BigInt,
    /// `REAL`
    Real,
    /// `DOUBLE PRECISION`
    Double,
    /// `TEXT`, or `VARCHAR(n)` when the column has a length.
    Text,
    /// `BYTEA`
    Bytea,
    /// `DATE`
    Date,
    /// `TIME`
    Time,
    /// `TIMESTAMP` (without time zone)
    Timestamp,
    /// `TIMESTAMPTZ`
    Timestamptz,
    /// `UUID`
    Uuid,
    /// `JSONB`
    Jsonb,
    /// `NUMERIC`
    Numeric,
    /// `INTERVAL`
    Interval,
    /// `TSVECTOR`
    TsVector,
    /// `TSQUERY`
    TsQuery,
    /// `INET`
    Inet,
    /// `CIDR`
    Cidr,
    /// `MACADDR`
    MacAddr,
    /// `MACADDR8`
    MacAddr8,
    /// `MONEY`
    Money,
    /// `VARBIT` (`BIT VARYING`)
    VarBit,
    /// A range type (`INT4RANGE`, `TSTZRANGE`, ...).
    Range(RangeKind),
    /// A multirange type (`INT4MULTIRANGE`, `TSTZMULTIRANGE`, ...; PostgreSQL 14+).
    Multirange(RangeKind),
    /// A domain over a base type, created with the tables.
    Domain(&'static DomainType),
    /// A type the database has (an extension's, or one made by other means), named.
    Named(&'static NamedType),
    /// A user-defined `ENUM` type.
    Enum(&'static EnumType),
    /// A composite type (`CREATE TYPE ... AS (...)`), created with the tables.
    Composite(&'static CompositeType),
    /// An array of the element type.
    Array(&'static ColumnType),
}

/// A PostgreSQL `ENUM` type declared by `#[derive(DbEnum)]`.
#[derive(Debug, PartialEq, Eq)]
pub struct EnumType {
    /// The type's name in the database.
    pub name: &'static str,
    /// The schema of the type, if not the search path's.
    pub schema: Option<&'static str>,
    /// The labels, in declaration order.
    pub labels: &'static [&'static str],
}

impl ColumnType {
    /// The enum types this column type needs (itself, or its array element's).
    pub fn enum_type(&self) -> Option<&'static EnumType> {
        match self {
            ColumnType::Enum(e) => Some(e),
            ColumnType::Array(inner) => inner.enum_type(),
            ColumnType::Domain(d) => d.base.enum_type(),
            _ => None,
        }
    }

    /// The domain this column type needs (itself, or its array element's).
    pub fn domain_type(&self) -> Option<&'static DomainType> {
        match self {
            ColumnType::Domain(d) => Some(d),
            ColumnType::Array(inner) => inner.domain_type(),
            _ => None,
        }
    }

    /// The extension this column type needs (its own, its array element's, its domain's
    /// base's or the first of its composite type's attributes').
    pub fn extension(&self) -> Option<&'static str> {
        match self {
            ColumnType::Named(n) => n.extension,
            ColumnType::Array(inner) => inner.extension(),
            ColumnType::Domain(d) => d.base.extension(),
            ColumnType::Composite(c) => c.attributes.iter().find_map(|a| a.ty.extension()),
            _ => None,
        }
    }

    /// The composite type this column type is (itself, or its array element).
    pub fn composite_type(&self) -> Option<&'static CompositeType> {
        match self {
            ColumnType::Composite(c) => Some(c),
            ColumnType::Array(inner) => inner.composite_type(),
            _ => None,
        }
    }

    /// Calls `f` on every type this one is made of, each before the types made of it: an
    /// array's element, a domain's base and a composite type's attributes (recursively), then
    /// the type itself. DDL creates user types in this order.
    ///
    /// ```
    /// use orm_core::ColumnType;
    /// let mut seen = Vec::new();
    /// ColumnType::Array(&ColumnType::Integer).walk(&mut |t| seen.push(*t));
    /// assert_eq!(seen, [ColumnType::Integer, ColumnType::Array(&ColumnType::Integer)]);
    /// ```
    pub fn walk(&self, f: &mut dyn FnMut(&ColumnType)) {
        match self {
            ColumnType::Array(inner) => inner.walk(f),
            ColumnType::Domain(d) => d.base.walk(f),
            ColumnType::Composite(c) => c.attributes.iter().for_each(|a| a.ty.walk(f)),
            _ => {}
        }
        f(self);
    }

    /// Whether this is an array type.
    pub fn is_array(&self) -> bool {
        matches!(self, ColumnType::Array(_))
    }
}

/// A Rust type that can be stored in a column.
///
/// `Base` is the type a column of this type is compared against: the type itself, or `T` for
/// `Option<T>`. So `User::email` (an `Option<String>`) compares with a `&str`, and a column of
/// `i64` never compares with a `String`: the mismatch does not compile.
///
/// Implemented for the types listed in [the module docs](self); implement it (or derive
/// [`DbEnum`](crate::DbEnum)) for your own types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a column",
    label = "unsupported column type",
    note = "supported: bool, i16, i32, i64, f32, f64, String, Vec<u8>, chrono dates and times, MaybeInfinite<T>, uuid::Uuid, serde_json::Value, Json<T>, rust_decimal::Decimal, BigNumeric, Interval, TsVector, TsQuery, IpAddr, Inet, Cidr, MacAddr, Range<T>, Multirange<T>, Vec<T> (arrays), Option<T>, enums deriving DbEnum, and CustomType types deriving SqlType",
    note = "mark a field that is not a column with #[model(skip)]"
)]
pub trait SqlType: ToSql + for<'a> FromSql<'a> + Send + Sync + 'static {
    /// The non-nullable type compared against (`T` for `Option<T>`, else `Self`).
    type Base: SqlType;
    /// Whether the column is nullable (only `Option<T>`).
    const NULLABLE: bool = false;
    /// The SQL type of the column.
    const COLUMN_TYPE: ColumnType;

    /// A clone of `value` as `Self`, when `value` is a `Self` (or, for `Option<T>`, a `T`).
    /// The session copies keys between objects with it (a parent's `id` into a child's
    /// `user_id`). Types that return `None` (the default) cannot be copied that way.
    #[doc(hidden)]
    fn clone_from_any(value: &dyn std::any::Any) -> Option<Self> {
        let _ = value;
        None
    }

    /// `NULL` as `Self`: `Some(None)` for `Option<T>`, `None` (not nullable) otherwise.
    #[doc(hidden)]
    fn null_value() -> Option<Self> {
        None
    }

    /// Whether every decode runs [`decode_check`](Self::decode_check) first: for a type whose
    /// own decoder would change a value it cannot hold (rounding) instead of failing.
    #[doc(hidden)]
    const DECODE_CHECK: bool = false;

    /// Checks that the (non-`NULL`) raw value of type `ty` fits `Self`, with a
    /// [`ValueOutOfRange`] when it does not. Runs before each decode when
    /// [`DECODE_CHECK`](Self::DECODE_CHECK) is set, and after any failed decode, to explain it.
    /// The default finds nothing wrong.
    #[doc(hidden)]
    fn decode_check(ty: &Type, raw: &[u8]) -> Result<(), BoxError> {
        let _ = (ty, raw);
        Ok(())
    }

    /// Decodes a non-`NULL` raw value of type `ty`: `Self`'s own `FromSql`, unless the type has
    /// a shorter way to the same value (a `String` from a text column reads the UTF-8 at once,
    /// where the driver's decoder first compares the type's name with three extension types').
    #[doc(hidden)]
    #[inline]
    fn decode_sql(ty: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        <Self as FromSql>::from_sql(ty, raw)
    }

    /// The values of a column of this type over many rows, as parameters of a multi-row
    /// statement: one array, or flattened arrays for an array column (see [`ColumnArray`]).
    #[doc(hidden)]
    fn column_array(values: Vec<Self>) -> ColumnArray {
        ColumnArray::Flat(declared::array_param(values))
    }

    /// For an array type: rows of arrays (`None` a `NULL` one), flattened; every other type
    /// gives the rows back.
    #[doc(hidden)]
    fn nested_array(values: Vec<Option<Self>>) -> Result<ColumnArray, Vec<Option<Self>>> {
        Err(values)
    }

    /// The values of a column of this type over many rows (`None` a `NULL`; `optional`: the
    /// column is an `Option`), packed into the array parameter's wire format at once, for
    /// the types whose values pack (see `packed_array.rs`); `None` for the others.
    #[doc(hidden)]
    fn packed_array<'a>(
        values: impl Iterator<Item = Option<&'a Self>>,
        optional: bool,
    ) -> Option<ColumnArray>
    where
        Self: 'a,
    {
        let _ = (values, optional);
        None
    }
}

/// The column array of `values` without copying each value, for the types that have such a
/// form (strings, booleans, integers, floats and `Option`s of them: one buffer for every value,
/// see `packed_array.rs`); `None` for the others, which [`SqlType::column_array`] takes as
/// owned values.
pub(crate) fn packed_column_array<'a, T: SqlType + 'a>(
    values: impl Iterator<Item = &'a T>,
) -> Option<ColumnArray> {
    T::packed_array(values.map(Some), false)
}

/// A type that can be the element of an array column (`Vec<T>`).
///
/// Every [`SqlType`] but arrays themselves and `u8` (a `Vec<u8>` is `BYTEA`), and `Option<T>`
/// of those: a `Vec<Option<T>>` holds `NULL` elements (`ARRAY[1, NULL, 3]`), which a `Vec<T>`
/// refuses with a decode error.
pub trait ArrayElement: SqlType {}

/// `NULL` elements. (Not `Option<Option<T>>`: its base type is not itself.)
impl<T: ArrayElement + SqlType<Base = T>> ArrayElement for Option<T> {}

macro_rules! sql_types {
    (@one $ty:ty => $ct:ident { $($packed:tt)* }) => {
        impl SqlType for $ty {
            type Base = $ty;
            const COLUMN_TYPE: ColumnType = ColumnType::$ct;
            clone_from_any!();
            $($packed)*
        }
        impl ArrayElement for $ty {}
    };
    // Types whose values pack into an array parameter's wire format (`packed_array.rs`).
    (packed: $($ty:ty => $ct:ident),* $(,)?) => {$(
        sql_types!(@one $ty => $ct {
            fn packed_array<'a>(
                values: impl Iterator<Item = Option<&'a Self>>,
                optional: bool,
            ) -> Option<ColumnArray> {
                Some(packed_array::PackedArray::column(values, optional))
            }
        });
    )*};
    ($($ty:ty => $ct:ident),* $(,)?) => {$(
        sql_types!(@one $ty => $ct {});
    )*};
}

sql_types! {
    packed:
    bool => Bool,
    i16 => SmallInt,
    i32 => Integer,
    i64 => BigInt,
    f32 => Real,
    f64 => Double,
}

impl SqlType for String {
    type Base = String;
    const COLUMN_TYPE: ColumnType = ColumnType::Text;
    clone_from_any!();
    fn packed_array<'a>(
        values: impl Iterator<Item = Option<&'a Self>>,
        optional: bool,
    ) -> Option<ColumnArray> {
        let strings = values.map(|v| v.map(String::as_str));
        Some(packed_array::PackedArray::column(strings, optional))
    }
    #[inline]
    fn decode_sql(ty: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        match *ty {
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Ok(std::str::from_utf8(raw)?.to_owned())
            }
            _ => <String as FromSql>::from_sql(ty, raw),
        }
    }
}
impl ArrayElement for String {}

impl SqlType for Vec<u8> {
    type Base = Vec<u8>;
    const COLUMN_TYPE: ColumnType = ColumnType::Bytea;
    clone_from_any!();
}
impl ArrayElement for Vec<u8> {}

#[cfg(feature = "chrono")]
impl SqlType for chrono::NaiveTime {
    type Base = chrono::NaiveTime;
    const COLUMN_TYPE: ColumnType = ColumnType::Time;
    clone_from_any!();
    const DECODE_CHECK: bool = true;
    fn decode_check(_: &Type, raw: &[u8]) -> Result<(), BoxError> {
        check::check_time_of_day(raw, "chrono::NaiveTime")
    }
}
#[cfg(feature = "chrono")]
impl ArrayElement for chrono::NaiveTime {}

/// Dates and timestamps explain a failed decode: an infinity (read it as
/// [`MaybeInfinite`]) or a value past chrono's years, with the value.
#[cfg(feature = "chrono")]
macro_rules! chrono_types {
    ($($ty:ty => $ct:ident, $check:expr;)*) => {$(
        impl SqlType for $ty {
            type Base = $ty;
            const COLUMN_TYPE: ColumnType = ColumnType::$ct;
            clone_from_any!();
            fn decode_check(_: &Type, raw: &[u8]) -> Result<(), BoxError> {
                $check(raw)
            }
        }
        impl ArrayElement for $ty {}
    )*};
}

#[cfg(feature = "chrono")]
chrono_types! {
    chrono::NaiveDate => Date, |raw| check::chrono_checks::check_date(raw, "chrono::NaiveDate");
    chrono::NaiveDateTime => Timestamp,
        |raw| check::chrono_checks::check_timestamp(raw, "timestamp", "chrono::NaiveDateTime");
    chrono::DateTime<chrono::Utc> => Timestamptz,
        |raw| check::chrono_checks::check_timestamp(raw, "timestamptz", "chrono::DateTime<Utc>");
}

#[cfg(feature = "uuid")]
sql_types! { uuid::Uuid => Uuid }

#[cfg(feature = "json")]
sql_types! { serde_json::Value => Jsonb }

/// `rust_decimal`'s decoder rounds a value past 28 decimals: every value is checked against
/// the exact one the server sent first.
#[cfg(feature = "decimal")]
impl SqlType for rust_decimal::Decimal {
    type Base = rust_decimal::Decimal;
    const COLUMN_TYPE: ColumnType = ColumnType::Numeric;
    clone_from_any!();
    const DECODE_CHECK: bool = true;
    fn decode_check(_: &Type, raw: &[u8]) -> Result<(), BoxError> {
        check::check_decimal(raw)
    }
}
#[cfg(feature = "decimal")]
impl ArrayElement for rust_decimal::Decimal {}

impl<T: ArrayElement> SqlType for Vec<T> {
    type Base = Vec<T>;
    const COLUMN_TYPE: ColumnType = ColumnType::Array(&T::COLUMN_TYPE);
    fn clone_from_any(value: &dyn std::any::Any) -> Option<Self> {
        let items = value.downcast_ref::<Vec<T>>()?;
        items.iter().map(|item| T::clone_from_any(item)).collect()
    }
    const DECODE_CHECK: bool = T::DECODE_CHECK;
    fn decode_check(ty: &Type, raw: &[u8]) -> Result<(), BoxError> {
        check::check_elements::<T>(ty, raw)
    }
    fn column_array(values: Vec<Self>) -> ColumnArray {
        array::nest(values.into_iter().map(Some).collect())
    }
    fn nested_array(values: Vec<Option<Self>>) -> Result<ColumnArray, Vec<Option<Self>>> {
        Ok(array::nest(values))
    }
}

impl<T: SqlType> SqlType for Option<T> {
    type Base = T::Base;
    const NULLABLE: bool = true;
    const COLUMN_TYPE: ColumnType = T::COLUMN_TYPE;
    fn clone_from_any(value: &dyn std::any::Any) -> Option<Self> {
        if let Some(inner) = T::clone_from_any(value) {
            return Some(Some(inner));
        }
        match value.downcast_ref::<Option<T>>()? {
            None => Some(None),
            Some(inner) => T::clone_from_any(inner).map(Some),
        }
    }
    fn null_value() -> Option<Self> {
        Some(None)
    }
    const DECODE_CHECK: bool = T::DECODE_CHECK;
    fn decode_check(ty: &Type, raw: &[u8]) -> Result<(), BoxError> {
        T::decode_check(ty, raw)
    }
    #[inline]
    fn decode_sql(ty: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        T::decode_sql(ty, raw).map(Some)
    }
    fn column_array(values: Vec<Self>) -> ColumnArray {
        match T::nested_array(values) {
            Ok(nested) => nested,
            Err(values) => ColumnArray::Flat(declared::array_param(values)),
        }
    }
    fn packed_array<'a>(
        values: impl Iterator<Item = Option<&'a Self>>,
        _optional: bool,
    ) -> Option<ColumnArray>
    where
        Self: 'a,
    {
        T::packed_array(values.map(|v| v.and_then(Option::as_ref)), true)
    }
}

/// `Self` with its base type replaced by `B`, keeping its nullability: `i32` becomes `B`,
/// `Option<i32>` becomes `Option<B>`. Types the result of a function whose output is `NULL`
/// exactly when its input is, such as `length(text)`; see [`Retyped`].
///
/// Implemented for the built-in column types, their arrays and `Option` of them.
pub trait Retype<B: SqlType>: SqlType {
    /// `B`, or `Option<B>` when `Self` is an `Option`.
    type Output: SqlType;
}

/// `T` with its base type replaced by `B`, keeping nullability; see [`Retype`].
pub type Retyped<T, B> = <T as Retype<B>>::Output;

impl<T: Retype<B>, B: SqlType> Retype<B> for Option<T> {
    type Output = Option<T::Output>;
}

macro_rules! retype {
    ($($ty:ty),* $(,)?) => {$(
        impl<B: SqlType> Retype<B> for $ty {
            type Output = B;
        }
    )*};
}

retype!(
    bool,
    i16,
    i32,
    i64,
    f32,
    f64,
    String,
    Vec<u8>,
    Interval,
    TsVector,
    TsQuery
);

impl<T: ArrayElement, B: SqlType> Retype<B> for Vec<T> {
    type Output = B;
}

#[cfg(feature = "chrono")]
retype!(
    chrono::NaiveDate,
    chrono::NaiveTime,
    chrono::NaiveDateTime,
    chrono::DateTime<chrono::Utc>,
);

#[cfg(feature = "chrono")]
impl<T: Infinite, B: SqlType> Retype<B> for MaybeInfinite<T> {
    type Output = B;
}

#[cfg(feature = "bigdecimal")]
retype!(BigNumeric);

#[cfg(feature = "uuid")]
retype!(uuid::Uuid);

#[cfg(feature = "json")]
retype!(serde_json::Value);

#[cfg(feature = "decimal")]
retype!(rust_decimal::Decimal);

#[cfg(feature = "json")]
impl<T, B: SqlType> Retype<B> for Json<T>
where
    Json<T>: SqlType,
{
    type Output = B;
}

#[cfg(feature = "json")]
pub use json::Json;

#[cfg(feature = "json")]
impl<T> SqlType for Json<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    type Base = Json<T>;
    const COLUMN_TYPE: ColumnType = ColumnType::Jsonb;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_and_array_types() {
        const { assert!(<Option<String> as SqlType>::NULLABLE) };
        const { assert!(!<String as SqlType>::NULLABLE) };
        assert_eq!(<Option<i64> as SqlType>::COLUMN_TYPE, ColumnType::BigInt);
        assert_eq!(
            <Vec<i32> as SqlType>::COLUMN_TYPE,
            ColumnType::Array(&ColumnType::Integer)
        );
        assert_eq!(<Vec<u8> as SqlType>::COLUMN_TYPE, ColumnType::Bytea);
    }
}
