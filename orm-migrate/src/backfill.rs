//! The backfill step of [expand / contract](crate::expand) revisions: the `-- @backfill` line
//! of a script, and the SQL of one batch. No IO: the runner runs the batches (see
//! [`runner`](crate::runner)), offline mode writes them out as a `DO` block.
//!
//! ```sql
//! -- @backfill public.users.full_name key id
//! ```
//!
//! names the column to fill and the table's key (its primary key: unique, not null, and
//! indexed, so batches are found by an index range). The line stands between statements, in
//! a revision with `-- transaction: false`. The runner then fills the column in batches of at
//! most `batch` rows, each batch one statement and so one short transaction of its own:
//!
//! 1. the next `batch` rows after the last key seen, in key order, whose column is `NULL`;
//! 2. of those, the ones no other transaction holds (`FOR UPDATE SKIP LOCKED`: the backfill
//!    never waits for the application);
//! 3. an `UPDATE` that sets the column to itself: the sync trigger of the expand revision sees
//!    a row whose column is `NULL` and fills it from the other column. The conversion lives in
//!    one place, the trigger, and a row the application changed in the meantime is filled from
//!    its latest values.
//!
//! Then it pauses, and goes on from the last key. Rows skipped because they were locked are
//! visited by a further pass (at most [`SKIP_LOCKED_PASSES`] with `SKIP LOCKED`, then one that
//! waits for the locks, at most `lock_timeout`). A rerun after an interruption starts again at
//! the first key, finds the filled rows no longer `NULL` and updates only the rest: it resumes
//! where the last run stopped.

use std::fmt::Write as _;
use std::time::Duration;

use crate::phase::{ColumnPath, format_duration, parse_ident, parse_path};
use crate::render::{ident, idents, literal, qualified};
use crate::schema::QualifiedName;
use crate::split;

/// The default number of rows a backfill batch updates.
pub const DEFAULT_BATCH: u64 = 1000;

/// The default pause between two backfill batches.
pub const DEFAULT_PAUSE: Duration = Duration::from_millis(100);

/// Passes over the table that skip locked rows, before a last one that waits for them.
pub const SKIP_LOCKED_PASSES: u32 = 3;

/// A `-- @backfill schema.table.column key k1, k2` line: the column to fill and the key to
/// walk the table by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    /// The table.
    pub table: QualifiedName,
    /// The column filled (the one that is `NULL` in rows not filled yet).
    pub column: String,
    /// The key the table is walked by, in order: its primary key.
    pub key: Vec<String>,
}

/// One batch as the runner reads its result: `(candidates, updated, last key as JSON)`.
pub type BatchRow = (i64, i64, Option<String>);

impl Backfill {
    /// Parses the text of a directive (the line after `-- @`): `backfill schema.table.column
    /// key k1[, k2...]`.
    pub fn parse(directive: &str) -> Result<Backfill, String> {
        let usage = "the line is `-- @backfill schema.table.column key key_column[, ...]`";
        let Some(rest) = directive.strip_prefix("backfill") else {
            let word = directive.split_whitespace().next().unwrap_or("");
            return Err(format!(
                "`-- @{word}` is not a directive (the one directive is `-- @backfill`); \
                 write `-- note` for a comment"
            ));
        };
        if !rest.starts_with(char::is_whitespace) {
            return Err(format!("`-- @{directive}`: {usage}"));
        }
        let (path, rest) =
            parse_path(rest).map_err(|e| format!("`-- @{directive}`: {e}; {usage}"))?;
        let target =
            ColumnPath::parse(&path.iter().map(|p| ident(p)).collect::<Vec<_>>().join("."))
                .map_err(|e| format!("`-- @{directive}`: {e}; {usage}"))?;
        let Some(mut rest) = rest.trim_start().strip_prefix("key") else {
            return Err(format!("`-- @{directive}`: no key; {usage}"));
        };
        let mut key = Vec::new();
        loop {
            let (name, after) = parse_ident(rest.trim_start())
                .map_err(|e| format!("`-- @{directive}`: {e}; {usage}"))?;
            key.push(name);
            match after.trim_start().strip_prefix(',') {
                Some(after) => rest = after,
                None if after.trim().is_empty() => break,
                None => {
                    return Err(format!(
                        "`-- @{directive}`: unexpected `{}`; {usage}",
                        after.trim()
                    ));
                }
            }
        }
        Ok(Backfill {
            table: target.table,
            column: target.column,
            key,
        })
    }

    /// The line that marks it in a script (without a line end).
    pub fn line(&self) -> String {
        format!(
            "-- @backfill {} key {}",
            ColumnPath::new(self.table.clone(), self.column.clone()),
            idents(&self.key)
        )
    }

    /// `schema.table.column`, for messages.
    pub fn target(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }

