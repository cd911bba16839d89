//! The analytics, in the expression builder: an aggregate, a window function, `DISTINCT ON`.

use chrono::NaiveDate;
use orm_postgres::prelude::*;

use super::StockPrice;

/// The average close of `symbol` from `from` to `to`, both included (`None` without prices).
///
/// `SELECT avg(close) FROM stock_prices WHERE symbol = $1 AND day BETWEEN $2 AND $3`
pub async fn average_close(
    db: &Database,
    symbol: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> orm_postgres::Result<Option<f64>> {
    db.fetch_one(
        select::<StockPrice>()
            .filter(StockPrice::symbol.eq(symbol.to_owned()) & StockPrice::day.between(from, to))
            .columns(func::avg(StockPrice::close)),
    )
    .await
}

/// One day of a symbol and its change from the previous trading day.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct DailyChange {
    /// The day.
    pub day: NaiveDate,
    /// Its close.
    pub close: f64,
    /// The previous trading day's close (`None` on the first day).
    pub previous: Option<f64>,
    /// `(close - previous) / previous * 100` (`None` on the first day).
    pub percent: Option<f64>,
}

/// Every day of `symbol` with its day-over-day change in percent, computed by the server with
/// `lag(close) OVER (PARTITION BY symbol ORDER BY day)`.
pub async fn daily_changes(db: &Database, symbol: &str) -> orm_postgres::Result<Vec<DailyChange>> {
    let previous = || {
        func::lag(StockPrice::close, 1, None::<f64>).over(
            func::window()
                .partition_by(StockPrice::symbol)
                .order_by(StockPrice::day),
        )
    };
    // (previous - close) / previous * -100: written from the nullable side, so the first day's
    // NULL stays an Option.
    let percent = previous()
        .sub(StockPrice::close)
        .div(previous())
        .mul(-100.0);
    db.fetch_all(
        select::<StockPrice>()
            .filter(StockPrice::symbol.eq(symbol.to_owned()))
            .order_by(StockPrice::day)
            .columns((StockPrice::day, StockPrice::close, previous(), percent))
            .into_rows::<DailyChange>(),
    )
    .await
}

/// The day of a symbol with the most shares traded.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct BusiestDay {
    /// The symbol.
    pub symbol: String,
    /// The day (the earliest, on a tie).
    pub day: NaiveDate,
    /// Its volume.
    pub volume: i64,
}

/// Each symbol's highest-volume day, by symbol:
/// `SELECT DISTINCT ON (symbol) symbol, day, volume ... ORDER BY symbol, volume DESC, day`.
pub async fn busiest_days(db: &Database) -> orm_postgres::Result<Vec<BusiestDay>> {
    db.fetch_all(
        select::<StockPrice>()
            .distinct_on(StockPrice::symbol)
            .order_by(StockPrice::symbol)
            .order_by(StockPrice::volume.desc())
            .order_by(StockPrice::day)
            .columns((StockPrice::symbol, StockPrice::day, StockPrice::volume))
            .into_rows::<BusiestDay>(),
    )
    .await
}

/// A symbol's closes by day, for the chart.
pub async fn closes(db: &Database, symbol: &str) -> orm_postgres::Result<Vec<(NaiveDate, f64)>> {
    db.fetch_all(
        select::<StockPrice>()
            .filter(StockPrice::symbol.eq(symbol.to_owned()))
            .order_by(StockPrice::day)
            .columns((StockPrice::day, StockPrice::close)),
    )
    .await
}
