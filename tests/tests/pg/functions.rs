//! The expression language's functions and operators against a real PostgreSQL: aggregates,
//! window functions, CASE and conditional functions, casts, text, dates and intervals, JSONB,
//! arrays and full-text search.
//!
//! Each query's rows are compared with the same query written in raw SQL (so the generated SQL
//! computes what the hand-written one does, and decodes into the same Rust values), and spot
//! checks pin known values. Every test gets a fresh database.

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

// --- aggregates ---------------------------------------------------------------------------

#[tokio::test]
async fn aggregates_with_group_by_having_and_filter() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>()
            .group_by(Sale::region)
            .having(func::count_all().gt(1_i64))
            .order_by(Sale::region)
            .columns((
                Sale::region,
                func::count_all(),
                func::count(Sale::note),
                func::count_distinct(Sale::rep),
                func::count_all().filter(Sale::paid.expr()),
                func::sum(Sale::amount),
                func::sum(Sale::units),
                func::sum(Sale::big),
                func::sum(Sale::price),
                func::sum(Sale::ratio),
                func::sum(Sale::cost),
                func::avg(Sale::amount),
            )),
        "SELECT region, count(*), count(note), count(DISTINCT rep), count(*) FILTER (WHERE paid), \
         sum(amount), sum(units), sum(big), sum(price), sum(ratio), sum(cost), avg(amount) \
         FROM sales GROUP BY region HAVING count(*) > 1 ORDER BY region",
    )
    .await;
    assert_eq!(
        rows.len(),
        2,
        "north has one sale and is filtered out by HAVING"
    );
    let east = &rows[0];
    assert_eq!(east.0, "east");
    assert_eq!((east.1, east.2, east.3, east.4), (3, 2, 2, 2));
    assert_eq!((east.5, east.6), (Some(450), Some(6)));
    assert_eq!(east.7, Some(Decimal::from(30_000_000_005_i64)));
    assert_eq!((east.8, east.9), (Some(7.0), Some(1.5)));
    assert_eq!(east.10, Some(dec("35.75")));
    assert_eq!(east.11.map(|d| d.round_dp(2)), Some(dec("150.00")));

    let rows = same(
        &t,
        select::<Sale>()
            .group_by(Sale::region)
            .order_by(Sale::region)
            .columns((
                func::avg(Sale::price),
                func::avg(Sale::ratio),
                func::avg(Sale::cost),
                func::avg(Sale::big),
                func::min(Sale::day),
                func::max(Sale::at),
                func::min(Sale::rep),
                func::max(Sale::note),
                func::bool_and(Sale::paid),
                func::bool_or(Sale::paid),
                func::array_agg(Sale::id).order_by(Sale::id.desc()),
                func::sum(Sale::amount).filter(Sale::paid.expr() & Sale::amount.gt(60)),
            )),
        "SELECT avg(price), avg(ratio), avg(cost), avg(big), min(day), max(at), min(rep), \
         max(note), bool_and(paid), bool_or(paid), array_agg(id ORDER BY id DESC), \
         sum(amount) FILTER (WHERE paid AND amount > 60) FROM sales GROUP BY region ORDER BY region",
    )
    .await;
    let north = &rows[1];
    assert_eq!(north.4, Some(date(2024, 4, 1)));
    assert_eq!(north.7, None, "max of only NULLs");
    assert_eq!((north.8, north.9), (Some(true), Some(true)));
    let west = &rows[2];
    assert_eq!(west.10, Some(vec![6, 5, 4]));
    assert_eq!(west.11, Some(300), "only sale 4 is paid and over 60");
    assert_eq!((west.8, west.9), (Some(false), Some(true)));
}

#[tokio::test]
async fn string_agg_with_order_and_distinct() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>()
            .group_by(Sale::region)
            .order_by(Sale::region)
            .columns((
                Sale::region,
                func::string_agg(Sale::rep, ", ").distinct().order_by(Sale::rep),
                func::string_agg(Sale::note, "|").order_by(Sale::id.desc()),
                func::string_agg(func::upper(Sale::rep), "")
                    .order_by(Sale::amount.desc())
                    .order_by(Sale::id),
            )),
        "SELECT region, string_agg(DISTINCT rep, ', ' ORDER BY rep), \
         string_agg(note, '|' ORDER BY id DESC), string_agg(upper(rep), '' ORDER BY amount DESC, id) \
         FROM sales GROUP BY region ORDER BY region",
    )
    .await;
    assert_eq!(
        rows,
        vec![
            (
                "east".into(),
                Some("ann, bob".into()),
                Some("c|a".into()),
                Some("BOBANNANN".into())
            ),
            ("north".into(), Some("eve".into()), None, Some("EVE".into())),
            (
                "west".into(),
                Some("cid, dan".into()),
                Some("f|d".into()),
                Some("CIDDANCID".into())
            ),
        ]
    );
}

