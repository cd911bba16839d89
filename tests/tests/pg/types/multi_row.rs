//! Booleans, integers, floats and strings (and `Option`s of them) as a multi-row statement's
//! array parameters, which are packed into their wire format at once (`packed_array.rs` in
//! orm-core): extremes and `NULL`s round-trip through `insert_many` and through a flush's
//! `UPDATE … FROM unnest`.

use orm_postgres::SessionOptions;
use orm_postgres::prelude::*;
use orm_testing::{TestDatabase, test_database};

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "multi_row")]
pub struct Scalars {
    #[model(primary_key, generated)]
    pub id: i64,
    pub b: bool,
    pub i2: i16,
    pub i4: i32,
    pub i8: i64,
    pub f4: f32,
    pub f8: f64,
    pub s: String,
    pub ob: Option<bool>,
    pub oi2: Option<i16>,
    pub oi4: Option<i32>,
    pub oi8: Option<i64>,
    pub of4: Option<f32>,
    pub of8: Option<f64>,
    pub os: Option<String>,
}

/// The ends of each type, zeros, empty strings, and `NULL` in every nullable column of some row.
fn rows() -> Vec<Scalars> {
    vec![
        Scalars {
            id: 0,
            b: false,
            i2: i16::MIN,
            i4: i32::MIN,
            i8: i64::MIN,
            f4: f32::MIN,
            f8: f64::NEG_INFINITY,
            s: String::new(),
            ob: None,
            oi2: None,
            oi4: None,
            oi8: None,
            of4: None,
            of8: None,
            os: None,
        },
        Scalars {
            id: 0,
            b: true,
            i2: i16::MAX,
            i4: i32::MAX,
            i8: i64::MAX,
            f4: f32::INFINITY,
            f8: f64::MAX,
            s: "ünïcödé \u{1F600} 'quoted' \\ , {braces} \"NULL\"".into(),
            ob: Some(true),
            oi2: Some(-1),
            oi4: Some(0),
            oi8: Some(1 << 40),
            of4: Some(f32::MIN_POSITIVE),
            of8: Some(-0.000_123_456_789),
            os: Some(String::new()),
        },
        Scalars {
            id: 0,
            b: false,
            i2: 0,
            i4: -7,
            i8: 0,
            f4: -0.0,
            f8: 1.5,
            s: "NULL".into(),
            ob: Some(false),
            oi2: None,
            oi4: Some(i32::MIN),
            oi8: None,
            of4: Some(f32::MAX),
            of8: None,
            os: Some("x".repeat(5_000)),
        },
    ]
}

async fn setup() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[Scalars::TABLE]).await.unwrap();
    t
}

async fn all(t: &TestDatabase) -> Vec<Scalars> {
    t.fetch_all(select::<Scalars>().order_by(Scalars::id.asc()))
        .await
        .unwrap()
}

#[tokio::test]
async fn extremes_and_nulls_round_trip_through_insert_many() {
    let t = setup().await;
    let mut sent = rows();
    let back = t.fetch_all(insert_many(&sent)).await.unwrap();
    assert_eq!(back.len(), 3);
    for (r, b) in sent.iter_mut().zip(&back) {
        r.id = b.id;
    }
    assert_eq!(back, sent);
    assert_eq!(all(&t).await, sent);
    // The server sees NULL, not a value, where an Option was None.
    let nulls: i64 = t
        .fetch_one(orm_postgres::raw::query::<i64>(
            "SELECT count(*) FROM multi_row WHERE ob IS NULL AND oi2 IS NULL AND of8 IS NULL",
        ))
        .await
        .unwrap();
    assert_eq!(nulls, 1);
    // And -0.0 stays negative zero.
    assert_eq!(back[2].f4.to_bits(), (-0.0f32).to_bits());
}

#[tokio::test]
async fn every_column_changed_by_a_flush_lands() {
    let t = setup().await;
    t.execute(insert_many(&rows())).await.unwrap();
    let mut s = t.session_with(no_expire());
    let loaded = s
        .all(select::<Scalars>().order_by(Scalars::id.asc()))
        .await
        .unwrap();
    let mut expected = Vec::new();
    // Each row takes the next row's values (NULL to value, value to NULL, extreme to extreme):
    // one UPDATE for the three, every column an array.
    let shifted = rows();
    for (i, o) in loaded.iter().enumerate() {
        let mut next = shifted[(i + 1) % shifted.len()].clone();
        next.id = o.read().id;
        *o.write() = next.clone();
        expected.push(next);
    }
    s.commit().await.unwrap();
    assert_eq!(all(&t).await, expected);
    for o in &loaded {
        assert!(!o.is_modified());
    }
}

fn no_expire() -> SessionOptions {
    SessionOptions::default().expire_on_commit(false)
}
