//! [`Json<T>`]: any serde type stored as `JSONB`.
//!
//! The driver's own `Json` writes what serde_json writes, and serde_json writes a float that
//! has no JSON form (NaN, ±infinity) as `null`: a `Json(vec![f64::NAN])` was stored as `[null]`
//! and read back as an error (or, for an `Option<f64>`, as `None`). This one refuses such a value
//! when it is encoded, so nothing else than the value is ever stored.

use std::fmt;

use bytes::{BufMut, BytesMut};
use postgres_types::{FromSql, IsNull, ToSql, Type, accepts, to_sql_checked};
use serde::ser::{self, Serialize, Serializer};
use serde::{Deserialize, Deserializer};

use crate::error::BoxError;

/// Any serde type stored as `JSONB` (or read from `JSON`).
///
/// ```
/// use orm_core::{ColumnType, Json, SqlType};
///
/// // Any `T: Serialize + DeserializeOwned`, e.g. a struct deriving serde's traits.
/// let tags: Json<Vec<String>> = Json(vec!["a".into(), "b".into()]);
/// assert_eq!(tags.0.len(), 2);
/// assert_eq!(<Json<Vec<String>> as SqlType>::COLUMN_TYPE, ColumnType::Jsonb);
/// ```
///
/// A value holding a float with no JSON form (NaN, ±infinity) fails to encode (an
/// `ErrorKind::Encode` naming the parameter), where serde_json would write `null`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Json<T>(pub T);

impl<T: Serialize> Serialize for Json<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Json<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Json)
    }
}

impl<T: Serialize + fmt::Debug> ToSql for Json<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.serialize(&mut Finite)?;
        if *ty == Type::JSONB {
            // The version of `jsonb`'s binary form.
            out.put_u8(1);
        }
        serde_json::to_writer(out.writer(), &self.0)?;
        Ok(IsNull::No)
    }

    accepts!(JSON, JSONB);
    to_sql_checked!();
}

impl<'a, T: Deserialize<'a>> FromSql<'a> for Json<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let text = match (ty == &Type::JSONB, raw.split_first()) {
            (false, _) => raw,
            (true, Some((1, text))) => text,
            (true, _) => return Err("unsupported JSONB encoding version".into()),
        };
        Ok(Json(serde_json::from_slice(text)?))
    }

    accepts!(JSON, JSONB);
}

/// A float with no JSON form, met in a value being encoded.
#[derive(Debug)]
pub(crate) struct NotFinite(String);

impl fmt::Display for NotFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotFinite {}

impl ser::Error for NotFinite {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        NotFinite(msg.to_string())
    }
}

/// A serializer that writes nothing and fails at the first non-finite float of the value it
/// walks (before serde_json writes it as `null`).
struct Finite;

impl Finite {
    fn float(value: f64) -> Result<(), NotFinite> {
        if value.is_finite() {
            return Ok(());
        }
        Err(NotFinite(format!(
            "{value} has no JSON form (JSON numbers are finite): serde_json would store it as null"
        )))
    }
}

/// The serializer methods of scalars that always have a JSON form.
macro_rules! accept_scalars {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), NotFinite> {
            Ok(())
        })*
    };
}

/// The serializer methods that start a sequence, tuple, map or struct: walked by the
/// serializer itself.
macro_rules! start_compound {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self, NotFinite> {
            Ok(self)
        })*
    };
}

impl Serializer for &mut Finite {
    type Ok = ();
    type Error = NotFinite;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    accept_scalars!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_char: char,
        serialize_str: &str,
        serialize_bytes: &[u8],
        serialize_unit_struct: &'static str,
    );

    fn serialize_f32(self, v: f32) -> Result<(), NotFinite> {
        Finite::float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), NotFinite> {
        Finite::float(v)
    }
    // A string holds no float: its `Display` is not run twice (once here, once by serde_json).
    fn collect_str<T: ?Sized + fmt::Display>(self, _: &T) -> Result<(), NotFinite> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), NotFinite> {
        Ok(())
    }
    fn serialize_unit(self) -> Result<(), NotFinite> {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<(), NotFinite> {
        v.serialize(self)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), NotFinite> {
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), NotFinite> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> Result<(), NotFinite> {
        v.serialize(self)
    }
    start_compound!(
        serialize_seq(Option<usize>),
        serialize_tuple(usize),
        serialize_tuple_struct(&'static str, usize),
        serialize_tuple_variant(&'static str, u32, &'static str, usize),
        serialize_map(Option<usize>),
        serialize_struct(&'static str, usize),
        serialize_struct_variant(&'static str, u32, &'static str, usize),
    );
}

/// The compound parts of a value: each element, field, key and value is walked in turn.
macro_rules! walk_compound {
    ($($trait:ident :: $method:ident),* $(,)?) => {
        $(impl ser::$trait for &mut Finite {
            type Ok = ();
            type Error = NotFinite;
            fn $method<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), NotFinite> {
                v.serialize(&mut **self)
            }
            fn end(self) -> Result<(), NotFinite> {
                Ok(())
            }
        })*
    };
}

walk_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for &mut Finite {
    type Ok = ();
    type Error = NotFinite;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), NotFinite> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), NotFinite> {
        v.serialize(&mut **self)
    }
    fn end(self) -> Result<(), NotFinite> {
        Ok(())
    }
}

