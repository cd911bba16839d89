//! Values that do not fit a Rust type are never changed (issue 13, item 4): a `NUMERIC` past
//! `Decimal`'s 28 decimals, `NaN` and infinities, infinite dates and timestamps, arrays with
//! `NULL` elements. Each either round-trips exactly through a type that holds it (`BigNumeric`,
//! `MaybeInfinite<T>`, `Vec<Option<T>>`) or is a typed error naming the column and the value.
//! Through raw queries, the expression builder, the derive, the session and `create_all`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::types::ValueOutOfRange;
use orm_testing::{TestDatabase, test_database};
use orm_tests::{Everything, Mood, Settings};
use rust_decimal::Decimal;

/// 38 decimals: ten more than `Decimal` holds.
const PRECISE: &str = "0.12345678901234567890123456789012345678";

/// Every new mapping in one model.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "measurements")]
pub struct Measurement {
    #[model(primary_key, generated)]
    pub id: i64,
    pub big: BigNumeric,
    pub maybe_big: Option<BigNumeric>,
    pub bigs: Vec<BigNumeric>,
    pub day: MaybeInfinite<NaiveDate>,
    pub at: MaybeInfinite<NaiveDateTime>,
    pub at_tz: Option<MaybeInfinite<DateTime<Utc>>>,
    pub days: Vec<MaybeInfinite<NaiveDate>>,
    pub sparse: Vec<Option<i32>>,
    pub maybe_sparse: Option<Vec<Option<String>>>,
    pub amounts: Vec<Option<Decimal>>,
}

fn num(s: &str) -> BigNumeric {
    s.parse().unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A measurement at the limits.
fn extreme() -> Measurement {
    Measurement {
        id: 0,
        big: num(PRECISE),
        maybe_big: Some(num(&"9".repeat(1000))),
        bigs: vec![
            BigNumeric::NaN,
            BigNumeric::Infinity,
            BigNumeric::NegInfinity,
            num("-1.50"),
            num("1e-40"),
        ],
        day: MaybeInfinite::Infinity,
        at: MaybeInfinite::NegInfinity,
        at_tz: Some(MaybeInfinite::Infinity),
        days: vec![
            MaybeInfinite::NegInfinity,
            day(2024, 2, 29).into(),
            MaybeInfinite::Infinity,
        ],
        sparse: vec![Some(1), None, Some(3)],
        maybe_sparse: Some(vec![None, Some("x".into()), None]),
        amounts: vec![None, Some(Decimal::new(-12345, 2))],
    }
}

async fn measurements() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[Measurement::TABLE]).await.unwrap();
    t
}

/// The `ValueOutOfRange` of a decode error, with the column it names.
fn out_of_range(err: &orm_postgres::Error) -> (&str, &ValueOutOfRange) {
    let ErrorKind::Decode { column, .. } = err.kind() else {
        panic!("expected a decode error, got {err:?}");
    };
    let value = err
        .value_out_of_range()
        .unwrap_or_else(|| panic!("expected a value out of range, got {err}"));
    (column.as_str(), value)
}

#[tokio::test]
async fn create_all_gives_each_type_its_sql_type() {
    let t = measurements().await;
    let types: Vec<(String, String)> = t
        .fetch_all(query::<(String, String)>(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = 'measurements'::regclass AND attnum > 0 ORDER BY attnum",
        ))
        .await
        .unwrap();
    let types: Vec<(&str, &str)> = types
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("id", "bigint"),
            ("big", "numeric"),
            ("maybe_big", "numeric"),
            ("bigs", "numeric[]"),
            ("day", "date"),
            ("at", "timestamp without time zone"),
            ("at_tz", "timestamp with time zone"),
            ("days", "date[]"),
            ("sparse", "integer[]"),
            ("maybe_sparse", "text[]"),
            ("amounts", "numeric[]"),
        ]
    );
}

