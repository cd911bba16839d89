//! Reading root certificates, the client certificate and its key from PEM files, where libpq
//! looks for them: `sslrootcert`, `sslcert` and `sslkey`, defaulting to
//! `~/.postgresql/root.crt`, `postgresql.crt` and `postgresql.key`. Error messages name the
//! file, never its contents.

use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::ssl::{RootCert, SslMode, SslSettings};
use crate::config::{ConfigError, Env};

/// `~/.postgresql/<name>`.
fn default_file(env: &dyn Env, name: &str) -> Option<PathBuf> {
    env.home().map(|h| h.join(".postgresql").join(name))
}

/// The trusted root certificates: as webpki's trust anchors, and as they were read, for the
/// checks of the certificates webpki refuses (see `fallback.rs`), which need the whole
/// certificate (a server's self-signed certificate is trusted when it is one of them, byte for
/// byte).
pub(super) struct Roots {
    pub(super) store: RootCertStore,
    pub(super) certificates: Vec<CertificateDer<'static>>,
}

/// The trusted roots: `sslrootcert`, or `~/.postgresql/root.crt` when it exists. `None`: no
/// roots, so the server is not verified (allowed only for `prefer` and `require`).
pub(super) fn roots(
    s: &SslSettings,
    mode: SslMode,
    env: &dyn Env,
) -> Result<Option<Roots>, ConfigError> {
    match &s.root_cert {
        Some(RootCert::File(path)) => load_roots(path).map(Some),
        Some(RootCert::System) => system_roots().map(Some),
        None => {
            let default = default_file(env, "root.crt");
            match default.as_deref().filter(|p| p.exists()) {
                Some(path) => load_roots(path).map(Some),
                None if mode.verifies() => Err(ConfigError::NoRootCert {
                    looked_for: default,
                }),
                None => Ok(None),
            }
        }
    }
}

fn load_roots(path: &Path) -> Result<Roots, ConfigError> {
    let certificates = certificates("sslrootcert", path)?;
    let mut store = RootCertStore::empty();
    let (_, ignored) = store.add_parsable_certificates(certificates.iter().cloned());
    if store.is_empty() {
        return Err(ConfigError::file(
            "sslrootcert",
            path,
            format!("none of its {ignored} certificate(s) can be used as a root"),
        ));
    }
    Ok(Roots {
        store,
        certificates,
    })
}

/// The operating system's trusted roots (`sslrootcert=system`).
fn system_roots() -> Result<Roots, ConfigError> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(found.certs.iter().cloned());
    if store.is_empty() {
        let why = found
            .errors
            .first()
            .map_or_else(|| "no certificates found".to_owned(), |e| e.to_string());
        return Err(ConfigError::file(
            "sslrootcert",
            Path::new("system"),
            format!("cannot load the system's trusted roots: {why}"),
        ));
    }
    Ok(Roots {
        store,
        certificates: found.certs,
    })
}

/// Every certificate of a PEM file.
fn certificates(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    // Not a FIFO or a device, whose read could block forever.
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::file(what, path, e))?;
    if !meta.is_file() {
        return Err(ConfigError::file(what, path, "not a plain file"));
    }
    let bytes = std::fs::read(path).map_err(|e| ConfigError::file(what, path, e))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ConfigError::file(what, path, "not a valid PEM file"))?;
    if certs.is_empty() {
        return Err(ConfigError::file(what, path, "holds no PEM certificate"));
    }
    Ok(certs)
}

/// The client certificate chain and its key, when one is configured (or the default
/// `~/.postgresql/postgresql.crt` exists) and `sslcertmode` is not `disable`.
pub(super) type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

pub(super) fn client_identity(
    s: &SslSettings,
    env: &dyn Env,
) -> Result<Option<Identity>, ConfigError> {
    if s.no_client_cert {
        return Ok(None);
    }
    let cert = match &s.cert {
        Some(path) => path.clone(),
        None => match default_file(env, "postgresql.crt").filter(|p| p.exists()) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let key = match &s.key {
        Some(path) => path.clone(),
        None => default_file(env, "postgresql.key").ok_or_else(|| {
            ConfigError::file(
                "sslkey",
                Path::new("~/.postgresql/postgresql.key"),
                "no sslkey given and no home directory to find the default one",
            )
        })?,
    };
    let certs = certificates("sslcert", &cert)?;
    Ok(Some((certs, private_key(&key)?)))
}

/// The client's private key: unencrypted PEM (PKCS#8, PKCS#1 or SEC1), readable by its owner
/// only, as libpq insists.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::file("sslkey", path, e))?;
    if !meta.is_file() {
        return Err(ConfigError::file("sslkey", path, "not a plain file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = meta.permissions().mode();
        // libpq: u=rw (0600) or less, or u=rw,g=r (0640) or less for a root-owned key.
        let forbidden = if meta.uid() == 0 { 0o037 } else { 0o077 };
        if mode & forbidden != 0 {
            return Err(ConfigError::KeyPermissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let bytes = std::fs::read(path).map_err(|e| ConfigError::file("sslkey", path, e))?;
    let encrypted = bytes.split(|&b| b == b'\n').any(|line| {
        line.starts_with(b"-----BEGIN ENCRYPTED") || line.starts_with(b"Proc-Type: 4,ENCRYPTED")
    });
    if encrypted {
        return Err(ConfigError::file(
            "sslkey",
            path,
            "the key is encrypted, and rustls reads unencrypted keys only (sslpassword is not \
             supported): decrypt it, e.g. `openssl pkey -in key.enc -out key.pem`, and keep it \
             mode 0600",
        ));
    }
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| {
        ConfigError::file(
            "sslkey",
            path,
            "holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
        )
    })
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    use super::{certificates, private_key};
    use crate::config::ConfigError;

    /// A file of this test's own, removed when dropped.
    struct File(PathBuf);

    impl File {
        fn new(name: &str, contents: &str, mode: u32) -> File {
            let path = std::env::temp_dir().join(format!("orm-tls-{}-{name}", std::process::id()));
            std::fs::write(&path, contents).expect("write");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            File(path)
        }
    }

    impl Drop for File {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    const SECRET: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ";

    #[test]
    fn a_key_others_can_read_is_refused() {
        let key = File::new("open.key", "whatever", 0o644);
        let err = private_key(&key.0).expect_err("refused");
        assert!(matches!(err, ConfigError::KeyPermissions { mode, .. } if mode & 0o777 == 0o644));
        assert!(err.to_string().contains("u=rw (0600)"), "{err}");
    }

    #[test]
    fn an_encrypted_key_is_refused_without_showing_it() {
        let pem = format!(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{SECRET}\n-----END ENCRYPTED PRIVATE KEY-----\n"
        );
        let key = File::new("enc.key", &pem, 0o600);
        let err = private_key(&key.0).expect_err("refused");
        assert!(err.to_string().contains("encrypted"), "{err}");
        let garbage = File::new("bad.key", &format!("{SECRET}\n"), 0o600);
        let err2 = private_key(&garbage.0).expect_err("refused");
        for e in [err, err2] {
            assert!(!format!("{e} {e:?}").contains(SECRET), "{e}");
        }
    }

    #[test]
    fn a_directory_or_an_empty_file_is_no_certificate() {
        let err = certificates("sslrootcert", &std::env::temp_dir()).expect_err("refused");
        assert!(err.to_string().contains("not a plain file"), "{err}");
        let empty = File::new("empty.pem", "", 0o644);
        let err = certificates("sslrootcert", &empty.0).expect_err("refused");
        assert!(
            err.to_string().contains("holds no PEM certificate"),
            "{err}"
        );
    }
}
