//! Stock analytics: every number the server computes is computed again here, in Rust, from the
//! generated prices; the chart is written and holds the line.

use chrono::{Datelike, NaiveDate, Weekday};
use orm_example_axum::stocks::{self, StockPrice, chart, data, queries};
use orm_postgres::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// Loads the default market; returns its prices.
async fn market(db: &Database) -> Vec<StockPrice> {
    let prices = data::generate(&data::Market::default());
    assert_eq!(stocks::load(db, &prices).await.expect("load"), 750);
    prices
}

fn close_enough(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn the_generated_prices_are_deterministic_and_plausible() {
    let market = data::Market::default();
    let prices = data::generate(&market);
    assert_eq!(prices, data::generate(&market), "same seed, same prices");
    let other = data::generate(&data::Market {
        seed: 17,
        ..market.clone()
    });
    assert_ne!(prices, other);
    assert_eq!(prices.len(), 3 * 250);
    for p in &prices {
        assert!(
            !matches!(p.day.weekday(), Weekday::Sat | Weekday::Sun),
            "{p:?}"
        );
        assert!(p.low > 0.0 && p.low <= p.open.min(p.close), "{p:?}");
        assert!(p.high >= p.open.max(p.close), "{p:?}");
        assert!(p.volume > 0, "{p:?}");
        assert!(
            close_enough(p.close, (p.close * 100.0).round() / 100.0),
            "cents: {p:?}"
        );
    }
    // A walk, not noise: no day moves the close by more than 12%.
    for pair in prices.windows(2).filter(|w| w[0].symbol == w[1].symbol) {
        assert!(
            (pair[1].close / pair[0].close - 1.0).abs() < 0.12,
            "{pair:?}"
        );
    }
}

#[orm_postgres::test(migrations)]
async fn the_average_close_matches_rust(db: Database) {
    let prices = market(&db).await;
    for (symbol, from, to) in [
        ("ACME", date(2025, 3, 1), date(2025, 3, 31)),
        ("GLOBEX", date(2025, 1, 2), date(2025, 12, 31)),
        ("INITECH", date(2025, 6, 2), date(2025, 6, 2)),
    ] {
        let mine: Vec<f64> = prices
            .iter()
            .filter(|p| p.symbol == symbol && p.day >= from && p.day <= to)
            .map(|p| p.close)
            .collect();
        assert!(!mine.is_empty());
        let expected = mine.iter().sum::<f64>() / mine.len() as f64;
        let got = queries::average_close(&db, symbol, from, to)
            .await
            .expect("avg")
            .expect("some prices");
        assert!(close_enough(got, expected), "{symbol}: {got} vs {expected}");
    }
    let none = queries::average_close(&db, "ACME", date(2030, 1, 1), date(2030, 2, 1))
        .await
        .expect("avg");
    assert_eq!(none, None);
}

#[orm_postgres::test(migrations)]
async fn day_over_day_changes_match_rust(db: Database) {
    let prices = market(&db).await;
    let globex: Vec<&StockPrice> = prices.iter().filter(|p| p.symbol == "GLOBEX").collect();
    let changes = queries::daily_changes(&db, "GLOBEX")
        .await
        .expect("changes");
    assert_eq!(changes.len(), globex.len());
    assert_eq!(
        (changes[0].previous, changes[0].percent),
        (None, None),
        "the first day"
    );
    for (i, change) in changes.iter().enumerate().skip(1) {
        let (prev, today) = (globex[i - 1], globex[i]);
        assert_eq!(change.day, today.day);
        assert_eq!(change.close, today.close);
        assert_eq!(
            change.previous,
            Some(prev.close),
            "the previous trading day, over weekends"
        );
        let expected = (today.close - prev.close) / prev.close * 100.0;
        let got = change.percent.expect("a change");
        assert!(
            close_enough(got, expected),
            "{}: {got} vs {expected}",
            today.day
        );
    }
}

#[orm_postgres::test(migrations)]
async fn the_busiest_day_of_each_symbol_matches_rust(db: Database) {
    let prices = market(&db).await;
    let got = queries::busiest_days(&db).await.expect("busiest");
    let mut expected = Vec::new();
    for symbol in ["ACME", "GLOBEX", "INITECH"] {
        let best = prices
            .iter()
            .filter(|p| p.symbol == symbol)
            .max_by(|a, b| a.volume.cmp(&b.volume).then(b.day.cmp(&a.day)))
            .expect("prices");
        expected.push(queries::BusiestDay {
            symbol: symbol.to_owned(),
            day: best.day,
            volume: best.volume,
        });
    }
    assert_eq!(got, expected);
}

#[orm_postgres::test(migrations)]
async fn the_chart_is_an_svg_with_the_close_line(db: Database) {
    let prices = market(&db).await;
    let closes = queries::closes(&db, "INITECH").await.expect("closes");
    assert_eq!(closes.len(), 250);
    let dir = std::env::temp_dir().join(format!("orm-stocks-{}", std::process::id()));
    let path = dir.join("nested").join("initech.svg");
    chart::write_svg(&path, "INITECH", &closes).expect("chart");
    let svg = std::fs::read_to_string(&path).expect("the file is written");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("INITECH close, 2025-01-02 to"), "the caption");
    // plotters' SVG backend draws a line series as a <polyline> (it writes no <path>): the
    // close line is the one with a point per day, in the line's color.
    let lines: Vec<&str> = svg
        .split("<polyline")
        .skip(1)
        .filter(|element| element.contains("stroke=\"#1F77B4\""))
        .collect();
    assert_eq!(lines.len(), 1, "{svg}");
    let points = lines[0]
        .split("points=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("points");
    assert_eq!(points.split_whitespace().count(), 250);
    let first_close = prices
        .iter()
        .find(|p| p.symbol == "INITECH")
        .expect("a price")
        .close;
    assert_eq!(closes[0].1, first_close);
    assert!(
        chart::write_svg(&path, "NONE", &[]).is_err(),
        "no prices, no chart"
    );
}
