//! The expression language's functions and operators against a real PostgreSQL: aggregates,
//! window functions, CASE and conditional functions, casts, text, dates and intervals, JSONB,
//! arrays and full-text search.
//!
//! Each query's rows are compared with the same query written in raw SQL (so the generated SQL
//! computes what the hand-written one does, and decodes into the same Rust values), and spot
//! checks pin known values. Every test gets a fresh database.

mod aggregates;
mod conditionals;
mod dates;
mod json_arrays;
mod text_search;
mod windows;

use std::fmt::Debug;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use orm_postgres::expr::Over;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::types::{Interval, Position, TsQuery, TsQueryItem, TsVector, Weight};
use orm_postgres::{RowOf, Statement};
use orm_testing::{TestDatabase, test_database};
use rust_decimal::Decimal;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "sales")]
struct Sale {
    #[model(primary_key)]
    id: i32,
    region: String,
    rep: String,
    amount: i32,
    units: i16,
    big: i64,
    price: f64,
    ratio: f32,
    cost: Decimal,
    note: Option<String>,
    day: NaiveDate,
    at: NaiveDateTime,
    paid: bool,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "items")]
struct Item {
    #[model(primary_key)]
    id: i32,
    doc: serde_json::Value,
    tags: Vec<String>,
    nums: Vec<i32>,
    maybe_nums: Option<Vec<i32>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "docs")]
struct Doc {
    #[model(primary_key)]
    id: i32,
    body: String,
    search: TsVector,
    span: Interval,
    maybe_span: Option<Interval>,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_opt(h, min, s).unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Runs the statement and the raw SQL, asserts they return the same rows, and returns them.
async fn same<S>(db: &TestDatabase, orm: S, raw: &'static str) -> Vec<RowOf<S>>
where
    S: Statement,
    RowOf<S>: PartialEq + Debug,
{
    let sql = orm.compile().unwrap().sql;
    let ours = db
        .fetch_all(orm)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let theirs = db
        .fetch_all(query::<S::Row>(raw))
        .await
        .unwrap_or_else(|e| panic!("{raw}: {e:?}"));
    assert_eq!(ours, theirs, "\n  orm: {sql}\n  raw: {raw}");
    // Two empty results agree whatever the statements do: every comparison here is over
    // rows the fixture has, so an empty one means the statement (or the fixture) is wrong.
    assert!(
        !ours.is_empty(),
        "both returned no rows, which proves nothing:\n  orm: {sql}\n  raw: {raw}"
    );
    ours
}

/// Seven sales in three regions: east (3), west (3), north (1). Amounts 300 tie (ids 4 and 6).
async fn sales() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[Sale::TABLE]).await.unwrap();
    #[rustfmt::skip]
    let rows = [
        (1, "east", "ann", 100, 1, 10_000_000_000_i64, 1.5, 0.5_f32, "10.25", Some("a"), date(2024, 1, 15), at(2024, 1, 15, 9, 30, 0), true),
        (2, "east", "bob", 200, 2, 20_000_000_000, 2.5, 0.25, "20.50", None, date(2024, 1, 20), at(2024, 1, 20, 14, 0, 0), false),
        (3, "east", "ann", 150, 3, 5, 3.0, 0.75, "5.00", Some("c"), date(2024, 2, 3), at(2024, 2, 3, 8, 15, 30), true),
        (4, "west", "cid", 300, 4, 7, 4.25, 1.0, "7.75", Some("d"), date(2024, 2, 10), at(2024, 2, 10, 23, 59, 59), true),
        (5, "west", "cid", 50, 5, 8, 0.5, 0.5, "1.10", None, date(2024, 3, 1), at(2024, 3, 1, 0, 0, 1), true),
        (6, "west", "dan", 300, 6, 9, 1.0, 0.125, "3.30", Some("f"), date(2024, 3, 5), at(2024, 3, 5, 12, 0, 0), false),
        (7, "north", "eve", 75, 7, 11, 2.0, 0.5, "4.40", None, date(2024, 4, 1), at(2024, 4, 1, 6, 45, 0), true),
    ];
    let sales: Vec<Sale> = rows
        .into_iter()
        .map(
            |(id, region, rep, amount, units, big, price, ratio, cost, note, day, at, paid)| Sale {
                id,
                region: region.into(),
                rep: rep.into(),
                amount,
                units,
                big,
                price,
                ratio,
                cost: dec(cost),
                note: note.map(Into::into),
                day,
                at,
                paid,
            },
        )
        .collect();
    t.execute(insert_many(&sales)).await.unwrap();
    t
}
