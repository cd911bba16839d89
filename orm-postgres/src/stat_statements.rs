//! [`Database::top_statements`]: the statements that took the most time, read from the
//! `pg_stat_statements` extension, with the tags of their call-site comments.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::call_site::parse_tags;
use crate::raw::query;
use crate::{Database, Error, Executor, Result};

/// One statement's totals in `pg_stat_statements` (see [`Database::top_statements`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StatementStats {
    /// The statement's text as the server normalized it: constants replaced by `$n`, and the
    /// text (comment included) of the *first* statement seen with this shape.
    pub query: String,
    /// Times it ran.
    pub calls: i64,
    /// Time spent running it, in all.
    pub total_time: Duration,
    /// Time per run, on average.
    pub mean_time: Duration,
    /// Rows returned or affected, in all.
    pub rows: i64,
    /// The tags of its call-site comment ([`parse_tags`]): `file`, `line`,
    /// and those of [`Database::tagged`]; empty without one.
    pub tags: BTreeMap<String, String>,
}

impl Database {
    /// The `limit` statements of this database that took the most time in all, from
    /// `pg_stat_statements`, each with its call-site tags
    /// ([`DatabaseBuilder::call_site_tags`](crate::DatabaseBuilder::call_site_tags)).
    ///
    /// The server counts statements by shape (its query id ignores comments and constants)
    /// and keeps the text of the first one it saw: when two call sites send the same
    /// statement, their runs add up under the tags of whichever came first.
    ///
    /// ```no_run
    /// # async fn run(db: orm_postgres::Database) -> orm_postgres::Result<()> {
    /// for s in db.top_statements(10).await? {
    ///     println!("{:?} in {} calls at {:?}:{:?}", s.total_time, s.calls, s.tags.get("file"), s.tags.get("line"));
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Config`](crate::ErrorKind::Config) when the extension is not installed in this
    /// database (it needs `shared_preload_libraries = 'pg_stat_statements'` in the server's
    /// configuration, then `CREATE EXTENSION pg_stat_statements`).
    pub async fn top_statements(&self, limit: u32) -> Result<Vec<StatementStats>> {
        let installed: bool = self
            .fetch_one(query::<bool>(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')",
            ))
            .await?;
        if !installed {
            return Err(Error::config(
                "pg_stat_statements is not installed in this database: add it to \
                 shared_preload_libraries in postgresql.conf, restart the server, and run \
                 CREATE EXTENSION pg_stat_statements",
                None,
            ));
        }
        let rows = self
            .fetch_all(
                query::<(String, i64, f64, f64, i64)>(
                    "SELECT coalesce(query, ''), calls, total_exec_time, mean_exec_time, rows \
                     FROM pg_stat_statements \
                     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                     ORDER BY total_exec_time DESC LIMIT :limit",
                )
                .bind("limit", i64::from(limit)),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(query, calls, total, mean, rows)| StatementStats {
                tags: parse_tags(&query),
                query,
                calls,
                total_time: millis(total),
                mean_time: millis(mean),
                rows,
            })
            .collect())
    }
}

/// A duration from milliseconds (as the extension counts), negative or not finite as zero.
fn millis(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}
