//! TLS with rustls (the `tls` feature; no OpenSSL): the connection settings'
//! [`SslSettings`] become one rustls client configuration per database, used by every
//! connection and every cancel request.
//!
//! - `verify.rs`: the server-certificate checks of each `sslmode`;
//! - `fallback.rs`, `names.rs`: libpq's verification of the certificates webpki refuses (a
//!   version 1 certificate, a CA certificate as the server's own, a host its subjectAltName
//!   entries do not name by webpki's rules);
//! - `files.rs`: root and client certificates and the client key, from PEM files;
//! - `error.rs`: [`TlsError`], a failed handshake classified;
//! - `watch.rs`: how far an attempt got with TLS, for libpq's plain-text retry under
//!   `sslmode=prefer`.
//!
//! Without the feature, [`Connector`] is tokio-postgres's `NoTls`: `sslmode=prefer` connects in
//! plain text (as a libpq built without TLS does) and stronger modes are a configuration error.

mod error;
#[cfg(feature = "tls")]
mod fallback;
#[cfg(feature = "tls")]
mod files;
#[cfg(feature = "tls")]
mod names;
#[cfg(feature = "tls")]
mod verify;
mod watch;

pub use error::TlsError;
pub(crate) use watch::{Fallback, Progress};

use std::sync::Arc;

use crate::config::ssl::SslSettings;
use crate::config::{ConfigError, Env};

/// What opens TLS sessions for a database's connections and cancel requests: rustls, with the
/// progress of a connection attempt recorded when [`watched`](Connector::watched).
#[cfg(feature = "tls")]
#[derive(Clone)]
pub(crate) struct Connector {
    inner: tokio_postgres_rustls::MakeRustlsConnect,
    progress: Option<Arc<Progress>>,
}

#[cfg(feature = "tls")]
impl Connector {
    /// This connector for one connection attempt, and how far the attempt gets with TLS.
    pub(crate) fn watched(&self) -> (Connector, Arc<Progress>) {
        let progress = Arc::new(Progress::default());
        let watched = Connector {
            inner: self.inner.clone(),
            progress: Some(progress.clone()),
        };
        (watched, progress)
    }
}

#[cfg(feature = "tls")]
impl
    deadpool_postgres::tokio_postgres::tls::MakeTlsConnect<
        deadpool_postgres::tokio_postgres::Socket,
    > for Connector
{
    type Stream = watch::Watched;
    type TlsConnect = watch::Connect;
    type Error = <tokio_postgres_rustls::MakeRustlsConnect as deadpool_postgres::tokio_postgres::tls::MakeTlsConnect<
        deadpool_postgres::tokio_postgres::Socket,
    >>::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Self::TlsConnect, Self::Error> {
        let inner = <tokio_postgres_rustls::MakeRustlsConnect as deadpool_postgres::tokio_postgres::tls::MakeTlsConnect<
            deadpool_postgres::tokio_postgres::Socket,
        >>::make_tls_connect(&mut self.inner, domain)?;
        Ok(watch::Connect::new(inner, self.progress.clone()))
    }
}

/// What opens TLS sessions: nothing, in a build without the `tls` feature. (A type of its
/// own rather than `NoTls`, which is `Copy`, so the code that clones the rustls connector
/// reads the same in both builds.)
#[cfg(not(feature = "tls"))]
#[derive(Debug, Clone)]
pub(crate) struct Connector(deadpool_postgres::tokio_postgres::NoTls);

#[cfg(not(feature = "tls"))]
impl Connector {
    /// This connector for one connection attempt, and its progress: none, without TLS.
    pub(crate) fn watched(&self) -> (Connector, Arc<Progress>) {
        (self.clone(), Arc::default())
    }
}