/// The fields of a struct (or struct variant): each value walked in turn.
macro_rules! walk_fields {
    ($($trait:ident),* $(,)?) => {
        $(impl ser::$trait for &mut Finite {
            type Ok = ();
            type Error = NotFinite;
            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                _: &'static str,
                v: &T,
            ) -> Result<(), NotFinite> {
                v.serialize(&mut **self)
            }
            fn end(self) -> Result<(), NotFinite> {
                Ok(())
            }
        })*
    };
}

walk_fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(serde::Serialize, Debug)]
    struct Reading {
        label: String,
        values: Vec<Option<f64>>,
        nested: BTreeMap<String, (i32, f32)>,
        kind: Kind,
    }

    #[derive(serde::Serialize, Debug)]
    enum Kind {
        Plain,
        Scaled { factor: f64 },
        Pair(f32, f32),
        Single(f64),
    }

    fn encoded<T: Serialize + fmt::Debug>(value: T) -> Result<Vec<u8>, String> {
        let mut out = BytesMut::new();
        Json(value)
            .to_sql(&Type::JSONB, &mut out)
            .map(|_| out.to_vec())
            .map_err(|e| e.to_string())
    }

    fn reading(value: f64, kind: Kind) -> Reading {
        Reading {
            label: "x".into(),
            values: vec![Some(1.5), None, Some(value)],
            nested: BTreeMap::from([("k".into(), (1, 2.5))]),
            kind,
        }
    }

    #[test]
    fn finite_values_encode_as_serde_json_writes_them() {
        let value = reading(-0.25, Kind::Scaled { factor: 2.0 });
        let mut want = vec![1];
        want.extend(serde_json::to_vec(&value).expect("serializes"));
        assert_eq!(encoded(value), Ok(want));
        assert!(encoded(Kind::Plain).is_ok());
        assert!(encoded(Kind::Pair(1.0, f32::MAX)).is_ok());
        assert!(encoded(f64::MIN_POSITIVE).is_ok());
    }

    #[test]
    fn a_non_finite_float_anywhere_is_an_error_not_null() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let cases = [
                encoded(bad),
                encoded(Some(bad)),
                encoded(vec![1.0, bad]),
                encoded(reading(bad, Kind::Plain)),
                encoded(reading(0.0, Kind::Scaled { factor: bad })),
                encoded(reading(0.0, Kind::Single(bad))),
                encoded(Kind::Pair(1.0, bad as f32)),
                encoded(BTreeMap::from([("a", (1, bad))])),
                encoded((1, "x", [bad])),
            ];
            for (i, case) in cases.into_iter().enumerate() {
                let err = case.expect_err("refused");
                assert!(err.contains("has no JSON form"), "{i}: {err}");
            }
        }
    }

    /// Serialized through `collect_str`, counting how often it is formatted.
    struct Shown<'a>(&'a std::cell::Cell<u32>);

    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.set(self.0.get() + 1);
            f.write_str("shown")
        }
    }

    impl Serialize for Shown<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }

    impl fmt::Debug for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Shown")
        }
    }

    #[test]
    fn a_value_is_formatted_once() {
        let count = std::cell::Cell::new(0);
        assert_eq!(encoded(Shown(&count)), Ok(b"\x01\"shown\"".to_vec()));
        assert_eq!(count.get(), 1, "the check formats nothing");
    }

    #[test]
    fn json_and_jsonb_decode() {
        let jsonb = Json::<Vec<i32>>::from_sql(&Type::JSONB, b"\x01[1,2]").expect("jsonb");
        assert_eq!(jsonb, Json(vec![1, 2]));
        let json = Json::<Vec<i32>>::from_sql(&Type::JSON, b"[3]").expect("json");
        assert_eq!(json, Json(vec![3]));
        assert!(Json::<Vec<i32>>::from_sql(&Type::JSONB, b"\x02[1]").is_err());
        assert!(Json::<Vec<i32>>::from_sql(&Type::JSONB, b"").is_err());
    }
}
