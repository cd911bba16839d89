//! Real-data tests: the Chinook and Pagila sample databases, loaded at run time from
//! `../shared/datasets` (relative to the workspace root) or the directory in `ORM_DATASETS`.
//!
//! Each dataset is loaded once, into a fresh test database, by the one test of its module; the
//! test then runs every query of the module in turn. Each query is written twice, with the
//! builder and by hand in SQL, and both must return the same rows in the same order. A failing
//! query does not stop the others: the test fails at the end with the list of failed queries,
//! each named by its function.
//!
//! After its queries, each dataset's test runs its relationship checks (`rel_chinook`,
//! `rel_pagila`): every relationship loaded with each strategy and compared with the same
//! object graph built from hand-written SQL.
//!
//! When a dataset's files are missing, its test says so loudly and passes: nothing else in the
//! project depends on them.

mod chinook;
mod pagila;
mod rel_chinook;
mod rel_common;
mod rel_pagila;

use std::fmt::Debug;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use orm_postgres::RowOf;
use orm_postgres::prelude::*;
use orm_postgres::raw::RawQuery;
use orm_testing::{TestDatabase, test_database};

/// The directory holding the datasets: `ORM_DATASETS`, else `../shared/datasets` next to the
/// workspace root.
pub fn datasets_dir() -> PathBuf {
    match std::env::var_os("ORM_DATASETS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"),
    }
}

/// The paths of a dataset's files, or `None` (after saying which are missing and where we
/// looked) when any is absent.
pub fn dataset_files(dataset: &str, files: &[&str]) -> Option<Vec<PathBuf>> {
    let dir = datasets_dir();
    let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    let missing: Vec<String> = paths
        .iter()
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Some(paths);
    }
    // Straight to the process's stderr, not through `eprintln!`, which the test harness
    // captures and hides for passing tests: a skipped dataset must be seen.
    let message = format!(
        "\n\
         ************************************************************************\n\
         SKIPPED: the {dataset} dataset tests did not run: missing file(s)\n  {}\n\
         looked in {} (set ORM_DATASETS to the directory holding\n\
         chinook/ and pagila/ to run them)\n\
         ************************************************************************\n",
        missing.join("\n  "),
        dir.display(),
    );
    let _ = std::io::stderr().write_all(message.as_bytes());
    None
}

/// Writes a line straight to the process's stderr, past the test harness's capture.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A fresh test database, or a panic naming the reason.
pub async fn fresh_database() -> TestDatabase {
    test_database()
        .await
        .unwrap_or_else(|e| panic!("creating a test database: {e}"))
}

/// A query's outcome: `Err` carries what went wrong.
pub type Outcome = Result<(), String>;

/// Runs `builder` and `raw` and checks they return the same rows in the same order, and at
/// least one row (a query returning nothing compares nothing). Returns the rows for further
/// checks of known values.
pub async fn same_rows<E, S>(
    db: &E,
    builder: S,
    raw: RawQuery<S::Row>,
) -> Result<Vec<RowOf<S>>, String>
where
    E: Executor,
    S: Statement,
    RowOf<S>: PartialEq + Debug,
{
    let rows = same_rows_or_none(db, builder, raw).await?;
    if rows.is_empty() {
        return Err("both queries returned no rows: the test compares nothing".into());
    }
    Ok(rows)
}

/// Like [`same_rows`], but an empty result is fine.
pub async fn same_rows_or_none<E, S>(
    db: &E,
    builder: S,
    raw: RawQuery<S::Row>,
) -> Result<Vec<RowOf<S>>, String>
where
    E: Executor,
    S: Statement,
    RowOf<S>: PartialEq + Debug,
{
    let sql = match builder.compile() {
        Ok(c) => c.sql,
        Err(e) => return Err(format!("the builder's query does not compile: {e}")),
    };
    let built = db
        .fetch_all(builder)
        .await
        .map_err(|e| format!("the builder's query failed: {e}\n  SQL: {sql}"))?;
    let by_hand = db
        .fetch_all(raw)
        .await
        .map_err(|e| format!("the hand-written query failed: {e}"))?;
    if built.len() != by_hand.len() {
        return Err(format!(
            "the builder returned {} rows, the hand-written SQL {}\n  builder SQL: {sql}\n  \
             first rows: {:?}\n  vs: {:?}",
            built.len(),
            by_hand.len(),
            built.iter().take(3).collect::<Vec<_>>(),
            by_hand.iter().take(3).collect::<Vec<_>>(),
        ));
    }
    if let Some(i) = (0..built.len()).find(|&i| built[i] != by_hand[i]) {
        return Err(format!(
            "row {i} differs\n  builder: {:?}\n  by hand: {:?}\n  builder SQL: {sql}",
            built[i], by_hand[i]
        ));
    }
    Ok(built)
}

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Outcome {
    if condition { Ok(()) } else { Err(message()) }
}

/// Collects the outcomes of a dataset's queries.
#[derive(Default)]
pub struct Report {
    dataset: &'static str,
    ran: usize,
    failures: Vec<String>,
    slowest: Vec<(&'static str, Duration)>,
}

impl Report {
    /// A report for `dataset`.
    pub fn new(dataset: &'static str) -> Self {
        Report {
            dataset,
            ..Report::default()
        }
    }

    /// Runs one named query and records its outcome.
    pub async fn run<F: Future<Output = Outcome>>(&mut self, name: &'static str, query: F) {
        let start = Instant::now();
        let outcome = query.await;
        self.slowest.push((name, start.elapsed()));
        self.ran += 1;
        if let Err(e) = outcome {
            self.failures.push(format!("{name}: {e}"));
        }
    }

    /// Prints a summary and fails the test if any query failed.
    pub fn finish(mut self) {
        self.slowest.sort_by_key(|s| std::cmp::Reverse(s.1));
        let total: Duration = self.slowest.iter().map(|s| s.1).sum();
        say(&format!(
            "{}: {} queries in {:.2?} (slowest: {})",
            self.dataset,
            self.ran,
            total,
            self.slowest
                .iter()
                .take(3)
                .map(|(n, d)| format!("{n} {d:.2?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        assert!(
            self.failures.is_empty(),
            "{} of {} {} queries failed:\n\n{}",
            self.failures.len(),
            self.ran,
            self.dataset,
            self.failures.join("\n\n")
        );
    }
}

/// Runs queries through the report, each named by its function:
/// `run_queries!(report, db; q1, q2)` runs `q1(db)` and `q2(db)`.
///
/// Each query's future is boxed: unoptimized builds give every inline future of an `async fn`
/// a stack slot of its own, and a test awaiting some eighty of them in a row overflowed the
/// test thread's 2 MiB stack.
#[macro_export]
macro_rules! run_queries {
    ($report:expr, $db:expr; $($query:ident),* $(,)?) => {
        $( $report.run(stringify!($query), Box::pin($query($db))).await; )*
    };
}
