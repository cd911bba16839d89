//! The peers bench's outputs: the table on stdout, and on request the README's Performance
//! table and the SVG bar chart beside it (written by hand: no plotting crate, no fonts).

use std::fmt::Write as _;

use super::{Side, Work};
use crate::BoxError;

/// One workload's results: per side, the median ratio to the baseline and its p25–p75.
#[derive(Debug, Clone)]
pub struct Row {
    /// The workload.
    pub work: Work,
    /// Per side that took part: (side, median, p25, p75).
    pub ratios: Vec<(Side, f64, f64, f64)>,
    /// The baseline's median time per operation.
    pub baseline: std::time::Duration,
}

impl Row {
    /// The median ratio of `side`, when it took part.
    pub fn ratio(&self, side: Side) -> Option<f64> {
        self.ratios
            .iter()
            .find(|(s, ..)| *s == side)
            .map(|&(_, m, ..)| m)
    }
}

/// The baseline's name for `work`.
pub fn baseline_name(work: Work) -> &'static str {
    match work {
        Work::Pool => "deadpool-postgres, prepare_cached",
        Work::BulkCopy | Work::BulkSession => "tokio-postgres, binary COPY",
        _ => "tokio-postgres, prepared once",
    }
}

/// The table as Markdown: a row per workload, a column per side, ratios to the baseline.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from("| workload | baseline (time/op) |");
    for side in Side::ALL {
        let _ = write!(s, " {side} |");
    }
    s.push_str("\n|---|---|");
    for _ in Side::ALL {
        s.push_str("---:|");
    }
    s.push('\n');
    for row in rows {
        let _ = write!(
            s,
            "| {} | {} ({}) |",
            row.work,
            baseline_name(row.work),
            crate::harness::fmt_duration(row.baseline)
        );
        for side in Side::ALL {
            match (row.work, side, row.ratio(side)) {
                (Work::Pool, Side::Deadpool, _) => s.push_str(" 1.00x (baseline) |"),
                (_, _, Some(r)) => {
                    let _ = write!(s, " {r:.2}x |");
                }
                (_, _, None) => s.push_str(" - |"),
            }
        }
        s.push('\n');
    }
    s
}

/// A horizontal grouped bar chart of the ratios (log scale, 1.0x marked), as SVG text.
pub fn svg(rows: &[Row], caption: &str) -> String {
    const COLORS: [&str; 5] = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#7f7f7f"];
    let bar = 9.0;
    let group_gap = 14.0;
    let left = 250.0;
    let plot_w = 560.0;
    let top = 58.0;
    let max_ratio = rows
        .iter()
        .flat_map(|r| r.ratios.iter().map(|&(_, m, ..)| m))
        .fold(2.0_f64, f64::max)
        .min(100.0);
    // Log scale from 0.5x to the largest ratio.
    let (lo, hi) = (0.5_f64.ln(), (max_ratio * 1.1).ln());
    let x = |r: f64| left + (r.max(0.5).ln() - lo) / (hi - lo) * plot_w;
    let group_h = |row: &Row| row.ratios.len().max(1) as f64 * bar + group_gap;
    let height = top + rows.iter().map(group_h).sum::<f64>() + 40.0;
    let width = left + plot_w + 70.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"##
    );
    let _ = writeln!(
        s,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="18" font-size="14" font-weight="bold">Time per operation / hand-written baseline (lower is better, log scale)</text>
<text x="10" y="34" fill="#555555">{}</text>"##,
        escape(caption)
    );
    // Legend.
    for (i, side) in Side::ALL.iter().enumerate() {
        let lx = 10.0 + i as f64 * 130.0;
        let _ = writeln!(
            s,
            r##"<rect x="{lx}" y="42" width="10" height="10" fill="{}"/><text x="{}" y="51">{}</text>"##,
            COLORS[i],
            lx + 14.0,
            escape(side.label())
        );
    }
    // Grid lines.
    let mut tick = 0.5;
    while tick <= max_ratio * 1.1 {
        let gx = x(tick);
        let _ = writeln!(
            s,
            r##"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{:.1}" stroke="{}" stroke-width="{}"/><text x="{gx:.1}" y="{:.1}" text-anchor="middle" fill="#555555">{tick}x</text>"##,
            height - 30.0,
            if tick == 1.0 { "#000000" } else { "#dddddd" },
            if tick == 1.0 { 1.5 } else { 1.0 },
            height - 16.0
        );
        tick *= 2.0;
    }
    let mut y = top + 4.0;
    for row in rows {
        let label_y = y + row.ratios.len() as f64 * bar / 2.0 + 4.0;
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{label_y:.1}" text-anchor="end">{}</text>"##,
            left - 8.0,
            escape(row.work.label())
        );
        for (side, median, ..) in &row.ratios {
            let i = Side::ALL.iter().position(|s| s == side).unwrap_or(0);
            let w = (x(*median) - x(0.5)).max(1.0);
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{}"><title>{}: {median:.2}x</title></rect><text x="{:.1}" y="{:.1}" font-size="9">{median:.2}x</text>"##,
                x(0.5),
                bar - 1.0,
                COLORS[i],
                escape(side.label()),
                x(0.5) + w + 3.0,
                y + bar - 1.5
            );
            y += bar;
        }
        y += group_gap;
    }
    s.push_str("</svg>\n");
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Marks around the generated part of the README's Performance section.
pub const START: &str = "<!-- peers-table:start (generated by the peers bench; do not edit) -->";
/// The end mark.
pub const END: &str = "<!-- peers-table:end -->";

