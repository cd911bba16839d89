//! Databases for tests and examples: the server in `DATABASE_URL` when it is set, otherwise the
//! throwaway [local cluster](crate::local) of this process.
//!
//! ```no_run
//! use orm_postgres::prelude::*;
//! # async fn run() -> orm_postgres::Result<()> {
//! // In a test: a database of its own, dropped when the guard is.
//! let t = orm_postgres::testing::test_database().await?;
//! t.db.batch_execute("CREATE TABLE t (id int PRIMARY KEY)").await?;
//!
//! // In an example: the default database (DATABASE_URL, or the local cluster's `postgres`).
//! let db = orm_postgres::testing::dev_database().await?;
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::database::database_url_from_env;
use crate::local::LocalCluster;
use crate::{Database, Error, ErrorKind, Executor, Result};

/// Where the databases live.
enum Server {
    /// `DATABASE_URL`.
    External(String),
    /// The process's throwaway cluster.
    Local(&'static LocalCluster),
}

impl Server {
    async fn get() -> Result<Server> {
        if let Ok(url) = database_url_from_env() {
            return Ok(Server::External(url));
        }
        let cluster = tokio::task::spawn_blocking(crate::local::shared)
            .await
            .map_err(|e| {
                Error::from(ErrorKind::LocalDatabase {
                    message: "starting the local cluster panicked".into(),
                    source: Some(Box::new(e)),
                })
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
    /// [`DatabaseBuilder::dbname`](crate::DatabaseBuilder::dbname) it reaches this database too.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
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

/// Creates a fresh database for one test; see [`TestDatabase`].
pub async fn test_database() -> Result<TestDatabase> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let server = Server::get().await?;
    let admin_url = server.url();
    let name = format!(
        "orm_test_{}_{}",
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
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    let db = Database::builder(admin_url.clone())
        .dbname(name.clone())
        .max_connections(8)
        .connect()
        .await?;
    Ok(TestDatabase {
        db,
        admin_url,
        name,
    })
}
