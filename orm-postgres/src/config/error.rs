//! [`ConfigError`]: why a connection string or a connection setting was rejected.

use std::fmt;
use std::path::PathBuf;

use crate::{Error, ErrorKind};

/// Why a connection string or a connection setting was rejected, before any connection was
/// tried. It is the source of an [`ErrorKind::Config`] error; [`ConfigError::of`] finds it.
///
/// No variant ever holds a password or the contents of a key file: the messages can be logged.
///
/// ```
/// use orm_postgres::{ConfigError, Database};
///
/// let err = Database::builder("postgres://app@db.example:99999/app").build().unwrap_err();
/// assert!(matches!(ConfigError::of(&err), Some(ConfigError::InvalidPort { .. })));
/// assert_eq!(
///     err.to_string(),
///     "invalid configuration: invalid port \"99999\" (expected a number from 1 to 65535)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is neither a `postgres://` URL nor a `key=value` connection string.
    NotAConnectionString,
    /// A `postgres://` URL is malformed.
    InvalidUrl {
        /// What is wrong, and where.
        reason: String,
    },
    /// A `key=value` connection string is malformed.
    InvalidKeyValue {
        /// What is wrong, and where.
        reason: String,
    },
    /// A parameter libpq does not know (often a typo).
    UnknownParameter {
        /// The parameter as written.
        name: String,
    },
    /// A parameter was given a value it does not take.
    InvalidValue {
        /// The parameter.
        name: String,
        /// The value as written (never a password: any password is accepted).
        value: String,
        /// What it takes.
        expected: &'static str,
    },
    /// A libpq parameter or value this library does not implement.
    Unsupported {
        /// The parameter.
        name: String,
        /// The value, when only some values are unsupported.
        value: Option<String>,
        /// What to do instead.
        hint: &'static str,
    },
    /// A port that is not a number from 1 to 65535.
    InvalidPort {
        /// The port as written.
        value: String,
    },
    /// The lists of hosts and of host addresses or ports differ in length.
    HostCountMismatch {
        /// How many hosts.
        hosts: usize,
        /// `hostaddr` or `port`.
        list: &'static str,
        /// How many entries that list has.
        count: usize,
    },
    /// The settings ask for TLS but this build has no TLS (the `tls` feature is off).
    TlsNotBuilt {
        /// The `sslmode` asked for.
        mode: String,
    },
    /// A certificate, key or password file could not be read or holds nothing usable.
    File {
        /// Which file (`sslrootcert`, `sslcert`, `sslkey`, `passfile`).
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `sslmode=verify-ca` or `verify-full` without a root certificate to verify against.
    NoRootCert {
        /// The default file that was looked for, if any.
        looked_for: Option<PathBuf>,
    },
    /// A client key file readable by the group or others (libpq refuses it too).
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A pool or connection setting is out of range.
    Setting {
        /// The setting.
        name: &'static str,
        /// What it takes.
        reason: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NotAConnectionString => f.write_str(
                "not a connection string: expected a URL (postgres://user@host:5432/dbname) or \
                 key=value pairs (host=... dbname=...)",
            ),
            ConfigError::InvalidUrl { reason } => write!(f, "invalid database URL: {reason}"),
            ConfigError::InvalidKeyValue { reason } => {
                write!(f, "invalid connection string: {reason}")
            }
            ConfigError::UnknownParameter { name } => {
                write!(f, "unknown connection parameter {name:?}")
            }
            ConfigError::InvalidValue {
                name,
                value,
                expected,
            } => write!(f, "invalid {name} {value:?} (expected {expected})"),
            ConfigError::Unsupported { name, value, hint } => {
                match value {
                    Some(v) => write!(f, "{name}={v} is not supported")?,
                    None => write!(f, "the connection parameter {name} is not supported")?,
                }
                write!(f, ": {hint}")
            }
            ConfigError::InvalidPort { value } => {
                write!(
                    f,
                    "invalid port {value:?} (expected a number from 1 to 65535)"
                )
            }
            ConfigError::HostCountMismatch { hosts, list, count } => write!(
                f,
                "{hosts} host(s) but {count} {list} value(s): give one {list} for all hosts or \
                 one per host"
            ),
            ConfigError::TlsNotBuilt { mode } => write!(
                f,
                "sslmode={mode} needs TLS, but orm-postgres was built without its `tls` feature"
            ),
            ConfigError::File { what, path, reason } => {
                write!(f, "cannot use {what} file {}: {reason}", path.display())
            }
            ConfigError::NoRootCert { looked_for } => {
                f.write_str("server certificate verification needs a root certificate: ")?;
                if let Some(p) = looked_for {
                    write!(f, "{} does not exist; ", p.display())?;
                }
                f.write_str(
                    "give sslrootcert=/path/to/root.crt (or sslrootcert=system for the \
                     system's trusted roots), or use sslmode=require to encrypt without \
                     verifying the server",
                )
            }
            ConfigError::KeyPermissions { path, mode } => write!(
                f,
                "private key file {} has group or world access (mode {:o}); permissions should \
                 be u=rw (0600) or less",
                path.display(),
                mode & 0o777
            ),
            ConfigError::Setting { name, reason } => write!(f, "{name} {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// The `ConfigError` behind an [`ErrorKind::Config`] error, if that is what `err` is.
    pub fn of(err: &Error) -> Option<&ConfigError> {
        match err.kind() {
            ErrorKind::Config {
                source: Some(source),
                ..
            } => source.downcast_ref(),
            _ => None,
        }
    }

    pub(crate) fn invalid(name: &str, value: &str, expected: &'static str) -> ConfigError {
        ConfigError::InvalidValue {
            name: name.to_owned(),
            value: value.to_owned(),
            expected,
        }
    }

    pub(crate) fn unsupported(name: &str, value: Option<&str>, hint: &'static str) -> Self {
        ConfigError::Unsupported {
            name: name.to_owned(),
            value: value.map(str::to_owned),
            hint,
        }
    }

    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn file(
        what: &'static str,
        path: &std::path::Path,
        reason: impl fmt::Display,
    ) -> Self {
        ConfigError::File {
            what,
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Error {
        Error::config(e.to_string(), Some(Box::new(e)))
    }
}
