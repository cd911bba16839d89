//! [`Database`]: a pool of connections and the entry point for running statements.
//!
//! Every method of `Database` is in this folder:
//! - `mod.rs`: the type and its status;
//! - `builder.rs`: [`DatabaseBuilder`], the connection string and pool settings checked and
//!   turned into a database (the connection string itself is parsed in `config/`);
//! - `connector.rs`: opening a connection for the pool, host by host;
//! - `transactions.rs`: `begin`, `begin_with`, `transaction`, `transaction_with`;
//! - `connection.rs`: `connection`, one connection held by the caller ([`Connection`]);
//! - `replicas.rs`: the read replicas and the choice of a server for a read;
//! - `own_writes.rs`: read-your-writes per client: `with_own_writes`, `last_write`,
//!   `reads_after` and the [`WriteToken`];
//! - sessions are opened by `session`, `session_with` and `retry`, which live with the session
//!   (`session/open.rs`) so that the session depends on the database, not the reverse;
//! - `schema.rs`: `create_all`, `drop_all` (and the free functions of the same names, for any
//!   [`Executor`]).
//!
//! The statement methods (`fetch_all`, `execute`, ...) are the [`Executor`] trait's.

mod builder;
mod connection;
mod connector;
mod own_writes;
mod ping;
mod replicas;
mod schema;
mod transactions;

pub use builder::{DEFAULT_QUERY_TIMEOUT, DatabaseBuilder, Keepalives, MAX_CONNECTIONS};
pub use connection::Connection;
pub(crate) use connector::DirectConnection;
pub(crate) use ping::run_simple;
pub use schema::{advisory_lock_key, create_all, drop_all};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use deadpool_postgres::tokio_postgres::Client;
use futures_util::future::Either;

use crate::conn::{Conn, Settings};
use crate::executor::Executor;
use crate::executor::sealed::{Acquire, ConnRef};
use crate::metrics::{PoolMetrics, PoolStatus};
use crate::{Error, ErrorKind, PoolStage, Result};
use connector::Connector;
use orm_core::stmt::Criteria;
pub use own_writes::WriteToken;
pub use replicas::{ReadYourWrites, ReplicaState, ReplicaStatus, RoutingMetrics};
use replicas::{ReplicaSet, Route};

/// A PostgreSQL database reached through a pool of connections.
///
/// Cheap to clone (all clones share the pool). Run statements with the [`Executor`] methods;
/// each call checks a connection out for its own duration.
///
/// With [replicas](DatabaseBuilder::replica), each with its own pool, plain reads outside a
/// transaction run on a replica, everything else on the primary (see the README's *Scaling
/// out*, [`on_primary`](Database::on_primary), [`on_replica`](Database::on_replica) and
/// [`ReadYourWrites`]).
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
    /// `user@host:port/dbname (sslmode=...)`, for `Debug`: never a password.
    summary: Arc<str>,
    /// What opens connections (the pool's, and those a listener holds itself).
    connector: Arc<Connector>,
    /// The criteria every session opened on this handle starts with.
    criteria: Arc<Criteria>,
    /// Shared by the handles the application holds (not by the result cache's listener), so
    /// the listener stops when they are all dropped.
    #[cfg_attr(not(feature = "cache"), allow(dead_code))]
    owner: Arc<()>,
    /// The tags of [`tagged`](Database::tagged), for call-site comments.
    tags: Option<Arc<crate::call_site::Tags>>,
    /// The read replicas, when it has some (see `replicas.rs`).
    replicas: Option<Arc<ReplicaSet>>,
    /// With replicas: the write mark of the client this handle belongs to, shared by its
    /// clones (see `own_writes.rs`).
    writes: Option<Arc<own_writes::WriteMark>>,
    /// Which servers this handle's calls may use.
    route: Route,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.status();
        f.debug_struct("Database")
            .field("server", &self.summary)
            .field("max_size", &s.max_size)
            .field("size", &s.size)
            .field("available", &s.available)
            .field("replicas", &self.replicas.as_ref().map_or(0, |r| r.len()))
            .finish()
    }
}