#[tokio::test]
async fn a_model_at_the_limits_round_trips_through_insert_and_select() {
    let t = measurements().await;
    let mut m = extreme();
    let back = t.fetch_one(insert(&m)).await.unwrap();
    m.id = back.id;
    assert_eq!(back, m);
    // Exactly, digit by digit and scale included, not only numerically equal.
    assert_eq!(back.big.to_string(), PRECISE);
    assert_eq!(back.bigs[3].to_string(), "-1.50");
    let reread = t
        .fetch_one(select::<Measurement>().by_pk(m.id))
        .await
        .unwrap();
    assert_eq!(reread, m);
    // What the server stored is the value sent, as its own text shows.
    let text: Vec<(String, String, String, String)> = t
        .fetch_all(query::<(String, String, String, String)>(
            "SELECT big::text, day::text, at::text, bigs::text FROM measurements",
        ))
        .await
        .unwrap();
    assert_eq!(
        text,
        [(
            PRECISE.to_string(),
            "infinity".to_string(),
            "-infinity".to_string(),
            "{NaN,Infinity,-Infinity,-1.50,0.0000000000000000000000000000000000000001}".to_string()
        )]
    );
    // Several rows (arrays go through VALUES), and an empty array and a NULL one.
    let plain = Measurement {
        day: day(2000, 1, 1).into(),
        at: day(2000, 1, 1).and_hms_opt(0, 0, 0).unwrap().into(),
        sparse: vec![],
        maybe_sparse: None,
        ..Measurement::default()
    };
    let many = t
        .fetch_all(insert_many(&[m.clone(), plain.clone()]))
        .await
        .unwrap();
    assert_eq!(many.len(), 2);
    assert_eq!(many[1].sparse, Vec::<Option<i32>>::new());
    assert_eq!(many[1].maybe_sparse, None);
    assert_eq!(many[0].bigs, m.bigs);
}

#[tokio::test]
async fn a_model_at_the_limits_round_trips_through_the_session() {
    let t = measurements().await;
    let mut s = t.session();
    let added = s.add(extreme());
    s.commit().await.unwrap();
    let id = added.read().id;

    let mut s = t.session();
    let m = s.get::<Measurement>(id).await.unwrap().unwrap();
    let mut expected = extreme();
    expected.id = id;
    assert_eq!(*m.read(), expected);
    // Change each kind of value; the session's change tracking compares them.
    {
        let mut w = m.write();
        w.big = BigNumeric::NaN;
        w.day = day(1999, 12, 31).into();
        w.at_tz = Some(MaybeInfinite::NegInfinity);
        w.sparse.push(None);
        w.amounts = vec![Some(Decimal::new(1, 28)), None];
    }
    s.commit().await.unwrap();

    let mut s = t.session();
    let m = s.get::<Measurement>(id).await.unwrap().unwrap();
    let m = m.read();
    assert_eq!(m.big, BigNumeric::NaN);
    assert_eq!(m.day, MaybeInfinite::Finite(day(1999, 12, 31)));
    assert_eq!(m.at_tz, Some(MaybeInfinite::NegInfinity));
    assert_eq!(m.sparse, [Some(1), None, Some(3), None]);
    assert_eq!(m.amounts, [Some(Decimal::new(1, 28)), None]);
}

