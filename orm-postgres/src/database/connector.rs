//! Opening one connection, for the pool or for a caller that drives it itself (a
//! [`Listener`](crate::Listener)): libpq's host list tried in order, each host with its own
//! password (from `.pgpass` when none was given) and TLS mode (none on a Unix socket), and each
//! address of a host name with its own `connect_timeout`, as in libpq.

use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use deadpool_postgres::tokio_postgres::config::SslMode as PgSslMode;
use deadpool_postgres::tokio_postgres::tls::MakeTlsConnect;
use deadpool_postgres::tokio_postgres::{self, Client};
use futures_util::future::BoxFuture;

use crate::config::pgpass::{self, Wanted};
use crate::config::redact::Secret;
use crate::config::{Host, SslMode, Target};
use crate::connect_failure::{self, Failed, Failures, Place, Timeout};
use crate::driver_error;
use crate::metrics::PoolCounters;
use crate::unnamed::TypeEpoch;
use crate::{StatementMode, tls};

/// Opens connections to the first server of the list that accepts one.
pub(crate) struct Connector {
    /// Everything but the host, the password and the TLS mode.
    pub(super) base: tokio_postgres::Config,
    /// The servers, in the order given (non-empty: checked when the database is built).
    pub(super) targets: Vec<Target>,
    /// Try the servers in a random order (`load_balance_hosts=random`).
    pub(super) random_order: bool,
    /// The password given (builder, URL or `PGPASSWORD`); `None`: look in `passfile`.
    pub(super) password: Option<Secret>,
    /// The `.pgpass` file to look in when no password was given.
    pub(super) passfile: Option<PathBuf>,
    /// The user and database name `.pgpass` lines are matched against.
    pub(super) user: String,
    pub(super) dbname: String,
    pub(super) ssl_mode: SslMode,
    pub(super) tls: tls::Connector,
    /// `.pgpass` problems are logged once per database, not once per connection.
    pub(super) warned: AtomicBool,
    /// In the unnamed mode, a new connection loads the database's user-defined types first.
    pub(super) statement_mode: StatementMode,
    /// When the database's statements last changed types (shared with its connections).
    pub(super) type_epoch: Arc<TypeEpoch>,
    /// How host names become addresses.
    pub(super) resolver: Resolver,
}

/// How host names become addresses.
pub(crate) enum Resolver {
    /// The system's resolver (`getaddrinfo`, on a blocking thread), as libpq's.
    System,
    /// A table of names and their addresses, in order: the tests' names with several
    /// addresses, which no resolver of the test machine has.
    #[cfg(test)]
    Fixed(Vec<(String, Vec<IpAddr>)>),
}

impl Resolver {
    /// The addresses of `name`, in the resolver's order, without repeats.
    async fn lookup(&self, name: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
        let found: Vec<IpAddr> = match self {
            Resolver::System => tokio::net::lookup_host((name, port))
                .await?
                .map(|a| a.ip())
                .collect(),
            #[cfg(test)]
            Resolver::Fixed(table) => table
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, addresses)| addresses.clone())
                .unwrap_or_default(),
        };
        let mut unique = Vec::with_capacity(found.len());
        for address in found {
            if !unique.contains(&address) {
                unique.push(address);
            }
        }
        Ok(unique)
    }
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("targets", &self.targets)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .field("password", &self.password)
            .field("ssl_mode", &self.ssl_mode)
            .finish()
    }
}

