//! A revision: one step of a migration, as read from the migrations directory (or embedded in
//! the binary). No IO here; reading the directory is the `files` module.

/// One revision: an id, a message, its parents, and the SQL that applies and reverts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Its id (unique in the graph).
    pub id: String,
    /// The one-line message it was created with.
    pub message: String,
    /// The revisions it follows: none for a root, two or more for a merge.
    pub parents: Vec<String>,
    /// Revisions of other branches that must be applied first (`depends_on`).
    pub depends_on: Vec<String>,
    /// The upgrade script (without its header).
    pub up: String,
    /// The downgrade script.
    pub down: String,
    /// Whether it runs in a transaction with its version row (the default). `false` for
    /// `CREATE INDEX CONCURRENTLY` or `ALTER TYPE ... ADD VALUE` on old servers.
    pub transactional: bool,
    /// A Rust function registered with the migrator, run after `up` in the same transaction.
    pub run: Option<String>,
    /// Where it came from (the up script's path), for error messages.
    pub source: std::path::PathBuf,
}
