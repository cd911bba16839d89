//! The runner: applies and reverts revisions on a live database, records them in a version
//! table, and makes sure concurrent runs apply each revision once.
//!
//! ```no_run
//! use orm_migrate::{Migrator, Target};
//! # async fn run(db: orm_postgres::Database) -> orm_migrate::Result<()> {
//! let migrator = Migrator::from_dir("migrations")?;
//! let applied = migrator.upgrade(&db, &Target::Head).await?;
//! println!("{} revision(s) applied", applied.len());
//! # Ok(()) }
//! ```
//!
//! # How a run goes
//! 1. One connection is taken from the pool and held for the whole run.
//! 2. The migration lock (a session-level advisory lock on that connection) is taken, waiting
//!    at most [`lock_wait`](Migrator::lock_wait) (60 s by default). Its key is a hash of the
//!    version table's name, so runs with another version table (or on another database) do not
//!    exclude each other. The connection is closed, never returned to the pool, when the run
//!    ends in any way, so the lock never outlives the run; the server releases it when the
//!    process dies. On PostgreSQL 14 and later the session sets
//!    `client_connection_check_interval` to 1 s, so a server process whose runner was killed
//!    mid-statement stops within a second rather than finish the statement holding the lock.
//! 3. The session gets the run's `lock_timeout` (10 s by default: a DDL statement waiting
//!    longer for a table lock fails rather than queue the application's queries behind it) and
//!    `statement_timeout` (off by default: index builds and data migrations take what they
//!    take).
//! 4. The version table is created if missing (under the lock, so twenty runners starting at
//!    once never race on it) and read. One row per applied revision ([`AppliedRevision`]):
//!
//!    ```sql
//!    CREATE TABLE IF NOT EXISTS "public"."orm_migrations" (
//!        id text PRIMARY KEY,                   -- the revision's id
//!        checksum text NOT NULL,                -- hex SHA-256 of its up.sql
//!        message text NOT NULL DEFAULT '',
//!        applied_at timestamptz NOT NULL DEFAULT now(),
//!        duration_ms bigint,                    -- NULL when stamped, not run
//!        applied_by text NOT NULL DEFAULT current_user
//!    )
//!    ```
//! 5. Every applied revision is checked against the files: an id the graph lacks is
//!    [`MigrateError::UnknownApplied`]; an `up.sql` whose checksum changed since it ran is
//!    [`MigrateError::Edited`], unless [`allow_edited`](Migrator::allow_edited) is set, which
//!    accepts the edit and records the new checksum (the edited SQL is not run again).
//! 6. The plan is made from the [graph](crate::graph), every Rust function it names is checked
//!    to be registered, and each revision runs in its own transaction with its version row:
//!    `BEGIN`, its script (one simple-query message: several statements are fine), its Rust
//!    function if it names one, the version row, `COMMIT`. A failure rolls that revision back
//!    and stops the run at the previous one with [`MigrateError::Step`].
//!
//!    A revision with `-- transaction: false` (`CREATE INDEX CONCURRENTLY`, which refuses to
//!    run in a transaction) runs statement by statement outside any transaction (the script
//!    is split by PostgreSQL's lexical rules: strings, dollar quotes, comments), then its
//!    function and version row in a transaction. A failure part-way leaves the statements
//!    before it done and the revision unrecorded ([`MigrateError::StepOutsideTransaction`],
//!    naming the statement): write such scripts to be rerun (`DROP INDEX CONCURRENTLY IF
//!    EXISTS` before `CREATE INDEX CONCURRENTLY`, since a failed concurrent build leaves an
//!    `INVALID` index; autogenerate writes them so). Downgrades run the same way with the
//!    down script and the removal of the row. `-- transaction: up false` (or `down false`)
//!    names the one direction that runs outside a transaction, the other running in one: a
//!    label added with `ALTER TYPE ... ADD VALUE` is undone by recreating the type, all or
//!    nothing ([`Revision::down_transactional`](crate::Revision::down_transactional)).
//!
//!    In such a revision a `-- @backfill` line is a step of its own: the batched backfill of
//!    an [expand / contract](crate::expand) revision, each batch committed on its own (at most
//!    [`backfill_batch`](Migrator::backfill_batch) rows), [`backfill_pause`](Migrator::backfill_pause)
//!    apart, reported to the [`Progress`] after each batch.
//! 7. The lock is released and the connection closed.
//!
//! Twenty processes running `upgrade head` at once: one takes the lock and applies, the others
//! wait, then find nothing left to do; all succeed. A runner killed mid-revision leaves that
//! revision's transaction to the server, which rolls it back and releases the lock; the next
//! run starts from the previous revision.
//!
//! Read-only operations ([`current`](Migrator::current), [`history`](Migrator::history),
//! [`applied`](Migrator::applied)) take no lock and create nothing.

