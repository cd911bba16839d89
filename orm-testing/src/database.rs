//! The databases of tests and examples: the server in `DATABASE_URL` when it is set, otherwise the
//! process's throwaway [local cluster](crate::shared).
//!
//! These functions return [`orm_postgres::Result`], like everything a test does with the database
//! afterwards; a cluster that cannot start is reported as [`ErrorKind::Connect`](orm_postgres::ErrorKind::Connect) with the
//! [`ClusterError`] as its source (see [`ClusterError`]).

use std::sync::atomic::{AtomicUsize, Ordering};

use orm_postgres::{Database, Error, Executor, Result, StatementMode};

use crate::{ClusterError, LocalCluster};

/// Where the databases live.
enum Server {
    /// `DATABASE_URL`.
    External(String),
    /// The process's throwaway cluster.
    Local(&'static LocalCluster),
}

impl Server {
    async fn get() -> Result<Server> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Ok(Server::External(url));
        }
        let cluster = tokio::task::spawn_blocking(crate::shared)
            .await
            .map_err(|e| {
                Error::from(ClusterError::failed(
                    "starting the local cluster panicked",
                    Some(Box::new(e)),
                ))
            })??;
        Ok(Server::Local(cluster))
    }
    /// The URL of the server's default database.
    fn url(&self) -> String {
        match self {
            Server::External(url) => url.clone(),
            Server::Local(c) => c.url("postgres"),
        }
    }
}

/// The database examples use: `DATABASE_URL` when set, otherwise the `postgres` database of a
/// throwaway local cluster started for this process (stopped and removed when it exits).
pub async fn dev_database() -> Result<Database> {
    Database::connect(&Server::get().await?.url()).await
}

/// A fresh, empty database for one test, created on the server of [`dev_database`] and dropped
/// (with `DROP DATABASE ... WITH (FORCE)`) when this guard is dropped. Dereferences to its
/// [`Database`].
pub struct TestDatabase {
    /// The pool connected to the test's database.
    pub db: Database,
    /// The URL of the server's default database (for tests that need a second client).
    admin_url: String,
    /// The database's name.
    name: String,
    /// Kept for the process (a template): not dropped with the guard.
    kept: bool,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish()
    }
}

impl TestDatabase {
    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection URL for the server's default database; with
    /// [`DatabaseBuilder::dbname`](orm_postgres::DatabaseBuilder::dbname) it reaches this database too.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// A builder for another pool on this database (the test's own pool has the defaults):
    /// `Database::builder(admin_url).dbname(name)`, to set pool options and `connect()`.
    pub fn builder(&self) -> orm_postgres::DatabaseBuilder {
        Database::builder(self.admin_url()).dbname(self.name())
    }
}

impl std::ops::Deref for TestDatabase {
    type Target = Database;
    fn deref(&self) -> &Database {
        &self.db
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        // The server may outlive this process (DATABASE_URL): drop the database. A thread with a
        // runtime of its own, since Drop cannot await and may run inside a runtime.
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(db) = Database::builder(admin).max_connections(1).build() {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = db.batch_execute(&sql).await;
                }
            });
        });
        let _ = handle.join();
    }
}

/// The statement mode of test databases: [`STATEMENT_MODE_ENV`](crate::STATEMENT_MODE_ENV)
/// (`cached` or `unnamed`), else the default.
fn statement_mode_from_env() -> Result<StatementMode> {
    match std::env::var(crate::STATEMENT_MODE_ENV) {
        Ok(v) if !v.is_empty() => v.parse().map_err(|e: orm_postgres::ConfigError| {
            Error::config(
                format!("{}={v:?}: {e}", crate::STATEMENT_MODE_ENV),
                Some(Box::new(e)),
            )
        }),
        _ => Ok(StatementMode::default()),
    }
}

/// Creates a fresh database for one test; see [`TestDatabase`].
///
/// Its statement mode is the one in the environment variable `ORM_TEST_STATEMENT_MODE`
/// ([`STATEMENT_MODE_ENV`](crate::STATEMENT_MODE_ENV)): `unnamed` runs a whole test suite as
/// it would run behind pgbouncer.
pub async fn test_database() -> Result<TestDatabase> {
    create_database("orm_test", None).await
}

/// A new database named `<prefix>_<pid>_<n>`, empty or copied from `template` (which nobody
/// may be connected to), on the server of [`dev_database`].
pub(crate) async fn create_database(prefix: &str, template: Option<&str>) -> Result<TestDatabase> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let server = Server::get().await?;
    let admin_url = server.url();
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin = Database::builder(admin_url.clone())
        .max_connections(1)
        .connect()
        .await?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    let create = match template {
        None => format!("CREATE DATABASE \"{name}\""),
        Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
    };
    admin.batch_execute(&create).await?;
    let db = connect_to(&admin_url, &name).await?;
    Ok(TestDatabase {
        db,
        admin_url,
        name,
        kept: false,
    })
}

/// A pool on database `name` of the server whose default database is `admin_url`.
pub(crate) async fn connect_to(admin_url: &str, name: &str) -> Result<Database> {
    Database::builder(admin_url)
        .dbname(name)
        .max_connections(8)
        .statement_mode(statement_mode_from_env()?)
        .connect()
        .await
}

impl TestDatabase {
    /// Gives up the guard without dropping the database (a template kept for the whole
    /// process): its admin URL and name. Its pool is closed.
    pub(crate) fn keep(mut self) -> (String, String) {
        self.kept = true;
        (
            std::mem::take(&mut self.admin_url),
            std::mem::take(&mut self.name),
        )
    }
}
