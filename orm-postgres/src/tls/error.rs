//! [`TlsError`]: why a TLS handshake with the server failed, classified from rustls's typed
//! errors.

use std::fmt;

use crate::{Error, ErrorKind};

/// Why the TLS handshake with the server failed. It is the source of an
/// [`ErrorKind::Connect`] error; [`TlsError::of`] finds it.
///
/// ```no_run
/// use orm_postgres::{Database, TlsError};
///
/// # async fn run() {
/// let url = "postgres://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ca.pem";
/// match Database::connect(url).await {
///     Err(e) => match TlsError::of(&e) {
///         Some(TlsError::HostNameMismatch { host, names }) => {
///             eprintln!("the certificate names {names:?}, not {host}")
///         }
///         _ => eprintln!("{e}"),
///     },
///     Ok(_) => {}
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsError {
    /// The server's certificate is not valid for the host name connected to
    /// (`sslmode=verify-full`).
    HostNameMismatch {
        /// The host name (or address) connected to.
        host: String,
        /// The names the certificate holds.
        names: Vec<String>,
    },
    /// The server's certificate is not signed by a trusted root (`sslrootcert`).
    UnknownIssuer,
    /// The server's certificate has expired.
    Expired,
    /// The server's certificate is not valid yet.
    NotYetValid,
    /// The server refused the client certificate, or wanted one and none was configured
    /// (`sslcert`, `sslkey`).
    ClientCertificateRejected {
        /// The TLS alert the server sent.
        alert: String,
    },
    /// Any other handshake failure.
    Handshake {
        /// rustls's description.
        message: String,
    },
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::HostNameMismatch { host, names } => write!(
                f,
                "the server's certificate is not valid for host {host:?} (it names {}); connect \
                 with a host name the certificate names, or use sslmode=verify-ca to check the \
                 chain only",
                if names.is_empty() {
                    "other hosts".to_owned()
                } else {
                    names.join(", ")
                }
            ),
            TlsError::UnknownIssuer => f.write_str(
                "the server's certificate is not signed by a trusted root certificate \
                 (sslrootcert)",
            ),
            TlsError::Expired => f.write_str("the server's certificate has expired"),
            TlsError::NotYetValid => f.write_str("the server's certificate is not valid yet"),
            TlsError::ClientCertificateRejected { alert } => write!(
                f,
                "the server rejected the client certificate (TLS alert {alert}); check sslcert \
                 and sslkey"
            ),
            TlsError::Handshake { message } => write!(f, "TLS handshake failed: {message}"),
        }
    }
}

impl std::error::Error for TlsError {}

impl TlsError {
    /// The `TlsError` behind an [`ErrorKind::Connect`] error, if the connection failed in the
    /// TLS handshake.
    pub fn of(err: &Error) -> Option<&TlsError> {
        match err.kind() {
            ErrorKind::Connect {
                source: Some(source),
                ..
            } => source.downcast_ref(),
            _ => None,
        }
    }

    /// Classifies the driver's error by the rustls error inside it, if any.
    #[cfg(feature = "tls")]
    pub(crate) fn classify(e: &(dyn std::error::Error + 'static)) -> Option<TlsError> {
        use rustls::{AlertDescription, CertificateError};

        let mut current = Some(e);
        let mut found = None;
        while let Some(err) = current {
            // tokio-rustls wraps rustls's error in an `io::Error`, whose `source()` skips it.
            let inner = err
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|inner| inner as &(dyn std::error::Error + 'static));
            found = err
                .downcast_ref::<rustls::Error>()
                .or_else(|| inner.and_then(|i| i.downcast_ref::<rustls::Error>()));
            if found.is_some() {
                break;
            }
            current = err.source();
        }
        Some(match found? {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => TlsError::HostNameMismatch {
                    host: expected.to_str().into_owned(),
                    names: presented.iter().map(|n| subject_name(n)).collect(),
                },
                CertificateError::NotValidForName => TlsError::HostNameMismatch {
                    host: String::new(),
                    names: Vec::new(),
                },
                CertificateError::UnknownIssuer => TlsError::UnknownIssuer,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    TlsError::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    TlsError::NotYetValid
                }
                other => TlsError::Handshake {
                    message: rustls::Error::InvalidCertificate(other.clone()).to_string(),
                },
            },
            rustls::Error::AlertReceived(
                alert @ (AlertDescription::CertificateRequired
                | AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::AccessDenied),
            ) => TlsError::ClientCertificateRejected {
                alert: format!("{alert:?}"),
            },
            other => TlsError::Handshake {
                message: other.to_string(),
            },
        })
    }
}

/// A certificate name as rustls presents it (`DnsName("db.example")`, `IpAddress(10.0.0.1)`),
/// as the user would write it.
#[cfg(feature = "tls")]
fn subject_name(presented: &str) -> String {
    let inner = presented
        .strip_prefix("DnsName(\"")
        .and_then(|s| s.strip_suffix("\")"))
        .or_else(|| {
            presented
                .strip_prefix("IpAddress(")
                .and_then(|s| s.strip_suffix(')'))
        });
    inner.unwrap_or(presented).to_owned()
}
