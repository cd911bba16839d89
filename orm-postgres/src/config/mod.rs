//! Connection settings in libpq's terms: a connection string (a `postgres://` URL or
//! `key=value` pairs) parsed into [`ConnectOptions`], with typed errors ([`ConfigError`]) for
//! what is malformed, unknown or not implemented.
//!
//! - `url.rs` and `keyvalue.rs` read the two forms into the same key-value pairs;
//! - `env.rs` fills what the string leaves unset from libpq's environment variables
//!   (`PGHOST`, `PGSSLMODE`, ...);
//! - `params.rs` is the table of libpq's parameters: what each one sets;
//! - `ssl.rs` holds the TLS settings ([`SslMode`], root and client certificates) as data;
//! - `statement_mode.rs` is [`StatementMode`], ours rather than libpq's (`statement_mode=`);
//! - `pgpass.rs` looks passwords up in a `.pgpass` file;
//! - `redact.rs` keeps passwords out of `Debug` output and logs;
//! - `error.rs` is [`ConfigError`].

mod env;
mod error;
mod keyvalue;
mod params;
pub(crate) mod pgpass;
pub(crate) mod redact;
pub(crate) mod ssl;
mod statement_mode;
mod url;

#[cfg(test)]
pub(crate) use env::MapEnv;
pub(crate) use env::{Env, FnEnv, ProcessEnv, unread as unread_variables};
pub use error::ConfigError;
pub use ssl::SslMode;
pub use statement_mode::StatementMode;

use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use deadpool_postgres::tokio_postgres::config::{ChannelBinding, TargetSessionAttrs};

use redact::Secret;
use ssl::SslSettings;

/// The port libpq uses when none is given.
pub(crate) const DEFAULT_PORT: u16 = 5432;

/// One `key=value` setting of a connection string, with the span of its raw value in the
/// string (for redaction).
#[derive(Debug)]
pub(crate) struct Pair {
    pub key: String,
    pub value: String,
    pub span: Range<usize>,
}

impl Pair {
    fn new(key: &str, value: String, span: Range<usize>) -> Pair {
        Pair {
            key: key.to_owned(),
            value,
            span,
        }
    }
}

/// The pairs' keys and values, for tests to compare.
#[cfg(test)]
pub(crate) fn key_values(pairs: Vec<Pair>) -> Vec<(String, String)> {
    pairs.into_iter().map(|p| (p.key, p.value)).collect()
}

/// The settings of a connection string as key-value pairs, whichever form it has.
pub(crate) fn pairs(conninfo: &str) -> Result<Vec<Pair>, ConfigError> {
    if url::is_url(conninfo) {
        url::parse(conninfo)
    } else if conninfo.contains("://") {
        Err(ConfigError::InvalidUrl {
            reason: "it must start with postgresql:// or postgres://".into(),
        })
    } else if conninfo.trim().is_empty() || conninfo.contains('=') {
        keyvalue::parse(conninfo)
    } else {
        Err(ConfigError::NotAConnectionString)
    }
}

/// Everything a connection string can say, checked value by value. Lists of hosts, host
/// addresses and ports are checked against each other by [`targets`](Self::targets).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectOptions {
    pub host: Vec<String>,
    pub hostaddr: Vec<String>,
    pub port: Vec<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub passfile: Option<PathBuf>,
    pub dbname: Option<String>,
    pub options: Option<String>,
    pub application_name: Option<String>,
    pub fallback_application_name: Option<String>,
    pub connect_timeout: Option<Duration>,
    pub keepalives: Option<bool>,
    pub keepalives_idle: Option<Duration>,
    pub keepalives_interval: Option<Duration>,
    pub keepalives_count: Option<u32>,
    pub tcp_user_timeout: Option<Duration>,
    pub channel_binding: Option<ChannelBinding>,
    pub target_session_attrs: Option<TargetSessionAttrs>,
    pub load_balance_random: bool,
    pub ssl: SslSettings,
    /// Not libpq's: `statement_mode=cached|unnamed` ([`StatementMode`]).
    pub statement_mode: Option<StatementMode>,
    /// The parameters the environment gave, each with its variable (`("sslmode",
    /// "PGSSLMODE")`), so that an error about one names the variable.
    pub from_env: Vec<(&'static str, &'static str)>,
}

impl ConnectOptions {
    /// Parses a connection string.
    #[cfg(test)]
    pub(crate) fn parse(conninfo: &str) -> Result<ConnectOptions, ConfigError> {
        ConnectOptions::resolve(conninfo, &[], &MapEnv::default())
    }

