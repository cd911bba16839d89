//! Every supported type round-trips exactly. One file per family of types in `types/`.

mod composite;
mod custom;
mod json_floats;
mod laws;
mod multi_row;
mod multirange;
mod named;
mod named_params;
mod network;
mod range;
mod scalars;

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_testing::test_database;
use orm_tests::{Everything, Mood, Settings};
use rust_decimal::Decimal;

/// One row with a value in every column (`statement_modes` runs it in both modes).
pub fn sample() -> Everything {
    let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let time = NaiveTime::from_hms_micro_opt(23, 59, 58, 123_456).unwrap();
    Everything {
        id: 0,
        b: true,
        i2: i16::MIN,
        i4: i32::MAX,
        i8: i64::MIN,
        f4: 1.5,
        f8: -0.000_123_456_789,
        text: "ünïcödé 'quoted' \"double\" \\ $1 ; DROP TABLE users; --".into(),
        short: "ten chars!".into(),
        bytes: vec![0, 1, 2, 255, 0],
        date,
        time,
        ts: date.and_time(time),
        tstz: Utc.with_ymd_and_hms(2001, 9, 9, 1, 46, 40).unwrap(),
        uid: uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0),
        doc: serde_json::json!({"a": [1, 2, {"b": null}], "c": "d"}),
        settings: Json(Settings {
            theme: "dark".into(),
            size: 12,
        }),
        amount: Decimal::new(-123_456_789, 4),
        ints: vec![1, -2, 3],
        tags: vec!["x".into(), "".into(), "a,b".into()],
        mood: Mood::SoSo,
        moods: vec![Mood::Happy, Mood::Sad],
        maybe_int: None,
        maybe_text: Some(String::new()),
        maybe_mood: Some(Mood::Happy),
        not_a_column: String::new(),
    }
}

