//! [`Database`]: a pool of connections and the entry point for running statements.
//!
//! Every method of `Database` is in this folder:
//! - `mod.rs`: the type, its pool settings ([`DatabaseBuilder`]) and status, connecting;
//! - `transactions.rs`: `begin`, `begin_with`, `transaction`, `transaction_with`;
//! - `connection.rs`: `connection`, one connection held by the caller ([`Connection`]);
//! - sessions are opened by `session`, `session_with` and `retry`, which live with the session
//!   (`session/open.rs`) so that the session depends on the database, not the reverse;
//! - `schema.rs`: `create_all`, `drop_all` (and the free functions of the same names, for any
//!   [`Executor`]).
//!
//! The statement methods (`fetch_all`, `execute`, ...) are the [`Executor`] trait's.

mod connection;
mod schema;
mod transactions;

pub use connection::Connection;
pub use schema::{advisory_lock_key, create_all, drop_all};

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::tokio_postgres::{self, NoTls};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};

use crate::conn::{Conn, Settings};
use crate::executor::Executor;
use crate::executor::sealed::{Acquire, ConnRef};
use crate::{Error, Result};

/// A PostgreSQL database reached through a pool of connections.
///
/// Cheap to clone (all clones share the pool). Run statements with the [`Executor`] methods;
/// each call checks a connection out for its own duration.
///
/// ```no_run
/// use orm_postgres::prelude::*;
///
/// # async fn run() -> orm_postgres::Result<()> {
/// let db = Database::connect("postgres://postgres@localhost/app").await?;
/// let n: i64 = db.fetch_one(select_values(func::value(41_i64).add(1))).await?;
/// assert_eq!(n, 42);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    settings: Arc<Settings>,
    /// The client-side limit of each statement run through this handle.
    query_timeout: Option<Duration>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.pool.status();
        f.debug_struct("Database")
            .field("max_size", &s.max_size)
            .field("size", &s.size)
            .field("available", &s.available)
            .finish()
    }
}

/// Pool and connection settings. Every wait has a timeout by default: nothing waits forever.
///
/// | setting | default |
/// |---|---|
/// | `max_connections` | 16 |
/// | `wait_timeout` (waiting for a free connection) | 30 s |
/// | `connect_timeout` (opening a connection) | 10 s |
/// | `recycle_timeout` (checking a returned connection) | 5 s |
/// | `statement_timeout` (server-side, per statement) | none |
/// | `query_timeout` (client-side, per statement: fires on a frozen server too) | 5 min |
/// | TCP keepalives (idle, interval, probes) | 60 s, 10 s, 6 |
/// | `echo` (print every statement to stderr) | off |
#[derive(Debug, Clone)]
pub struct DatabaseBuilder {
    url: String,
    max_connections: usize,
    wait_timeout: Duration,
    connect_timeout: Duration,
    recycle_timeout: Duration,
    statement_timeout: Option<Duration>,
    query_timeout: Option<Duration>,
    keepalives: Option<Keepalives>,
    application_name: String,
    dbname: Option<String>,
    echo: bool,
}

/// TCP keepalive settings: a connection whose peer stops acknowledging probes (a network black
/// hole, a host that vanished) is detected after `idle + interval * retries` and fails as
/// [`ConnectionLost`](crate::ErrorKind::ConnectionLost) instead of hanging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalives {
    /// Idle time before the first probe.
    pub idle: Duration,
    /// Time between probes.
    pub interval: Duration,
    /// Unanswered probes before the connection is declared dead.
    pub retries: u32,
}

impl Default for Keepalives {
    /// 60 s, 10 s, 6 probes: a dead peer is noticed within two minutes (the operating
    /// system's own default waits more than two hours).
    fn default() -> Self {
        Keepalives {
            idle: Duration::from_secs(60),
            interval: Duration::from_secs(10),
            retries: 6,
        }
    }
}

/// The default [`query_timeout`](DatabaseBuilder::query_timeout).
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(300);

impl DatabaseBuilder {
    /// Connects to this database instead of the one named in the URL.
    pub fn dbname(mut self, name: impl Into<String>) -> Self {
        self.dbname = Some(name.into());
        self
    }

    /// The most connections the pool opens.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// How long a call waits for a free connection before a
    /// [`PoolTimeout`](crate::ErrorKind::PoolTimeout) error.
    pub fn wait_timeout(mut self, t: Duration) -> Self {
        self.wait_timeout = t;
        self
    }

    /// How long opening a connection may take.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// How long checking a returned connection may take.
    pub fn recycle_timeout(mut self, t: Duration) -> Self {
        self.recycle_timeout = t;
        self
    }

    /// The server cancels any statement running longer (SQLSTATE 57014, reported as
    /// [`StatementTimeout`](crate::ErrorKind::StatementTimeout)).
    pub fn statement_timeout(mut self, t: Duration) -> Self {
        self.statement_timeout = Some(t);
        self
    }

    /// The client-side limit of each statement: when the server has not answered within it,
    /// the call fails with [`QueryTimeout`](crate::ErrorKind::QueryTimeout), the statement is
    /// cancelled through the cancel protocol, and its connection is closed (inside a
    /// transaction, the transaction is lost). Unlike `statement_timeout`, it needs no help
    /// from the server, so it fires on a frozen server or a network black hole. `None`: no
    /// limit. Default: 5 minutes. Per call: [`Database::with_query_timeout`].
    pub fn query_timeout(mut self, t: Option<Duration>) -> Self {
        self.query_timeout = t;
        self
    }

