//! The TLS settings of a connection, as libpq names them: [`SslMode`], `sslrootcert`,
//! `sslcert`, `sslkey`, ... (plain data; the `tls` module turns them into a rustls
//! configuration).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::ConfigError;
use super::redact::Secret;

/// How much TLS a connection insists on: libpq's `sslmode`.
///
/// | mode | encrypted | server verified |
/// |---|---|---|
/// | `Disable` | never | no |
/// | `Prefer` (default) | when the server offers it | only if a root certificate is configured |
/// | `Require` | always | only if a root certificate is configured |
/// | `VerifyCa` | always | certificate chain (`sslrootcert`) |
/// | `VerifyFull` | always | certificate chain and host name |
///
/// Under `Prefer`, as in libpq, a failed TLS handshake (a certificate the client cannot verify
/// when a root certificate is configured, no protocol version in common, ...) or a server that
/// refuses the user over TLS before authenticating it (`pg_hba.conf` with only `hostnossl` for
/// it) is followed by a new connection to the same address in plain text.
///
/// As in libpq, `sslmode` does not apply to Unix-domain sockets, and a root certificate file
/// (`sslrootcert`, or `~/.postgresql/root.crt` when it exists) makes `Prefer` and `Require`
/// verify the chain too. libpq's `allow` (plain first, TLS if refused) is not supported.
///
/// ```
/// use orm_postgres::SslMode;
///
/// assert_eq!("verify-full".parse::<SslMode>().unwrap(), SslMode::VerifyFull);
/// assert_eq!(SslMode::Require.to_string(), "require");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// TLS when the server supports it, plain text otherwise, also when TLS fails (libpq's
    /// default).
    #[default]
    Prefer,
    /// TLS or no connection; the server's certificate is not checked (unless a root
    /// certificate is configured).
    Require,
    /// TLS, with a server certificate signed by a trusted root (`sslrootcert`).
    VerifyCa,
    /// TLS, with a server certificate signed by a trusted root and valid for the host name.
    VerifyFull,
}

impl SslMode {
    /// The libpq spelling: `disable`, `prefer`, `require`, `verify-ca`, `verify-full`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether the server's certificate chain must be verified whatever else is configured.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }

    /// Whether a connection without TLS is refused.
    pub(crate) fn requires_tls(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<SslMode, ConfigError> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            "allow" => {
                return Err(ConfigError::unsupported(
                    "sslmode",
                    Some(s),
                    "use prefer (TLS when offered) or disable",
                ));
            }
            _ => {
                return Err(ConfigError::invalid(
                    "sslmode",
                    s,
                    "disable, prefer, require, verify-ca or verify-full",
                ));
            }
        })
    }
}

/// Where trusted root certificates come from (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RootCert {
    /// A PEM file of one or more certificates.
    File(PathBuf),
    /// The operating system's trusted roots (`sslrootcert=system`).
    System,
}

/// A TLS protocol version bound (`ssl_min_protocol_version`, `ssl_max_protocol_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TlsVersion {
    Tls12,
    Tls13,
}

impl TlsVersion {
    pub(crate) fn parse(name: &str, value: &str) -> Result<TlsVersion, ConfigError> {
        match value {
            "TLSv1.2" => Ok(TlsVersion::Tls12),
            "TLSv1.3" => Ok(TlsVersion::Tls13),
            "TLSv1" | "TLSv1.1" => Err(ConfigError::unsupported(
                name,
                Some(value),
                "rustls speaks TLSv1.2 and TLSv1.3 only",
            )),
            _ => Err(ConfigError::invalid(name, value, "TLSv1.2 or TLSv1.3")),
        }
    }
}

/// Every TLS setting of a connection string or builder. Paths are kept as given; files are
/// read when the database is built.
#[derive(Debug, Clone, Default)]
pub(crate) struct SslSettings {
    /// `sslmode`; `None`: the default, `prefer` (`verify-full` with `sslrootcert=system`).
    pub mode: Option<SslMode>,
    /// `sslrootcert`; `None`: `~/.postgresql/root.crt` when it exists.
    pub root_cert: Option<RootCert>,
    /// `sslcert`; `None`: `~/.postgresql/postgresql.crt` when it exists.
    pub cert: Option<PathBuf>,
    /// `sslkey`; `None`: `~/.postgresql/postgresql.key`.
    pub key: Option<PathBuf>,
    /// `sslpassword`: accepted and kept secret, but encrypted keys are refused (rustls reads
    /// unencrypted keys only).
    pub password: Option<Secret>,
    /// `sslsni`: send the host name in the handshake (default on).
    pub no_sni: bool,
    /// `sslcertmode=disable`: never send a client certificate.
    pub no_client_cert: bool,
    /// `ssl_min_protocol_version`, `ssl_max_protocol_version`.
    pub min_version: Option<TlsVersion>,
    pub max_version: Option<TlsVersion>,
    /// `sslnegotiation=direct` (PostgreSQL 17+): TLS from the first byte.
    pub direct: bool,
}

impl SslSettings {
    /// The effective mode: libpq's defaults.
    pub(crate) fn effective_mode(&self) -> SslMode {
        match (self.mode, &self.root_cert) {
            (Some(mode), _) => mode,
            (None, Some(RootCert::System)) => SslMode::VerifyFull,
            (None, _) => SslMode::Prefer,
        }
    }
}
