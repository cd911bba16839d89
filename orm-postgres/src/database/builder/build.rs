//! Building a [`Database`] from a [`DatabaseBuilder`]: the settings checked, the connection
//! string resolved with its overrides and the environment, the driver and pool configured.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use deadpool_postgres::tokio_postgres;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};

use crate::config::ssl::RootCert;
use crate::config::{ConfigError, ConnectOptions, Env, FnEnv, ProcessEnv, pgpass};
use crate::conn::Settings;
use crate::database::Database;
use crate::database::connector::{Connector, PoolConnect, Resolver};
use crate::database::replicas::{ReplicaSet, Route};
use crate::metrics::{PoolCounters, broken_check};
use crate::trace::Reporting;
use crate::unnamed::TypeEpoch;
use crate::{Error, Result, tls};

use super::{
    DEFAULT_APPLICATION_NAME, DEFAULT_CONNECT_TIMEOUT, DatabaseBuilder, Keepalives, MAX_CONNECTIONS,
};

impl DatabaseBuilder {
    /// Checks the settings and builds the pool without connecting yet. Certificate and key
    /// files are read here, so a bad one is reported now.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config), with a [`ConfigError`] saying what is
    /// wrong: a malformed URL, an unknown parameter, a bad port, an unreadable
    /// certificate, ...
    pub fn build(self) -> Result<Database> {
        match self.environment.clone() {
            Some(vars) => self.build_all(&FnEnv(&*vars)),
            None => self.build_all(&ProcessEnv),
        }
    }

    /// [`build`](Self::build) with the environment variables of `env`.
    pub(crate) fn build_in(self, env: &dyn Env) -> Result<Database> {
        if self.max_connections == 0 {
            return Err(ConfigError::Setting {
                name: "max_connections",
                reason: "must be at least 1",
            }
            .into());
        }
        // The pool allocates a slot per connection up front: a huge number would abort the
        // process (a failed allocation) or panic (the semaphore's limit), not fail.
        if self.max_connections > MAX_CONNECTIONS {
            return Err(ConfigError::Setting {
                name: "max_connections",
                reason: "must be at most 262143, the most PostgreSQL itself takes",
            }
            .into());
        }
        #[cfg(feature = "cache")]
        if let Some(c) = &self.result_cache {
            c.check()?;
        }
        let connector = self.connector(env)?;
        self.database(connector)
    }