#[tokio::test]
async fn every_type_round_trips() {
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    let mut v = sample();
    let back = t.fetch_one(insert(&v)).await.unwrap();
    v.id = back.id;
    assert_eq!(back, v);
    let reread = t
        .fetch_one(select::<Everything>().by_pk(v.id))
        .await
        .unwrap();
    assert_eq!(reread, v);

    // Through the unnest multi-row path too (one array per column).
    let mut w = sample();
    w.maybe_int = Some(7);
    w.maybe_mood = None;
    let many = t
        .fetch_all(insert_many(&[v.clone(), w.clone()]))
        .await
        .unwrap();
    assert_eq!(many.len(), 2);
    w.id = many[1].id;
    assert_eq!(many[1], w);

    // Comparisons on each kind of column.
    let by_enum = t
        .fetch_one(
            select::<Everything>()
                .filter(Everything::mood.eq(Mood::SoSo))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(by_enum, 3);
    let by_uuid = t
        .fetch_one(
            select::<Everything>()
                .filter(Everything::uid.eq(v.uid))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(by_uuid, 3);
    let by_date = t
        .fetch_one(
            select::<Everything>()
                .filter(Everything::date.between(v.date, v.date))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(by_date, 3);
    let moods: Vec<Mood> = t
        .fetch_all(select::<Everything>().columns(Everything::mood).limit(1))
        .await
        .unwrap();
    assert_eq!(moods, [Mood::SoSo]);
}

#[tokio::test]
async fn enum_type_is_created_with_its_labels() {
    use orm_postgres::expr::{Node, func, param};
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    let range = || func::<Vec<Mood>>("enum_range", [Node::Keyword("NULL::mood")]);
    let moods: Vec<Mood> = t.fetch_one(select_values(range())).await.unwrap();
    assert_eq!(moods, [Mood::Happy, Mood::Sad, Mood::SoSo]);
    let labels: String = t
        .fetch_one(select_values(func::<String>(
            "array_to_string",
            [range().into_node(), Node::Param(param(",".to_string()))],
        )))
        .await
        .unwrap();
    assert_eq!(labels, "happy,sad,so-so");
}

#[tokio::test]
async fn nan_and_infinite_floats_round_trip() {
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    for (f4, f8) in [
        (f32::NAN, f64::NAN),
        (f32::INFINITY, f64::NEG_INFINITY),
        (-0.0, -0.0),
    ] {
        let mut v = sample();
        v.f4 = f4;
        v.f8 = f8;
        let back = t.fetch_one(insert(&v)).await.unwrap();
        assert_eq!(back.f4.to_bits(), f4.to_bits());
        assert_eq!(back.f8.to_bits(), f8.to_bits());
    }
}

#[tokio::test]
async fn numeric_nan_cannot_decode_into_decimal() {
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    t.execute(insert(&sample())).await.unwrap();
    t.batch_execute("UPDATE everything SET amount = 'NaN'")
        .await
        .unwrap();
    let err = t.fetch_one(select::<Everything>()).await.unwrap_err();
    match err.kind() {
        ErrorKind::Decode { model, column, .. } => {
            assert_eq!((*model, column.as_str()), ("Everything", "amount"));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(
        err.to_string().contains("`amount` of `Everything`"),
        "{err}"
    );
}

/// A `String` reads every text type the server has: `text`, `varchar`, blank-padded `char(n)`
/// (its padding kept), `name`, a domain over text, and `ltree`, whose binary form starts with a
/// version byte that its own decoder takes off. `NULL` is `None` in an `Option<String>`.
#[tokio::test]
async fn a_string_reads_every_text_type() {
    let t = test_database().await.unwrap();
    t.batch_execute("CREATE EXTENSION IF NOT EXISTS ltree; CREATE DOMAIN label AS text")
        .await
        .unwrap();
    type Texts = (
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
    );
    let row: Texts = t
        .fetch_one(orm_postgres::raw::query::<Texts>(
            "SELECT 'ä text'::text, 'var'::varchar(5), 'c'::char(3), 'a name'::name, \
             'dom'::label, 'a.b.c'::ltree, NULL::text",
        ))
        .await
        .unwrap();
    let expected: Texts = (
        "ä text".into(),
        "var".into(),
        "c  ".into(),
        "a name".into(),
        "dom".into(),
        "a.b.c".into(),
        None,
    );
    assert_eq!(row, expected);
}

/// A `SQL_ASCII` database stores bytes that are not UTF-8, but the server checks what it sends
/// against the connection's UTF-8 client encoding: such text never reaches a `String` (whose
/// decoder would refuse it too). Reading it is a typed data error, and the connection goes on.
#[tokio::test]
async fn text_that_is_not_utf8_never_reaches_a_string() {
    let t = test_database().await.unwrap();
    let name = format!("{}_ascii", t.name());
    let create = format!(
        "CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' \
         TEMPLATE template0"
    );
    t.batch_execute(&create).await.unwrap();
    let ascii = Database::builder(t.admin_url())
        .dbname(&name)
        .max_connections(1)
        .build()
        .unwrap();
    let err = ascii
        .fetch_one(orm_postgres::raw::query::<String>(
            r"SELECT E'ok \xff'::text",
        ))
        .await
        .unwrap_err();
    let ok = ascii
        .fetch_one(orm_postgres::raw::query::<String>("SELECT 'plain'::text"))
        .await
        .unwrap();
    drop(ascii);
    t.batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
    match err.kind() {
        ErrorKind::DataException(db) => assert_eq!(db.sqlstate, "22021", "{err}"),
        other => panic!("expected a data error, got {other:?}"),
    }
    assert_eq!(ok, "plain");
}

/// A label the server's enum type has and the Rust enum lacks (added since it was written)
/// is a typed `ValueOutOfRange` naming it, as for any value a Rust type cannot hold.
#[tokio::test]
async fn an_enum_label_the_rust_enum_lacks_is_value_out_of_range() {
    let t = test_database().await.unwrap();
    t.batch_execute("CREATE TYPE mood AS ENUM ('happy', 'angry')")
        .await
        .unwrap();
    let happy = t
        .fetch_one(orm_postgres::raw::query::<Mood>("SELECT 'happy'::mood"))
        .await
        .unwrap();
    assert_eq!(happy, Mood::Happy);
    let err = t
        .fetch_one(orm_postgres::raw::query::<Mood>("SELECT 'angry'::mood"))
        .await
        .unwrap_err();
    let out = err.value_out_of_range().expect("value out of range");
    assert_eq!((out.sql_type(), out.value()), ("mood", "angry"));
    assert_eq!(out.rust_type(), "orm_tests::Mood");
}
