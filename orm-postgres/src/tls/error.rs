//! [`TlsError`]: why a TLS handshake with the server failed, classified from rustls's typed
//! errors (and the certificate errors of webpki that rustls passes on untyped). The
//! certificates `openssl` makes unless told otherwise (a CA certificate as the server's own, a
//! certificate without subjectAltName, a version 1 certificate: the PostgreSQL manual's
//! recipes) are verified as libpq verifies them; those still refused for what they are each
//! have a variant whose message says how to reissue the certificate.

use std::fmt;

use crate::connect_failure::ConnectFailure;
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
        /// The names the certificate was compared with: its subjectAltName entries, or, as
        /// in libpq, its common name (CN) when it has no subjectAltName of the host's kind.
        names: Vec<String>,
    },
    /// The server's certificate names no host at all (`sslmode=verify-full`): it has no
    /// subjectAltName DNS name or IP address, and no common name (CN), which libpq (and this
    /// library) compare with the host when no subjectAltName entry is of the host's kind.
    /// Reissue it with `subjectAltName=DNS:<host>`, or use `sslmode=verify-ca`, which checks
    /// the chain but not the name.
    NoSubjectAltName {
        /// The host name (or address) connected to.
        host: String,
    },
    /// The server's certificate is a CA certificate (`basicConstraints` `CA:TRUE`, what
    /// `openssl req -x509` makes unless told otherwise) signed through two or more
    /// intermediate CAs the server sent. rustls refuses a CA certificate as a server's own;
    /// like libpq, this library accepts one that is itself a root certificate (`sslrootcert`,
    /// the self-signed case), signed directly by one, or signed by an intermediate CA that a
    /// root signed, but not through longer chains. Trust the CA that signed it in
    /// `sslrootcert`, or reissue it with `basicConstraints=CA:FALSE`.
    ServerCertificateIsCa,
    /// The server's certificate is an X.509 version 1 certificate (what `openssl x509 -req`
    /// makes without `-extfile`) signed through two or more intermediate CAs the server sent.
    /// rustls refuses version 1 certificates; like libpq, this library accepts one that is
    /// itself a root certificate (`sslrootcert`), signed directly by one, or signed by an
    /// intermediate CA that a root signed (the PostgreSQL manual's chain), but not through
    /// longer chains. Trust the CA that signed it in `sslrootcert`, or reissue it with
    /// extensions (a subjectAltName), which makes it version 3.
    OldCertificateVersion,
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
            TlsError::NoSubjectAltName { host } => write!(
                f,
                "the server's certificate names no host: it has no subjectAltName (DNS name or \
                 IP address) and no common name (CN) to compare with {host:?}: reissue it with \
                 subjectAltName={}:{host}, or use sslmode=verify-ca, which checks the \
                 certificate's chain but not its name (sslmode=require checks neither)",
                if host.parse::<std::net::IpAddr>().is_ok() {
                    "IP"
                } else {
                    "DNS"
                }
            ),
            TlsError::ServerCertificateIsCa => f.write_str(
                "the server's certificate is a CA certificate (basicConstraints CA:TRUE, as \
                 `openssl req -x509` makes unless told otherwise) signed through more than one \
                 intermediate CA: such a certificate is verified only when it is itself in \
                 sslrootcert, signed directly by a certificate there, or signed by an \
                 intermediate CA one of them signed (rustls refuses it as a server's own): put the \
                 certificate of the CA that signed it in sslrootcert, or reissue it as a server \
                 certificate, e.g. with `-addext basicConstraints=critical,CA:FALSE -addext \
                 subjectAltName=DNS:<host>`; or use sslmode=require, which encrypts without \
                 verifying the server",
            ),
            TlsError::OldCertificateVersion => f.write_str(
                "the server's certificate is an X.509 version 1 certificate (as `openssl x509 \
                 -req` makes without -extfile) signed through more than one intermediate CA: \
                 such a certificate is verified only when it is itself in sslrootcert, signed \
                 directly by a certificate there, or signed by an intermediate CA one of them \
                 signed (rustls refuses version 1): put the \
                 certificate of the CA that signed it in sslrootcert, or reissue it with \
                 extensions, which makes it version 3, e.g. `openssl x509 -req ... -extfile \
                 <(printf 'subjectAltName=DNS:<host>')`; or use sslmode=require, which \
                 encrypts without verifying the server",
            ),
            TlsError::UnknownIssuer => f.write_str(
                "the server's certificate is not signed by a trusted root certificate: put the \
                 certificate of the CA that signed it in sslrootcert (for a self-signed \
                 certificate, the certificate itself), and have the server send its \
                 intermediate certificates (after its own in ssl_cert_file)",
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
    /// TLS handshake: for a connect that tried several addresses, the last one's (as the
    /// error's [`sqlstate`](Error::sqlstate)); each attempt's is
    /// `TlsError::of(attempt.error())` (see [`ConnectFailure`]).
    pub fn of(err: &Error) -> Option<&TlsError> {
        if let Some(failure) = ConnectFailure::of(err) {
            return TlsError::of(failure.attempts().last()?.error());
        }
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
                // No name compared at all: no subjectAltName DNS name or IP address (webpki lists
                // every one), and no common name (`names.rs`).
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } if presented.is_empty() => TlsError::NoSubjectAltName {
                    host: expected.to_str().into_owned(),
                },
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
                // What the checks of the certificates webpki refuses found wrong, said in full.
                CertificateError::Other(other)
                    if other.0.downcast_ref::<super::fallback::Refused>().is_some() =>
                {
                    TlsError::Handshake {
                        message: other.0.to_string(),
                    }
                }
                // webpki's errors that rustls has no variant for.
                CertificateError::Other(other) => match other.0.downcast_ref() {
                    Some(webpki::Error::CaUsedAsEndEntity) => TlsError::ServerCertificateIsCa,
                    Some(webpki::Error::UnsupportedCertVersion) => TlsError::OldCertificateVersion,
                    _ => handshake(cert),
                },
                other => handshake(other),
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

/// A refused certificate rustls describes best.
#[cfg(feature = "tls")]
fn handshake(cert: &rustls::CertificateError) -> TlsError {
    TlsError::Handshake {
        message: rustls::Error::InvalidCertificate(cert.clone()).to_string(),
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

#[cfg(all(test, feature = "tls"))]
mod tests {
    use std::sync::Arc;

    use rustls::pki_types::ServerName;
    use rustls::{CertificateError, OtherError};

    use super::TlsError;

    /// The error of a refused certificate as the driver hands it over: rustls's, inside the
    /// `io::Error` of tokio-rustls.
    fn classify(cert: CertificateError) -> TlsError {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(cert),
        );
        TlsError::classify(&io).expect("a TLS error")
    }

    fn webpki(e: webpki::Error) -> CertificateError {
        CertificateError::Other(OtherError(Arc::new(e)))
    }

    fn without_san(host: &str) -> CertificateError {
        CertificateError::NotValidForNameContext {
            expected: ServerName::try_from(host).expect("name").to_owned(),
            presented: Vec::new(),
        }
    }

    #[test]
    fn certificates_still_refused_for_what_openssl_makes_say_how_to_reissue_them() {
        let e = classify(webpki(webpki::Error::CaUsedAsEndEntity));
        assert_eq!(e, TlsError::ServerCertificateIsCa);
        assert!(e.to_string().contains("CA:FALSE"), "{e}");
        assert!(
            e.to_string()
                .contains("signed through more than one intermediate CA"),
            "{e}"
        );
        let e = classify(webpki(webpki::Error::UnsupportedCertVersion));
        assert_eq!(e, TlsError::OldCertificateVersion);
        assert!(e.to_string().contains("version 1"), "{e}");
        assert!(
            e.to_string().contains("put the certificate of the CA"),
            "{e}"
        );
        let e = classify(without_san("db.example"));
        assert_eq!(
            e,
            TlsError::NoSubjectAltName {
                host: "db.example".into()
            }
        );
        assert!(
            e.to_string().contains("subjectAltName=DNS:db.example"),
            "{e}"
        );
        assert!(e.to_string().contains("sslmode=verify-ca"), "{e}");
        let e = classify(without_san("10.1.2.3"));
        assert!(e.to_string().contains("subjectAltName=IP:10.1.2.3"), "{e}");
    }

    #[test]
    fn what_the_checks_of_openssl_s_certificates_refuse_is_said_in_full() {
        let why = "the root certificate that signed the server's has expired";
        let refused = super::super::fallback::Refused(why);
        let e = classify(CertificateError::Other(OtherError(Arc::new(refused))));
        assert_eq!(
            e,
            TlsError::Handshake {
                message: why.to_owned()
            }
        );
    }

    #[test]
    fn other_certificate_errors_keep_rustls_s_description() {
        let e = classify(webpki(webpki::Error::PathLenConstraintViolated));
        assert!(
            matches!(&e, TlsError::Handshake { message } if message.contains("PathLenConstraintViolated")),
            "{e:?}"
        );
        // A certificate that names other hosts is a mismatch, not a missing subjectAltName.
        let e = classify(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("db.example").expect("name").to_owned(),
            presented: vec!["DnsName(\"other.example\")".into()],
        });
        assert_eq!(
            e,
            TlsError::HostNameMismatch {
                host: "db.example".into(),
                names: vec!["other.example".into()],
            }
        );
    }
}