/// Replaces the text between [`START`] and [`END`] in `readme` with `table`.
pub fn splice(readme: &str, table: &str) -> Result<String, BoxError> {
    let start = readme
        .find(START)
        .ok_or("README.md has no peers-table:start mark")?;
    let end = readme
        .find(END)
        .ok_or("README.md has no peers-table:end mark")?;
    if end < start {
        return Err("README.md's peers-table marks are out of order".into());
    }
    Ok(format!(
        "{}{START}\n{table}{}",
        &readme[..start],
        &readme[end..]
    ))
}

/// Pins this process (every thread) and every client backend of the current database to the
/// last CPU, as the other benches pin their two connections (see `benches/select.rs`).
/// Returns the placement, described.
pub async fn pin_all(client: &tokio_postgres::Client) -> Result<String, BoxError> {
    let cpus = std::thread::available_parallelism()?.get();
    let last = cpus.saturating_sub(1).to_string();
    let rows = client
        .query(
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND backend_type = 'client backend'",
            &[],
        )
        .await?;
    let mut pids: Vec<String> = rows
        .iter()
        .map(|r| r.get::<_, i32>(0).to_string())
        .collect();
    let backends = pids.len();
    pids.push(std::process::id().to_string());
    for pid in &pids {
        let status = std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", last.as_str(), pid])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("taskset -a -p -c {last} {pid} failed").into());
        }
    }
    Ok(format!(
        "the bench process and its {backends} server processes pinned to CPU {last}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        vec![
            Row {
                work: Work::ByKey,
                ratios: vec![(Side::Orm, 1.02, 1.0, 1.03), (Side::Sqlx, 1.1, 1.0, 1.2)],
                baseline: std::time::Duration::from_micros(30),
            },
            Row {
                work: Work::Pool,
                ratios: vec![(Side::Orm, 1.04, 1.0, 1.1)],
                baseline: std::time::Duration::from_millis(300),
            },
        ]
    }

    #[test]
    fn markdown_has_a_column_per_side_and_marks_the_pool_baseline() {
        let md = markdown(&rows());
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 4, "{md}");
        assert!(lines[0].contains("| orm | sqlx | diesel-async | sea-orm | deadpool raw |"));
        assert!(
            lines[2].contains("| 1.02x | 1.10x | - | - | - |"),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].ends_with("| 1.04x | - | - | - | 1.00x (baseline) |"),
            "{}",
            lines[3]
        );
    }

    #[test]
    fn svg_draws_one_bar_per_ratio_and_escapes_text() {
        let svg = svg(&rows(), "a < b & c");
        assert!(svg.starts_with("<svg "));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<title>").count(), 3);
        assert!(svg.contains("a &lt; b &amp; c"));
    }

    #[test]
    fn splice_replaces_only_the_marked_part() {
        let readme = format!("intro\n{START}\nold\n{END}\nafter\n");
        let new = splice(&readme, "new\n").expect("both marks are there");
        assert_eq!(new, format!("intro\n{START}\nnew\n{END}\nafter\n"));
        assert!(splice("no marks", "x").is_err());
    }
}