#[tokio::test]
async fn aggregates_over_no_rows() {
    let t = sales().await;
    let row = t
        .fetch_one(select::<Sale>().filter(Sale::id.lt(0)).columns((
            func::count_all(),
            func::count(Sale::id),
            func::sum(Sale::amount),
            func::avg(Sale::price),
            func::max(Sale::day),
            func::string_agg(Sale::rep, ","),
            func::array_agg(Sale::id),
            func::bool_and(Sale::paid),
            func::coalesce(func::sum(Sale::amount), 0_i64),
        )))
        .await
        .unwrap();
    assert_eq!(row, (0, 0, None, None, None, None, None, None, 0));
}

#[tokio::test]
async fn aggregate_in_a_subquery_and_order_by() {
    let t = sales().await;
    // The region with the biggest total, through an ORDER BY on the aggregate.
    same(
        &t,
        select::<Sale>()
            .group_by(Sale::region)
            .order_by(func::sum(Sale::amount).desc())
            .limit(1)
            .columns((Sale::region, func::label(func::sum(Sale::amount), "total"))),
        "SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY sum(amount) DESC LIMIT 1",
    )
    .await;
}

// --- window functions ---------------------------------------------------------------------

#[tokio::test]
async fn ranking_window_functions() {
    let t = sales().await;
    let by_amount = || func::window().order_by(Sale::amount.desc());
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            Sale::id,
            func::row_number().over(
                func::window()
                    .partition_by(Sale::region)
                    .order_by(Sale::amount.desc())
                    .order_by(Sale::id),
            ),
            func::rank().over(by_amount()),
            func::dense_rank().over(by_amount()),
            func::percent_rank().over(by_amount()),
            func::cume_dist().over(by_amount()),
            func::ntile(3).over(func::window().order_by(Sale::id)),
        )),
        "SELECT id, row_number() OVER (PARTITION BY region ORDER BY amount DESC, id), \
         rank() OVER (ORDER BY amount DESC), dense_rank() OVER (ORDER BY amount DESC), \
         percent_rank() OVER (ORDER BY amount DESC), cume_dist() OVER (ORDER BY amount DESC), \
         ntile(3) OVER (ORDER BY id) FROM sales ORDER BY id",
    )
    .await;
    let ranks: Vec<(i32, i64, i64)> = rows.iter().map(|r| (r.0, r.2, r.3)).collect();
    // amounts: 300 (4), 300 (6), 200 (2), 150 (3), 100 (1), 75 (7), 50 (5)
    assert_eq!(
        ranks,
        vec![
            (1, 5, 4),
            (2, 3, 2),
            (3, 4, 3),
            (4, 1, 1),
            (5, 7, 6),
            (6, 1, 1),
            (7, 6, 5)
        ]
    );
    assert_eq!(rows[3].1, 1, "sale 4 is first in west");
    assert_eq!(rows[4].1, 3);
    assert_eq!(
        rows.iter().map(|r| r.6).collect::<Vec<_>>(),
        vec![1, 1, 1, 2, 2, 3, 3]
    );
}

#[tokio::test]
async fn offset_and_value_window_functions() {
    let t = sales().await;
    let by_id = || func::window().order_by(Sale::id);
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            Sale::id,
            func::lag(Sale::amount, 1, 0).over(by_id()),
            func::lead(Sale::amount, 2, -1).over(by_id()),
            func::lag(Sale::note, 1, None::<String>).over(by_id()),
            func::first_value(Sale::rep)
                .over(func::window().partition_by(Sale::region).order_by(Sale::id)),
            func::last_value(Sale::amount).over(
                func::window()
                    .partition_by(Sale::region)
                    .order_by(Sale::id)
                    .rows_between(func::unbounded_preceding(), func::unbounded_following()),
            ),
            func::nth_value(Sale::amount, 2).over(by_id()),
        )),
        "SELECT id, lag(amount, 1, 0) OVER (ORDER BY id), lead(amount, 2, -1) OVER (ORDER BY id), \
         lag(note, 1, NULL) OVER (ORDER BY id), \
         first_value(rep) OVER (PARTITION BY region ORDER BY id), \
         last_value(amount) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), \
         nth_value(amount, 2) OVER (ORDER BY id) FROM sales ORDER BY id",
    )
    .await;
    assert_eq!(rows[0].1, Some(0), "the default before the first row");
    assert_eq!(rows[1].1, Some(100));
    assert_eq!(rows[5].2, Some(-1), "the default after the last row");
    assert_eq!(rows[1].3, Some("a".into()));
    assert_eq!(rows[2].3, None, "sale 2's note is NULL");
    assert_eq!(rows[4].4, Some("cid".into()));
    assert_eq!(rows[4].5, Some(300), "west's last sale is 6");
    assert_eq!(rows[0].6, None, "no second row yet in the default frame");
    assert_eq!(rows[1].6, Some(200));
}

