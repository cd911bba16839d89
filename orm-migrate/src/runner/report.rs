//! What a run tells its caller: progress as it goes ([`Progress`]), and what it did
//! ([`StepReport`], [`StampReport`], [`HistoryEntry`]). The library prints nothing; the CLI
//! draws these.

use std::time::Duration;

use crate::revision::Revision;

use super::table::AppliedRevision;

/// Which way a revision runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Its up script: an upgrade.
    Up,
    /// Its down script: a downgrade.
    Down,
}

/// Hears what a run does, as it does it (the CLI draws a progress bar from it). Every method
/// does nothing by default. Called from the task running the migration: keep them quick.
pub trait Progress: Send + Sync {
    /// The migration lock is held by another process (`holder`, its server process id, when
    /// known): the run waits for it, at most the migrator's lock wait.
    fn on_lock_wait(&self, holder: Option<i32>) {
        let _ = holder;
    }

    /// The lock is held and the plan made: these revisions will run, in this order (maybe
    /// none).
    fn on_plan(&self, direction: Direction, revisions: &[&Revision]) {
        let _ = (direction, revisions);
    }

    /// A revision starts.
    fn on_start(&self, direction: Direction, revision: &Revision) {
        let _ = (direction, revision);
    }

    /// A revision is done (committed with its version row).
    fn on_done(&self, direction: Direction, revision: &Revision, duration: Duration) {
        let _ = (direction, revision, duration);
    }

    /// A backfill of the revision ([`expand`](crate::expand)) committed a batch, or finished
    /// (`progress.finished`).
    fn on_backfill(&self, direction: Direction, revision: &Revision, progress: &BackfillProgress) {
        let _ = (direction, revision, progress);
    }
}

/// How far a backfill is, as [`Progress::on_backfill`] hears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillProgress {
    /// The column filled, `schema.table.column`.
    pub target: String,
    /// Rows updated so far in this run (each batch commits them).
    pub done: u64,
    /// The table's estimated number of rows (the planner's statistics, or a count when it has
    /// none): an upper bound of what is left, not exact.
    pub estimate: u64,
    /// Batches run so far, each its own transaction.
    pub batches: u64,
    /// The most rows one batch may update.
    pub batch_size: u64,
    /// Rows skipped so far because another transaction held them (a later pass visits them).
    pub skipped: u64,
    /// Whether the backfill is done.
    pub finished: bool,
}

/// A shared [`Progress`] hears everything too (keep a clone to read what it gathered).
impl<P: Progress + ?Sized> Progress for std::sync::Arc<P> {
    fn on_lock_wait(&self, holder: Option<i32>) {
        (**self).on_lock_wait(holder);
    }
    fn on_plan(&self, direction: Direction, revisions: &[&Revision]) {
        (**self).on_plan(direction, revisions);
    }
    fn on_start(&self, direction: Direction, revision: &Revision) {
        (**self).on_start(direction, revision);
    }
    fn on_done(&self, direction: Direction, revision: &Revision, duration: Duration) {
        (**self).on_done(direction, revision, duration);
    }
    fn on_backfill(&self, direction: Direction, revision: &Revision, progress: &BackfillProgress) {
        (**self).on_backfill(direction, revision, progress);
    }
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}

/// One revision a run applied or reverted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The revision's id.
    pub id: String,
    /// Its message.
    pub message: String,
    /// Applied (up) or reverted (down).
    pub direction: Direction,
    /// How long it took, from its `BEGIN` to its `COMMIT`.
    pub duration: Duration,
}

/// What [`stamp`](super::Migrator::stamp) changed in the version table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StampReport {
    /// Revisions recorded as applied (without running them), in upgrade order.
    pub added: Vec<String>,
    /// Revisions no longer recorded as applied (without reverting them), in downgrade order.
    pub removed: Vec<String>,
    /// Applied revisions whose recorded checksum was replaced by the file's.
    pub repaired: Vec<String>,
}

/// One revision of the [history](super::Migrator::history), with its state in the database.
#[derive(Debug, Clone)]
pub struct HistoryEntry<'g> {
    /// The revision.
    pub revision: &'g Revision,
    /// Its row in the version table, when it is applied.
    pub applied: Option<AppliedRevision>,
    /// Whether it is a head of the graph (no revision has it as a parent).
    pub head: bool,
    /// Whether it is applied but its file changed since (its checksum differs).
    pub edited: bool,
}