#[tokio::test]
async fn the_expression_builder_binds_and_compares_the_new_types() {
    let t = measurements().await;
    let mut finite = extreme();
    finite.day = day(2024, 1, 1).into();
    finite.big = num("2.5");
    t.execute(insert_many(&[extreme(), finite])).await.unwrap();
    // Infinity sorts after every date, as on the server.
    let later: i64 = t
        .fetch_one(
            select::<Measurement>()
                .filter(Measurement::day.gt(MaybeInfinite::Finite(day(9999, 1, 1))))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(later, 1);
    let sum: Option<BigNumeric> = t
        .fetch_one(select::<Measurement>().columns(func::sum(Measurement::big)))
        .await
        .unwrap();
    assert_eq!(
        sum.unwrap().to_string(),
        "2.62345678901234567890123456789012345678"
    );
    let by_array: i64 = t
        .fetch_one(
            select::<Measurement>()
                .filter(Measurement::sparse.eq(vec![Some(1), None, Some(3)]))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(by_array, 2);
    // A bare parameter of each type comes back as it went.
    let (n, d, a): (BigNumeric, MaybeInfinite<NaiveDate>, Vec<Option<i64>>) = t
        .fetch_one(select_values((
            func::value(num(PRECISE)),
            func::value(MaybeInfinite::<NaiveDate>::NegInfinity),
            func::value(vec![None, Some(i64::MAX)]),
        )))
        .await
        .unwrap();
    assert_eq!(
        (n.to_string(), d, a),
        (
            PRECISE.to_string(),
            MaybeInfinite::NegInfinity,
            vec![None, Some(i64::MAX)]
        )
    );
    // An interval moves a finite date and leaves an infinite one.
    let moved: Vec<MaybeInfinite<NaiveDateTime>> = t
        .fetch_all(
            select::<Measurement>()
                .columns(Measurement::day.add_interval(Interval::days(1)))
                .order_by(Measurement::day),
        )
        .await
        .unwrap();
    assert_eq!(
        moved,
        [
            MaybeInfinite::Finite(day(2024, 1, 2).and_hms_opt(0, 0, 0).unwrap()),
            MaybeInfinite::Infinity
        ]
    );
}

#[tokio::test]
async fn big_numeric_holds_any_numeric_in_raw_queries() {
    let t = test_database().await.unwrap();
    let nines = "9".repeat(1000);
    let long_fraction = format!("0.{}1", "0".repeat(16_000));
    let tiny = "-0.000000000000000000000000000000000000000000000000001";
    for text in [
        PRECISE,
        nines.as_str(),
        long_fraction.as_str(),
        tiny,
        "0",
        "0.000",
        "NaN",
        "Infinity",
        "-Infinity",
    ] {
        // Read from the server's own text...
        let read: BigNumeric = t
            .fetch_one(
                query::<BigNumeric>("SELECT CAST(:v AS text)::numeric").bind("v", text.to_string()),
            )
            .await
            .unwrap();
        assert_eq!(read.to_string(), text);
        // ...and written back as a parameter, the server sees the same value.
        let echoed: String = t
            .fetch_one(query::<String>("SELECT CAST(:v AS numeric)::text").bind("v", read.clone()))
            .await
            .unwrap();
        assert_eq!(echoed, text);
    }
    // Scale 0 with the largest precision NUMERIC has: 131072 digits before the point.
    let widest = "9".repeat(131_072);
    let read: BigNumeric = t
        .fetch_one(query::<BigNumeric>("SELECT repeat('9', 131072)::numeric"))
        .await
        .unwrap();
    assert_eq!(read.to_string(), widest);
    let same: bool = t
        .fetch_one(
            query::<bool>("SELECT CAST(:v AS numeric) = repeat('9', 131072)::numeric")
                .bind("v", read),
        )
        .await
        .unwrap();
    assert!(same);
}

#[tokio::test]
async fn decimal_is_never_rounded() {
    let t = test_database().await.unwrap();
    for (sql, value) in [
        (format!("SELECT {PRECISE}::numeric"), PRECISE.to_string()),
        ("SELECT 'NaN'::numeric".into(), "NaN".into()),
        ("SELECT 'Infinity'::numeric".into(), "Infinity".into()),
        ("SELECT '-Infinity'::numeric".into(), "-Infinity".into()),
        // rust_decimal's own decoder panics on this one.
        (
            "SELECT 1e32::numeric".into(),
            format!("1{}", "0".repeat(32)),
        ),
        (
            "SELECT 79228162514264337593543950336::numeric".into(),
            "79228162514264337593543950336".into(),
        ),
    ] {
        let sql: &'static str = Box::leak(sql.into_boxed_str());
        let err = t.fetch_one(query::<Decimal>(sql)).await.unwrap_err();
        let (column, e) = out_of_range(&err);
        assert_eq!(column, "#0", "{sql}");
        assert_eq!(e.value(), value, "{sql}");
        assert_eq!(
            (e.sql_type(), e.rust_type()),
            ("numeric", "rust_decimal::Decimal")
        );
        assert!(err.to_string().contains("BigNumeric"), "{err}");
    }
    // The message names the value.
    let err = t
        .fetch_one(query::<Decimal>(
            "SELECT 0.12345678901234567890123456789012345678::numeric",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot decode column `#0` of `row`: the numeric value {PRECISE} does not fit rust_decimal::Decimal: it holds at most 28 decimals and 96 bits (about 28 significant digits) and would round the value; read the column as `BigNumeric` (feature `bigdecimal`), which holds any numeric"
        )
    );
    // What fits, fits: 28 decimals, the largest significand, trailing zeros of the scale.
    let fits: (Decimal, Decimal, Decimal) = t
        .fetch_one(query::<(Decimal, Decimal, Decimal)>(
            "SELECT 0.1234567890123456789012345678::numeric, 79228162514264337593543950335::numeric, 1.5::numeric(60, 40)",
        ))
        .await
        .unwrap();
    assert_eq!(fits.0.to_string(), "0.1234567890123456789012345678");
    assert_eq!(fits.1, Decimal::MAX);
    assert_eq!(fits.2.normalize(), Decimal::new(15, 1));
    // Inside arrays and options too.
    let err = t
        .fetch_one(query::<Vec<Option<Decimal>>>(
            "SELECT ARRAY[1, NULL, 'NaN'::numeric]",
        ))
        .await
        .unwrap_err();
    assert_eq!(out_of_range(&err).1.value(), "NaN");
    let err = t
        .fetch_one(query::<Option<Decimal>>("SELECT 1e-29::numeric"))
        .await
        .unwrap_err();
    assert_eq!(
        out_of_range(&err).1.value(),
        format!("0.{}1", "0".repeat(28))
    );
}

fn everything() -> Everything {
    let date = day(2024, 2, 29);
    Everything {
        id: 0,
        b: true,
        i2: 0,
        i4: 0,
        i8: 0,
        f4: 0.0,
        f8: 0.0,
        text: String::new(),
        short: String::new(),
        bytes: vec![],
        date,
        time: chrono::NaiveTime::MIN,
        ts: date.and_hms_opt(0, 0, 0).unwrap(),
        tstz: Utc.with_ymd_and_hms(2001, 9, 9, 1, 46, 40).unwrap(),
        uid: uuid::Uuid::nil(),
        doc: serde_json::json!(null),
        settings: Json(Settings {
            theme: String::new(),
            size: 0,
        }),
        amount: Decimal::ONE,
        ints: vec![],
        tags: vec![],
        mood: Mood::Happy,
        moods: vec![],
        maybe_int: None,
        maybe_text: None,
        maybe_mood: None,
        not_a_column: String::new(),
    }
}

#[tokio::test]
async fn a_model_field_names_its_column_and_the_value() {
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    t.execute(insert(&everything())).await.unwrap();
    t.batch_execute("CREATE TABLE fresh AS SELECT * FROM everything")
        .await
        .unwrap();
    for (set, column, value, hint) in [
        (
            format!("amount = {PRECISE}"),
            "amount",
            PRECISE,
            "BigNumeric",
        ),
        (
            "date = 'infinity'".into(),
            "date",
            "infinity",
            "MaybeInfinite<NaiveDate>",
        ),
        (
            "ts = '-infinity'".into(),
            "ts",
            "-infinity",
            "MaybeInfinite<NaiveDateTime>",
        ),
        (
            "tstz = 'infinity'".into(),
            "tstz",
            "infinity",
            "MaybeInfinite<DateTime<Utc>>",
        ),
        (
            "date = '5874897-12-31'".into(),
            "date",
            "5874897-12-31",
            "chrono's range",
        ),
        (
            "ts = '294276-12-31 23:59:59.5'".into(),
            "ts",
            "294276-12-31 23:59:59.5",
            "chrono's range",
        ),
        (
            "ints = ARRAY[1, NULL]".into(),
            "ints",
            "an array with NULL elements",
            "Vec<Option<T>>",
        ),
    ] {
        let sql = format!(
            "DELETE FROM everything; INSERT INTO everything SELECT * FROM fresh; UPDATE everything SET {set}"
        );
        t.batch_execute(&sql).await.unwrap();
        let err = t.fetch_one(select::<Everything>()).await.unwrap_err();
        let (named, e) = out_of_range(&err);
        assert_eq!((named, e.value()), (column, value), "{set}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("`{column}` of `Everything`")),
            "{text}"
        );
        assert!(text.contains(value) && text.contains(hint), "{text}");
    }
}

#[tokio::test]
async fn infinite_times_read_into_maybe_infinite() {
    let t = test_database().await.unwrap();
    type Row = (
        MaybeInfinite<NaiveDate>,
        MaybeInfinite<NaiveDate>,
        MaybeInfinite<NaiveDateTime>,
        MaybeInfinite<DateTime<Utc>>,
        MaybeInfinite<DateTime<Utc>>,
        Vec<MaybeInfinite<NaiveDate>>,
    );
    let row = t
        .fetch_one(query::<Row>(
            "SELECT 'infinity'::date, '2024-02-29'::date, '-infinity'::timestamp,
                    'infinity'::timestamptz, '2001-09-09 01:46:40+00'::timestamptz,
                    ARRAY['-infinity', '2000-01-01', 'infinity']::date[]",
        ))
        .await
        .unwrap();
    assert_eq!(row.0, MaybeInfinite::Infinity);
    assert_eq!(row.1, MaybeInfinite::Finite(day(2024, 2, 29)));
    assert_eq!(row.2, MaybeInfinite::NegInfinity);
    assert_eq!(row.3, MaybeInfinite::Infinity);
    assert_eq!(
        row.4,
        MaybeInfinite::Finite(Utc.with_ymd_and_hms(2001, 9, 9, 1, 46, 40).unwrap())
    );
    assert_eq!(
        row.5,
        [
            MaybeInfinite::NegInfinity,
            day(2000, 1, 1).into(),
            MaybeInfinite::Infinity
        ]
    );
    // A plain chrono type is a typed error naming the value, inside an array too.
    let err = t
        .fetch_one(query::<Vec<NaiveDate>>(
            "SELECT ARRAY['2000-01-01', '-infinity']::date[]",
        ))
        .await
        .unwrap_err();
    let (_, e) = out_of_range(&err);
    assert_eq!((e.sql_type(), e.value()), ("date", "-infinity"));
}

#[tokio::test]
async fn arrays_with_null_elements_read_and_write() {
    let t = test_database().await.unwrap();
    type Row = (
        Vec<Option<i32>>,
        Vec<Option<String>>,
        Option<Vec<Option<i32>>>,
        Vec<Option<i32>>,
    );
    let (a, b, c, d) = t
        .fetch_one(query::<Row>(
            "SELECT ARRAY[1, NULL, 3], ARRAY[NULL, 'x']::text[], NULL::int[], '{}'::int[]",
        ))
        .await
        .unwrap();
    assert_eq!(a, [Some(1), None, Some(3)]);
    assert_eq!(b, [None, Some("x".to_string())]);
    assert_eq!(c, None);
    assert_eq!(d, []);
    // As a parameter: the server sees the NULLs.
    let (len, nulls): (i32, i32) = t
        .fetch_one(
            query::<(i32, i32)>(
                "SELECT cardinality(CAST(:a AS int[])), cardinality(array_positions(CAST(:a AS int[]), NULL))",
            )
            .bind("a", vec![None, Some(2), None]),
        )
        .await
        .unwrap();
    assert_eq!((len, nulls), (3, 2));
    // Into Vec<T> it is a typed error that says what to use.
    let err = t
        .fetch_one(query::<Vec<i32>>("SELECT ARRAY[1, NULL, 3]"))
        .await
        .unwrap_err();
    let (_, e) = out_of_range(&err);
    assert!(e.reason().contains("Vec<Option<T>>"), "{e}");
}

/// A `#[derive(FromRow)]` struct: a `SqlType` field is checked, a field whose type only
/// implements `FromSql` (an `oid` as `u32`) still decodes.
#[derive(FromRow, Debug)]
struct Reading {
    oid: u32,
    amount: Decimal,
    sparse: Vec<Option<i32>>,
}

#[tokio::test]
async fn from_row_structs_check_their_sql_type_fields() {
    let t = test_database().await.unwrap();
    let r = t
        .fetch_one(query::<Reading>(
            "SELECT 'pg_class'::regclass::oid, 1.25::numeric, ARRAY[NULL, 2]",
        ))
        .await
        .unwrap();
    assert_eq!(r.oid, 1259);
    assert_eq!(r.amount, Decimal::new(125, 2));
    assert_eq!(r.sparse, [None, Some(2)]);
    let err = t
        .fetch_one(query::<Reading>(
            "SELECT 'pg_class'::regclass::oid, 0.12345678901234567890123456789012345678::numeric, ARRAY[1]",
        ))
        .await
        .unwrap_err();
    let (column, e) = out_of_range(&err);
    assert_eq!((column, e.value()), ("amount", PRECISE));
    assert!(err.to_string().contains("`amount` of `Reading`"), "{err}");
}