impl Connector {
    /// The password for one server: the one given, or the first matching `.pgpass` line.
    fn password_for(&self, target: &Target) -> Option<Secret> {
        if let Some(p) = &self.password {
            return Some(p.clone());
        }
        // Found when the database was built, with the environment it was built with.
        let path = self.passfile.as_deref()?;
        let wanted = Wanted {
            target,
            dbname: &self.dbname,
            user: &self.user,
        };
        match pgpass::lookup(path, &wanted) {
            Ok(found) => found,
            Err(warning) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!("{warning}");
                }
                None
            }
        }
    }

    /// The driver's settings for one server.
    fn config_for(&self, target: &Target) -> tokio_postgres::Config {
        let mut config = self.base.clone();
        let mode = match &target.host {
            Host::Tcp(name) => {
                config.host(name);
                match self.ssl_mode {
                    SslMode::Disable => PgSslMode::Disable,
                    // Without the `tls` feature, `prefer` means plain text (libpq without TLS).
                    SslMode::Prefer if cfg!(not(feature = "tls")) => PgSslMode::Disable,
                    SslMode::Prefer => PgSslMode::Prefer,
                    _ => PgSslMode::Require,
                }
            }
            // As in libpq, sslmode does not apply to Unix-domain sockets.
            #[cfg(unix)]
            Host::Unix(dir) => {
                config.host_path(dir);
                PgSslMode::Disable
            }
            #[cfg(not(unix))]
            Host::Unix(dir) => {
                config.host(dir.to_string_lossy());
                PgSslMode::Disable
            }
        };
        config.ssl_mode(mode);
        if let Some(addr) = target.hostaddr {
            config.hostaddr(addr);
        }
        config.port(target.port);
        if let Some(p) = self.password_for(target) {
            config.password(p.expose());
        }
        config
    }

    /// The servers in the order to try them.
    fn order(&self) -> Vec<&Target> {
        let mut order: Vec<&Target> = self.targets.iter().collect();
        if self.random_order {
            shuffle(&mut order);
        }
        order
    }

    /// The addresses to try for one server, each to get its own `connect_timeout`: those of a
    /// host name, looked up here within `limit` (the driver would try them all within one
    /// attempt, so a first address that never answers would use up the time of the others),
    /// in a random order with `load_balance_hosts=random` (as libpq). `None` lets the driver
    /// connect as configured: to a socket, `hostaddr` or an IP address, which need no lookup,
    /// and to a name the lookup found nothing for, so that the driver's own attempt (a lookup
    /// again) reports why.
    async fn addresses(
        &self,
        target: &Target,
        limit: Option<Duration>,
    ) -> Result<Vec<Option<IpAddr>>, tokio_postgres::Error> {
        let name = match &target.host {
            Host::Tcp(name) if target.hostaddr.is_none() && name.parse::<IpAddr>().is_err() => name,
            _ => return Ok(vec![None]),
        };
        match within(limit, async {
            Ok(self.resolver.lookup(name, target.port).await)
        })
        .await?
        {
            Ok(found) if !found.is_empty() => {
                let mut found: Vec<Option<IpAddr>> = found.into_iter().map(Some).collect();
                if self.random_order {
                    shuffle(&mut found);
                }
                Ok(found)
            }
            Ok(_) | Err(_) => Ok(vec![None]),
        }
    }
}

/// Shuffles `items` (`load_balance_hosts=random`). No cryptographic need: a hash of the
/// clock, with the process's random keys.
fn shuffle<T>(items: &mut [T]) {
    if items.len() < 2 {
        return;
    }
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let mut seed = hasher.finish();
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// `attempt`, given up after `limit` with the driver's timeout error.
async fn within<T>(
    limit: Option<Duration>,
    attempt: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, tokio_postgres::Error> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, attempt)
            .await
            .unwrap_or_else(|_| Err(tokio_postgres::Error::__private_api_timeout())),
        None => attempt.await,
    }
}

/// `attempt`'s output, or `None` when `deadline` passed first.
async fn until<T>(
    deadline: Option<tokio::time::Instant>,
    attempt: impl Future<Output = T>,
) -> Option<T> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, attempt).await.ok(),
        None => Some(attempt.await),
    }
}

/// A connection of its own to the database's server, not the pool's: the driver's client and
/// its IO, which the caller drives (polling it delivers the server's notifications).
pub(crate) type DirectConnection = tokio_postgres::Connection<
    tokio_postgres::Socket,
    <tls::Connector as MakeTlsConnect<tokio_postgres::Socket>>::Stream,
>;

