//! The declared type of every kind of parameter the ORM makes, and the encodings the server
//! reads. (No server here: the pg suite runs them against one in both modes.)

use deadpool_postgres::tokio_postgres::types::{Format, IsNull, ToSql, Type};

use super::{Encoded, array_literal};
use crate::__private::BytesMut;
use crate::types::{Interval, Param, TsQuery, TsVector, param};
use crate::{BoxError, ErrorKind};

/// What an enum deriving `DbEnum` generates: its label, for its own type or `unknown`.
#[derive(Debug, Clone)]
struct Mood(&'static str);

impl ToSql for Mood {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        ty.name() == "mood" || *ty == Type::UNKNOWN
    }
    deadpool_postgres::tokio_postgres::types::to_sql_checked!();
}

/// A value whose type is known by name only (postgres-derive's enums, `hstore`).
#[derive(Debug)]
struct ByNameOnly;

impl ToSql for ByNameOnly {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        ty.name() == "hstore"
    }
    deadpool_postgres::tokio_postgres::types::to_sql_checked!();
}

fn types(params: Vec<Param>) -> Vec<Type> {
    Encoded::new(&params, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .types()
}

/// The one parameter's bytes and format as the driver would send them.
fn sent(p: Param) -> (Type, Option<Vec<u8>>, Format) {
    let encoded = Encoded::new(&[p], &[]).unwrap_or_else(|e| panic!("{e}"));
    let (raw, ty) = encoded.typed().next().expect("one parameter");
    let mut out = BytesMut::new();
    let bytes = match raw.to_sql_checked(&ty, &mut out).expect("writes") {
        IsNull::No => Some(out.to_vec()),
        IsNull::Yes => None,
    };
    let format = raw.encode_format(&ty);
    (ty, bytes, format)
}

#[test]
fn scalars_are_declared_as_their_built_in_type() {
    let got = types(vec![
        param(1_i64),
        param(1_i32),
        param(1_i16),
        param(true),
        param(1.5_f64),
        param(1.5_f32),
        param(String::from("x")),
        param("x"),
        param(vec![1_u8, 2]),
        param(Interval::days(3)),
        param(TsVector::new()),
        param(TsQuery::from_items(Vec::new())),
        param(7_u32),
    ]);
    // A `u32` accepts only `oid`, declared `int8` (see `oid_values_are_declared_as_int8`).
    assert_eq!(
        got,
        [
            Type::INT8,
            Type::INT4,
            Type::INT2,
            Type::BOOL,
            Type::FLOAT8,
            Type::FLOAT4,
            Type::TEXT,
            Type::TEXT,
            Type::BYTEA,
            Type::INTERVAL,
            Type::TS_VECTOR,
            Type::TSQUERY,
            Type::INT8,
        ]
    );
}

/// Type, bytes and whether binary, comparable.
fn sent_cmp(p: Param) -> (Type, Option<Vec<u8>>, bool) {
    let (ty, bytes, format) = sent(p);
    (ty, bytes, matches!(format, Format::Binary))
}

#[test]
fn oid_values_are_declared_as_int8() {
    // Sent exactly as the `i64` of the same value: the server range-checks an `int8` cast into
    // `int4`, where it would cast an `oid` bit for bit.
    for v in [0_u32, 7, i32::MAX as u32 + 1, u32::MAX] {
        assert_eq!(sent_cmp(param(v)), sent_cmp(param(i64::from(v))), "{v}");
    }
    assert_eq!(sent_cmp(param(None::<u32>)), sent_cmp(param(None::<i64>)));
    // An array stays `oid[]`, which array operators on `oid[]` columns need.
    let oids = vec![Some(1_u32), None, Some(u32::MAX)];
    let (ty, bytes, _) = sent_cmp(param(oids.clone()));
    assert_eq!(ty, Type::OID_ARRAY);
    let mut direct = BytesMut::new();
    oids.to_sql_checked(&Type::OID_ARRAY, &mut direct)
        .expect("writes");
    assert_eq!(bytes.as_deref(), Some(&direct[..]));
    // Rewritten in place, between other parameters of the same buffer.
    let params = vec![
        param(String::from("before")),
        param(5_u32),
        param(9_u32),
        param(String::from("after")),
    ];
    let encoded = Encoded::new(&params, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        encoded.types(),
        [Type::TEXT, Type::INT8, Type::INT8, Type::TEXT]
    );
    let bytes: Vec<Vec<u8>> = encoded
        .typed()
        .map(|(raw, ty)| {
            let mut out = BytesMut::new();
            raw.to_sql_checked(&ty, &mut out).expect("writes");
            out.to_vec()
        })
        .collect();
    let expect = |p: Param| sent(p).1.expect("a value");
    assert_eq!(
        bytes,
        [
            expect(param("before")),
            expect(param(5_i64)),
            expect(param(9_i64)),
            expect(param("after")),
        ]
    );
}

/// A value that says it is an `oid` and writes something else.
#[derive(Debug)]
struct BadOid(Vec<u8>);

impl ToSql for BadOid {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::OID
    }
    deadpool_postgres::tokio_postgres::types::to_sql_checked!();
}

#[test]
fn a_malformed_oid_is_an_encode_error() {
    for raw in [vec![], vec![0, 0, 1], vec![0, 0, 0, 0, 1]] {
        let err = match Encoded::new(&[param(BadOid(raw.clone()))], &[]) {
            Ok(_) => panic!("{raw:?}: encoded"),
            Err(e) => e,
        };
        match err.kind() {
            ErrorKind::Encode { index: 1, source } => {
                assert!(source.to_string().contains("malformed oid"), "{source}")
            }
            other => panic!("{raw:?}: {other:?}"),
        }
    }
}

