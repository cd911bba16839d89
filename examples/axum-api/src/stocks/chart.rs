//! An SVG line chart of a symbol's close, drawn with plotters' SVG backend (no fonts, no
//! bitmaps: text is left to the SVG viewer).

use std::path::Path;

use chrono::NaiveDate;
use plotters::prelude::*;

/// Any error of drawing or writing the chart.
pub type ChartError = Box<dyn std::error::Error + Send + Sync>;

/// The line's color (`#1f77b4`).
pub const LINE: RGBColor = RGBColor(31, 119, 180);

/// Writes the chart of `closes` (by day) to `path`, creating its directory. The line is one
/// `<polyline>` with a point per day.
pub fn write_svg(path: &Path, symbol: &str, closes: &[(NaiveDate, f64)]) -> Result<(), ChartError> {
    let (Some(first), Some(last)) = (closes.first(), closes.last()) else {
        return Err(format!("no prices for {symbol}").into());
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let low = closes.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
    let high = closes.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max);
    let pad = ((high - low) * 0.05).max(0.01);
    let days = closes.len() as i32;
    let label = |i: &i32| {
        usize::try_from(*i)
            .ok()
            .and_then(|i| closes.get(i))
            .map(|c| c.0.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };

    let root = SVGBackend::new(path, (960, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let caption = format!("{symbol} close, {} to {}", first.0, last.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0..days.max(1) - 1, (low - pad)..(high + pad))?;
    chart
        .configure_mesh()
        .x_labels(6)
        .x_label_formatter(&label)
        .y_desc("close")
        .draw()?;
    chart.draw_series(LineSeries::new(
        (0..days).zip(closes.iter().map(|c| c.1)),
        LINE.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}
