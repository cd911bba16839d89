//! Stock analytics on the local default database:
//! `cargo run -p orm-example-axum --bin stocks -- [chart.svg]` (default `target/stocks.svg`).

use std::path::PathBuf;

use chrono::NaiveDate;
use orm_example_axum::connect_and_migrate;
use orm_example_axum::stocks::{self, chart, data, queries};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/stocks.svg"));
    let db = connect_and_migrate().await?;
    let market = data::Market::default();
    let prices = data::generate(&market);
    let n = stocks::load(&db, &prices).await?;
    println!("loaded {n} prices of {} symbols", market.symbols.len());

    let (from, to) = (
        NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(2025, 3, 31).unwrap_or_default(),
    );
    for (symbol, _) in &market.symbols {
        let avg = queries::average_close(&db, symbol, from, to).await?;
        println!(
            "{symbol}: average close {from} to {to}: {:.2}",
            avg.unwrap_or(f64::NAN)
        );
    }
    let mut changes = queries::daily_changes(&db, "ACME").await?;
    changes.retain(|c| c.percent.is_some());
    changes.sort_by(|a, b| {
        b.percent
            .unwrap_or(0.0)
            .abs()
            .total_cmp(&a.percent.unwrap_or(0.0).abs())
    });
    println!("ACME's biggest daily moves:");
    for c in changes.iter().take(5) {
        println!(
            "  {}  {:>8.2} -> {:>8.2}  {:+.2}%",
            c.day,
            c.previous.unwrap_or(0.0),
            c.close,
            c.percent.unwrap_or(0.0)
        );
    }
    println!("busiest days:");
    for b in queries::busiest_days(&db).await? {
        println!("  {:8} {}  {} shares", b.symbol, b.day, b.volume);
    }
    let closes = queries::closes(&db, "ACME").await?;
    chart::write_svg(&path, "ACME", &closes)?;
    println!("wrote {}", path.display());
    Ok(())
}
