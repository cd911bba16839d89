//! The migration lock: a session-level PostgreSQL advisory lock, taken on one connection held
//! for the whole run.
//!
//! - The key is a 64-bit FNV-1a hash of `orm-migrate:` and the version table's `schema.table`,
//!   so runs on one database and one version table exclude each other, and runs with another
//!   version table (or on another database: advisory locks are per database) do not.
//! - Waiting has a limit ([`Migrator::lock_wait`](super::Migrator::lock_wait)): the server
//!   cancels the wait (`lock_timeout`, SQLSTATE 55P03) and a client-side timer a little longer
//!   covers a server that stops answering. Either way the run ends with
//!   [`MigrateError::LockTimeout`], naming the holder's server process when it can be found.
//! - The connection is [closed when dropped](orm_postgres::Connection::close_on_drop): a run
//!   that ends in any way (an error, a panic, a cancelled future) releases the lock with it,
//!   and so does the server when the process dies. On PostgreSQL 14 and later the session also
//!   sets `client_connection_check_interval`, so a backend whose client was killed mid-statement
//!   stops within a second instead of finishing the statement with the lock held.

use std::time::Duration;

use orm_postgres::{Connection, Database, Executor};

use crate::error::{MigrateError, Result};

use super::report::Progress;
use super::table::{Sql, VersionTable, millis};

/// Extra time the client-side timer gives the server's own `lock_timeout`.
const CLIENT_GRACE: Duration = Duration::from_secs(5);

/// The settings of a run's session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionSettings {
    pub(crate) lock_wait: Duration,
    pub(crate) lock_timeout: Option<Duration>,
    pub(crate) statement_timeout: Option<Duration>,
}

/// The advisory lock key of a version table.
pub(crate) fn key(table: &VersionTable) -> i64 {
    orm_postgres::advisory_lock_key(&format!("orm-migrate:{}", table.display))
}

/// A connection holding the migration lock, with the run's settings, and the version table
/// created.
pub(crate) struct Locked {
    pub(crate) conn: Connection,
    key: i64,
}

impl Locked {
    /// Takes a connection, waits for the lock, applies the run's settings and creates the
    /// version table if missing.
    pub(crate) async fn acquire(
        db: &Database,
        table: &VersionTable,
        settings: SessionSettings,
        progress: &dyn Progress,
    ) -> Result<Locked> {
        // The database's client-side query timeout would cut long revisions (an index built
        // CONCURRENTLY on a big table) short: the run's own statement_timeout, with a grace,
        // bounds them instead, and none when the run has none. On the primary even through an
        // `on_replica()` handle: a run writes.
        let mut conn = db
            .on_primary()
            .with_query_timeout(
                settings
                    .statement_timeout
                    .map(|t| t.saturating_add(CLIENT_GRACE)),
            )
            .connection()
            .await?;
        conn.close_on_drop();
        let key = key(table);
        let got = conn
            .fetch_one(Sql::<bool>::new(format!(
                "SELECT pg_try_advisory_lock({key})"
            )))
            .await?;
        if !got {
            progress.on_lock_wait(holder(&conn, key).await);
            wait(&conn, key, table, settings.lock_wait).await?;
        }
        conn.batch_execute(&format!(
            "SET lock_timeout = {}; SET statement_timeout = {}",
            millis(settings.lock_timeout),
            millis(settings.statement_timeout)
        ))
        .await?;
        check_client_connection(&conn).await;
        conn.batch_execute(&table.create_sql()).await?;
        Ok(Locked { conn, key })
    }

    /// Releases the lock and hands back the run's result. An error releasing it is ignored:
    /// the connection is closed when dropped, which releases it anyway.
    pub(crate) async fn release<T>(self, result: Result<T>) -> Result<T> {
        let _ = self
            .conn
            .batch_execute(&format!("SELECT pg_advisory_unlock({})", self.key))
            .await;
        result
    }
}

/// Waits for the lock, at most `limit`.
async fn wait(conn: &Connection, key: i64, table: &VersionTable, limit: Duration) -> Result<()> {
    let timeout = |holder| MigrateError::LockTimeout {
        table: table.display.clone(),
        waited: limit,
        holder,
    };
    if limit.is_zero() {
        return Err(timeout(holder(conn, key).await));
    }
    conn.batch_execute(&format!("SET lock_timeout = {}", millis(Some(limit))))
        .await?;
    let sql = format!("SELECT pg_advisory_lock({key})");
    let lock = conn.batch_execute(&sql);
    let client_limit =
        Duration::from_millis(millis(Some(limit)) as u64).saturating_add(CLIENT_GRACE);
    match tokio::time::timeout(client_limit, lock).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) if e.sqlstate() == Some("55P03") => Err(timeout(holder(conn, key).await)),
        Ok(Err(e)) => Err(e.into()),
        // The server did not answer: the statement is still in flight, and the connection is
        // closed when dropped.
        Err(_) => Err(timeout(None)),
    }
}

/// The server process holding the lock, if any (and visible).
async fn holder(conn: &Connection, key: i64) -> Option<i32> {
    let k = u64::from_ne_bytes(key.to_ne_bytes());
    let sql = format!(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND classid::bigint = {} AND objid::bigint = {} AND objsubid = 1 \
           AND pid <> pg_backend_pid() LIMIT 1",
        k >> 32,
        k & 0xffff_ffff
    );
    conn.fetch_optional(Sql::<i32>::new(sql))
        .await
        .ok()
        .flatten()
}

/// On PostgreSQL 14 and later, has the server check every second that the client is still
/// there while a statement runs. Best effort: where the platform lacks it, nothing changes.
async fn check_client_connection(conn: &Connection) {
    let version = conn
        .fetch_one(Sql::<String>::new(
            "SELECT current_setting('server_version_num')".into(),
        ))
        .await;
    if version.ok().and_then(|v| v.parse::<u32>().ok()) >= Some(140_000) {
        let _ = conn
            .batch_execute("SET client_connection_check_interval = 1000")
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::QualifiedName;

    #[test]
    fn keys_depend_on_the_table_only() {
        let t = |s: &str, n: &str| VersionTable::new(&QualifiedName::new(s, n)).expect("valid");
        assert_eq!(
            key(&t("public", "orm_migrations")),
            key(&t("public", "orm_migrations"))
        );
        assert_ne!(
            key(&t("public", "orm_migrations")),
            key(&t("ops", "orm_migrations"))
        );
    }
}