#[cfg(not(feature = "tls"))]
impl<S> deadpool_postgres::tokio_postgres::tls::MakeTlsConnect<S> for Connector {
    type Stream = deadpool_postgres::tokio_postgres::tls::NoTlsStream;
    type TlsConnect = deadpool_postgres::tokio_postgres::NoTls;
    type Error = deadpool_postgres::tokio_postgres::tls::NoTlsError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Self::TlsConnect, Self::Error> {
        <deadpool_postgres::tokio_postgres::NoTls as deadpool_postgres::tokio_postgres::tls::MakeTlsConnect<S>>::make_tls_connect(&mut self.0, domain)
    }
}

/// The connector of a database without the `tls` feature: plain text only.
#[cfg(not(feature = "tls"))]
pub(crate) fn connector(s: &SslSettings, _env: &dyn Env) -> Result<Connector, ConfigError> {
    let mode = s.effective_mode();
    if mode.requires_tls() {
        return Err(ConfigError::TlsNotBuilt {
            mode: mode.to_string(),
        });
    }
    Ok(Connector(deadpool_postgres::tokio_postgres::NoTls))
}

/// The rustls configuration of the settings: which protocol versions, how the server is
/// verified, and which client certificate is sent. Reads the certificate and key files now,
/// so a missing or unreadable file is reported when the database is built.
#[cfg(feature = "tls")]
pub(crate) fn connector(s: &SslSettings, env: &dyn Env) -> Result<Connector, ConfigError> {
    use crate::config::SslMode;
    use crate::config::ssl::{RootCert, TlsVersion};
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;

    let mode = s.effective_mode();
    if s.root_cert == Some(RootCert::System) && mode != SslMode::VerifyFull {
        return Err(ConfigError::unsupported(
            "sslmode",
            Some(mode.as_str()),
            "sslrootcert=system needs sslmode=verify-full (as in libpq)",
        ));
    }
    // ring: a small build. rustls 0.23.48 deprecated its provider for lacking post-quantum
    // key exchange (aws-lc-rs, which has it, is a much heavier C build); PostgreSQL's TLS
    // negotiates the classic groups with it as before.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let min = s.min_version.unwrap_or(TlsVersion::Tls12);
    let max = s.max_version.unwrap_or(TlsVersion::Tls13);
    let mut versions = Vec::new();
    if min <= TlsVersion::Tls12 && max >= TlsVersion::Tls12 {
        versions.push(&rustls::version::TLS12);
    }
    if max >= TlsVersion::Tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if versions.is_empty() {
        return Err(ConfigError::Setting {
            name: "ssl_min_protocol_version",
            reason: "is above ssl_max_protocol_version",
        });
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|_| ConfigError::Setting {
            name: "ssl_min_protocol_version",
            reason: "names no protocol version rustls supports",
        })?;
    // `disable` never opens TLS: read no files for it.
    let roots = match mode {
        SslMode::Disable => None,
        _ => files::roots(s, mode, env)?,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match roots {
        None => Arc::new(verify::AcceptAny::new(&provider)),
        Some(roots) => {
            let webpki = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots.store),
                provider.clone(),
            )
            .build()
            .map_err(|_| ConfigError::Setting {
                name: "sslrootcert",
                reason: "holds no usable root certificate",
            })?;
            let check_name = mode == SslMode::VerifyFull;
            Arc::new(verify::Verified::new(
                webpki,
                roots.certificates,
                &provider,
                check_name,
            ))
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let identity = match mode {
        SslMode::Disable => None,
        _ => files::client_identity(s, env)?,
    };
    let mut config = match identity {
        Some((certs, key)) => {
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|_| ConfigError::Setting {
                    name: "sslkey",
                    reason: "does not match the certificate in sslcert (or is of a kind rustls \
                         cannot use)",
                })?
        }
        None => builder.with_no_client_auth(),
    };
    config.enable_sni = !s.no_sni;
    // PostgreSQL 17 requires it for direct TLS negotiation; older servers ignore it.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(Connector {
        inner: tokio_postgres_rustls::MakeRustlsConnect::new(config),
        progress: None,
    })
}