mod backfill;
mod functions;
mod lint;
mod lock;
mod offline;
mod report;
mod steps;
mod table;
mod watchdog;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use orm_postgres::Database;

use crate::embed::Embedded;
use crate::error::{MigrateError, Result};
use crate::expand::PhaseEntry;
use crate::graph::{Graph, Target};
use crate::phase::BackfillOptions;
use crate::revision::Revision;
use crate::schema::QualifiedName;

pub use functions::StepFuture;
pub use lint::lint_revisions;

use functions::RustStep;
pub use report::{
    BackfillProgress, Direction, HistoryEntry, Progress, Silent, StampReport, StepReport,
};
pub use table::AppliedRevision;

use backfill::BackfillSettings;
use lock::{Locked, SessionSettings};
use steps::StepContext;
use table::{VersionTable, by_id, ids};

/// The version table's default schema.
pub const DEFAULT_SCHEMA: &str = "public";
/// The version table's default name.
pub const DEFAULT_TABLE: &str = "orm_migrations";
/// The default [`lock_timeout`](Migrator::lock_timeout) of a run's statements.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);
/// The default [`lock_wait`](Migrator::lock_wait) for the migration lock.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);

/// Applies and reverts the revisions of a [`Graph`] on a database. Build it with
/// [`new`](Migrator::new), [`from_dir`](Migrator::from_dir) or
/// [`from_embedded`](Migrator::from_embedded), set options with the builder methods, then run
/// operations; each operation is one run (one lock, one connection).
pub struct Migrator {
    graph: Graph,
    version_table: QualifiedName,
    lock_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
    lock_wait: Duration,
    allow_edited: bool,
    functions: BTreeMap<String, Arc<dyn RustStep>>,
    progress: Arc<dyn Progress>,
    lint: bool,
    lint_models: Option<crate::schema::Schema>,
    backfill: BackfillOptions,
    server_probe: Option<Duration>,
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("revisions", &self.graph.len())
            .field("version_table", &self.version_table.to_string())
            .field("lock_timeout", &self.lock_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("lock_wait", &self.lock_wait)
            .field("allow_edited", &self.allow_edited)
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .field("lint", &self.lint)
            .field("backfill", &self.backfill)
            .field("server_probe", &self.server_probe)
            .finish()
    }
}

impl Migrator {
    /// A migrator for these revisions, with the default options.
    pub fn new(graph: Graph) -> Migrator {
        Migrator {
            graph,
            version_table: QualifiedName::new(DEFAULT_SCHEMA, DEFAULT_TABLE),
            lock_timeout: Some(DEFAULT_LOCK_TIMEOUT),
            statement_timeout: None,
            lock_wait: DEFAULT_LOCK_WAIT,
            allow_edited: false,
            functions: BTreeMap::new(),
            progress: Arc::new(Silent),
            lint: true,
            lint_models: None,
            backfill: BackfillOptions::default(),
            server_probe: Some(watchdog::DEFAULT_PROBE),
        }
    }