#[tokio::test]
async fn running_sums_frames_and_named_windows() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>()
            .window("w", func::window().partition_by(Sale::region).order_by(Sale::id))
            .order_by(Sale::id)
            .columns((
                Sale::id,
                func::sum(Sale::amount).over(
                    func::window()
                        .partition_by(Sale::region)
                        .order_by(Sale::id)
                        .rows_between(func::unbounded_preceding(), func::current_row()),
                ),
                func::sum(Sale::amount).over(
                    func::window()
                        .order_by(Sale::id)
                        .rows_between(func::preceding(1_i64), func::following(1_i64)),
                ),
                func::count_all().over(
                    func::window()
                        .order_by(Sale::day)
                        .range_between(func::preceding(Interval::days(10)), func::current_row()),
                ),
                func::count_all().over(
                    func::window()
                        .order_by(Sale::amount)
                        .range_between(func::preceding(100), func::following(0)),
                ),
                func::max(Sale::amount).over(
                    func::window()
                        .order_by(Sale::amount)
                        .groups_between(func::preceding(1_i64), func::current_row()),
                ),
                func::row_number().over_named("w"),
                func::sum(Sale::amount).over_named("w"),
                func::avg(Sale::price)
                    .over(Over::named("w").rows_between(func::preceding(1), func::current_row())),
                func::sum(Sale::amount).filter(Sale::paid.expr()).over(func::window()),
            )),
        "SELECT id, \
         sum(amount) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), \
         sum(amount) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), \
         count(*) OVER (ORDER BY day RANGE BETWEEN '10 days' PRECEDING AND CURRENT ROW), \
         count(*) OVER (ORDER BY amount RANGE BETWEEN 100 PRECEDING AND 0 FOLLOWING), \
         max(amount) OVER (ORDER BY amount GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW), \
         row_number() OVER w, sum(amount) OVER w, \
         avg(price) OVER (w ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), \
         sum(amount) FILTER (WHERE paid) OVER () \
         FROM sales WINDOW w AS (PARTITION BY region ORDER BY id) ORDER BY id",
    )
    .await;
    let running: Vec<Option<i64>> = rows.iter().map(|r| r.1).collect();
    assert_eq!(
        running,
        [100, 300, 450, 300, 350, 650, 75].map(Some).to_vec(),
        "running totals per region"
    );
    assert_eq!(rows[0].2, Some(300), "rows 1 and 2");
    assert_eq!(
        rows[1].3, 2,
        "sales within 10 days before 2024-01-20: 1 and 2"
    );
    assert_eq!(rows[6].6, 1, "north's first sale in window w");
    assert_eq!(rows[0].9, Some(675), "the paid sales' total on every row");
}

// --- CASE, conditional functions, casts, arithmetic, text -------------------------------

#[tokio::test]
async fn case_and_conditional_functions() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            Sale::id,
            func::case_when(Sale::amount.ge(200), "big")
                .when(Sale::amount.ge(100), "mid")
                .otherwise("small"),
            func::case(Sale::region).when("east", 1).when("west", 2).end(),
            func::case_when(Sale::note.is_null(), Sale::rep).otherwise(Sale::region),
            func::coalesce(Sale::note, "-"),
            func::coalesce(func::coalesce(Sale::note, Sale::rep), "?"),
            func::nullif(Sale::amount, 300),
            func::greatest(Sale::amount, 120),
            func::least(func::greatest(Sale::amount, 60), 250),
            func::greatest(func::greatest(Sale::price, 1.0), Sale::ratio.cast::<f64>()),
        )),
        "SELECT id, CASE WHEN amount >= 200 THEN 'big' WHEN amount >= 100 THEN 'mid' ELSE 'small' END, \
         CASE region WHEN 'east' THEN 1 WHEN 'west' THEN 2 END, \
         CASE WHEN note IS NULL THEN rep ELSE region END, coalesce(note, '-'), \
         coalesce(note, rep, '?'), nullif(amount, 300), greatest(amount, 120), \
         least(greatest(amount, 60), 250), greatest(price, 1.0, CAST(ratio AS DOUBLE PRECISION)) \
         FROM sales ORDER BY id",
    )
    .await;
    assert_eq!(
        (
            rows[0].1.as_str(),
            rows[0].2,
            rows[0].3.as_str(),
            rows[0].4.as_str()
        ),
        ("mid", Some(1), "east", "a")
    );
    assert_eq!((rows[1].3.as_str(), rows[1].5.as_str()), ("bob", "bob"));
    assert_eq!((rows[3].1.as_str(), rows[3].6), ("big", None));
    assert_eq!(
        (rows[4].1.as_str(), rows[4].7, rows[4].8),
        ("small", 120, 60)
    );
    assert_eq!(rows[6].2, None, "no branch for north");
}