    /// The database of these settings, opening its connections with `connector`.
    pub(in crate::database) fn database(self, connector: Connector) -> Result<Database> {
        let summary = summary(&connector);
        let dbname: Box<str> = connector.dbname.as_str().into();
        let tls = connector.tls.clone();
        let statement_mode = connector.statement_mode;
        let type_epoch = connector.type_epoch.clone();
        let connector = Arc::new(connector);
        let counters = Arc::new(PoolCounters::default());
        let manager = Manager::from_connect(
            connector.base.clone(),
            PoolConnect {
                connector: connector.clone(),
                counters: counters.clone(),
            },
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // No create timeout: the connector bounds opening a connection itself, giving each
        // host name's lookup and each address the connect timeout (as libpq), so the time it
        // may take depends on how many addresses the names have when they are looked up; a
        // limit set now (the connect timeout times the hosts, before) would cut the list short.
        // No recycle timeout: the recycle (the fast method and `broken_check`) makes no round
        // trip and finishes in its first poll, and its timer cost a `Sleep` per waiting
        // checkout, most checkouts of a busy pool (callgrind, issue 17).
        let pool = Pool::builder(manager)
            .max_size(self.max_connections)
            .wait_timeout(Some(self.wait_timeout))
            .runtime(Runtime::Tokio1)
            .pre_recycle(broken_check(counters.clone()))
            .build()
            .map_err(|e| Error::config("cannot build the connection pool", Some(Box::new(e))))?;
        Ok(Database {
            pool,
            query_timeout: self.query_timeout,
            criteria: Arc::default(),
            owner: Arc::default(),
            tags: None,
            settings: Arc::new(Settings {
                reporting: Reporting {
                    echo: self.echo,
                    slow: self.slow_statement,
                    dbname,
                },
                statements: AtomicU64::new(0),
                logs: Arc::default(),
                fast_checkout: Timeouts {
                    wait: Some(Duration::ZERO),
                    create: None,
                    recycle: None,
                },
                wait_timeout: self.wait_timeout,
                max_size: self.max_connections,
                demand: AtomicUsize::new(0),
                hot: crate::conn::HotSlot::default(),
                tls,
                counters,
                statement_mode,
                type_epoch,
                type_catalog: Arc::default(),
                call_site_tags: self.call_site_tags,
                #[cfg(feature = "cache")]
                cache: self
                    .result_cache
                    .map(|c| Arc::new(crate::cache::Store::new(c))),
                prepared: crate::conn::Prepared::default(),
            }),
            summary: summary.into(),
            connector,
            replicas: None,
            writes: None,
            route: Route::Auto,
        })
    }

    /// [`build_in`](Self::build_in), with the replicas: each a database of its own, built
    /// from these settings with its URL, sharing the primary's statement logs.
    pub(super) fn build_all(self, env: &dyn Env) -> Result<Database> {
        let urls = self.replicas.clone();
        let settings = self.replica_settings;
        let base = DatabaseBuilder {
            replicas: Vec::new(),
            ..self.clone()
        };
        let mut db = base.clone().build_in(env)?;
        if urls.is_empty() {
            return Ok(db);
        }
        let mut replicas = Vec::with_capacity(urls.len());
        for url in urls {
            let mut replica = DatabaseBuilder {
                url,
                ..base.clone()
            }
            .build_in(env)?;
            if let Some(s) = Arc::get_mut(&mut replica.settings) {
                s.logs = db.settings.logs.clone();
            }
            replicas.push(replica);
        }
        db.replicas = Some(Arc::new(ReplicaSet::new(replicas, settings)));
        db.writes = Some(Arc::default());
        Ok(db)
    }

    /// The connection string and the builder's settings, checked and resolved (user,
    /// password, TLS files).
    pub(in crate::database) fn connector(&self, env: &dyn Env) -> Result<Connector> {
        warn_unread_variables(env);
        let mut options = ConnectOptions::resolve(&self.url, &self.given(), env)?;
        self.apply_overrides(&mut options);
        let targets = options.targets().map_err(|e| options.blame(e))?;
        let user = options
            .user
            .clone()
            .or_else(|| env.non_empty("USER"))
            .or_else(|| env.non_empty("LOGNAME"))
            .ok_or(ConfigError::Setting {
                name: "user",
                reason: "is not given: put it in the URL (postgres://user@host/db) or PGUSER",
            })?;
        let dbname = options.dbname.clone().unwrap_or_else(|| user.clone());
        let password = options.password.clone();
        let passfile = match password {
            Some(_) => None,
            None => pgpass::path(options.passfile.as_deref(), env),
        };
        // As libpq: direct TLS has no plain-text fallback, so `prefer` cannot go with it (the
        // driver would refuse each connection, or, without the `tls` feature, speak plain text).
        let mode = options.ssl.effective_mode();
        if options.ssl.direct && !mode.requires_tls() {
            let e = ConfigError::unsupported(
                "sslnegotiation",
                Some("direct"),
                "it needs sslmode=require, verify-ca or verify-full (as in libpq)",
            );
            return Err(options.blame(e).into());
        }
        let tls = tls::connector(&options.ssl, env).map_err(|e| options.blame(e))?;
        let connect_timeout = self
            .connect_timeout
            .or(options.connect_timeout)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let connector = Connector {
            base: self.driver_config(&options, &user, &dbname, connect_timeout),
            targets,
            random_order: options.load_balance_random,
            password,
            passfile,
            user,
            dbname,
            ssl_mode: mode,
            tls,
            warned: AtomicBool::new(false),
            statement_mode: self
                .statement_mode
                .or(options.statement_mode)
                .unwrap_or_default(),
            type_epoch: Arc::new(TypeEpoch::new()),
            resolver: Resolver::System,
        };
        Ok(connector)
    }

    /// The libpq parameters the builder's methods set: given, so the environment is not read
    /// for them (as libpq does not read it for a parameter its caller passes).
    fn given(&self) -> Vec<&'static str> {
        [
            ("dbname", self.dbname.is_some()),
            ("password", self.password.is_some()),
            ("sslmode", self.ssl_mode.is_some()),
            ("sslrootcert", self.ssl_root_cert.is_some()),
            ("sslcert", self.ssl_client_cert.is_some()),
            ("sslkey", self.ssl_client_cert.is_some()),
            ("application_name", self.application_name.is_some()),
            ("connect_timeout", self.connect_timeout.is_some()),
        ]
        .into_iter()
        .filter_map(|(param, set)| set.then_some(param))
        .collect()
    }

