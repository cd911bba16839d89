//! Server certificates that libpq accepts and rustls refuses: a CA certificate as the server's
//! own and one without subjectAltName, which is what `openssl` makes unless told otherwise
//! (the PostgreSQL manual's recipes among them). Each is served by a cluster of its own. The
//! modes that verify what is wrong with it fail with a typed error that says how to reissue
//! it; the modes that do not (verify-ca does not check the name, as in libpq) connect.

use orm_postgres::{ErrorKind, TlsError};
use orm_testing::LocalCluster;
use rcgen::{CertificateParams, DnType, IsCa, KeyPair};

use crate::server::{ca, tls_options, uses_tls};
use crate::tls::connect;

/// A cluster serving a certificate, with the root certificate a client should trust beside
/// it (`root.pem`).
struct CertServer {
    cluster: LocalCluster,
}

impl CertServer {
    fn start(cert: &str, key: &KeyPair, root: &str) -> CertServer {
        let cluster = LocalCluster::start_with(
            tls_options(cert, &key.serialize_pem()).file("root.pem", root),
        )
        .expect("a TLS cluster starts");
        CertServer { cluster }
    }

    /// The server as `localhost` (at 127.0.0.1, no lookup), with `params` (key-value pairs),
    /// trusting `root.pem` (`trust`) or nothing.
    fn url(&self, params: &str, trust: bool) -> String {
        let mut url = format!(
            "host=localhost hostaddr=127.0.0.1 port={} user=postgres dbname=postgres {params}",
            self.cluster.port()
        );
        if trust {
            let root = self.cluster.data_dir().join("root.pem");
            url.push_str(&format!(" sslrootcert={}", root.display()));
        }
        url
    }

    /// Connects to the server with `params`, over TLS.
    async fn connects(&self, params: &str, trust: bool) {
        let url = self.url(params, trust);
        let db = connect(&url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(uses_tls(&db).await, "{url}");
    }

    /// The TLS error of connecting in `mode`, trusting `root.pem`: `expected`, with a message
    /// that holds each of `needles`.
    async fn refused(&self, mode: &str, expected: TlsError, needles: &[&str]) {
        let url = self.url(&format!("sslmode={mode}"), true);
        let err = connect(&url).await.map(drop).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
        assert_eq!(TlsError::of(&err), Some(&expected), "{mode}: {err}");
        for needle in needles {
            assert!(err.to_string().contains(needle), "{mode}: {err}");
        }
    }
}

fn server_params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
}

#[tokio::test]
async fn a_ca_certificate_as_the_server_s_own_is_refused_with_how_to_reissue_it() {
    // `openssl req -x509`'s: self-signed, basicConstraints CA:TRUE (here with the names).
    let key = KeyPair::generate().expect("key");
    let mut params = server_params(&["localhost", "127.0.0.1"]);
    params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("cert").pem();
    let s = CertServer::start(&cert, &key, &cert);
    for mode in ["verify-full", "verify-ca"] {
        let needles = [
            "CA:TRUE",
            "basicConstraints=critical,CA:FALSE",
            "sslmode=require",
        ];
        s.refused(mode, TlsError::ServerCertificateIsCa, &needles)
            .await;
    }
    // `require` without a root certificate does not verify: it connects, encrypted.
    s.connects("sslmode=require", false).await;
}

#[tokio::test]
async fn a_self_signed_certificate_reissued_as_advised_is_verified() {
    // The advice of the error above: CA:FALSE and a subjectAltName, trusted as its own root.
    let key = KeyPair::generate().expect("key");
    let mut params = server_params(&["localhost"]);
    params.is_ca = IsCa::ExplicitNoCa;
    let cert = params.self_signed(&key).expect("cert").pem();
    let s = CertServer::start(&cert, &key, &cert);
    s.connects("sslmode=verify-full", true).await;
}

#[tokio::test]
async fn a_certificate_without_subject_alt_name_fails_verify_full_and_passes_verify_ca() {
    // A leaf with only a common name (CN=localhost), signed by a CA the client trusts.
    let root = ca("orm test CA without SAN");
    let key = KeyPair::generate().expect("key");
    let cert = server_params(&[])
        .signed_by(&key, &root)
        .expect("cert")
        .pem();
    let s = CertServer::start(&cert, &key, &root.pem());
    let host = "localhost".to_owned();
    let needles = [
        "no subjectAltName",
        "subjectAltName=DNS:localhost",
        "sslmode=verify-ca",
    ];
    s.refused("verify-full", TlsError::NoSubjectAltName { host }, &needles)
        .await;
    // verify-ca checks the chain, not the name (as libpq's), and a root certificate makes
    // `require` do the same.
    s.connects("sslmode=verify-ca", true).await;
    s.connects("sslmode=require", true).await;
}

/// Runs `openssl` with `args` in `dir`; `None` when it is not installed.
fn openssl(dir: &std::path::Path, args: &[&str]) -> Option<()> {
    let out = match std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("openssl: {e}"),
    };
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(())
}

#[tokio::test]
async fn the_manual_s_recipe_for_a_ca_signed_certificate_makes_one_rustls_refuses() {
    // The PostgreSQL manual's steps: a root with `req -x509`, then the server's certificate
    // with `x509 -req` and no -extfile, which makes an X.509 version 1 certificate.
    let dir = std::env::temp_dir().join(format!("orm-certs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let steps: [&[&str]; 3] = [
        &[
            "req", "-new", "-x509", "-days", "1", "-nodes", "-subj", "/CN=root", "-keyout",
            "root.key", "-out", "root.crt",
        ],
        &[
            "req",
            "-new",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-days",
            "1",
            "-CA",
            "root.crt",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
        ],
    ];
    for args in steps {
        if openssl(&dir, args).is_none() {
            eprintln!("skipped: no openssl command");
            return;
        }
    }
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("read");
    let (cert, key, root) = (read("server.crt"), read("server.key"), read("root.crt"));
    let _ = std::fs::remove_dir_all(&dir);
    let key = KeyPair::from_pem(&key).expect("the key");
    let s = CertServer::start(&cert, &key, &root);
    let needles = ["version 1", "-extfile", "sslmode=require"];
    s.refused("verify-ca", TlsError::OldCertificateVersion, &needles)
        .await;
    // Modes that do not verify connect, as libpq's: the handshake's signature is checked with
    // the certificate's key though webpki refuses the certificate (before, with TLS 1.3 and
    // 1.2 alike, even `prefer`, the default, failed).
    for params in [
        "sslmode=require",
        "sslmode=require ssl_max_protocol_version=TLSv1.2",
        "",
    ] {
        s.connects(params, false).await;
    }
}