#[tokio::test]
async fn casts_and_arithmetic() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            Sale::amount.cast::<i64>(),
            Sale::cost.cast::<String>(),
            Sale::rep.concat("-").concat(Sale::amount.cast::<String>()),
            Sale::amount.neg(),
            Sale::amount.rem(7),
            Sale::units.pow(2.0),
            Sale::cost.pow(Decimal::from(2)),
            Sale::price.neg().mul(2.0),
            Sale::note.cast::<Option<Vec<u8>>>(),
            Sale::day.cast::<String>(),
        )),
        "SELECT CAST(amount AS BIGINT), CAST(cost AS TEXT), rep || '-' || CAST(amount AS TEXT), \
         -amount, amount % 7, units ^ 2.0::float8, cost ^ 2::numeric, -price * 2.0, \
         CAST(note AS BYTEA), CAST(day AS TEXT) FROM sales ORDER BY id",
    )
    .await;
    assert_eq!(rows[0].1, "10.25");
    assert_eq!(rows[0].2, "ann-100");
    assert_eq!((rows[0].3, rows[0].4, rows[0].5), (-100, 2, 1.0));
    assert_eq!(rows[1].5, 4.0);
    assert_eq!(rows[0].6, dec("105.0625"));
    assert_eq!(rows[0].7, -3.0);
    assert_eq!(rows[0].8.as_deref(), Some(&b"a"[..]));
    assert_eq!(rows[1].8, None);
    assert_eq!(rows[0].9, "2024-01-15");
}

#[tokio::test]
async fn text_functions() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>()
            .filter(func::lower(func::upper(Sale::region)).eq("east"))
            .order_by(Sale::id)
            .columns((
                func::upper(Sale::rep),
                func::length(Sale::rep),
                func::length(Sale::note),
                func::substring(Sale::region, 2, 2),
                func::trim(func::value("  pad  ".to_string())),
                func::trim(Sale::note),
                func::concat_ws("/", (Sale::region, Sale::note, "z")),
            )),
        "SELECT upper(rep), length(rep), length(note), substr(region, 2, 2), btrim('  pad  '), \
         btrim(note), concat_ws('/', region, note, 'z') FROM sales \
         WHERE lower(upper(region)) = 'east' ORDER BY id",
    )
    .await;
    assert_eq!(
        rows[1],
        (
            "BOB".into(),
            3,
            None,
            "as".into(),
            "pad".into(),
            None,
            "east/z".into()
        )
    );
}

// --- dates, times, intervals --------------------------------------------------------------

#[tokio::test]
async fn date_trunc_extract_and_interval_arithmetic() {
    let t = sales().await;
    let rows = same(
        &t,
        select::<Sale>().order_by(Sale::id).columns((
            func::date_trunc(func::DatePart::Month, Sale::day),
            func::date_trunc(func::DatePart::Hour, Sale::at),
            func::date_trunc(func::DatePart::Quarter, Sale::at),
            func::extract(func::DatePart::Year, Sale::day),
            func::extract(func::ExtractField::Epoch, Sale::at),
            func::extract(func::ExtractField::DayOfWeek, Sale::day).cast::<i32>(),
            func::date_part(func::DatePart::Month, Sale::at),
            Sale::day.add_interval(Interval::months(1)),
            Sale::at.sub_interval(Interval::hours(36)),
            func::age(Sale::at, at(2023, 1, 1, 0, 0, 0)),
            func::age(
                Sale::day,
                Sale::day
                    .sub_interval(Interval::days(40))
                    .cast::<NaiveDate>(),
            ),
        )),
        "SELECT CAST(date_trunc('month', CAST(day AS TIMESTAMP)) AS DATE), date_trunc('hour', at), \
         date_trunc('quarter', at), EXTRACT(YEAR FROM day), EXTRACT(EPOCH FROM at), \
         CAST(EXTRACT(DOW FROM day) AS INTEGER), date_part('month', at), day + interval '1 month', \
         at - interval '36 hours', age(at, '2023-01-01 00:00:00'), \
         age(day, CAST(day - interval '40 days' AS DATE)) FROM sales ORDER BY id",
    )
    .await;
    let first = &rows[0];
    assert_eq!(first.0, date(2024, 1, 1));
    assert_eq!(first.1, at(2024, 1, 15, 9, 0, 0));
    assert_eq!(first.2, at(2024, 1, 1, 0, 0, 0));
    assert_eq!(first.3, Decimal::from(2024));
    assert_eq!(first.4, Decimal::from(1_705_311_000));
    assert_eq!(first.5, 1, "2024-01-15 is a Monday");
    assert_eq!(first.6, 1.0);
    assert_eq!(first.7, at(2024, 2, 15, 0, 0, 0));
    assert_eq!(first.8, at(2024, 1, 13, 21, 30, 0));
    assert_eq!(
        first.9,
        Interval::months(12) + Interval::days(14) + Interval::minutes(9 * 60 + 30)
    );
    assert_eq!(first.10, Interval::months(1) + Interval::days(9));
    let third = &rows[2];
    assert_eq!(third.4, dec("1706948130"), "exact epoch, no float rounding");
}

