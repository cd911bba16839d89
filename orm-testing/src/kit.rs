//! The runtime side of `#[orm_postgres::test]`: databases cloned from templates that are set
//! up once per test binary. Not called directly; see the attribute's documentation in
//! `orm_postgres::test`.
//!
//! A test names its setup ([`Setup`]: migrations, tables, a setup function, SQL fixtures). The
//! first test of the binary with a given setup creates a *template* database and applies the
//! setup to it; every test then gets `CREATE DATABASE … TEMPLATE` of it — a file copy, a few
//! milliseconds — so a test costs the same whatever its setup. Tests asking for a rolled-back
//! transaction share one clone per setup instead, each in a transaction of its own.
//!
//! Templates and shared clones live as long as the test binary: on the local cluster they go
//! with it; on a `DATABASE_URL` server they are dropped when the process exits normally.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use orm_postgres::meta::Table;
use orm_postgres::{Database, Error, Executor, Result};
use tokio::sync::OnceCell;

use crate::database::{TestDatabase, connect_to, create_database};

/// Any error a setup step returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A setup step run on the template: applying migrations, or a user's setup function.
pub type Step = for<'a> fn(
    &'a Database,
)
    -> Pin<Box<dyn Future<Output = std::result::Result<(), BoxError>> + 'a>>;

/// What a test's database holds before the test runs, applied in this order: `steps` (the
/// migrations, then the setup function), `create_all` of `tables`, then the SQL `fixtures`.
pub struct Setup {
    /// Tests with the same key share a template: the macro makes it from the module path and the
    /// attribute's text.
    key: &'static str,
    steps: Vec<Step>,
    tables: Vec<&'static Table>,
    fixtures: Vec<(&'static str, &'static str)>,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("key", &self.key)
            .field("steps", &self.steps.len())
            .field(
                "tables",
                &self.tables.iter().map(|t| t.name).collect::<Vec<_>>(),
            )
            .field(
                "fixtures",
                &self.fixtures.iter().map(|f| f.0).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Setup {
    /// An empty setup under `key`.
    pub fn new(key: &'static str) -> Setup {
        Setup {
            key,
            steps: Vec::new(),
            tables: Vec::new(),
            fixtures: Vec::new(),
        }
    }

    /// Adds a step (migrations, a setup function).
    pub fn step(mut self, step: Step) -> Setup {
        self.steps.push(step);
        self
    }

    /// The tables `create_all` makes.
    pub fn tables(mut self, tables: Vec<&'static Table>) -> Setup {
        self.tables = tables;
        self
    }

    /// A SQL script (its path, for messages, and its text) run after the tables.
    pub fn fixture(mut self, path: &'static str, sql: &'static str) -> Setup {
        self.fixtures.push((path, sql));
        self
    }

    fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.tables.is_empty() && self.fixtures.is_empty()
    }

    /// Applies the setup to `db`.
    async fn apply(&self, db: &Database) -> Result<()> {
        for step in &self.steps {
            step(db)
                .await
                .map_err(|e| setup_error(self.key, "a setup step failed", e))?;
        }
        if !self.tables.is_empty() {
            db.create_all(&self.tables).await?;
        }
        for (path, sql) in &self.fixtures {
            db.batch_execute(sql).await.map_err(|e| {
                setup_error(self.key, &format!("fixture {path} failed"), Box::new(e))
            })?;
        }
        Ok(())
    }
}

fn setup_error(key: &str, what: &str, source: BoxError) -> Error {
    Error::config(
        format!("the test setup of {key}: {what}: {source}"),
        Some(source),
    )
}

/// One cell per setup key: the name of its template (or shared clone) once made.
type Cells = Mutex<HashMap<&'static str, Arc<OnceCell<(String, String)>>>>;

fn cell(cells: &'static Cells, key: &'static str) -> Arc<OnceCell<(String, String)>> {
    cells
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default()
        .clone()
}

/// The template of `setup`: created and set up by the first caller, `(admin_url, name)`.
async fn template(setup: &Setup) -> Result<(String, String)> {
    static TEMPLATES: OnceLock<Cells> = OnceLock::new();
    let cell = cell(TEMPLATES.get_or_init(Cells::default), setup.key);
    let made = cell
        .get_or_try_init(|| async {
            let t = create_database("orm_tmpl", None).await?;
            setup.apply(&t.db).await?;
            let kept = t.keep();
            drop_at_exit(&kept);
            Ok::<_, Error>(kept)
        })
        .await?;
    Ok(made.clone())
}

/// A fresh database for one test, holding `setup`.
pub async fn database(setup: &Setup) -> Result<TestDatabase> {
    if setup.is_empty() {
        return crate::test_database().await;
    }
    let (_, template) = template(setup).await?;
    create_database("orm_test", Some(&template)).await
}

/// The database that the tests of `setup` in rolled-back transactions share: one clone of the
/// template per setup, a new pool on it per test (a pool belongs to the runtime of the test
/// that made it).
pub async fn shared_database(setup: &Setup) -> Result<Database> {
    static SHARED: OnceLock<Cells> = OnceLock::new();
    let cell = cell(SHARED.get_or_init(Cells::default), setup.key);
    let (admin_url, name) = cell
        .get_or_try_init(|| async {
            let t = if setup.is_empty() {
                crate::test_database().await?
            } else {
                let (_, template) = template(setup).await?;
                create_database("orm_shared", Some(&template)).await?
            };
            let kept = t.keep();
            drop_at_exit(&kept);
            Ok::<_, Error>(kept)
        })
        .await?;
    connect_to(admin_url, name).await
}

/// The runtime a test runs on: tokio's current-thread runtime, or a multi-thread one, with IO
/// and timers, as `#[tokio::test]` builds it.
///
/// # Panics
/// When the runtime cannot be built (no more threads or file descriptors): the test cannot run.
pub fn runtime(multi_thread: bool) -> tokio::runtime::Runtime {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder
        .enable_all()
        .build()
        .expect("cannot build the test's tokio runtime")
}

/// Databases to drop when the process exits (on a `DATABASE_URL` server, which outlives it).
static TO_DROP: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn drop_at_exit(db: &(String, String)) {
    let mut list = TO_DROP.lock().unwrap_or_else(|e| e.into_inner());
    if list.is_empty() {
        #[cfg(unix)]
        // SAFETY: registers a plain `extern "C" fn()`, once (the list is empty only before the
        // first database is added).
        unsafe {
            libc::atexit(drop_all_at_exit);
        }
    }
    list.push(db.clone());
}

/// Drops the kept databases, on a thread with a runtime of its own (exit may come from inside
/// a runtime), bounded so that exit never hangs on an unreachable server.
#[cfg(unix)]
extern "C" fn drop_all_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        if std::env::var_os("DATABASE_URL").is_none() {
            return; // the local cluster goes away with everything in it
        }
        let list = std::mem::take(&mut *TO_DROP.lock().unwrap_or_else(|e| e.into_inner()));
        let worker = std::thread::spawn(move || {
            let rt = runtime(false);
            rt.block_on(async move {
                for (admin, name) in list {
                    let drop = async {
                        let db = Database::builder(admin).max_connections(1).build()?;
                        db.batch_execute(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await
                    };
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), drop).await;
                }
            });
        });
        let _ = worker.join();
    });
}