impl Connector {
    /// One connection to one address, within `limit`. Under `sslmode=prefer`, as in libpq, a
    /// new connection to the same address without TLS, within what is left of `limit`, when
    /// the server accepted TLS and the handshake failed, or when it refused the startup over
    /// TLS before authentication completed (see `tls/watch.rs`). When that fails too, the
    /// error is the handshake's (what kept the connection from being encrypted), or, after a
    /// refusal, the plain attempt's (the later and as telling).
    async fn attempt(
        &self,
        config: &tokio_postgres::Config,
        limit: Option<Duration>,
    ) -> Result<(Client, DirectConnection), tokio_postgres::Error> {
        let deadline = limit.map(|limit| tokio::time::Instant::now() + limit);
        let (tls, progress) = self.tls.watched();
        let e = match until(deadline, config.connect(tls)).await {
            Some(Ok(opened)) => return Ok(opened),
            Some(Err(e)) => e,
            None => return Err(tokio_postgres::Error::__private_api_timeout()),
        };
        let fallback = match self.ssl_mode {
            SslMode::Prefer => progress.fallback(&e),
            _ => None,
        };
        let Some(fallback) = fallback else {
            return Err(e);
        };
        tracing::debug!(
            error = %e,
            "TLS failed under sslmode=prefer: trying again without TLS, as libpq"
        );
        let mut plain = config.clone();
        plain.ssl_mode(PgSslMode::Disable);
        let retried = until(deadline, plain.connect(self.tls.clone()))
            .await
            .unwrap_or_else(|| Err(tokio_postgres::Error::__private_api_timeout()));
        match (retried, fallback) {
            (Ok(opened), _) => Ok(opened),
            (Err(plain_error), tls::Fallback::Handshake) => {
                tracing::debug!(error = %plain_error, "the plain-text retry failed too");
                Err(e)
            }
            (Err(plain_error), tls::Fallback::Refused) => Err(plain_error),
        }
    }

    /// Opens one connection to the first server of the list that accepts one.
    ///
    /// As in libpq, `connect_timeout` applies to each address separately: a host name's lookup
    /// gets it, then each of its addresses, in turn, until one accepts. It bounds the whole
    /// attempt, not only the socket's connect (all the driver bounds with it): the TLS
    /// handshake and the startup and authentication exchange too, so that a server that
    /// accepts the connection and then never answers is given up, and the next address or
    /// server tried.
    ///
    /// When none accepts, the error lists every attempt, in order: where it went (the host as
    /// written, the address tried, the port) and why it failed (see `connect_failure.rs`).
    pub(crate) async fn open(&self) -> Result<(Client, DirectConnection), Failures> {
        let limit = self.base.get_connect_timeout().copied();
        let mut failed = Vec::new();
        for target in self.order() {
            let config = self.config_for(target);
            let addresses = match self.addresses(target, limit).await {
                Ok(addresses) => addresses,
                Err(e) => {
                    tracing::debug!(server = %target, error = %e, "host name lookup failed");
                    failed.push(Failed {
                        place: Place {
                            lookup: true,
                            ..place(target, None)
                        },
                        timeout: timed_out(&e).then_some(Timeout(limit)),
                        error: e,
                    });
                    continue;
                }
            };
            for address in addresses {
                let mut at_address;
                let config = match address {
                    Some(ip) => {
                        at_address = config.clone();
                        at_address.hostaddr(ip);
                        &at_address
                    }
                    None => &config,
                };
                match self.attempt(config, limit).await {
                    Ok(opened) => {
                        tracing::debug!(server = %target, address = ?address, "connected");
                        return Ok(opened);
                    }
                    Err(e) => {
                        tracing::debug!(
                            server = %target,
                            address = ?address,
                            error = %e,
                            "connection attempt failed"
                        );
                        failed.push(Failed {
                            place: place(target, address),
                            timeout: timed_out(&e).then_some(Timeout(limit)),
                            error: e,
                        });
                    }
                }
            }
        }
        match failed.pop() {
            Some(last) => Err(Failures {
                earlier: failed,
                last,
            }),
            // No server to try (the builder refuses that): the driver's own error for it.
            None => {
                let error = match tokio_postgres::Config::new()
                    .connect(self.tls.clone())
                    .await
                {
                    Ok(opened) => return Ok(opened),
                    Err(e) => e,
                };
                let nowhere = Place {
                    host: String::new(),
                    address: None,
                    port: 0,
                    socket: false,
                    lookup: false,
                };
                Err(Failures {
                    earlier: Vec::new(),
                    last: Failed {
                        place: nowhere,
                        error,
                        timeout: None,
                    },
                })
            }
        }
    }
}