#[tokio::test]
async fn timestamptz_date_functions_and_now() {
    let t = test_database().await.unwrap();
    let moment: DateTime<Utc> = "2024-05-17T13:45:12.250Z".parse().unwrap();
    let row = same(
        &t,
        select_values((
            func::date_trunc(func::DatePart::Day, func::value(moment)),
            func::extract(func::ExtractField::Epoch, func::value(moment)),
            func::value(moment).add_interval(Interval::new(1, 2, 3_000_000)),
            func::date_trunc(func::DatePart::Hour, func::value(Interval::minutes(150))),
            func::extract(func::DatePart::Minute, func::value(Interval::minutes(150))),
            func::value(Interval::days(1)).add_interval(Interval::hours(1)),
        )),
        "SELECT date_trunc('day', CAST('2024-05-17T13:45:12.250Z' AS TIMESTAMPTZ)), \
         EXTRACT(EPOCH FROM CAST('2024-05-17T13:45:12.250Z' AS TIMESTAMPTZ)), \
         CAST('2024-05-17T13:45:12.250Z' AS TIMESTAMPTZ) + interval '1 month 2 days 3 seconds', \
         date_trunc('hour', interval '150 minutes'), EXTRACT(MINUTE FROM interval '150 minutes'), \
         interval '1 day' + interval '1 hour'",
    )
    .await;
    assert_eq!(row[0].1, dec("1715953512.250000"));
    assert_eq!(row[0].3, Interval::hours(2));
    assert_eq!(row[0].4, Decimal::from(30));
    // now() and CURRENT_DATE against the server's own clock.
    let (now_ours, today_ours, check) = t
        .fetch_one(select_values((
            func::now(),
            func::current_date(),
            func::now()
                .sub_interval(Interval::seconds(1))
                .lt(func::now()),
        )))
        .await
        .unwrap();
    let (now_raw, today_raw) = t
        .fetch_one(query::<(DateTime<Utc>, NaiveDate)>(
            "SELECT now(), CURRENT_DATE",
        ))
        .await
        .unwrap();
    assert!(check);
    assert!((now_raw - now_ours).num_seconds().abs() < 60);
    assert!((today_raw - today_ours).num_days().abs() <= 1);
}

#[tokio::test]
async fn interval_round_trips() {
    let t = test_database().await.unwrap();
    t.create_all(&[Doc::TABLE]).await.unwrap();
    let samples = [
        Interval::default(),
        Interval::new(14, 3, 4 * 3_600_000_000 + 5_000_000 + 6),
        Interval::new(-13, 1, 0),
        Interval::days(-1) + Interval::hours(2),
        Interval::micros(-1_500_000),
        Interval::new(i32::MAX, i32::MIN, i64::MAX),
    ];
    for i in samples {
        let (back, text) = t
            .fetch_one(select_values((
                func::value(i),
                func::value(i).cast::<String>(),
            )))
            .await
            .unwrap();
        assert_eq!(back, i);
        assert_eq!(text, i.to_string(), "Display matches the server's output");
    }
    // Parsed by the server, decoded by us.
    let parsed = t
        .fetch_one(query::<Interval>(
            "SELECT interval '1 year 2 months 3 days 04:05:06.789'",
        ))
        .await
        .unwrap();
    assert_eq!(parsed, Interval::new(14, 3, 14_706_789_000));
    // As a column, through insert and select; aggregates of intervals.
    let docs: Vec<Doc> = (1..=3)
        .map(|id| Doc {
            id,
            body: String::new(),
            search: TsVector::new(),
            span: Interval::new(id, id * 2, i64::from(id) * 1_000_000),
            maybe_span: (id != 2).then(|| Interval::hours(i64::from(id))),
        })
        .collect();
    t.execute(insert_many(&docs)).await.unwrap();
    let back = t
        .fetch_all(select::<Doc>().order_by(Doc::id))
        .await
        .unwrap();
    assert_eq!(back, docs);
    let row = same(
        &t,
        select::<Doc>().columns((
            func::sum(Doc::span),
            func::avg(Doc::span),
            func::sum(Doc::maybe_span),
            func::max(Doc::maybe_span),
        )),
        "SELECT sum(span), avg(span), sum(maybe_span), max(maybe_span) FROM docs",
    )
    .await;
    assert_eq!(row[0].0, Some(Interval::new(6, 12, 6_000_000)));
    assert_eq!(row[0].2, Some(Interval::hours(4)));
    let hits = same(
        &t,
        select::<Doc>()
            .filter(Doc::span.gt(Interval::months(1)))
            .filter(Doc::maybe_span.is_not_null())
            .order_by(Doc::id)
            .columns(Doc::id),
        "SELECT id FROM docs WHERE span > interval '1 month' AND maybe_span IS NOT NULL ORDER BY id",
    )
    .await;
    assert_eq!(hits, vec![1, 3], "1 mon 2 days 00:00:01 > 1 mon");
}