impl Database {
    /// Settings for the database of a connection string: a URL
    /// (`postgres://user@host:port/database?sslmode=require`) or libpq key-value pairs
    /// (`host=... dbname=...`). Nothing is checked until [`build`](DatabaseBuilder::build) or
    /// [`connect`](DatabaseBuilder::connect).
    pub fn builder(url: impl Into<String>) -> DatabaseBuilder {
        DatabaseBuilder::new(url.into())
    }

    /// How many statements this database (all its clones and transactions) has sent so far,
    /// including `BEGIN`/`COMMIT`; with replicas, those sent to the primary (each replica's
    /// are in [`replicas`](Database::replicas)). Compare two readings to count the queries of
    /// an operation:
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

    /// Starts recording the SQL of every statement this database sends (through any clone,
    /// session or transaction of it) until the log is finished or dropped: see
    /// [`StatementLog`](crate::StatementLog) and [`assert_queries!`](crate::assert_queries).
    pub fn statement_log(&self) -> crate::StatementLog {
        crate::StatementLog::start(&self.settings.logs)
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

    /// This database with a global criteria on `M`'s rows (`AND`ed with any it has): every
    /// session opened on the returned handle (sharing the pool) includes it in every statement
    /// it runs, wherever the statement reads `M`'s table, and in relationship loads of `M`
    /// (see [`Session::with_criteria`](crate::Session::with_criteria)). The model-wide form
    /// of soft delete: `db.with_criteria::<Post>(Post::deleted_at.is_null())?`.
    ///
    /// Statements run on the database itself (or on its transactions and connections) are
    /// Core: they run as written, without criteria, as SQLAlchemy applies its loader criteria
    /// only through the ORM session. A condition naming another model's columns is an
    /// [`InvalidStatement`](crate::ErrorKind::InvalidStatement) error.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let db = db.with_criteria::<User>(User::email.is_not_null())?;
    /// let mut s = db.session();
    /// let users = s.all(select::<User>()).await?; // ... WHERE "users"."email" IS NOT NULL
    /// # Ok(()) }
    /// ```
    pub fn with_criteria<M: crate::Model>(
        &self,
        condition: impl Into<crate::Expr<bool>>,
    ) -> Result<Database> {
        let mut criteria = (*self.criteria).clone();
        criteria.add::<M>(condition)?;
        Ok(Database {
            criteria: Arc::new(criteria),
            ..self.clone()
        })
    }

    /// This database with the tag `key = value` (replacing one of the same key) in the
    /// call-site comment of every statement run through the returned handle, and through its
    /// transactions and sessions (sharing the pool): see
    /// [`DatabaseBuilder::call_site_tags`], which turns the comments on. Use values with few
    /// distinct forms (a route template, not a path with ids): each distinct comment is a
    /// prepared statement of its own.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let db = db.tagged("route", "/users/{id}");
    /// // SELECT ... /*file='src%2Fhandlers.rs',line='12',route='%2Fusers%2F%7Bid%7D'*/
    /// let users = db.fetch_all(select::<User>()).await?;
    /// # Ok(()) }
    /// ```
    pub fn tagged(&self, key: &str, value: &str) -> Database {
        Database {
            tags: Some(crate::call_site::Tags::with(self.tags.as_ref(), key, value)),
            ..self.clone()
        }
    }

    /// The criteria sessions opened on this handle start with.
    pub fn criteria(&self) -> &Criteria {
        &self.criteria
    }

    /// The same, shared with a new session.
    pub(crate) fn shared_criteria(&self) -> Arc<Criteria> {
        self.criteria.clone()
    }

    /// A connection for anything but a plain read: the primary's (marking a write for
    /// read-your-writes when it goes back), or a replica's on a handle pinned to replicas.
    ///
    /// The checkout functions return their inner future instead of awaiting it in an `async
    /// fn` of their own: each such layer would copy the whole checkout future into itself
    /// (callgrind, issue 17).
    pub(crate) fn checkout(&self) -> impl Future<Output = Result<Conn>> + Send + '_ {
        match &self.replicas {
            // Boxed: keeps the replica logic out of every statement's future.
            Some(set) if self.route == Route::Replica => {
                Either::Left(Box::pin(set.read(self, self.route)))
            }
            _ => Either::Right(self.checkout_primary(true)),
        }
    }

