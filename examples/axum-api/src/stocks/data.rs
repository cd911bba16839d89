//! Realistic prices without a network: a seeded random walk per symbol (geometric Brownian
//! motion with a small drift), trading days only (weekdays), prices in cents, volumes that grow
//! on the days the price moves most. The same seed gives the same prices on every machine.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::StockPrice;

/// A small, seedable generator (SplitMix64): deterministic everywhere, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly standard normal: the sum of twelve uniforms, minus six.
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Market {
    /// The symbols and their first close.
    pub symbols: Vec<(String, f64)>,
    /// The first day (weekends are skipped).
    pub start: NaiveDate,
    /// Trading days per symbol.
    pub days: usize,
    /// The generator's seed.
    pub seed: u64,
}

impl Default for Market {
    /// Three symbols over one year of trading days from 2025-01-02.
    fn default() -> Market {
        Market {
            symbols: vec![
                ("ACME".to_owned(), 120.0),
                ("GLOBEX".to_owned(), 45.5),
                ("INITECH".to_owned(), 310.25),
            ],
            start: NaiveDate::from_ymd_opt(2025, 1, 2).unwrap_or_default(),
            days: 250,
            seed: 16,
        }
    }
}

/// Rounds to cents.
fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The trading days: `n` weekdays from `start`.
pub fn trading_days(start: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(n);
    let mut day = start;
    while out.len() < n {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(day);
        }
        match day.checked_add_days(Days::new(1)) {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// The prices of `market`, symbol by symbol, day by day.
pub fn generate(market: &Market) -> Vec<StockPrice> {
    let mut rng = Rng::new(market.seed);
    let days = trading_days(market.start, market.days);
    let mut out = Vec::with_capacity(days.len() * market.symbols.len());
    for (symbol, first) in &market.symbols {
        let mut close = *first;
        for &day in &days {
            let open = cents(close * (1.0 + 0.004 * rng.normal())).max(0.01);
            let shock = rng.normal();
            close = cents(close * (0.0003 + 0.018 * shock).exp()).max(0.01);
            let high = cents(open.max(close) * (1.0 + 0.01 * rng.uniform()));
            let low = cents(open.min(close) * (1.0 - 0.01 * rng.uniform())).max(0.01);
            let volume = (1_000_000.0 * (0.5 + rng.uniform()) * (1.0 + shock.abs())) as i64;
            out.push(StockPrice {
                symbol: symbol.clone(),
                day,
                open,
                high,
                low,
                close,
                volume,
            });
        }
    }
    out
}