// --- JSONB and arrays ------------------------------------------------------------------------

async fn items() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[Item::TABLE]).await.unwrap();
    let item = |id, doc, tags: &[&str], nums: Vec<i32>, maybe_nums| Item {
        id,
        doc,
        tags: tags.iter().map(|s| s.to_string()).collect(),
        nums,
        maybe_nums,
    };
    t.execute(insert_many(&[
        item(
            1,
            serde_json::json!({"kind": "book", "n": 1, "list": [10, 20, 30], "meta": {"lang": "en"}}),
            &["a", "b"],
            vec![1, 2, 3],
            Some(vec![]),
        ),
        item(
            2,
            serde_json::json!({"kind": "film", "n": 2, "list": ["x"], "meta": {"lang": "fr", "year": 1999}}),
            &["b", "c"],
            vec![3, 4],
            None,
        ),
        item(3, serde_json::json!(["kind", "other"]), &[], vec![], Some(vec![7])),
    ]))
    .await
    .unwrap();
    t
}

#[tokio::test]
async fn jsonb_operators() {
    let t = items().await;
    let rows = same(
        &t,
        select::<Item>().order_by(Item::id).columns((
            Item::doc.get("kind"),
            Item::doc.get("list").get_index(1),
            Item::doc.get_index(0),
            Item::doc.get_text("kind"),
            Item::doc.path(["meta", "lang"]),
            Item::doc.path_text(["list", "0"]),
            Item::doc.get("meta").get_text("year"),
            Item::doc.has_key("kind"),
            Item::doc.contains_json(serde_json::json!({"meta": {"lang": "en"}})),
            Item::doc.contained_in_json(serde_json::json!({"kind": "film", "n": 2, "list": ["x"], "meta": {"lang": "fr", "year": 1999}, "extra": true})),
        )),
        "SELECT doc -> 'kind', (doc -> 'list') -> 1, doc -> 0, doc ->> 'kind', doc #> '{meta,lang}', \
         doc #>> '{list,0}', (doc -> 'meta') ->> 'year', doc ? 'kind', \
         doc @> '{\"meta\": {\"lang\": \"en\"}}', \
         doc <@ '{\"kind\": \"film\", \"n\": 2, \"list\": [\"x\"], \"meta\": {\"lang\": \"fr\", \"year\": 1999}, \"extra\": true}' \
         FROM items ORDER BY id",
    )
    .await;
    assert_eq!(rows[0].0, Some(serde_json::json!("book")));
    assert_eq!(rows[0].1, Some(serde_json::json!(20)));
    assert_eq!(rows[0].2, None, "an object has no index 0");
    assert_eq!(rows[2].2, Some(serde_json::json!("kind")));
    assert_eq!(rows[0].3.as_deref(), Some("book"));
    assert_eq!(rows[1].4, Some(serde_json::json!("fr")));
    assert_eq!(rows[0].5.as_deref(), Some("10"));
    assert_eq!(rows[1].6.as_deref(), Some("1999"));
    assert_eq!(
        rows.iter().map(|r| (r.7, r.8, r.9)).collect::<Vec<_>>(),
        vec![
            (true, true, false),
            (true, false, true),
            (true, false, false)
        ],
        "`?` also finds a string element of an array"
    );
    let ids = same(
        &t,
        select::<Item>()
            .filter(
                Item::doc.get_text("kind").eq("film")
                    | Item::doc.contains_json(serde_json::json!({"n": 1})),
            )
            .order_by(Item::id)
            .columns(Item::id),
        "SELECT id FROM items WHERE doc ->> 'kind' = 'film' OR doc @> '{\"n\": 1}' ORDER BY id",
    )
    .await;
    assert_eq!(ids, vec![1, 2]);
}

