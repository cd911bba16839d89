//! The runtime side of `#[orm_postgres::test]`: databases cloned from templates that are set
//! up once per test binary. Not called directly; see the attribute's documentation in
//! `orm_postgres::test`.
//!
//! A test names its setup ([`Setup`]: migrations, tables, a setup function, SQL fixtures). The
//! first test of the binary with a given setup creates a *template* database and applies the
//! setup to it; every test then gets `CREATE DATABASE … TEMPLATE` of it — a file copy, a few
//! milliseconds — so a test costs the same whatever its setup. Tests asking for a rolled-back
//! transaction take turns on a few clones per setup instead ([`shared_database`]): each in a
//! transaction of its own, on a clone no other running test holds.
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
            db.create_all(&self.tables).await.map_err(|e| {
                let what = format!("create_all of tables(..) failed{}", self.missing_tables());
                setup_error(self.key, &what, Box::new(e))
            })?;
        }
        for (path, sql) in &self.fixtures {
            db.batch_execute(sql).await.map_err(|e| {
                setup_error(self.key, &format!("fixture {path} failed"), Box::new(e))
            })?;
        }
        Ok(())
    }
}

impl Setup {
    /// The tables the listed ones reference that `tables(..)` does not list, as a hint after
    /// `create_all` failed (`relation "users" does not exist`): `` (`orders` references
    /// `users`, which tables(..) does not list)``; empty when there are none.
    fn missing_tables(&self) -> String {
        let listed = |schema: Option<&str>, name: &str| {
            self.tables
                .iter()
                .any(|t| t.name == name && (schema.is_none() || t.schema == schema))
        };
        let mut missing: Vec<String> = Vec::new();
        for t in &self.tables {
            for fk in t.columns.iter().filter_map(|c| c.references.as_ref()) {
                let hint = format!("`{}` references `{}`", t.name, fk.table);
                if !listed(fk.schema, fk.table) && !missing.contains(&hint) {
                    missing.push(hint);
                }
            }
        }
        if missing.is_empty() {
            return String::new();
        }
        format!(" ({}, which tables(..) does not list)", missing.join(", "))
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

/// Ends a test whose database could not be set up (or whose transaction could not begin or
/// roll back), with the error's message and, one per line, each error under it that the
/// message does not already hold; not with what `expect` prints (the error's `Debug` form,
/// escaped quotes and all).
#[track_caller]
pub fn setup_failed(what: &str, error: &Error) -> ! {
    let mut message = format!("{what}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        let line = e.to_string();
        // A wrapper's message often repeats its source's: each line once.
        if !message.contains(&line) {
            message.push_str("\ncaused by: ");
            message.push_str(&line);
        }
        source = e.source();
    }
    panic!("{message}")
}

/// The copies of each setup's template that tests in rolled-back transactions take in turn:
/// `(admin_url, name)` of every copy no running test holds, per setup key.
type Spares = Mutex<HashMap<&'static str, Vec<(String, String)>>>;

fn spares() -> &'static Spares {
    static SPARES: OnceLock<Spares> = OnceLock::new();
    SPARES.get_or_init(Spares::default)
}

/// A copy of a setup's template held by one test in a rolled-back transaction
/// ([`shared_database`]): a pool on it, and the copy given back to the next such test when
/// this one ends. A test that panicked does not give it back (its transaction may still be
/// rolling back on the server); the next test gets a new copy instead.
pub struct SharedDatabase {
    db: Database,
    key: &'static str,
    copy: Option<(String, String)>,
}

impl std::fmt::Debug for SharedDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedDatabase")
            .field("key", &self.key)
            .field("name", &self.copy.as_ref().map(|c| &c.1))
            .finish()
    }
}

impl std::ops::Deref for SharedDatabase {
    type Target = Database;
    fn deref(&self) -> &Database {
        &self.db
    }
}

impl SharedDatabase {
    /// The copy's name.
    pub fn name(&self) -> &str {
        self.copy.as_ref().map_or("", |c| c.1.as_str())
    }
}

impl Drop for SharedDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Some(copy) = self.copy.take() {
            let mut spares = spares().lock().unwrap_or_else(|e| e.into_inner());
            spares.entry(self.key).or_default().push(copy);
        }
    }
}

/// A copy of `setup`'s template for one test in a rolled-back transaction: one no other
/// running test holds, so concurrent tests never wait on each other's uncommitted rows (a
/// unique key both insert) or deadlock. Copies are reused, test after test, so a binary makes
/// about as many as it runs such tests at once; a new pool on it per test (a pool belongs to
/// the runtime of the test that made it).
pub async fn shared_database(setup: &Setup) -> Result<SharedDatabase> {
    let spare = spares()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(setup.key)
        .and_then(Vec::pop);
    let copy = match spare {
        Some(copy) => copy,
        None => {
            let t = if setup.is_empty() {
                crate::test_database().await?
            } else {
                let (_, template) = template(setup).await?;
                create_database("orm_shared", Some(&template)).await?
            };
            let kept = t.keep();
            drop_at_exit(&kept);
            kept
        }
    };
    let db = connect_to(&copy.0, &copy.1).await?;
    Ok(SharedDatabase {
        db,
        key: setup.key,
        copy: Some(copy),
    })
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