    /// The builder's settings over the connection string's.
    fn apply_overrides(&self, options: &mut ConnectOptions) {
        if let Some(name) = &self.dbname {
            options.dbname = Some(name.clone());
        }
        if let Some(p) = &self.password {
            options.password = Some(p.clone());
        }
        if let Some(mode) = self.ssl_mode {
            options.ssl.mode = Some(mode);
        }
        if let Some(path) = &self.ssl_root_cert {
            options.ssl.root_cert = Some(RootCert::File(path.clone()));
        }
        if let Some((cert, key)) = &self.ssl_client_cert {
            options.ssl.cert = Some(cert.clone());
            options.ssl.key = Some(key.clone());
        }
    }

    /// The driver's settings common to every host.
    fn driver_config(
        &self,
        o: &ConnectOptions,
        user: &str,
        dbname: &str,
        connect_timeout: Duration,
    ) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config.user(user).dbname(dbname);
        config.connect_timeout(connect_timeout);
        let keepalives = match self.keepalives {
            Some(k) => k,
            None if o.keepalives == Some(false) => None,
            None => {
                let d = Keepalives::default();
                Some(Keepalives {
                    idle: o.keepalives_idle.unwrap_or(d.idle),
                    interval: o.keepalives_interval.unwrap_or(d.interval),
                    retries: o.keepalives_count.unwrap_or(d.retries),
                })
            }
        };
        match keepalives {
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
        if let Some(t) = o.tcp_user_timeout {
            config.tcp_user_timeout(t);
        }
        let application_name = self
            .application_name
            .as_deref()
            .or(o.application_name.as_deref())
            .or(o.fallback_application_name.as_deref())
            .unwrap_or(DEFAULT_APPLICATION_NAME);
        config.application_name(application_name);
        // The URL's `options`, then ours: a later `-c` wins on the server.
        let mut options: Vec<String> = o.options.iter().cloned().collect();
        if let Some(t) = self.statement_timeout {
            options.push(format!("-c statement_timeout={}", t.as_millis()));
        }
        if !options.is_empty() {
            config.options(options.join(" "));
        }
        if let Some(cb) = o.channel_binding {
            config.channel_binding(cb);
        }
        if let Some(attrs) = o.target_session_attrs {
            config.target_session_attrs(attrs);
        }
        if o.ssl.direct {
            config.ssl_negotiation(tokio_postgres::config::SslNegotiation::Direct);
        }
        config
    }
}

/// The libpq environment variables that are set and not read here.
pub(super) fn unread_variables(env: &dyn Env) -> Vec<&'static str> {
    crate::config::unread_variables(env)
}

/// Warns, once per process, of the libpq environment variables that are set and not read
/// (those whose settings have no parameter here: `PGTZ`, `PGSERVICEFILE`, ...), which a libpq
/// user may count on.
fn warn_unread_variables(env: &dyn Env) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.load(Ordering::Relaxed) {
        return;
    }
    let set = unread_variables(env);
    if !set.is_empty() && !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "the environment sets {}, which libpq reads and this library does not: put those \
             settings in the connection string (or the builder)",
            set.join(", ")
        );
    }
}

/// `user@host:port,host:port/dbname (sslmode=...)`, for `Debug` of a database: no secrets.
fn summary(c: &Connector) -> String {
    let hosts: Vec<String> = c.targets.iter().map(ToString::to_string).collect();
    format!(
        "{}@{}/{} (sslmode={})",
        c.user,
        hosts.join(","),
        c.dbname,
        c.ssl_mode
    )
}