#[tokio::test]
async fn array_operators_and_functions() {
    let t = items().await;
    let rows = same(
        &t,
        select::<Item>().order_by(Item::id).columns((
            Item::tags.contains_all(vec!["b".to_string()]),
            Item::nums.contained_by(vec![1, 2, 3, 4]),
            Item::nums.overlaps(vec![4, 5]),
            Item::tags.has_element("a"),
            Item::nums.has_element(Item::id),
            Item::maybe_nums.has_element(7).nullable(),
            func::array_length(Item::nums, 1),
            func::cardinality(Item::nums),
            func::cardinality(Item::maybe_nums),
            func::array_length(Item::maybe_nums, 1),
        )),
        "SELECT tags @> ARRAY['b'], nums <@ ARRAY[1, 2, 3, 4], nums && ARRAY[4, 5], 'a' = ANY(tags), \
         id = ANY(nums), 7 = ANY(maybe_nums), array_length(nums, 1), cardinality(nums), \
         cardinality(maybe_nums), array_length(maybe_nums, 1) FROM items ORDER BY id",
    )
    .await;
    assert_eq!(
        rows[0],
        (
            true,
            true,
            false,
            true,
            true,
            Some(false),
            Some(3),
            3,
            Some(0),
            None
        )
    );
    assert_eq!(rows[1].5, None, "NULL array");
    assert_eq!(rows[2].6, None, "array_length of an empty array is NULL");
    assert_eq!(rows[2].7, 0);
    assert_eq!(rows[2].5, Some(true));
}

// --- full-text search ------------------------------------------------------------------------

async fn docs() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[Doc::TABLE]).await.unwrap();
    let bodies = [
        "The fat cat sat on the mat",
        "A fat rat ate the cheese",
        "Rats and cats are not friends",
        "Nothing to see here",
    ];
    let docs: Vec<Doc> = bodies
        .iter()
        .zip(1..)
        .map(|(body, id)| Doc {
            id,
            body: body.to_string(),
            search: TsVector::new(),
            span: Interval::default(),
            maybe_span: None,
        })
        .collect();
    t.execute(insert_many(&docs)).await.unwrap();
    t.batch_execute("UPDATE docs SET search = to_tsvector('english', body)")
        .await
        .unwrap();
    t
}

#[tokio::test]
async fn full_text_match_and_rank() {
    let t = docs().await;
    let ids = same(
        &t,
        select::<Doc>()
            .filter(Doc::search.matches(func::to_tsquery("english", "fat & (rat | cat)")))
            .order_by(Doc::id)
            .columns(Doc::id),
        "SELECT id FROM docs WHERE search @@ to_tsquery('english', 'fat & (rat | cat)') ORDER BY id",
    )
    .await;
    assert_eq!(ids, vec![1, 2]);
    let ids = same(
        &t,
        select::<Doc>()
            .filter(
                func::to_tsvector("english", Doc::body)
                    .matches(func::websearch_to_tsquery("english", "rats -cheese")),
            )
            .order_by(Doc::id)
            .columns(Doc::id),
        "SELECT id FROM docs WHERE to_tsvector('english', body) @@ websearch_to_tsquery('english', 'rats -cheese') ORDER BY id",
    )
    .await;
    assert_eq!(ids, vec![3]);
    let ids = same(
        &t,
        select::<Doc>()
            .filter(Doc::search.matches(func::plainto_tsquery("simple", "fat cat")))
            .filter(Doc::search.matches(func::phraseto_tsquery("english", "fat cat")))
            .columns(Doc::id),
        "SELECT id FROM docs WHERE search @@ plainto_tsquery('simple', 'fat cat') \
         AND search @@ phraseto_tsquery('english', 'fat cat')",
    )
    .await;
    assert_eq!(ids, vec![1]);
    let ranked = same(
        &t,
        select::<Doc>()
            .filter(Doc::search.matches(func::to_tsquery("english", "rat | cat")))
            .order_by(func::ts_rank(Doc::search, func::to_tsquery("english", "rat | cat")).desc())
            .order_by(Doc::id)
            .columns((
                Doc::id,
                func::ts_rank(Doc::search, func::to_tsquery("english", "rat | cat")),
            )),
        "SELECT id, ts_rank(search, to_tsquery('english', 'rat | cat')) FROM docs \
         WHERE search @@ to_tsquery('english', 'rat | cat') \
         ORDER BY ts_rank(search, to_tsquery('english', 'rat | cat')) DESC, id",
    )
    .await;
    assert_eq!(ranked.len(), 3);
    assert!(ranked[0].1 >= ranked[1].1 && ranked[1].1 >= ranked[2].1 && ranked[2].1 > 0.0);
}