    /// Parses a connection string, and fills what neither it nor the caller (`given`: the
    /// parameters the builder sets) gives from libpq's environment variables, as libpq does.
    pub(crate) fn resolve(
        conninfo: &str,
        given: &[&str],
        env: &dyn Env,
    ) -> Result<ConnectOptions, ConfigError> {
        let mut options = ConnectOptions::default();
        let mut set: Vec<String> = given.iter().map(|&g| g.to_owned()).collect();
        for pair in pairs(conninfo)? {
            params::apply(&mut options, &pair.key, &pair.value)?;
            set.push(env::parameter(&pair.key).to_owned());
        }
        env::fill(&mut options, &set, env)?;
        Ok(options)
    }

    /// `e`, naming the environment variable that gave the parameter it is about, if one did.
    pub(crate) fn blame(&self, e: ConfigError) -> ConfigError {
        self.from_env
            .iter()
            .fold(e, |e, &(param, var)| env::named(e, param, var))
    }

    /// The servers to try, in order: the host list paired with the host addresses and ports.
    pub(crate) fn targets(&self) -> Result<Vec<Target>, ConfigError> {
        // No host at all is one empty entry: libpq's default server.
        let n = self.host.len().max(self.hostaddr.len()).max(1);
        if !self.host.is_empty() && !self.hostaddr.is_empty() && self.hostaddr.len() != n {
            return Err(ConfigError::HostCountMismatch {
                hosts: n,
                list: "hostaddr",
                count: self.hostaddr.len(),
            });
        }
        if self.port.len() > 1 && self.port.len() != n {
            return Err(ConfigError::HostCountMismatch {
                hosts: n,
                list: "port",
                count: self.port.len(),
            });
        }
        (0..n)
            .map(|i| {
                let port = match self.port.get(i).or_else(|| self.port.first()) {
                    None => DEFAULT_PORT,
                    Some(p) if p.is_empty() => DEFAULT_PORT,
                    Some(p) => p
                        .parse::<u16>()
                        .ok()
                        .filter(|&p| p != 0)
                        .ok_or_else(|| ConfigError::InvalidPort { value: p.clone() })?,
                };
                let hostaddr = match self.hostaddr.get(i).filter(|a| !a.is_empty()) {
                    None => None,
                    Some(a) => Some(a.parse::<IpAddr>().map_err(|_| {
                        ConfigError::invalid("hostaddr", a, "an IPv4 or IPv6 address")
                    })?),
                };
                let host = match (self.host.get(i).filter(|h| !h.is_empty()), hostaddr) {
                    (Some(h), _) if h.starts_with('/') => Host::Unix(PathBuf::from(h)),
                    (Some(h), _) if h.starts_with('@') => {
                        return Err(ConfigError::unsupported(
                            "host",
                            Some(h),
                            "abstract Unix sockets are not supported; use a socket directory",
                        ));
                    }
                    (Some(h), _) => Host::Tcp(h.clone()),
                    // libpq checks the certificate against hostaddr when no host name is given.
                    (None, Some(addr)) => Host::Tcp(addr.to_string()),
                    (None, None) => default_host(port, DEFAULT_SOCKET_DIRS),
                };
                Ok(Target {
                    host,
                    hostaddr,
                    port,
                })
            })
            .collect()
    }
}

/// The socket directories libpq is built with, in the order tried: Debian's, then upstream's
/// default. (`.pgpass` calls each of them `localhost`.)
pub(crate) const DEFAULT_SOCKET_DIRS: &[&str] = &["/var/run/postgresql", "/run/postgresql", "/tmp"];

/// libpq's default server, for an empty or missing host (`postgres:///shop`, `host=a,,b`):
/// on Unix, the local server's socket directory: the first of `dirs` holding the socket of
/// `port` (Debian's libpq looks in `/var/run/postgresql`, a libpq built from source in
/// `/tmp`; a server is found in either), else the first that exists, else the last; elsewhere
/// `localhost`.
fn default_host(port: u16, dirs: &[&str]) -> Host {
    if !cfg!(unix) {
        return Host::Tcp("localhost".to_owned());
    }
    let socket = |dir: &&&str| Path::new(dir).join(format!(".s.PGSQL.{port}")).exists();
    let dir = dirs
        .iter()
        .find(socket)
        .or_else(|| dirs.iter().find(|dir| Path::new(dir).is_dir()))
        .or(dirs.last())
        .copied()
        .unwrap_or("/tmp");
    Host::Unix(PathBuf::from(dir))
}

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    /// A host name or IP address (the name the certificate is checked against).
    Tcp(String),
    /// A directory holding the server's socket `.s.PGSQL.<port>`.
    Unix(PathBuf),
}

/// One server to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub host: Host,
    /// Connect to this address instead of resolving the host name (libpq's `hostaddr`).
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Unix(dir) => write!(f, "{}/.s.PGSQL.{}", dir.display(), self.port),
            Host::Tcp(name) if name.contains(':') => write!(f, "[{name}]:{}", self.port),
            Host::Tcp(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

#[cfg(test)]
mod tests;
