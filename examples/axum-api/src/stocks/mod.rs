//! Stock analytics over generated prices: the average close between two dates, day-over-day
//! change with a window function, each symbol's busiest day, and an SVG chart of a close.
//!
//! `cargo run -p orm-example-axum --bin stocks -- target/stocks.svg` generates a year of three
//! symbols' prices (a seeded random walk: no network), loads them in one statement, prints the
//! analytics and writes the chart.

pub mod chart;
pub mod data;
pub mod queries;

use chrono::NaiveDate;
use orm_postgres::prelude::*;

/// One trading day of one symbol.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "stock_prices")]
pub struct StockPrice {
    /// The ticker.
    #[model(primary_key, len = 8)]
    pub symbol: String,
    /// The trading day.
    #[model(primary_key)]
    pub day: NaiveDate,
    /// Opening price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price.
    pub close: f64,
    /// Shares traded.
    pub volume: i64,
}

/// The analytics' tables.
pub const TABLES: &[&orm_postgres::Table] = &[StockPrice::TABLE];

/// Replaces the stored prices with `prices`: a `DELETE` and one `INSERT` (arrays of every
/// column, whatever the row count), in one transaction.
pub async fn load(db: &Database, prices: &[StockPrice]) -> orm_postgres::Result<u64> {
    let tx = db.begin().await?;
    tx.execute(delete::<StockPrice>()).await?;
    let n = tx.execute(insert_many(prices)).await?;
    tx.commit().await?;
    Ok(n)
}