#[tokio::test]
async fn tsvector_and_tsquery_round_trips() {
    let t = docs().await;
    // Decoded from the server's binary format: the same lexemes as its text form.
    let rows = t
        .fetch_all(select::<Doc>().order_by(Doc::id).columns((
            Doc::search,
            func::to_tsvector("english", Doc::body),
            Doc::search.cast::<String>(),
        )))
        .await
        .unwrap();
    for (stored, computed, text) in &rows {
        assert_eq!(stored, computed);
        assert_eq!(stored.to_string(), *text);
    }
    let first = &rows[0].0;
    assert_eq!(
        first.lexemes().iter().map(|l| l.word()).collect::<Vec<_>>(),
        vec!["cat", "fat", "mat", "sat"]
    );
    assert_eq!(first.get("fat").unwrap().positions(), &[Position::from(2)]);

    // Encoded by us, stored, read back, and understood by the server.
    let mut v = TsVector::new();
    v.insert_weighted(
        "title",
        [Position::new(1, Weight::A), Position::new(7, Weight::B)],
    );
    v.insert("it's", [2, 3]);
    v.insert(r"back\slash", [4]);
    v.insert("nopos", []);
    v.insert("ünïcode", [16_383]);
    t.execute(insert(&Doc {
        id: 10,
        body: String::new(),
        search: v.clone(),
        span: Interval::default(),
        maybe_span: None,
    }))
    .await
    .unwrap();
    let (back, text, hit) = t
        .fetch_one(select::<Doc>().filter(Doc::id.eq(10)).columns((
            Doc::search,
            Doc::search.cast::<String>(),
            Doc::search.matches(func::to_tsquery("simple", "title:A & nopos")),
        )))
        .await
        .unwrap();
    assert_eq!(back, v);
    assert_eq!(text, v.to_string());
    assert!(hit);
    let (parsed,) = t
        .fetch_one(query::<(TsVector,)>(
            r"SELECT CAST($$'title':1A,7B 'it''s':2,3 'back\\slash':4 'nopos' 'ünïcode':16383$$ AS tsvector)",
        ))
        .await
        .unwrap();
    assert_eq!(parsed, v);

    // A query decodes, goes back as a parameter, and equals the server's.
    let q: TsQuery = t
        .fetch_one(select_values(func::to_tsquery(
            "english",
            "fat & (rat | !cat) <-> dogs:*",
        )))
        .await
        .unwrap();
    assert!(q.items().contains(&TsQueryItem::Operand {
        word: "dog".into(),
        weights: 0,
        prefix: true
    }));
    assert!(q.items().contains(&TsQueryItem::Phrase(1)));
    let (same_query, text, raw_text) = t
        .fetch_one(select_values((
            func::value(q.clone()).eq(func::to_tsquery("english", "fat & (rat | !cat) <-> dogs:*")),
            func::value(q.clone()).cast::<String>(),
            func::to_tsquery("english", "fat & (rat | !cat) <-> dogs:*").cast::<String>(),
        )))
        .await
        .unwrap();
    assert!(same_query);
    assert_eq!(text, raw_text);
    let empty: TsQuery = t
        .fetch_one(select_values(func::plainto_tsquery("english", "the")))
        .await
        .unwrap();
    assert!(empty.is_empty(), "a query of stop words only");
}

/// Pagila's `film.fulltext` values (made by `tsvector_update_trigger`) decode, and print as the
/// server does. Two rows are inlined; the whole column is checked when the dataset is present
/// (`../shared/datasets` or `ORM_DATASETS`).
#[tokio::test]
async fn pagila_fulltext_decodes() {
    let t = test_database().await.unwrap();
    let mut texts: Vec<String> = vec![
        "'academi':1 'battl':15 'canadian':20 'dinosaur':2 'drama':5 'epic':4 'feminist':8 'mad':11 'must':14 'rocki':21 'scientist':12 'teacher':17".into(),
        "'ace':1 'administr':9 'ancient':19 'astound':4 'car':17 'china':20 'databas':8 'epistl':5 'explor':12 'find':15 'goldfing':2 'must':14".into(),
    ];
    let dir = std::env::var("ORM_DATASETS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/datasets").to_string()
    });
    match std::fs::read_to_string(format!("{dir}/pagila/pagila-data.sql")) {
        Ok(data) => {
            let film = data
                .split("COPY public.film (")
                .nth(1)
                .and_then(|rest| rest.split("\n\\.").next())
                .expect("the film table's COPY block");
            let before = texts.len();
            texts.extend(
                film.lines()
                    .skip(1)
                    .filter_map(|line| line.rsplit('\t').next())
                    .map(str::to_owned),
            );
            assert!(texts.len() - before >= 1000, "all films");
        }
        Err(_) => eprintln!("pagila dataset not found under {dir}: checking the inlined rows only"),
    }
    let rows = t
        .fetch_all(
            query::<(TsVector, String)>(
                "SELECT CAST(t AS tsvector), CAST(CAST(t AS tsvector) AS TEXT) \
                 FROM unnest(CAST(:texts AS TEXT[])) AS t",
            )
            .bind("texts", texts.clone()),
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), texts.len());
    for (v, text) in &rows {
        assert_eq!(v.to_string(), *text);
        assert!(!v.is_empty());
    }
    assert_eq!(
        rows[0].0.get("dinosaur").unwrap().positions(),
        &[Position::from(2)]
    );
}