    /// A connection for a plain read: a replica's when this database has replicas and the
    /// handle is not pinned to the primary (see [`ReplicaSet::read`]), else the primary's.
    pub(crate) fn checkout_read(&self) -> impl Future<Output = Result<Conn>> + Send + '_ {
        match &self.replicas {
            Some(set) if self.route != Route::Primary => {
                Either::Left(Box::pin(set.read(self, self.route)))
            }
            _ => Either::Right(self.checkout_primary(false)),
        }
    }

    /// A connection out of this handle's own pool (counted); `write`: marks a write when it
    /// goes back, when the database has replicas.
    pub(crate) fn checkout_primary(
        &self,
        write: bool,
    ) -> impl Future<Output = Result<Conn>> + Send + '_ {
        self.checkout_with(write, self.query_timeout, self.tags.clone())
    }

    /// [`checkout_primary`](Self::checkout_primary) with the query timeout of the handle the
    /// call came through (a replica lends its connection to its primary's calls).
    pub(crate) async fn checkout_with(
        &self,
        write: bool,
        query_timeout: Option<Duration>,
        tags: Option<Arc<crate::call_site::Tags>>,
    ) -> Result<Conn> {
        let conn = Conn::checkout(&self.pool, self.settings.clone(), query_timeout, tags).await;
        let counters = &self.settings.counters;
        match &conn {
            Ok(_) => counters.checked_out(|| self.status()),
            Err(e) if matches!(e.kind(), ErrorKind::PoolTimeout(PoolStage::Wait)) => {
                counters.wait_timed_out(|| self.status());
            }
            Err(_) => {}
        }
        match (conn, &self.writes) {
            (Ok(mut conn), Some(mark)) if write => {
                conn.mark_write_on_release(mark.clone());
                Ok(conn)
            }
            (conn, _) => conn,
        }
    }

    /// `user@host:port/dbname (sslmode=...)`: the server, without secrets.
    pub(crate) fn server(&self) -> &str {
        &self.summary
    }

    /// This database with every call on the primary: reads that must see the latest data
    /// (`db.on_primary().fetch_one(q)`), or a session opened on it. Without replicas, the same
    /// database.
    pub fn on_primary(&self) -> Database {
        Database {
            route: Route::Primary,
            ..self.clone()
        }
    }

    /// This database with every call on a replica in rotation (round-robin; the primary when
    /// none is), read-your-writes left aside: reports and long reads that may be a little
    /// stale. Transactions and sessions begun on it run on the replica, read-only: a write
    /// there fails with the server's error (SQLSTATE 25006). Without replicas, the same
    /// database.
    pub fn on_replica(&self) -> Database {
        Database {
            route: Route::Replica,
            ..self.clone()
        }
    }

    /// The replicas of this database: their state (in rotation, down, lagging), lag, and the
    /// reads and statements each served. Empty without replicas.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// for r in db.replicas() {
    ///     println!("{}: {:?}, {} reads", r.server, r.state, r.reads);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn replicas(&self) -> Vec<ReplicaStatus> {
        self.replicas.as_ref().map_or_else(Vec::new, |r| r.status())
    }

    /// Where plain reads went: to replicas, or to the primary after a write
    /// (read-your-writes) or for want of a replica in rotation. Counted for the database, over
    /// all its clients ([`with_own_writes`](Database::with_own_writes)). All zero without
    /// replicas.
    pub fn routing(&self) -> RoutingMetrics {
        self.replicas
            .as_ref()
            .map_or_else(RoutingMetrics::default, |r| r.routing())
    }

    /// How this database sends statements: named and cached, or unnamed (see
    /// [`StatementMode`](crate::StatementMode)).
    pub fn statement_mode(&self) -> crate::StatementMode {
        self.settings.statement_mode
    }

    /// Tells this database that user-defined types (enums, domains, extensions) were created or
    /// altered by someone else — another process, another client, a migration tool — so that
    /// in the [unnamed statement mode](crate::StatementMode) the connections opened before now
    /// are closed at their next checkout, and new ones load the types. Its own statements that
    /// create or alter types do this by themselves. Does nothing in the cached mode, which
    /// loads a type when it first prepares a statement that uses it.
    ///
    /// ```no_run
    /// # async fn run(db: orm_postgres::Database) -> orm_postgres::Result<()> {
    /// // after another tool ran: CREATE TYPE mood AS ENUM ('happy', 'sad')
    /// db.types_changed();
    /// # Ok(()) }
    /// ```
    pub fn types_changed(&self) {
        self.settings.type_epoch.mark();
    }

    /// How many connections the pool holds now.
    pub fn status(&self) -> PoolStatus {
        self.settings.hot.adjust(self.pool.status().into())
    }

    /// What the pool holds now and what happened to its connections since the database was
    /// built: checkouts, wait timeouts, connections opened, closed, and discarded by reason.
    ///
    /// With the `metrics` feature, the same numbers are published through the `metrics` facade
    /// as they change: the counters `db.pool.checkouts`, `db.pool.wait_timeouts`,
    /// `db.pool.connections.opened`, `db.pool.connections.errors`, `db.pool.connections.closed`
    /// and `db.pool.connections.discarded` (label `reason`: `lost`, `broken`, `timed_out`,
    /// `unclean`, `requested`), and the gauges `db.pool.max`, `db.pool.size`, `db.pool.idle`,
    /// `db.pool.in_use` and `db.pool.waiting` (set at every checkout and return).
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let before = db.metrics();
    /// db.batch_execute("SELECT 1").await?;
    /// let after = db.metrics();
    /// assert_eq!(after.checkouts - before.checkouts, 1);
    /// assert_eq!(after.status.in_use, 0);
    /// # Ok(()) }
    /// ```
    pub fn metrics(&self) -> PoolMetrics {
        #[allow(unused_mut)]
        let mut m = self.settings.counters.snapshot(self.status());
        #[cfg(feature = "cache")]
        if let Some(store) = &self.settings.cache {
            m.cache = store.metrics();
        }
        m
    }

    /// Opens a connection of its own, outside the pool (and its counters), for a caller that
    /// drives it.
    pub(crate) async fn open_direct(&self) -> Result<(Client, DirectConnection)> {
        self.connector
            .open()
            .await
            .map_err(crate::driver_error::from_failures)
    }

    /// The client-side limit of each statement run through this handle.
    pub(crate) fn query_timeout(&self) -> Option<Duration> {
        self.query_timeout
    }
}