    /// A migrator for the revisions of a migrations directory
    /// ([`files::read_dir`](crate::files::read_dir), then [`Graph::new`]).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Migrator> {
        Ok(Migrator::new(Graph::new(crate::files::read_dir(dir)?)?))
    }

    /// A migrator for revisions compiled into the binary with
    /// [`embed_migrations!`](crate::embed_migrations).
    pub fn from_embedded(embedded: &Embedded) -> Result<Migrator> {
        Ok(Migrator::new(embedded.graph()?))
    }

    /// The version table, `public.orm_migrations` by default. Its schema is created if
    /// missing.
    pub fn version_table(mut self, schema: impl Into<String>, name: impl Into<String>) -> Self {
        self.version_table = QualifiedName::new(schema, name);
        self
    }

    /// The `lock_timeout` of the run's statements: a statement waiting longer for a lock
    /// (an `ALTER TABLE` behind a long transaction) fails, and its revision with it. `None`
    /// waits without limit. Default: 10 s.
    pub fn lock_timeout(mut self, t: Option<Duration>) -> Self {
        self.lock_timeout = t;
        self
    }

    /// The `statement_timeout` of the run's statements. `None` (the default) is off, whatever
    /// the database's or the pool's own setting.
    pub fn statement_timeout(mut self, t: Option<Duration>) -> Self {
        self.statement_timeout = t;
        self
    }

    /// While a run waits on the server, how often it checks, on a connection of its own
    /// ([`Database::ping`]), that the server still answers: the run's statements have no
    /// client-side limit unless [`statement_timeout`](Self::statement_timeout) is set, so a
    /// server that stopped answering (frozen, or cut off by the network) would otherwise hold
    /// the run forever. A server that does not answer ends the run with
    /// [`MigrateError::Unresponsive`]; one that is only busy (a long index build) answers,
    /// and the run goes on. `None` never checks. Default: 30 s.
    pub fn server_probe(mut self, every: Option<Duration>) -> Self {
        self.server_probe = every;
        self
    }

    /// How long a run waits for the migration lock held by another run before
    /// [`MigrateError::LockTimeout`]. Zero gives up at once. Default: 60 s.
    pub fn lock_wait(mut self, t: Duration) -> Self {
        self.lock_wait = t;
        self
    }

    /// Accept applied revisions whose `up.sql` changed since they ran, recording their new
    /// checksums (the edited SQL is not run again). Default: refuse with
    /// [`MigrateError::Edited`].
    pub fn allow_edited(mut self, allow: bool) -> Self {
        self.allow_edited = allow;
        self
    }

    /// Registers the Rust function that revisions name with `-- run: name`: it runs after the
    /// revision's up script, in its transaction (for a revision outside a transaction, in the
    /// one that records it; see [`StepFuture`] for how to write one).
    /// Registering a name again replaces the function.
    pub fn register<F>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: for<'a> Fn(&'a orm_postgres::Transaction<'a>) -> StepFuture<'a> + Send + Sync + 'static,
    {
        self.functions.insert(name.into(), Arc::new(f));
        self
    }

    /// The most rows one batch of a backfill updates (each batch is one transaction), for
    /// every backfill of the run: overrides the revisions' `-- backfill: batch N` header.
    /// `None` (the default): the header's, else [`expand::DEFAULT_BATCH`](crate::expand::DEFAULT_BATCH).
    pub fn backfill_batch(mut self, rows: Option<u64>) -> Self {
        self.backfill.batch = rows.map(|n| n.max(1));
        self
    }

    /// The pause between two batches of a backfill, for every backfill of the run: overrides
    /// the revisions' `-- backfill: pause D` header. `None` (the default): the header's, else
    /// [`expand::DEFAULT_PAUSE`](crate::expand::DEFAULT_PAUSE).
    pub fn backfill_pause(mut self, pause: Option<Duration>) -> Self {
        self.backfill.pause = pause;
        self
    }

    /// Reports progress to `progress` (the CLI's progress bar). Default: [`Silent`].
    pub fn progress(mut self, progress: impl Progress + 'static) -> Self {
        self.progress = Arc::new(progress);
        self
    }

    /// The revisions.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The version table's name.
    pub fn version_table_name(&self) -> &QualifiedName {
        &self.version_table
    }

    /// The heads of the graph (no database needed).
    pub fn heads(&self) -> Vec<&Revision> {
        self.graph.heads()
    }

    /// The branch points of the graph (no database needed).
    pub fn branches(&self) -> Vec<&Revision> {
        self.graph.branches()
    }

    /// The key of the migration lock (`pg_advisory_lock(key)`), to find a run holding it in
    /// `pg_locks` (the key's high 32 bits are `classid`, its low ones `objid`).
    /// [`MigrateError::Database`] when the version table's name is not a valid identifier.
    pub fn lock_key(&self) -> Result<i64> {
        Ok(lock::key(&self.table()?))
    }

    fn table(&self) -> Result<VersionTable> {
        VersionTable::new(&self.version_table)
    }

    fn settings(&self) -> SessionSettings {
        SessionSettings {
            lock_wait: self.lock_wait,
            lock_timeout: self.lock_timeout,
            statement_timeout: self.statement_timeout,
        }
    }

    // ----- read-only --------------------------------------------------------------------

    /// The rows of the version table, by id (none when it does not exist yet). No lock.
    ///
    /// Read on the primary even when `db` has replicas (or is an
    /// [`on_replica`](Database::on_replica) handle): a replica may not have replayed the
    /// latest run yet. So are [`current`](Self::current), [`history`](Self::history),
    /// [`phases`](Self::phases) and the lint's reads, which read through this.
    pub async fn applied(&self, db: &Database) -> Result<Vec<AppliedRevision>> {
        self.table()?.rows_if_exists(&db.on_primary()).await
    }

    /// Where the database is: the applied revisions that no applied revision follows (empty
    /// at base). [`MigrateError::UnknownApplied`] when the database has a revision the graph
    /// lacks. No lock.
    pub async fn current(&self, db: &Database) -> Result<Vec<&Revision>> {
        let rows = self.applied(db).await?;
        if let Some(unknown) = rows.iter().find(|r| !self.graph.contains(&r.id)) {
            return Err(MigrateError::UnknownApplied(unknown.id.clone()));
        }
        Ok(self.graph.current_heads(&ids(&rows)))
    }

    /// Every revision in [history](Graph::history) order (parents first), with its row in the
    /// version table when applied. Applied ids the graph lacks are not in it: compare with
    /// [`applied`](Self::applied). No lock.
    pub async fn history(&self, db: &Database) -> Result<Vec<HistoryEntry<'_>>> {
        let rows = self.applied(db).await?;
        Ok(self.history_of(&rows))
    }

    /// [`history`](Self::history) for version-table rows already read.
    pub fn history_of(&self, rows: &[AppliedRevision]) -> Vec<HistoryEntry<'_>> {
        let rows: BTreeMap<&str, &AppliedRevision> =
            rows.iter().map(|r| (r.id.as_str(), r)).collect();
        let heads: BTreeSet<&str> = self.graph.heads().iter().map(|r| r.id.as_str()).collect();
        self.graph
            .history()
            .into_iter()
            .map(|revision| {
                let applied = rows.get(revision.id.as_str()).map(|&r| r.clone());
                let edited = applied
                    .as_ref()
                    .is_some_and(|a| a.checksum != revision.checksum());
                HistoryEntry {
                    revision,
                    applied,
                    head: heads.contains(revision.id.as_str()),
                    edited,
                }
            })
            .collect()
    }

    /// Every [expand revision](crate::expand) with its contract and its [phase](crate::expand::Phase)
    /// in the database (pending, expanded, contracted). No lock.
    pub async fn phases(&self, db: &Database) -> Result<Vec<PhaseEntry<'_>>> {
        let rows = self.applied(db).await?;
        crate::expand::phases(&self.graph, &ids(&rows))
    }

    /// The expand revisions applied in the database whose contract is not
    /// ([`OpenExpansion::open`](crate::diff::OpenExpansion::open)): what autogenerate must not
    /// undo, passed to it through [`DiffOptions::expansions`](crate::diff::DiffOptions::expansions).
    pub async fn open_expansions(&self, db: &Database) -> Result<Vec<crate::diff::OpenExpansion>> {
        Ok(crate::diff::OpenExpansion::open(&self.phases(db).await?))
    }

    // ----- runs -------------------------------------------------------------------------

    /// Applies every revision that `target` needs and the database lacks, in order, each in
    /// its own transaction with its version row. Returns what it applied (nothing when the
    /// database is already there).
    ///
    /// First the [lint](crate::lint) reads the revisions it would apply, against the database
    /// as it is: an unsilenced error stops the upgrade before anything runs, with
    /// [`MigrateError::Lint`] (turn it off with [`lint(false)`](Self::lint)).
    pub async fn upgrade(&self, db: &Database, target: &Target) -> Result<Vec<StepReport>> {
        if self.lint {
            let report = self.lint_pending(db, target).await?;
            if report.errors() > 0 {
                return Err(MigrateError::Lint(Box::new(report)));
            }
        }
        self.under_lock(db, async |locked, table| {
            self.run_locked(locked, table, target, Direction::Up).await
        })
        .await
    }

    /// Applies every revision: [`upgrade`](Self::upgrade) to [`Target::Heads`]. What a service
    /// calls at startup.
    pub async fn run(&self, db: &Database) -> Result<Vec<StepReport>> {
        self.upgrade(db, &Target::Heads).await
    }

    /// Reverts the applied revisions that `target` leaves out (`-N`: the last N; an id: those
    /// that follow it; `base`: all), children first, each in its own transaction with the
    /// removal of its version row. A down script that raises (an irreversible step) fails as
    /// [`MigrateError::Step`], leaving the database at the revision before it.
    pub async fn downgrade(&self, db: &Database, target: &Target) -> Result<Vec<StepReport>> {
        self.under_lock(db, async |locked, table| {
            self.run_locked(locked, table, target, Direction::Down)
                .await
        })
        .await
    }

    /// One run: the migration lock taken on a connection of its own (the version table
    /// created if missing), `body` run under it, the lock released; the server watched while
    /// the run waits on it (see [`server_probe`](Self::server_probe)).
    async fn under_lock<T>(
        &self,
        db: &Database,
        body: impl AsyncFnOnce(&mut Locked, &VersionTable) -> Result<T>,
    ) -> Result<T> {
        let table = self.table()?;
        watchdog::watched(db, self.server_probe, async {
            let mut locked =
                Locked::acquire(db, &table, self.settings(), self.progress.as_ref()).await?;
            let result = body(&mut locked, &table).await;
            locked.release(result).await
        })
        .await
    }

    async fn run_locked(
        &self,
        locked: &mut Locked,
        table: &VersionTable,
        target: &Target,
        direction: Direction,
    ) -> Result<Vec<StepReport>> {
        let rows = by_id(table.rows(&locked.conn).await?);
        let edited = self.check_applied(&rows, self.allow_edited)?;
        let applied = rows.keys().cloned().collect();
        let plan = match direction {
            Direction::Up => self.graph.upgrade_plan(&applied, target)?,
            Direction::Down => self.graph.downgrade_plan(&applied, target)?,
        };
        let functions = self.functions_of(&plan, direction)?;
        // A contract must follow its expand (checked before anything runs).
        crate::expand::phases(&self.graph, &BTreeSet::new())?;
        for revision in edited {
            table.repair(&locked.conn, revision).await?;
        }
        self.progress.on_plan(direction, &plan);
        let mut done = Vec::with_capacity(plan.len());
        for (revision, function) in plan.into_iter().zip(functions) {
            self.progress.on_start(direction, revision);
            let ctx = StepContext {
                progress: self.progress.as_ref(),
                backfill: self.backfill_settings(revision),
            };
            let duration = match direction {
                Direction::Up => {
                    steps::apply(&mut locked.conn, table, revision, function, ctx).await?
                }
                Direction::Down => steps::revert(&mut locked.conn, table, revision, ctx).await?,
            };
            self.progress.on_done(direction, revision, duration);
            done.push(StepReport {
                id: revision.id.clone(),
                message: revision.message.clone(),
                direction,
                duration,
            });
        }
        Ok(done)
    }

    /// How the backfills of `revision` run: this migrator's settings, else its header's.
    fn backfill_settings(&self, revision: &Revision) -> BackfillSettings {
        BackfillSettings::resolve(self.backfill, revision.phase.backfill)
    }

    /// Checks the applied rows against the graph: an unknown id is an error; edited revisions
    /// are an error unless `allow`, and are returned.
    fn check_applied(
        &self,
        rows: &BTreeMap<String, AppliedRevision>,
        allow: bool,
    ) -> Result<Vec<&Revision>> {
        let mut edited = Vec::new();
        for (id, row) in rows {
            if !self.graph.contains(id) {
                return Err(MigrateError::UnknownApplied(id.clone()));
            }
            let revision = self.graph.get(id)?;
            let current = revision.checksum();
            if current == row.checksum {
                continue;
            }
            if !allow {
                return Err(MigrateError::Edited {
                    id: id.clone(),
                    path: revision.source.clone(),
                    applied: row.checksum.clone(),
                    current,
                });
            }
            edited.push(revision);
        }
        Ok(edited)
    }

    /// The registered function of each revision of an upgrade plan (none for a downgrade);
    /// [`MigrateError::UnknownFunction`] before anything runs when one is missing.
    #[allow(clippy::type_complexity)]
    fn functions_of<'a>(
        &'a self,
        plan: &[&'a Revision],
        direction: Direction,
    ) -> Result<Vec<Option<(&'a str, &'a dyn RustStep)>>> {
        plan.iter()
            .map(|r| match (&r.run, direction) {
                (Some(name), Direction::Up) => match self.functions.get(name) {
                    Some(f) => Ok(Some((name.as_str(), f.as_ref()))),
                    None => Err(MigrateError::UnknownFunction {
                        id: r.id.clone(),
                        name: name.clone(),
                    }),
                },
                _ => Ok(None),
            })
            .collect()
    }

    /// Records the database as being at `target` without running any SQL: rows are added for
    /// the revisions an upgrade to `target` would apply, and removed for those a downgrade to
    /// it would revert (`+N`: only added; `-N`, `base`: only removed). Every applied revision
    /// left gets its file's checksum, which repairs edited ones. One transaction, under the
    /// lock.
    pub async fn stamp(&self, db: &Database, target: &Target) -> Result<StampReport> {
        self.under_lock(db, async |locked, table| {
            self.stamp_locked(locked, table, target).await
        })
        .await
    }

    async fn stamp_locked(
        &self,
        locked: &mut Locked,
        table: &VersionTable,
        target: &Target,
    ) -> Result<StampReport> {
        let rows = by_id(table.rows(&locked.conn).await?);
        let edited = self.check_applied(&rows, true)?;
        let applied: BTreeSet<String> = rows.keys().cloned().collect();
        let (up, down) = match *target {
            Target::Relative(n) if n < 0 => {
                (Vec::new(), self.graph.downgrade_plan(&applied, target)?)
            }
            Target::Relative(_) => (self.graph.upgrade_plan(&applied, target)?, Vec::new()),
            _ => (
                self.graph.upgrade_plan(&applied, target)?,
                self.graph.downgrade_plan(&applied, target)?,
            ),
        };
        let report = StampReport {
            added: up.iter().map(|r| r.id.clone()).collect(),
            removed: down.iter().map(|r| r.id.clone()).collect(),
            repaired: edited
                .iter()
                .filter(|r| !down.iter().any(|d| d.id == r.id))
                .map(|r| r.id.clone())
                .collect(),
        };
        let tx = locked.conn.begin().await?;
        let outcome: Result<()> = async {
            for r in &down {
                table.delete(&tx, &r.id).await?;
            }
            for r in &up {
                table.insert(&tx, r, None).await?;
            }
            for id in &report.repaired {
                table.repair(&tx, self.graph.get(id)?).await?;
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => tx.commit().await?,
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(e);
            }
        }
        Ok(report)
    }

    // ----- offline ----------------------------------------------------------------------

    /// The SQL of an upgrade from the database state `applied` (the ids of the applied
    /// revisions) to `target`, as text, without a database: offline mode, for a person to
    /// review or to run with `psql -v ON_ERROR_STOP=1 -f`.
    ///
    /// The text does what a live run does, in the same order: the run's `lock_timeout` and
    /// `statement_timeout`, the version table created if missing, then per revision a comment
    /// line, `BEGIN;`, its script, its version-table `INSERT` and `COMMIT;` (no
    /// `BEGIN`/`COMMIT` for a revision that runs outside a transaction). A script whose last
    /// statement lacks a `;` gets one. There is no advisory lock: whoever runs the text runs
    /// it once. A revision that runs a Rust function cannot be written out:
    /// [`MigrateError::OfflineFunction`].
    pub fn sql_for_upgrade(&self, applied: &BTreeSet<String>, target: &Target) -> Result<String> {
        let plan = self.graph.upgrade_plan(applied, target)?;
        offline::script(
            &self.table()?,
            self.settings(),
            Direction::Up,
            &plan,
            &format!("upgrade to {target}"),
            &|r| self.backfill_settings(r),
        )
    }

    /// The SQL of a downgrade from the database state `applied` to `target`, as text, without
    /// a database: as [`sql_for_upgrade`](Self::sql_for_upgrade), with the down scripts and
    /// version-table `DELETE`s, children first.
    pub fn sql_for_downgrade(&self, applied: &BTreeSet<String>, target: &Target) -> Result<String> {
        let plan = self.graph.downgrade_plan(applied, target)?;
        offline::script(
            &self.table()?,
            self.settings(),
            Direction::Down,
            &plan,
            &format!("downgrade to {target}"),
            &|r| self.backfill_settings(r),
        )
    }

    /// The applied set of a database at `target` (for offline mode): the revisions an upgrade
    /// from nothing to `target` applies. `base` is the empty set.
    pub fn applied_at(&self, target: &Target) -> Result<BTreeSet<String>> {
        Ok(self
            .graph
            .upgrade_plan(&BTreeSet::new(), target)?
            .into_iter()
            .map(|r| r.id.clone())
            .collect())
    }
}