    fn key_list(&self, alias: &str) -> String {
        self.key
            .iter()
            .map(|k| format!("{alias}{}", ident(k)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The SQL of one batch of at most `batch` rows: `(candidates, updated, last key)`, the
    /// rows it looked at, the rows it updated (fewer when some were locked and skipped) and
    /// the last key it looked at, as JSON, for the next batch. `cursor` is how the previous
    /// key is written (`None`: the first batch; the runner uses `Some("$1::text")`).
    /// `skip_locked`: skip rows other transactions hold instead of waiting for them.
    pub fn batch_sql(&self, batch: u64, cursor: Option<&str>, skip_locked: bool) -> String {
        let table = qualified(&self.table);
        let column = ident(&self.column);
        let keys = self.key_list("");
        let after = match cursor {
            None => String::new(),
            Some(cursor) => format!(
                "\n      AND ({}) > (SELECT {} FROM json_populate_record(NULL::{table}, {cursor}::json) AS c)",
                keys,
                self.key_list("c.")
            ),
        };
        let join = self
            .key
            .iter()
            .map(|k| format!("t.{0} = c.{0}", ident(k)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let join_locked = join.replace("c.", "l.");
        let wait = if skip_locked { " SKIP LOCKED" } else { "" };
        format!(
            "WITH candidates AS (\n    \
                 SELECT {keys} FROM {table}\n    \
                 WHERE {column} IS NULL{after}\n    \
                 ORDER BY {keys}\n    \
                 LIMIT {batch}\n\
             ), locked AS (\n    \
                 SELECT {t_keys} FROM {table} AS t JOIN candidates AS c ON {join}\n    \
                 FOR UPDATE OF t{wait}\n\
             ), updated AS (\n    \
                 UPDATE {table} AS t SET {column} = t.{column}\n    \
                 FROM locked AS l WHERE {join_locked}\n    \
                 RETURNING 1\n\
             )\n\
             SELECT (SELECT count(*) FROM candidates),\n       \
                    (SELECT count(*) FROM updated),\n       \
                    (SELECT row_to_json(k)::text FROM (SELECT {keys} FROM candidates ORDER BY {desc} LIMIT 1) AS k)",
            t_keys = self.key_list("t."),
            desc = self
                .key
                .iter()
                .map(|k| format!("{} DESC", ident(k)))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    /// The SQL of the estimated number of rows of the table: the planner's statistics
    /// (`reltuples`), or a count when the table was never analysed.
    pub fn estimate_sql(&self) -> String {
        format!(
            "SELECT COALESCE((SELECT CASE WHEN reltuples >= 0 THEN reltuples::bigint END \
             FROM pg_class WHERE oid = to_regclass({})), (SELECT count(*) FROM {}))",
            literal(&qualified(&self.table)),
            qualified(&self.table)
        )
    }

    /// What offline mode prints in its place: a comment saying what the runner does, and a
    /// `DO` block that does the same in batches of `batch` rows, committing after each one
    /// (PostgreSQL 11 and later; run it outside a transaction block, as `psql` does) and
    /// pausing `pause` between them.
    pub fn offline_sql(&self, batch: u64, pause: Duration) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "-- backfill {}: the runner fills it in batches of {batch} rows (one transaction \
             each, skipping rows other transactions hold), {} apart; this block does the same:",
            self.target(),
            format_duration(pause),
        );
        let indent = |sql: String| sql.replace('\n', "\n                ");
        let batches = [
            (None, true),
            (Some("last_key"), true),
            (None, false),
            (Some("last_key"), false),
        ]
        .map(|(cursor, skip)| indent(self.batch_sql(batch, cursor, skip)));
        let [first_skip, next_skip, first_wait, next_wait] = batches;
        let _ = write!(
            out,
            "DO $backfill$\n\
             DECLARE\n    \
                 last_key text;\n    \
                 looked bigint;\n    \
                 updated bigint;\n    \
                 skipped bigint;\n    \
                 pass int := 0;\n\
             BEGIN\n    \
                 LOOP\n        \
                     last_key := NULL;\n        \
                     skipped := 0;\n        \
                     LOOP\n            \
                         IF pass < {SKIP_LOCKED_PASSES} AND last_key IS NULL THEN\n                \
                             {first_skip}\n                \
                             INTO looked, updated, last_key;\n            \
                         ELSIF pass < {SKIP_LOCKED_PASSES} THEN\n                \
                             {next_skip}\n                \
                             INTO looked, updated, last_key;\n            \
                         ELSIF last_key IS NULL THEN\n                \
                             {first_wait}\n                \
                             INTO looked, updated, last_key;\n            \
                         ELSE\n                \
                             {next_wait}\n                \
                             INTO looked, updated, last_key;\n            \
                         END IF;\n            \
                         skipped := skipped + looked - updated;\n            \
                         COMMIT;\n            \
                         EXIT WHEN looked < {batch};\n            \
                         PERFORM pg_sleep({secs});\n        \
                     END LOOP;\n        \
                     EXIT WHEN skipped = 0 OR pass >= {SKIP_LOCKED_PASSES};\n        \
                     pass := pass + 1;\n    \
                 END LOOP;\n\
             END\n\
             $backfill$;\n",
            secs = pause.as_secs_f64(),
        );
        out
    }
}

/// The `-- @backfill` lines of a script (top-level `-- @...` lines between statements, by
/// PostgreSQL's lexical rules), or the message of the first one that does not parse.
pub fn backfills(script: &str) -> Result<Vec<Backfill>, String> {
    split::items(script)
        .into_iter()
        .filter_map(|item| match item {
            split::Item::Directive(text) => Some(Backfill::parse(text)),
            split::Item::Statement(_) => None,
        })
        .collect()
}