impl Acquire for Database {
    async fn acquire(&self) -> Result<ConnRef<'_>> {
        Ok(ConnRef::Owned(self.checkout().await?))
    }

    async fn acquire_for(&self, read: impl FnOnce() -> bool + Send) -> Result<ConnRef<'_>> {
        if self.replicas.is_none() {
            // The common case, one future less around the pool's.
            let conn = self
                .checkout_with(true, self.query_timeout, self.tags.clone())
                .await?;
            return Ok(ConnRef::Owned(conn));
        }
        let conn = match read() {
            true => self.checkout_read().await?,
            false => self.checkout().await?,
        };
        Ok(ConnRef::Owned(conn))
    }

    #[cfg(feature = "cache")]
    fn result_cache(&self) -> Option<&Arc<crate::cache::Store>> {
        self.settings.cache.as_ref()
    }
}

impl Database {
    /// The result cache, if the database has one.
    #[cfg(feature = "cache")]
    pub(crate) fn cache_store(&self) -> Option<Arc<crate::cache::Store>> {
        self.settings.cache.clone()
    }

    /// What the result cache's listener watches to know the application still holds this
    /// database.
    #[cfg(feature = "cache")]
    pub(crate) fn cache_owner(&self) -> std::sync::Weak<()> {
        Arc::downgrade(&self.owner)
    }

    /// A handle for the result cache's listener: sharing the pool, but not keeping the
    /// listener alive.
    #[cfg(feature = "cache")]
    pub(crate) fn for_listener(&self) -> Database {
        Database {
            owner: Arc::new(()),
            ..self.clone()
        }
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
