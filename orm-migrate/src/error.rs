//! The errors of migrating: malformed files, an inconsistent revision graph, edited revisions,
//! failed steps, and the database's own errors.

use std::path::PathBuf;

/// A `Result` with [`MigrateError`].
pub type Result<T, E = MigrateError> = std::result::Result<T, E>;

/// What went wrong while migrating. A variant about a file or a revision names it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// A revision file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A revision file is malformed: an unparsable header, an unknown key, an empty up script,
    /// a directory name that is not `<id>_<slug>`.
    #[error("{}: {message}", path.display())]
    Malformed {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The revisions do not form a valid graph: a missing parent, a cycle, a duplicate id.
    #[error("{}: {message}", path.display())]
    Graph {
        /// The revision file at fault.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A target names no revision, or a prefix names several.
    #[error("unknown revision {0:?}")]
    UnknownRevision(String),
    /// A relative target (`+N`, `-N`) that cannot be reached: more steps than there are
    /// revisions to apply or revert, or a step in the wrong direction.
    #[error("target {target:?}: {reason}")]
    BadTarget {
        /// The target as given.
        target: String,
        /// Why it cannot be reached.
        reason: String,
    },
    /// `head` was asked for but the graph has several heads.
    #[error("the graph has {} heads ({}): name one, or use `heads`, or merge them", heads.len(), heads.join(", "))]
    MultipleHeads {
        /// The heads' ids.
        heads: Vec<String>,
    },
    /// An applied revision's up script changed since it ran.
    #[error(
        "revision {id} ({}) was edited after it was applied (checksum {applied} in the database, \
         {current} on disk): restore it, or accept it with --allow-edited or `stamp`",
        path.display()
    )]
    Edited {
        /// The revision.
        id: String,
        /// Its up script.
        path: PathBuf,
        /// The checksum recorded when it ran.
        applied: String,
        /// The checksum of the file now.
        current: String,
    },
    /// The database records a revision the migrations directory does not have.
    #[error("the database has revision {0} applied, which is not in the migrations directory")]
    UnknownApplied(String),
    /// A revision names a Rust function that is not registered with the migrator.
    #[error("revision {id} runs the Rust function {name:?}, which is not registered")]
    UnknownFunction {
        /// The revision.
        id: String,
        /// The function's name.
        name: String,
    },
    /// A step failed on the server: the revision's transaction was rolled back. (In a revision
    /// outside a transaction, a failed backfill batch, or a failed write of the revision's
    /// record, leaves the statements and batches before it done.)
    #[error("revision {id}: {source}")]
    Step {
        /// The revision that failed.
        id: String,
        /// The server's error.
        source: orm_postgres::Error,
    },
    /// A statement of a revision that runs outside a transaction (`-- transaction: false`)
    /// failed on the server. Nothing was rolled back: the statements before it stay done, and
    /// the revision's record is as it was (an upgrade not recorded, a downgrade still
    /// recorded). The revisions `revision --autogenerate` writes this way first drop what a
    /// failed run left, so once the cause is fixed they can simply be run again.
    #[error(
        "revision {id} runs outside a transaction and failed at statement {number} of {total} \
         (`{statement}`): {source}. The statements before it stay done and the revision's \
         record is unchanged: fix the cause and run it again"
    )]
    StepOutsideTransaction {
        /// The revision that failed.
        id: String,
        /// Which statement failed, from 1.
        number: usize,
        /// How many statements the script has.
        total: usize,
        /// The failed statement's first line (comments left out).
        statement: String,
        /// The server's error.
        source: orm_postgres::Error,
    },
    /// A registered Rust function failed (the revision's transaction was rolled back). An
    /// [`orm_postgres::Error`] returned by the function is reported as [`MigrateError::Step`].
    #[error("revision {id}: the Rust function {name:?} failed: {source}")]
    Function {
        /// The revision.
        id: String,
        /// The function's name.
        name: String,
        /// Its error.
        source: orm_postgres::BoxError,
    },
    /// Another migration held the migration lock (a PostgreSQL advisory lock) for longer than
    /// the migrator waits for it.
    #[error(
        "another migration holds the migration lock on {table}{}; gave up after waiting {waited:?} (raise the wait with --lock-wait, or find the holder in pg_stat_activity)",
        holder.map(|pid| format!(" (server process {pid})")).unwrap_or_default()
    )]
    LockTimeout {
        /// The version table whose lock it is.
        table: String,
        /// How long the migrator waited.
        waited: std::time::Duration,
        /// The server process holding the lock, when it could be found.
        holder: Option<i32>,
    },
    /// The server stopped answering while a run waited on it: a connection of its own, opened
    /// every [`server_probe`](crate::Migrator::server_probe) interval while the run waits,
    /// got no answer. The run's connection is closed; the server rolls back the revision in
    /// progress when it sees that (a revision outside a transaction keeps the statements
    /// that completed).
    #[error(
        "the server stopped answering while the migration waited on it (checked after {waited:?}): {source}; \
         the run's connection is closed, and the revision in progress was not recorded"
    )]
    Unresponsive {
        /// How long the run had been going when the check failed.
        waited: std::time::Duration,
        /// Why the check failed (a timeout opening the connection or for its answer).
        source: orm_postgres::Error,
    },
    /// Offline SQL was asked for a range with a revision that runs a Rust function, which
    /// only a live run can do.
    #[error(
        "revision {id} runs the Rust function {name:?}, which offline SQL cannot include: run this range against the database"
    )]
    OfflineFunction {
        /// The revision.
        id: String,
        /// The function's name.
        name: String,
    },
    /// The lint found errors in the revisions an upgrade would apply: nothing was run. Fix
    /// them, silence them with a reason (`-- lint: allow <rule>: <why>`), or turn the lint off
    /// for this run ([`Migrator::lint`](crate::Migrator::lint), `upgrade --no-lint`).
    #[error("the lint stopped the upgrade, nothing was run:\n{0}")]
    Lint(Box<crate::lint::Report>),
    /// An error from the database outside a revision (connecting, the version table, the lock).
    #[error(transparent)]
    Database(#[from] orm_postgres::Error),
    /// A name pattern of the diff's [filter](crate::diff::Filter) is malformed.
    #[error("the pattern {pattern:?} is malformed: {reason}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// Why it cannot be read.
        reason: &'static str,
    },
    /// An [expand or contract revision](crate::expand) cannot be written for this column (a
    /// missing table or column, a primary-key column, no primary key to walk, ...).
    #[error("{0}")]
    Expand(String),
}
