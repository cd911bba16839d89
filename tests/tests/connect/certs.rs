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

    /// The server as `localhost` (at 127.0.0.1, no lookup), in `mode`, trusting `root.pem`
    /// (`trust`) or nothing.
    fn url(&self, mode: &str, trust: bool) -> String {
        let mut url = format!(
            "host=localhost hostaddr=127.0.0.1 port={} user=postgres dbname=postgres sslmode={mode}",
            self.cluster.port()
        );
        if trust {
            let root = self.cluster.data_dir().join("root.pem");
            url.push_str(&format!(" sslrootcert={}", root.display()));
        }
        url
    }

    /// Connects to the server in `mode`, over TLS.
    async fn connects(&self, mode: &str, trust: bool) {
        let url = self.url(mode, trust);
        let db = connect(&url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(uses_tls(&db).await, "{url}");
    }

    /// The TLS error of connecting in `mode`, trusting `root.pem`: `expected`, with a message
    /// that holds each of `needles`.
    async fn refused(&self, mode: &str, expected: TlsError, needles: &[&str]) {
        let err = connect(&self.url(mode, true)).await.map(drop).unwrap_err();
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
    s.connects("require", false).await;
}

#[tokio::test]
async fn a_self_signed_certificate_reissued_as_advised_is_verified() {
    // The advice of the error above: CA:FALSE and a subjectAltName, trusted as its own root.
    let key = KeyPair::generate().expect("key");
    let mut params = server_params(&["localhost"]);
    params.is_ca = IsCa::ExplicitNoCa;
    let cert = params.self_signed(&key).expect("cert").pem();
    let s = CertServer::start(&cert, &key, &cert);
    s.connects("verify-full", true).await;
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
    s.connects("verify-ca", true).await;
    s.connects("require", true).await;
}
