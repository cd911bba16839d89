//! Running a `-- @backfill` step on the locked connection: batches of bounded size, each one
//! statement and so one transaction of its own (the connection is outside any transaction
//! here), a pause between them, progress after each. The SQL and the algorithm are described
//! in [`backfill`](crate::backfill).

use std::time::Duration;

use orm_postgres::{Connection, Executor};

use crate::backfill::{Backfill, BatchRow, DEFAULT_BATCH, DEFAULT_PAUSE, SKIP_LOCKED_PASSES};
use crate::phase::BackfillOptions;

use super::report::BackfillProgress;
use super::table::Sql;

/// Batch size and pause of one backfill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BackfillSettings {
    pub(crate) batch: u64,
    pub(crate) pause: Duration,
}

impl BackfillSettings {
    /// The migrator's settings where it has them, else the revision's header, else the
    /// defaults.
    pub(crate) fn resolve(migrator: BackfillOptions, revision: BackfillOptions) -> Self {
        BackfillSettings {
            batch: migrator
                .batch
                .or(revision.batch)
                .unwrap_or(DEFAULT_BATCH)
                .max(1),
            pause: migrator.pause.or(revision.pause).unwrap_or(DEFAULT_PAUSE),
        }
    }
}

/// Fills `spec`'s column; `report` hears every batch and the end.
pub(crate) async fn run(
    conn: &Connection,
    spec: &Backfill,
    settings: BackfillSettings,
    report: &(dyn Fn(&BackfillProgress) + Send + Sync),
) -> orm_postgres::Result<BackfillProgress> {
    let estimate = conn.fetch_one(Sql::<i64>::new(spec.estimate_sql())).await?;
    let mut progress = BackfillProgress {
        target: spec.target(),
        done: 0,
        estimate: u64::try_from(estimate).unwrap_or(0),
        batches: 0,
        batch_size: settings.batch,
        skipped: 0,
        finished: false,
    };
    let statements = [true, false].map(|skip| {
        [
            spec.batch_sql(settings.batch, None, skip),
            spec.batch_sql(settings.batch, Some("$1::text"), skip),
        ]
    });
    let mut pass = 0;
    loop {
        let skip_locked = pass < SKIP_LOCKED_PASSES;
        let [first, next] = &statements[usize::from(!skip_locked)];
        let mut cursor: Option<String> = None;
        let mut skipped = 0u64;
        loop {
            let (looked, updated, last): BatchRow = match &cursor {
                None => conn.fetch_one(Sql::<BatchRow>::new(first.clone())).await?,
                Some(key) => {
                    conn.fetch_one(Sql::<BatchRow>::new(next.clone()).bind(key.clone()))
                        .await?
                }
            };
            let looked = u64::try_from(looked).unwrap_or(0);
            let updated = u64::try_from(updated).unwrap_or(0);
            progress.batches += 1;
            progress.done += updated;
            skipped += looked.saturating_sub(updated);
            progress.skipped += looked.saturating_sub(updated);
            report(&progress);
            if looked < settings.batch {
                break;
            }
            cursor = last;
            tokio::time::sleep(settings.pause).await;
        }
        if skipped == 0 || !skip_locked {
            break;
        }
        pass += 1;
        tokio::time::sleep(settings.pause).await;
    }
    progress.finished = true;
    report(&progress);
    Ok(progress)
}
