//! Offline mode: the SQL of an upgrade or a downgrade as text, for a person to review or to
//! run with `psql -v ON_ERROR_STOP=1 -f`, without a database.
//!
//! The text does what a live run does, in the same order: the run's `lock_timeout` and
//! `statement_timeout`, the version table created if missing (upgrades), then per revision a
//! comment line, `BEGIN;`, its script, its version-table statement and `COMMIT;`. A revision
//! that runs outside a transaction has no `BEGIN`/`COMMIT`. A script whose last statement
//! lacks a `;` gets one. There is no advisory lock: whoever runs the text runs it once. A
//! revision that runs a Rust function cannot be written out: that is
//! [`MigrateError::OfflineFunction`].

use std::fmt::Write as _;

use crate::error::{MigrateError, Result};
use crate::revision::Revision;

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
        let (body, row) = match direction {
            Direction::Up => (&r.up, table.insert_text(r)),
            Direction::Down => (&r.down, table.delete_text(&r.id)),
        };
        let note = if r.transactional {
            ""
        } else {
            " (outside a transaction)"
        };
        let _ = writeln!(out, "\n-- {}: {}{note}", r.id, r.message);
        if r.transactional {
            out.push_str("BEGIN;\n");
        }
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
        if r.transactional {
            out.push_str("COMMIT;\n");
        }
    }
    Ok(out)
}