/// Where an attempt at `target` went: `address`, else its `hostaddr`, else the host itself
/// when it is an IP address.
fn place(target: &Target, address: Option<IpAddr>) -> Place {
    let (host, socket) = match &target.host {
        Host::Tcp(name) => (name.clone(), false),
        Host::Unix(dir) => (dir.to_string_lossy().into_owned(), true),
    };
    let address = match &target.host {
        Host::Tcp(name) => address
            .or(target.hostaddr)
            .or_else(|| name.parse::<IpAddr>().ok()),
        Host::Unix(_) => None,
    };
    Place {
        host,
        address,
        port: target.port,
        socket,
        lookup: false,
    }
}

/// Whether `e` is the driver's timeout error: the connector's own limit (see [`within`] and
/// [`until`]) or the driver's on the socket's connect, both `connect_timeout`. The driver has
/// no accessor for it; its timeout error has no cause, and is told by its text, the driver's
/// own (not the server's).
fn timed_out(e: &tokio_postgres::Error) -> bool {
    use std::error::Error as _;
    e.source().is_none()
        && e.as_db_error().is_none()
        && e.to_string() == tokio_postgres::Error::__private_api_timeout().to_string()
}

/// What opens the pool's connections: the database's [`Connector`], counting what it opens
/// and what closes.
pub(crate) struct PoolConnect {
    pub(super) connector: Arc<Connector>,
    pub(super) counters: Arc<PoolCounters>,
}

impl deadpool_postgres::Connect for PoolConnect {
    fn connect(
        &self,
        _: &tokio_postgres::Config,
    ) -> BoxFuture<'_, Result<(Client, tokio::task::JoinHandle<()>), tokio_postgres::Error>> {
        Box::pin(async move {
            let mut attempts = 0;
            loop {
                attempts += 1;
                let connected = match self.connector.open().await {
                    Ok((client, connection)) => {
                        self.counters.opened();
                        drive(client, connection, self.counters.clone())
                    }
                    Err(Failures { earlier, last }) => {
                        self.counters.connect_failed();
                        // Deadpool carries the last attempt's driver error to the checkout,
                        // which takes the others back (see `connect_failure::stash`).
                        let earlier = earlier.into_iter().map(driver_error::attempt).collect();
                        connect_failure::stash(earlier, last.place, last.timeout, &last.error);
                        return Err(last.error);
                    }
                };
                // In the unnamed mode, with the database's user-defined types loaded (again on a
                // new connection, a few times at most, when this database changed types while
                // they loaded), within the connect timeout: the pool sets no limit of its own on
                // opening a connection.
                if self.connector.statement_mode == StatementMode::Unnamed {
                    let loading = Instant::now();
                    let limit = self.connector.base.get_connect_timeout().copied();
                    if let Err(e) =
                        within(limit, crate::unnamed::load_user_types(&connected.0)).await
                    {
                        // Not a failed connect: nothing for the checkout to take back.
                        connect_failure::clear();
                        return Err(e);
                    }
                    if self.connector.type_epoch.changed_after(loading) && attempts < 3 {
                        continue;
                    }
                }
                return Ok(connected);
            }
        })
    }
}

/// Runs the connection's IO in a task of its own, as the pool expects, counting its end:
/// the IO finished (the client dropped, the server or the network closed it) or the task
/// aborted (the pool aborts it when it drops a connection).
fn drive(
    client: Client,
    connection: DirectConnection,
    counters: Arc<PoolCounters>,
) -> (Client, tokio::task::JoinHandle<()>) {
    // Made outside the task, so that it is counted even when the task is aborted before its
    // first poll (the future is dropped with the guard in it).
    let count = CountClose(counters);
    let task = tokio::spawn(async move {
        let _count = count;
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "connection closed with an error");
        }
    });
    (client, task)
}

/// Counts a connection closed when its IO task ends, however it ends.
struct CountClose(Arc<PoolCounters>);

impl Drop for CountClose {
    fn drop(&mut self) {
        self.0.closed();
    }
}

#[cfg(test)]
mod tests;
