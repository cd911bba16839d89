//! Offline mode: the SQL of an upgrade or a downgrade as text, for a person to review or to
//! run with `psql -v ON_ERROR_STOP=1 -f`, without a database.
//!
//! The text does what a live run does, in the same order: the run's `lock_timeout` and
//! `statement_timeout`, the version table created if missing (upgrades), then per revision a
//! comment line, `BEGIN;`, its script, its version-table statement and `COMMIT;`. A revision
//! that runs outside a transaction has no `BEGIN`/`COMMIT`. A script whose last statement
//! lacks a `;` gets one. There is no advisory lock: whoever runs the text runs it once. A
//! revision that runs a Rust function cannot be written out: that is
//! [`MigrateError::OfflineFunction`]. A `-- @backfill` line becomes a comment saying what the
//! runner would do and a `DO` block doing the same, in batches that each commit.

use std::fmt::Write as _;

use crate::backfill::Backfill;
use crate::error::{MigrateError, Result};
use crate::revision::Revision;

use super::backfill::BackfillSettings;
use super::lock::SessionSettings;
use super::report::Direction;
use super::table::{VersionTable, millis};
use crate::split;

/// The script of `plan`, run `direction`; `title` says what it is for (`upgrade to head`).
pub(crate) fn script(
    table: &VersionTable,
    settings: SessionSettings,
    direction: Direction,
    plan: &[&Revision],
    title: &str,
    backfill: &dyn Fn(&Revision) -> BackfillSettings,
) -> Result<String> {
    if let Some(r) = plan
        .iter()
        .find(|r| r.run.is_some() && direction == Direction::Up)
    {
        return Err(MigrateError::OfflineFunction {
            id: r.id.clone(),
            name: r.run.clone().unwrap_or_default(),
        });
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "-- orm-migrate: {title} ({} revision{})",
        plan.len(),
        if plan.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "SET lock_timeout = {};", millis(settings.lock_timeout));
    let _ = writeln!(
        out,
        "SET statement_timeout = {};",
        millis(settings.statement_timeout)
    );
    if direction == Direction::Up {
        out.push('\n');
        out.push_str(&table.create_sql());
        out.push('\n');
    }
    for r in plan {
        let (body, row, transactional) = match direction {
            Direction::Up => (&r.up, table.insert_text(r), r.transactional),
            Direction::Down => (&r.down, table.delete_text(&r.id), r.down_transactional),
        };
        let note = if transactional {
            ""
        } else {
            " (outside a transaction)"
        };
        let _ = writeln!(out, "\n-- {}: {}{note}", r.id, r.message);
        if transactional {
            out.push_str("BEGIN;\n");
        }
        let expanded;
        let body = if split::items(body)
            .iter()
            .any(|i| matches!(i, split::Item::Directive(_)))
        {
            expanded = with_backfills(r, body, backfill(r))?;
            expanded.as_str()
        } else {
            body
        };
        let body = body.trim_end();
        if !split::statements(body).is_empty() {
            out.push_str(body);
            if split::ends_open(body) {
                // On a line of its own when the last line may end in a `--` comment.
                let last_line = body.rsplit('\n').next().unwrap_or(body);
                out.push_str(if last_line.contains("--") { "\n;" } else { ";" });
            }
            out.push('\n');
        }
        out.push_str(&row);
        out.push('\n');
        if transactional {
            out.push_str("COMMIT;\n");
        }
    }
    Ok(out)
}

/// `body` with each `-- @backfill` line replaced by its offline form.
fn with_backfills(r: &Revision, body: &str, settings: BackfillSettings) -> Result<String> {
    let mut out = String::new();
    for item in split::items(body) {
        match item {
            split::Item::Statement(piece) => {
                out.push_str(piece.text.trim_matches('\n'));
                out.push_str(";\n");
            }
            split::Item::Directive(text) => {
                let spec = Backfill::parse(text).map_err(|message| MigrateError::Malformed {
                    path: r.source.clone(),
                    message,
                })?;
                out.push('\n');
                out.push_str(&spec.offline_sql(settings.batch, settings.pause));
            }
        }
    }
    Ok(out)
}
