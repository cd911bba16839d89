//! The runner against a real PostgreSQL: every operation, what a failure leaves behind, the
//! checks before a run (edited and unknown revisions, unregistered functions), the migration
//! lock and the run's timeouts, revisions outside a transaction, Rust functions in a
//! revision's transaction, twenty concurrent runners, and a database with a read replica.
//!
//! Revisions are built in memory (ids `2026010100000N`); each test has a fresh database.

mod concurrency;
mod embedded;
mod failures;
mod ops;
mod options;
mod replicas;

use orm_migrate::runner::AppliedRevision;
use orm_migrate::{Graph, Migrator, Revision};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;

/// The id of test revision `n`.
pub fn id(n: u32) -> String {
    format!("202601010000{n:02}")
}

/// Revision `n` with these parents and scripts.
pub fn rev(n: u32, parents: &[u32], up: &str, down: &str) -> Revision {
    Revision::new(id(n), &format!("rev {n}"))
        .with_parents(parents.iter().map(|&p| id(p)))
        .with_up(up)
        .with_down(down)
}

/// A chain 1 <- 2 <- 3 creating tables t1, t2, t3.
pub fn chain() -> Vec<Revision> {
    (1..=3)
        .map(|n| {
            let parents: &[u32] = if n == 1 { &[] } else { &[n - 1] };
            rev(
                n,
                parents,
                &format!("CREATE TABLE t{n} (id int);\n"),
                &format!("DROP TABLE t{n};\n"),
            )
        })
        .collect()
}

/// A migrator with the default options.
pub fn migrator(revisions: Vec<Revision>) -> Migrator {
    Migrator::new(Graph::new(revisions).expect("a valid graph"))
}

/// The ids in the version table.
pub async fn applied_ids(db: &Database) -> Vec<String> {
    db.fetch_all(query::<String>("SELECT id FROM orm_migrations ORDER BY id"))
        .await
        .expect("version table")
}

/// The user tables of the public schema, by name, without the version table.
pub async fn tables(db: &Database) -> Vec<String> {
    db.fetch_all(query::<String>(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' \
         AND tablename <> 'orm_migrations' ORDER BY 1",
    ))
    .await
    .expect("tables")
}

/// The ids of version-table rows.
pub fn ids_of(rows: &[AppliedRevision]) -> Vec<String> {
    rows.iter().map(|r| r.id.clone()).collect()
}

/// The ids of test revisions.
pub fn strs(ids: &[u32]) -> Vec<String> {
    ids.iter().map(|&n| id(n)).collect()
}
