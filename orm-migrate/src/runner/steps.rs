//! Running one revision, up or down, on the locked connection.
//!
//! - **Transactional** (the default): `BEGIN`, the script (one simple-query message, so
//!   several statements are fine), the revision's Rust function if it names one, the version
//!   row (`INSERT` up, `DELETE` down), `COMMIT`. Any failure rolls it all back: the database
//!   stays at the previous revision.
//! - **Not transactional** (`-- transaction: false`, or per direction `up false` /
//!   `down false`: [`Revision::down_transactional`]): each statement of the script is sent on
//!   its own (split by [`split`]), outside any transaction, then the Rust function
//!   and the version row in a transaction of their own. A failure part-way leaves the
//!   statements before it done and the revision unrecorded
//!   ([`MigrateError::StepOutsideTransaction`], naming the statement), so write such scripts
//!   to be rerun (`DROP INDEX CONCURRENTLY IF EXISTS` before `CREATE INDEX CONCURRENTLY`: a
//!   failed concurrent build leaves an `INVALID` index), as autogenerate does.
//!
//!   A `-- @backfill` line in such a script runs there: the batched backfill of an
//!   [expand](crate::expand) revision, each batch committed on its own, reported to the
//!   [`Progress`].

use std::time::{Duration, Instant};

use orm_postgres::{BoxError, Connection, Executor, Transaction};

use crate::backfill::Backfill;
use crate::error::{MigrateError, Result};
use crate::revision::Revision;

use super::backfill::{self, BackfillSettings};
use super::functions::RustStep;
use super::report::{Direction, Progress};
use super::table::VersionTable;
use crate::split::{self, Item};

/// What a revision's steps need besides the connection: where to report, and how backfills
/// run.
#[derive(Clone, Copy)]
pub(crate) struct StepContext<'a> {
    pub(crate) progress: &'a dyn Progress,
    pub(crate) backfill: BackfillSettings,
}

/// Runs a script outside a transaction: each statement on its own, each `-- @backfill` in
/// batches.
async fn run_outside(
    conn: &mut Connection,
    revision: &Revision,
    script: &str,
    direction: Direction,
    ctx: StepContext<'_>,
) -> Result<()> {
    let items = split::items(script);
    let total = items
        .iter()
        .filter(|i| matches!(i, Item::Statement(_)))
        .count();
    let mut number = 0;
    for item in items {
        match item {
            Item::Statement(piece) => {
                number += 1;
                if let Err(source) = conn.batch_execute(piece.text).await {
                    return Err(MigrateError::StepOutsideTransaction {
                        id: revision.id.clone(),
                        number,
                        total,
                        statement: first_line(piece.text),
                        source,
                    });
                }
            }
            Item::Directive(text) => {
                let spec = Backfill::parse(text).map_err(|message| MigrateError::Malformed {
                    path: revision.source.clone(),
                    message,
                })?;
                let report = |p: &super::BackfillProgress| {
                    ctx.progress.on_backfill(direction, revision, p);
                };
                backfill::run(conn, &spec, ctx.backfill, &report)
                    .await
                    .map_err(step(revision))?;
            }
        }
    }
    Ok(())
}

fn step(revision: &Revision) -> impl Fn(orm_postgres::Error) -> MigrateError + '_ {
    move |source| MigrateError::Step {
        id: revision.id.clone(),
        source,
    }
}

/// The error of a registered function: the database's own errors as `Step`.
fn function_error(revision: &Revision, name: &str, e: BoxError) -> MigrateError {
    match e.downcast::<orm_postgres::Error>() {
        Ok(source) => MigrateError::Step {
            id: revision.id.clone(),
            source: *source,
        },
        Err(source) => MigrateError::Function {
            id: revision.id.clone(),
            name: name.to_owned(),
            source,
        },
    }
}

/// The first line of a statement that is not a comment, cut to 200 characters.
fn first_line(statement: &str) -> String {
    let line = statement
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_owned(),
    }
}

/// Whether a script has no statement (a merge, a revision that only runs a function).
fn is_blank(script: &str) -> bool {
    split::statements(script).is_empty()
}

/// Commits on success, rolls back (ignoring a failure to: the error at hand matters more)
/// on failure.
async fn finish(tx: Transaction<'_>, outcome: Result<()>, revision: &Revision) -> Result<()> {
    match outcome {
        Ok(()) => tx.commit().await.map_err(step(revision)),
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Applies a revision; returns how long it took.
pub(crate) async fn apply(
    conn: &mut Connection,
    table: &VersionTable,
    revision: &Revision,
    function: Option<(&str, &dyn RustStep)>,
    ctx: StepContext<'_>,
) -> Result<Duration> {
    let start = Instant::now();
    if !revision.transactional {
        run_outside(conn, revision, &revision.up, Direction::Up, ctx).await?;
    }
    let tx = conn.begin().await.map_err(step(revision))?;
    let outcome = apply_in(&tx, table, revision, function, start).await;
    finish(tx, outcome, revision).await?;
    Ok(start.elapsed())
}

async fn apply_in(
    tx: &Transaction<'_>,
    table: &VersionTable,
    revision: &Revision,
    function: Option<(&str, &dyn RustStep)>,
    start: Instant,
) -> Result<()> {
    if revision.transactional && !is_blank(&revision.up) {
        tx.batch_execute(&revision.up)
            .await
            .map_err(step(revision))?;
    }
    if let Some((name, f)) = function {
        f.call(tx)
            .await
            .map_err(|e| function_error(revision, name, e))?;
    }
    table
        .insert(tx, revision, Some(start.elapsed()))
        .await
        .map_err(step(revision))?;
    Ok(())
}

/// Reverts a revision; returns how long it took.
pub(crate) async fn revert(
    conn: &mut Connection,
    table: &VersionTable,
    revision: &Revision,
    ctx: StepContext<'_>,
) -> Result<Duration> {
    let start = Instant::now();
    if !revision.down_transactional {
        run_outside(conn, revision, &revision.down, Direction::Down, ctx).await?;
        table
            .delete(conn, &revision.id)
            .await
            .map_err(step(revision))?;
        return Ok(start.elapsed());
    }
    let tx = conn.begin().await.map_err(step(revision))?;
    let outcome = async {
        if !is_blank(&revision.down) {
            tx.batch_execute(&revision.down)
                .await
                .map_err(step(revision))?;
        }
        table
            .delete(&tx, &revision.id)
            .await
            .map_err(step(revision))?;
        Ok(())
    }
    .await;
    finish(tx, outcome, revision).await?;
    Ok(start.elapsed())
}
