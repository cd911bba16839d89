//! [`DatabaseBuilder`]: the connection string, its overrides and the pool's settings, checked
//! and turned into a [`Database`](super::Database).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::replicas::{ReadYourWrites, ReplicaSettings};
use crate::StatementMode;
use crate::config::SslMode;
use crate::config::redact::{Secret, redact};

/// How to reach the database and how the pool behaves. Every wait has a timeout by default:
/// nothing waits forever.
///
/// The connection string is a `postgres://` URL or libpq `key=value` pairs, with libpq's
/// parameters (see the README's *Connecting*). A setting made with a builder method wins over
/// the same setting in the connection string, and the string wins over libpq's environment
/// variables, which fill only what both leave unset, as in libpq:
///
/// | variable | parameter | variable | parameter |
/// |---|---|---|---|
/// | `PGHOST` | `host` | `PGSSLMODE` | `sslmode` |
/// | `PGHOSTADDR` | `hostaddr` | `PGSSLROOTCERT` | `sslrootcert` |
/// | `PGPORT` | `port` | `PGSSLCERT`, `PGSSLKEY` | `sslcert`, `sslkey` |
/// | `PGDATABASE` | `dbname` | `PGSSLNEGOTIATION` | `sslnegotiation` |
/// | `PGUSER` | `user` | `PGSSLCERTMODE` | `sslcertmode` |
/// | `PGPASSWORD` | `password` | `PGSSLSNI` | `sslsni` |
/// | `PGPASSFILE` | `passfile` | `PGSSLMINPROTOCOLVERSION`, `PGSSLMAXPROTOCOLVERSION` | `ssl_min_protocol_version`, `ssl_max_protocol_version` |
/// | `PGOPTIONS` | `options` | `PGSSLCOMPRESSION` | `sslcompression` (accepted, no effect) |
/// | `PGAPPNAME` | `application_name` | `PGREQUIRESSL` (`1`) | `sslmode=require`, without `sslmode` or `PGSSLMODE` |
/// | `PGCONNECT_TIMEOUT` | `connect_timeout` | `PGCHANNELBINDING` | `channel_binding` |
/// | `PGTARGETSESSIONATTRS` | `target_session_attrs` | `PGCLIENTENCODING` | `client_encoding` (UTF8 only) |
/// | `PGLOADBALANCEHOSTS` | `load_balance_hosts` | `PGGSSENCMODE` | `gssencmode` (`disable`, `prefer`) |
///
/// A variable set to a value its parameter does not take, or to one this library does not
/// implement (`PGSSLMODE=allow`, `PGSERVICE`, `PGSSLCRL`, `PGREQUIREAUTH`, ...), is the same
/// [`ConfigError`](crate::ConfigError) as that value in the string, naming the variable; an
/// empty variable is set (as for libpq: `PGSSLMODE=` is an invalid `sslmode`). The variables
/// whose settings have no parameter here (`PGSERVICEFILE`, `PGTZ`, `PGDATESTYLE`, `PGGEQO`,
/// ...) are not read: a warning, once per process, names those that are set.
/// [`environment`](Self::environment) replaces the process's environment.
///
/// | setting | default |
/// |---|---|
/// | `max_connections` | 16 |
/// | `wait_timeout` (waiting for a free connection) | 30 s |
/// | `connect_timeout` (opening a connection, per address tried) | `connect_timeout` of the URL (or `PGCONNECT_TIMEOUT`), else 10 s |
/// | `statement_timeout` (server-side, per statement) | none |
/// | `query_timeout` (client-side, per statement: fires on a frozen server too) | 5 min |
/// | TCP keepalives (idle, interval, probes) | the URL's `keepalives*`, else 60 s, 10 s, 6 |
/// | `ssl_mode` | the URL's `sslmode` (or `PGSSLMODE`), else `verify-full` with `sslrootcert=system` (as libpq), else `prefer` |
/// | `echo` (print every statement to stderr) | off |
/// | `slow_statement_threshold` (log slower statements at WARN) | off |
/// | `statement_mode` (named and cached, or unnamed for pgbouncer) | the URL's `statement_mode`, else [`Cached`](StatementMode::Cached) |
///
/// `Debug` shows the connection string with its password replaced by `***`.
#[derive(Clone)]
pub struct DatabaseBuilder {
    url: String,
    password: Option<Secret>,
    ssl_mode: Option<SslMode>,
    ssl_root_cert: Option<PathBuf>,
    ssl_client_cert: Option<(PathBuf, PathBuf)>,
    max_connections: usize,
    wait_timeout: Duration,
    connect_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
    query_timeout: Option<Duration>,
    /// `None`: the URL's, else the default; `Some(None)`: off.
    keepalives: Option<Option<Keepalives>>,
    application_name: Option<String>,
    dbname: Option<String>,
    echo: bool,
    slow_statement: Option<Duration>,
    statement_mode: Option<StatementMode>,
    call_site_tags: bool,
    #[cfg(feature = "cache")]
    result_cache: Option<crate::ResultCache>,
    /// The replicas' connection strings.
    replicas: Vec<String>,
    replica_settings: ReplicaSettings,
    /// Where the environment variables come from; `None`: the process's environment.
    environment: Option<Environment>,
}