#[test]
#[cfg_attr(
    not(any(
        feature = "chrono",
        feature = "uuid",
        feature = "json",
        feature = "decimal"
    )),
    allow(unused_mut)
)]
fn optional_types_come_with_their_features() {
    let mut params: Vec<Param> = Vec::new();
    let mut want = Vec::new();
    #[cfg(feature = "chrono")]
    {
        use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).expect("date");
        let time = NaiveTime::from_hms_opt(12, 0, 0).expect("time");
        params.push(param(Utc.timestamp_opt(0, 0).single().expect("instant")));
        params.push(param(NaiveDateTime::new(date, time)));
        params.push(param(date));
        params.push(param(time));
        params.push(param(crate::types::MaybeInfinite::<NaiveDate>::Infinity));
        want.extend([
            Type::TIMESTAMPTZ,
            Type::TIMESTAMP,
            Type::DATE,
            Type::TIME,
            Type::DATE,
        ]);
    }
    #[cfg(feature = "uuid")]
    {
        params.push(param(uuid::Uuid::nil()));
        want.push(Type::UUID);
    }
    #[cfg(feature = "json")]
    {
        params.push(param(serde_json::json!({"a": 1})));
        params.push(param(crate::Json(vec![1, 2])));
        params.push(param(vec![serde_json::json!(1)]));
        want.extend([Type::JSONB, Type::JSONB, Type::JSONB_ARRAY]);
    }
    #[cfg(feature = "decimal")]
    {
        params.push(param(rust_decimal::Decimal::new(15, 1)));
        want.push(Type::NUMERIC);
    }
    assert_eq!(types(params), want);
}

#[test]
fn arrays_and_nulls_keep_their_element_type() {
    let got = types(vec![
        param(vec![1_i64, 2]),
        param(vec![Some(1_i32), None]),
        param(vec![String::from("a")]),
        param(vec![vec![1_u8]]),
        param(Vec::<bool>::new()),
        param(None::<i64>),
        param(None::<String>),
        param(Some(2_i16)),
    ]);
    assert_eq!(
        got,
        [
            Type::INT8_ARRAY,
            Type::INT4_ARRAY,
            Type::TEXT_ARRAY,
            Type::BYTEA_ARRAY,
            Type::BOOL_ARRAY,
            Type::INT8,
            Type::TEXT,
            Type::INT2,
        ]
    );
    let (_, bytes, _) = sent(param(None::<i64>));
    assert_eq!(bytes, None);
}

#[test]
fn a_built_in_value_is_sent_in_its_binary_form() {
    let (ty, bytes, format) = sent(param(258_i32));
    assert_eq!(ty, Type::INT4);
    assert_eq!(bytes.as_deref(), Some(&[0, 0, 1, 2][..]));
    assert!(matches!(format, Format::Binary));
}

#[test]
fn an_enum_value_is_untyped_text() {
    let (ty, bytes, format) = sent(param(Mood("so-so")));
    assert_eq!(ty, Type::UNKNOWN);
    assert_eq!(bytes.as_deref(), Some(&b"so-so"[..]));
    assert!(matches!(format, Format::Text));
    let (ty, bytes, _) = sent(param(None::<Mood>));
    assert_eq!(ty, Type::UNKNOWN);
    assert_eq!(bytes, None);
}

#[test]
fn an_array_of_enum_values_is_an_untyped_array_literal() {
    let (ty, bytes, format) = sent(param(vec![
        Some(Mood("happy")),
        None,
        Some(Mood(r#"say "hi" \o/"#)),
    ]));
    assert_eq!(ty, Type::UNKNOWN);
    assert!(matches!(format, Format::Text));
    assert_eq!(
        String::from_utf8(bytes.expect("a value")).expect("text"),
        r#"{"happy",NULL,"say \"hi\" \\o/"}"#
    );
    let (_, bytes, _) = sent(param(Vec::<Mood>::new()));
    assert_eq!(bytes.as_deref(), Some(&b"{}"[..]));
}

#[test]
fn a_value_of_no_known_type_is_an_encode_error_naming_it() {
    let params: Vec<Param> = vec![param(1_i64), param(ByNameOnly)];
    let err = Encoded::new(&params, &[]).expect_err("no type for it");
    match err.kind() {
        ErrorKind::Encode { index, source } => {
            assert_eq!(*index, 2);
            assert!(source.to_string().contains("DbEnum"), "{source}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_encoding_failure_is_reported_not_skipped() {
    // Accepted as numeric, refused by its encoder: never retried as another type.
    #[derive(Debug)]
    struct Broken;
    impl ToSql for Broken {
        fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
            Err("out of range".into())
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::NUMERIC || *ty == Type::TEXT
        }
        deadpool_postgres::tokio_postgres::types::to_sql_checked!();
    }
    let err = Encoded::new(&[param(Broken)], &[]).expect_err("fails");
    assert!(
        matches!(err.kind(), ErrorKind::Encode { index: 1, source } if source.to_string() == "out of range"),
        "{err:?}"
    );
}

#[test]
fn malformed_arrays_are_errors_not_panics() {
    for raw in [
        &b""[..],
        &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0][..],
        &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1][..],
        &[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0][..],
        &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0][..],
        // Dimensions that claim 2^62 elements, or an empty one under a huge one, in 36 bytes:
        // refused at once, not written brace by brace.
        &[
            0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 25, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0x7f, 0xff,
            0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x61,
        ][..],
        &[
            0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 25, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0,
            0, 0, 1,
        ][..],
    ] {
        assert!(array_literal(raw).is_err(), "{raw:?}");
    }
}