    /// TCP keepalives of every connection; `None` turns them off. Default:
    /// [`Keepalives::default`].
    pub fn keepalives(mut self, k: Option<Keepalives>) -> Self {
        self.keepalives = k;
        self
    }

    /// The `application_name` the server shows in `pg_stat_activity`.
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }

    /// Prints every statement and its duration to stderr, like SQLAlchemy's `echo=True`.
    /// Parameter values are never printed. (Statements are also always traced with `tracing`
    /// at debug level.)
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// Builds the pool without connecting yet.
    pub fn build(self) -> Result<Database> {
        if self.max_connections == 0 {
            return Err(Error::config("max_connections must be at least 1", None));
        }
        let mut config = tokio_postgres::Config::from_str(&self.url).map_err(|e| {
            Error::config(
                "invalid database URL (expected postgres://user:password@host:port/database)",
                Some(Box::new(e)),
            )
        })?;
        if config.get_hosts().is_empty() {
            return Err(Error::config("the database URL names no host", None));
        }
        if let Some(name) = &self.dbname {
            config.dbname(name);
        }
        config.connect_timeout(self.connect_timeout);
        match self.keepalives {
            Some(k) => {
                config
                    .keepalives(true)
                    .keepalives_idle(k.idle)
                    .keepalives_interval(k.interval)
                    .keepalives_retries(k.retries);
            }
            None => {
                config.keepalives(false);
            }
        }
        config.application_name(&self.application_name);
        if let Some(t) = self.statement_timeout {
            config.options(format!("-c statement_timeout={}", t.as_millis()));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(self.max_connections)
            .wait_timeout(Some(self.wait_timeout))
            .create_timeout(Some(self.connect_timeout))
            .recycle_timeout(Some(self.recycle_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::config("cannot build the connection pool", Some(Box::new(e))))?;
        Ok(Database {
            pool,
            query_timeout: self.query_timeout,
            settings: Arc::new(Settings {
                echo: self.echo,
                statements: std::sync::atomic::AtomicU64::new(0),
                fast_checkout: Timeouts {
                    wait: Some(Duration::ZERO),
                    create: Some(self.connect_timeout),
                    recycle: None,
                },
            }),
        })
    }

    /// Builds the pool and opens one connection, so a bad URL, an unreachable server or a
    /// wrong password is reported here rather than at the first query.
    pub async fn connect(self) -> Result<Database> {
        let db = self.build()?;
        drop(db.checkout().await?);
        Ok(db)
    }
}

/// How many connections the pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Connections open now (idle or in use).
    pub size: usize,
    /// Idle connections ready for use.
    pub available: usize,
}

impl Database {
    /// Settings for a database at `url` (`postgres://user:password@host:port/database`).
    pub fn builder(url: impl Into<String>) -> DatabaseBuilder {
        DatabaseBuilder {
            url: url.into(),
            max_connections: 16,
            wait_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            recycle_timeout: Duration::from_secs(5),
            statement_timeout: None,
            query_timeout: Some(DEFAULT_QUERY_TIMEOUT),
            keepalives: Some(Keepalives::default()),
            application_name: "orm-postgres".into(),
            dbname: None,
            echo: false,
        }
    }

    /// Connects to `url` with the default settings, opening one connection to check it.
    pub async fn connect(url: &str) -> Result<Database> {
        Database::builder(url).connect().await
    }

    /// Connects to the URL in the `DATABASE_URL` environment variable.
    pub async fn connect_env() -> Result<Database> {
        Database::builder(database_url_from_env()?).connect().await
    }

    /// How many statements this database (all its clones and transactions) has sent so far,
    /// including `BEGIN`/`COMMIT`. Compare two readings to count the queries of an operation:
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let before = db.statement_count();
    /// db.fetch_all(select::<User>()).await?;
    /// assert_eq!(db.statement_count() - before, 1);
    /// # Ok(()) }
    /// ```
    pub fn statement_count(&self) -> u64 {
        self.settings
            .statements
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// This database with another client-side [query
    /// timeout](DatabaseBuilder::query_timeout) for the statements run through the returned
    /// handle (sharing the pool): `db.with_query_timeout(Some(Duration::from_secs(2)))
    /// .fetch_all(q)` for one call, or a whole transaction begun on it.
    pub fn with_query_timeout(&self, t: Option<Duration>) -> Database {
        Database {
            query_timeout: t,
            ..self.clone()
        }
    }

    /// A connection out of the pool, with this handle's settings.
    pub(crate) async fn checkout(&self) -> Result<Conn> {
        Conn::checkout(&self.pool, self.settings.clone(), self.query_timeout).await
    }

    /// How many connections the pool holds now.
    pub fn status(&self) -> PoolStatus {
        let s = self.pool.status();
        PoolStatus {
            max_size: s.max_size,
            size: s.size,
            available: s.available,
        }
    }
}

impl Acquire for Database {
    async fn acquire(&self) -> Result<ConnRef<'_>> {
        Ok(ConnRef::Owned(self.checkout().await?))
    }
}

impl Executor for Database {}

/// `DATABASE_URL`, or a configuration error saying it is missing.
pub(crate) fn database_url_from_env() -> Result<String> {
    std::env::var("DATABASE_URL").map_err(|_| {
        Error::config(
            "DATABASE_URL is not set (e.g. postgres://postgres:postgres@localhost:5432/orm)",
            None,
        )
    })
}