/// An environment of the caller's ([`DatabaseBuilder::environment`]).
type Environment = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl std::fmt::Debug for DatabaseBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseBuilder")
            .field("url", &redact(&self.url))
            .field("password", &self.password)
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .field("ssl_client_cert", &self.ssl_client_cert)
            .field("max_connections", &self.max_connections)
            .field("wait_timeout", &self.wait_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("query_timeout", &self.query_timeout)
            .field("keepalives", &self.keepalives)
            .field("application_name", &self.application_name)
            .field("dbname", &self.dbname)
            .field("echo", &self.echo)
            .field("slow_statement", &self.slow_statement)
            .field("statement_mode", &self.statement_mode)
            .field(
                "replicas",
                &self.replicas.iter().map(|r| redact(r)).collect::<Vec<_>>(),
            )
            .field("replica_settings", &self.replica_settings)
            .field(
                "environment",
                &if self.environment.is_some() {
                    "the caller's"
                } else {
                    "the process's"
                },
            )
            .finish_non_exhaustive()
    }
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

/// The most connections a pool may have ([`DatabaseBuilder::max_connections`]): PostgreSQL's
/// own limit on its `max_connections`.
pub const MAX_CONNECTIONS: usize = 262_143;

/// The default [`connect_timeout`](DatabaseBuilder::connect_timeout).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `application_name` when neither the builder nor the URL gives one.
const DEFAULT_APPLICATION_NAME: &str = "orm-postgres";

impl DatabaseBuilder {
    pub(super) fn new(url: String) -> DatabaseBuilder {
        DatabaseBuilder {
            url,
            password: None,
            ssl_mode: None,
            ssl_root_cert: None,
            ssl_client_cert: None,
            max_connections: 16,
            wait_timeout: Duration::from_secs(30),
            connect_timeout: None,
            statement_timeout: None,
            query_timeout: Some(DEFAULT_QUERY_TIMEOUT),
            keepalives: None,
            application_name: None,
            dbname: None,
            echo: false,
            slow_statement: None,
            statement_mode: None,
            call_site_tags: false,
            #[cfg(feature = "cache")]
            result_cache: None,
            replicas: Vec::new(),
            replica_settings: ReplicaSettings {
                read_your_writes: ReadYourWrites::default(),
                max_lag: None,
                check_interval: Duration::from_secs(1),
                check_timeout: Duration::from_secs(2),
            },
            environment: None,
        }
    }

    /// Adds a read replica (a streaming standby of the primary), with its own pool and this
    /// builder's settings (those its methods set: password, TLS, timeouts, pool size). What
    /// the primary's URL says (user, password, `sslmode`, `options`) is not copied: write it
    /// in the replica's URL too. Plain reads
    /// outside a transaction go to the replicas in turn; writes, transactions, sessions,
    /// `FOR UPDATE`/`FOR SHARE`, raw SQL that is not a plain `SELECT`, and migrations go to
    /// the primary. A replica that does not answer leaves the rotation, and reads fall back to
    /// the others, then to the primary. See the README's *Scaling out*.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # async fn run() -> orm_postgres::Result<()> {
    /// let db = Database::builder("postgres://app@db1/app?target_session_attrs=read-write")
    ///     .replica("postgres://app@db2/app")
    ///     .replica("postgres://app@db3/app")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn replica(mut self, url: impl Into<String>) -> Self {
        self.replicas.push(url.into());
        self
    }

    /// Where a client's reads go right after it wrote (see [`ReadYourWrites`]; the built
    /// database and its clones are one client,
    /// [`Database::with_own_writes`](super::Database::with_own_writes) makes others). Default:
    /// [`ReadYourWrites::Lsn`] for 5 seconds.
    pub fn read_your_writes(mut self, mode: ReadYourWrites) -> Self {
        self.replica_settings.read_your_writes = mode;
        self
    }

    /// A replica whose replay lag exceeds `max` leaves the rotation until a later check finds
    /// it caught up. Checked at most once per [check
    /// interval](Self::replica_check_interval), on the connection of the read that finds the
    /// check due. Default: no limit.
    pub fn max_replica_lag(mut self, max: Option<Duration>) -> Self {
        self.replica_settings.max_lag = max;
        self
    }

    /// How often a replica's lag is checked (with a lag limit), and how long a replica out of
    /// the rotation stays out before the next read tries it again. Default: 1 s.
    pub fn replica_check_interval(mut self, t: Duration) -> Self {
        self.replica_settings.check_interval = t;
        self
    }

    /// How long getting a replica's connection, or checking its lag or its replay position,
    /// may take before the read goes elsewhere (and, for a connection that does not open, the
    /// replica leaves the rotation; one whose connections are all at work stays). Default: 2 s.
    pub fn replica_check_timeout(mut self, t: Duration) -> Self {
        self.replica_settings.check_timeout = t;
        self
    }

    /// Connects to this database instead of the one named in the URL.
    pub fn dbname(mut self, name: impl Into<String>) -> Self {
        self.dbname = Some(name.into());
        self
    }

    /// The password, kept out of the URL (and of every `Debug` output). Wins over a password
    /// in the URL and over `PGPASSWORD`; without any of them, `.pgpass` is read (`passfile`,
    /// `PGPASSFILE` or `~/.pgpass`).
    ///
    /// ```no_run
    /// # use orm_postgres::Database;
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let secret = std::fs::read_to_string("/run/secrets/db_password")?;
    /// let db = Database::builder("postgres://app@db.internal/app")
    ///     .password(secret.trim())
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Secret::new(password));
        self
    }

    /// How much TLS to insist on (libpq's `sslmode`; see [`SslMode`]). Wins over the URL's.
    pub fn ssl_mode(mut self, mode: SslMode) -> Self {
        self.ssl_mode = Some(mode);
        self
    }

    /// A PEM file of the root certificates the server's certificate must chain to (libpq's
    /// `sslrootcert`). Wins over the URL's.
    ///
    /// ```no_run
    /// # use orm_postgres::{Database, SslMode};
    /// # async fn run() -> orm_postgres::Result<()> {
    /// let db = Database::builder("postgres://app@db.internal/app")
    ///     .ssl_mode(SslMode::VerifyFull)
    ///     .ssl_root_cert("/etc/app/db-ca.pem")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn ssl_root_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.ssl_root_cert = Some(path.into());
        self
    }

    /// A client certificate (PEM, with any intermediates after it) and its unencrypted
    /// private key (PEM, mode 0600), sent when the server asks for one (libpq's `sslcert` and
    /// `sslkey`; for `cert` authentication in `pg_hba.conf`). Wins over the URL's.
    pub fn ssl_client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.ssl_client_cert = Some((cert.into(), key.into()));
        self
    }

    /// The most connections the pool opens: from 1 to [`MAX_CONNECTIONS`], PostgreSQL's own
    /// most (the pool sets aside a slot for each when it is built).
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

    /// How long opening a connection to one address may take, all of it: the TCP connect, the
    /// TLS handshake, startup and authentication (an address that accepts the connection and
    /// then never answers is given up after it, and the next one tried). As in libpq, it
    /// applies to each address separately: a host name's lookup gets it, then each address
    /// the name has, in turn, then the next host of the list. Wins over the URL's
    /// `connect_timeout`.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = Some(t);
        self
    }

    /// Has no effect. A connection taken from the pool is checked locally (is it closed?),
    /// without a round trip, so the check finishes at once and no timer guards it.
    #[deprecated(
        since = "0.1.0",
        note = "the check of a pooled connection makes no round trip; this limit has no effect"
    )]
    pub fn recycle_timeout(self, t: Duration) -> Self {
        let _ = t;
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
    /// limit. Default: 5 minutes. Per call: [`Database::with_query_timeout`](super::Database::with_query_timeout).
    pub fn query_timeout(mut self, t: Option<Duration>) -> Self {
        self.query_timeout = t;
        self
    }

    /// TCP keepalives of every connection; `None` turns them off. Wins over the URL's
    /// `keepalives*` parameters. Default: [`Keepalives::default`].
    pub fn keepalives(mut self, k: Option<Keepalives>) -> Self {
        self.keepalives = Some(k);
        self
    }

    /// The `application_name` the server shows in `pg_stat_activity`. Wins over the URL's.
    /// Default: the URL's `application_name`, else its `fallback_application_name`, else
    /// `orm-postgres`.
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = Some(name.into());
        self
    }

    /// Where libpq's environment variables (`PGHOST`, `PGSSLMODE`, ... and `HOME`, `USER`) are
    /// read from when the database is built: the process's environment unless this is called.
    /// `vars` is given a variable's name and returns its value (`None`: not set; an empty value
    /// is a set variable, as for libpq). A closure that returns `None` for everything keeps the
    /// connection string (and the builder) the only source of settings, with no `~/.pgpass`
    /// and no `~/.postgresql/` files either.
    ///
    /// ```
    /// # use orm_postgres::Database;
    /// # use std::collections::HashMap;
    /// let vars = HashMap::from([("PGHOST", "db.internal"), ("PGUSER", "app")]);
    /// let db = Database::builder("dbname=shop")
    ///     .environment(move |name| vars.get(name).map(|v| v.to_string()))
    ///     .build()?;
    /// assert!(format!("{db:?}").contains("app@db.internal:5432/shop"));
    /// # Ok::<(), orm_postgres::Error>(())
    /// ```
    pub fn environment(
        mut self,
        vars: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.environment = Some(Arc::new(vars));
        self
    }

    /// Prints every statement and its duration to stderr, like SQLAlchemy's `echo=True`.
    /// Parameter values are never printed. (Statements are also always traced with `tracing`
    /// at debug level.)
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// Logs every statement that takes longer than `threshold` as a `tracing` event at WARN
    /// level, `slow statement`, with its SQL (never the values), rows, `elapsed_ms` and
    /// `threshold_ms`, whatever the subscriber's filter for the DEBUG-level statement spans.
    /// `None` (the default) turns the log off.
    pub fn slow_statement_threshold(mut self, threshold: Option<Duration>) -> Self {
        self.slow_statement = threshold;
        self
    }

    /// How statements are sent: named and cached per connection (the default), or unnamed, for
    /// pgbouncer and other poolers in transaction mode (see [`StatementMode`]). Wins over the
    /// URL's `statement_mode`.
    ///
    /// ```no_run
    /// # use orm_postgres::{Database, StatementMode};
    /// # async fn run() -> orm_postgres::Result<()> {
    /// let db = Database::builder("postgres://app@pgbouncer.internal:6432/app")
    ///     .statement_mode(StatementMode::Unnamed)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn statement_mode(mut self, mode: StatementMode) -> Self {
        self.statement_mode = Some(mode);
        self
    }

    /// Appends a [sqlcommenter](https://google.github.io/sqlcommenter/spec/) comment to the
    /// statements sent by the [`Executor`](crate::Executor) methods (`fetch_all`, `fetch_one`,
    /// `fetch_optional`, `fetch_page`, `execute`, `stream`) and the session's queries: the
    /// Rust file and line that called them (`#[track_caller]`) and the tags of
    /// [`Database::tagged`](crate::Database::tagged), keys sorted and values percent-encoded, so
    /// no value can end the comment. Off by default.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run() -> orm_postgres::Result<()> {
    /// let db = Database::builder("postgres://localhost/app").call_site_tags(true).build()?;
    /// // SELECT ... FROM "users" /*file='src%2Fmain.rs',line='5'*/
    /// let users = db.fetch_all(select::<User>()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// The comment depends only on the call site and the tags, so each call site and statement
    /// shape is one prepared statement (not one per value).
    pub fn call_site_tags(mut self, on: bool) -> Self {
        self.call_site_tags = on;
        self
    }

    /// Gives the database a result cache (feature `cache`): queries marked
    /// [`.cached(ttl)`](crate::stmt::Select::cached), and those reading only tables registered
    /// with [`ResultCache::model`](crate::ResultCache::model) or declaring
    /// `#[model(cache_ttl = ...)]`, are served from memory until
    /// their time to live passes or a commit through this database (or, with
    /// [`notify_channel`](crate::ResultCache::notify_channel), through any database on the
    /// channel) writes a table they read. See the README's *Result cache*.
    #[cfg(feature = "cache")]
    pub fn result_cache(mut self, cache: crate::ResultCache) -> Self {
        self.result_cache = Some(cache);
        self
    }
}

mod build;

#[cfg(test)]
mod tests;
