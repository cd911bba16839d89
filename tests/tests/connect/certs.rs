//! Server certificates that rustls's WebPKI verifier refuses and libpq verifies, which is what
//! `openssl` makes unless told otherwise (the PostgreSQL manual's recipes among them): a CA
//! certificate as the server's own, one without subjectAltName (named by its common name), a
//! version 1 certificate (signed by the root, or by an intermediate CA the server sends). Each is served by a cluster of its own (serving other certificates
//! in turn after a restart where a test needs several); `verify-ca` and `verify-full` verify
//! them as libpq does, and refuse them with a typed error when libpq would (wrong host,
//! unknown root, dates).

use orm_postgres::{ErrorKind, Executor, TlsError};
use orm_testing::{ClusterOptions, LocalCluster, Shutdown};
use rcgen::{CertificateParams, DnType, IsCa, KeyPair};

use crate::server::{ca, tls_options, uses_tls};
use crate::tls::connect;

/// A host name no certificate here names (connected to at 127.0.0.1).
const WRONG_HOST: &str = "db.wrong.example";

/// A cluster serving a certificate, with the root certificate a client should trust beside
/// it (`root.pem`).
struct CertServer {
    cluster: LocalCluster,
}

impl CertServer {
    fn start(cert: &str, key: &KeyPair, root: &str) -> CertServer {
        CertServer::start_with(cert, &key.serialize_pem(), root, |o| o)
    }

    /// [`start`](Self::start), with more files in the data directory (`more`), such as
    /// other roots to trust, or other certificates to [`serve`](Self::serve).
    fn start_with(
        cert: &str,
        key: &str,
        root: &str,
        more: impl FnOnce(ClusterOptions) -> ClusterOptions,
    ) -> CertServer {
        let options = more(tls_options(cert, key).file("root.pem", root));
        let cluster = LocalCluster::start_with(options).expect("a TLS cluster starts");
        CertServer { cluster }
    }

    /// The server as `host` (at 127.0.0.1, no lookup), with `params` (key-value pairs),
    /// trusting the data directory's file `root` or nothing.
    fn url_at(&self, host: &str, params: &str, root: Option<&str>) -> String {
        let mut url = format!(
            "host={host} hostaddr=127.0.0.1 port={} user=postgres dbname=postgres {params}",
            self.cluster.port()
        );
        if let Some(root) = root {
            let root = self.cluster.data_dir().join(root);
            url.push_str(&format!(" sslrootcert={}", root.display()));
        }
        url
    }

    /// The server as `localhost` with `params`, trusting `root.pem` (`trust`) or nothing.
    fn url(&self, params: &str, trust: bool) -> String {
        self.url_at("localhost", params, trust.then_some("root.pem"))
    }

    /// Connects to the server with `params`, over TLS.
    async fn connects(&self, params: &str, trust: bool) {
        self.connects_to(&self.url(params, trust)).await;
    }

    async fn connects_to(&self, url: &str) {
        let db = connect(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(uses_tls(&db).await, "{url}");
    }

    /// The TLS error of connecting in `mode`, trusting `root.pem`: `expected`, with a message
    /// that holds each of `needles`.
    async fn refused(&self, mode: &str, expected: TlsError, needles: &[&str]) {
        let url = self.url(&format!("sslmode={mode}"), true);
        refused_at(&url, expected, needles).await;
    }

    /// Serves the data directory's certificate `file` from now on (with the same key): the
    /// setting, then a restart.
    async fn serve(&self, file: &str) {
        let db = connect(&self.url("sslmode=require", false))
            .await
            .expect("an admin connection");
        db.batch_execute(&format!("ALTER SYSTEM SET ssl_cert_file = '{file}'"))
            .await
            .expect("ALTER SYSTEM");
        drop(db);
        self.cluster.restart(Shutdown::Fast).expect("a restart");
    }
}

/// The TLS error of connecting to `url`: `expected`, with a message that holds each of
/// `needles`.
async fn refused_at(url: &str, expected: TlsError, needles: &[&str]) {
    let err = connect(url).await.map(drop).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    assert_eq!(TlsError::of(&err), Some(&expected), "{url}: {err}");
    for needle in needles {
        assert!(err.to_string().contains(needle), "{url}: {err}");
    }
}

/// The error of a certificate for `localhost` (only) at [`WRONG_HOST`].
fn wrong_host() -> TlsError {
    TlsError::HostNameMismatch {
        host: WRONG_HOST.to_owned(),
        names: vec!["localhost".to_owned()],
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
async fn a_ca_certificate_trusted_as_its_own_root_is_verified_as_libpq_does() {
    // `openssl req -x509`'s: self-signed, basicConstraints CA:TRUE (here with the names).
    // webpki refuses a CA certificate as a server's own; libpq trusts it as its own root.
    let key = KeyPair::generate().expect("key");
    let mut params = server_params(&["localhost", "127.0.0.1"]);
    params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("cert").pem();
    let other = ca("orm test root that signed nothing").pem();
    let s = CertServer::start_with(&cert, &key.serialize_pem(), &cert, |o| {
        o.file("other.pem", &other)
    });
    for mode in ["verify-full", "verify-ca"] {
        s.connects(&format!("sslmode={mode}"), true).await;
    }
    s.connects_to(&s.url_at("127.0.0.1", "sslmode=verify-full", Some("root.pem")))
        .await;
    // The subjectAltName names the host; not this one.
    let url = s.url_at(WRONG_HOST, "sslmode=verify-full", Some("root.pem"));
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let expected = TlsError::HostNameMismatch {
        host: WRONG_HOST.to_owned(),
        names,
    };
    refused_at(&url, expected, &[WRONG_HOST]).await;
    // Not trusted, it is an unknown issuer like any other.
    let url = s.url_at("localhost", "sslmode=verify-ca", Some("other.pem"));
    refused_at(
        &url,
        TlsError::UnknownIssuer,
        &["not signed by a trusted root"],
    )
    .await;
    // `require` without a root certificate does not verify: it connects, encrypted.
    s.connects("sslmode=require", false).await;
}

#[tokio::test]
async fn a_self_signed_certificate_reissued_as_advised_is_verified() {
    // The advice of the errors that remain: CA:FALSE and a subjectAltName, trusted as its own
    // root.
    let key = KeyPair::generate().expect("key");
    let mut params = server_params(&["localhost"]);
    params.is_ca = IsCa::ExplicitNoCa;
    let cert = params.self_signed(&key).expect("cert").pem();
    let s = CertServer::start(&cert, &key, &cert);
    s.connects("sslmode=verify-full", true).await;
}

#[tokio::test]
async fn a_certificate_without_subject_alt_name_is_named_by_its_common_name() {
    // A leaf with only a common name (CN=localhost), signed by a CA the client trusts: the
    // host is compared with the CN, as libpq does (RFC 6125's fallback).
    let root = ca("orm test CA without SAN");
    let key = KeyPair::generate().expect("key");
    let cert = server_params(&[])
        .signed_by(&key, &root)
        .expect("cert")
        .pem();
    let s = CertServer::start(&cert, &key, &root.pem());
    s.connects("sslmode=verify-full", true).await;
    let url = s.url_at(WRONG_HOST, "sslmode=verify-full", Some("root.pem"));
    refused_at(&url, wrong_host(), &[WRONG_HOST, "localhost"]).await;
    // verify-ca checks the chain, not the name (as libpq's), and a root certificate makes
    // `require` do the same.
    s.connects_to(&s.url_at(WRONG_HOST, "sslmode=verify-ca", Some("root.pem")))
        .await;
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

/// Runs each of `steps` with `openssl` in a new directory of the test `name`, and reads the
/// files `outputs` it made; `None` (the test is skipped, and says so) without the command.
fn openssl_files(
    name: &str,
    setup: &[(&str, &str)],
    steps: &[&[&str]],
    outputs: &[&str],
) -> Option<Vec<String>> {
    let dir = std::env::temp_dir().join(format!("orm-certs-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (file, contents) in setup {
        std::fs::write(dir.join(file), contents).expect("write");
    }
    for args in steps {
        if openssl(&dir, args).is_none() {
            eprintln!("skipped: no openssl command");
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        }
    }
    let read = |file: &&str| std::fs::read_to_string(dir.join(file)).expect("read");
    let files = outputs.iter().map(read).collect();
    let _ = std::fs::remove_dir_all(&dir);
    Some(files)
}

#[tokio::test]
async fn the_manual_s_self_signed_certificate_is_verified_by_its_common_name() {
    // The PostgreSQL manual's first recipe, with the host's name: a self-signed certificate
    // (CA:TRUE, openssl's default), no subjectAltName, copied to the client as root.crt.
    let steps: [&[&str]; 1] = [&[
        "req",
        "-new",
        "-x509",
        "-days",
        "365",
        "-nodes",
        "-text",
        "-out",
        "server.crt",
        "-keyout",
        "server.key",
        "-subj",
        "/CN=localhost",
    ]];
    let Some(files) = openssl_files("simple", &[], &steps, &["server.crt", "server.key"]) else {
        return;
    };
    let (cert, key) = (&files[0], &files[1]);
    let s = CertServer::start_with(cert, key, cert, |o| o);
    for mode in ["verify-ca", "verify-full"] {
        s.connects(&format!("sslmode={mode}"), true).await;
    }
    let url = s.url_at(WRONG_HOST, "sslmode=verify-full", Some("root.pem"));
    refused_at(&url, wrong_host(), &[WRONG_HOST, "localhost"]).await;
}

#[tokio::test]
async fn the_manual_s_recipe_for_a_ca_signed_certificate_is_verified_as_libpq_does() {
    // The PostgreSQL manual's steps: a root with `req -x509`, then the server's certificate
    // with `x509 -req` and no -extfile, which makes an X.509 version 1 certificate. From the
    // same request: one expired (`-days -1`), one not valid yet (`openssl ca -startdate`, also
    // version 1 without extensions); and another root, which signed none of them.
    let ca_config = "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\n\
                     serial = serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n";
    let setup = [("ca.cnf", ca_config), ("index.txt", ""), ("serial", "01\n")];
    let steps: [&[&str]; 6] = [
        &[
            "req", "-new", "-x509", "-days", "1", "-nodes", "-subj", "/CN=root", "-keyout",
            "root.key", "-out", "root.crt",
        ],
        &[
            "req",
            "-new",
            "-x509",
            "-days",
            "1",
            "-nodes",
            "-subj",
            "/CN=other root",
            "-keyout",
            "other.key",
            "-out",
            "other.crt",
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
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-days",
            "-1",
            "-CA",
            "root.crt",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "expired.crt",
        ],
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-cert",
            "root.crt",
            "-keyfile",
            "root.key",
            "-in",
            "server.csr",
            "-startdate",
            "20991201000000Z",
            "-enddate",
            "20991231000000Z",
            "-notext",
            "-out",
            "future.crt",
        ],
    ];
    let outputs = [
        "server.crt",
        "server.key",
        "root.crt",
        "other.crt",
        "expired.crt",
        "future.crt",
    ];
    let Some(files) = openssl_files("chain", &setup, &steps, &outputs) else {
        return;
    };
    let [cert, key, root, other, expired, future] = &files[..] else {
        unreachable!("six files")
    };
    let s = CertServer::start_with(cert, key, root, |o| {
        o.file("other.pem", other)
            .file("expired.crt", expired)
            .file("future.crt", future)
    });
    // Signed directly by the trusted root, valid, named by its CN: verified, as by libpq.
    for mode in ["verify-ca", "verify-full"] {
        s.connects(&format!("sslmode={mode}"), true).await;
    }
    // A root certificate makes `require` verify the chain too.
    s.connects("sslmode=require", true).await;
    let url = s.url_at(WRONG_HOST, "sslmode=verify-full", Some("root.pem"));
    refused_at(&url, wrong_host(), &[WRONG_HOST, "localhost"]).await;
    // An address is compared with the CN as text, as libpq does: `localhost` is not 127.0.0.1.
    let url = s.url_at("127.0.0.1", "sslmode=verify-full", Some("root.pem"));
    let expected = TlsError::HostNameMismatch {
        host: "127.0.0.1".to_owned(),
        names: vec!["localhost".to_owned()],
    };
    refused_at(&url, expected, &["127.0.0.1"]).await;
    let url = s.url_at("localhost", "sslmode=verify-ca", Some("other.pem"));
    refused_at(
        &url,
        TlsError::UnknownIssuer,
        &["not signed by a trusted root"],
    )
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
    // The dates count.
    s.serve("expired.crt").await;
    s.refused("verify-ca", TlsError::Expired, &["expired"])
        .await;
    s.serve("future.crt").await;
    s.refused("verify-full", TlsError::NotYetValid, &["not valid yet"])
        .await;
}

#[tokio::test]
async fn the_manual_s_recipe_for_a_chain_is_verified_as_libpq_does() {
    // The PostgreSQL manual's steps for an intermediate CA: a root and an intermediate made
    // with the `v3_ca` extensions (as Debian's /etc/ssl/openssl.cnf has them), then the
    // server's certificate from the intermediate with `x509 -req` and no -extfile, which makes
    // it version 1. The server sends server.crt and intermediate.crt from one file; the client
    // trusts root.crt alone.
    let v3_ca = "[v3_ca]\nsubjectKeyIdentifier = hash\n\
                 authorityKeyIdentifier = keyid:always,issuer\n\
                 basicConstraints = critical, CA:true\n";
    // `openssl req -new -nodes -text`: a key and a request for `subject`.
    let request = |csr: &'static str, key: &'static str, subject: &'static str| {
        [
            "req", "-new", "-nodes", "-text", "-out", csr, "-keyout", key, "-subj", subject,
        ]
    };
    let root_request = request("root.csr", "root.key", "/CN=root.yourdomain.com");
    let intermediate_request = request(
        "intermediate.csr",
        "intermediate.key",
        "/CN=intermediate.yourdomain.com",
    );
    let server_request = request("server.csr", "server.key", "/CN=localhost");
    let steps: [&[&str]; 6] = [
        &root_request,
        &[
            "x509",
            "-req",
            "-in",
            "root.csr",
            "-text",
            "-days",
            "3650",
            "-extfile",
            "v3.cnf",
            "-extensions",
            "v3_ca",
            "-signkey",
            "root.key",
            "-out",
            "root.crt",
        ],
        &intermediate_request,
        &[
            "x509",
            "-req",
            "-in",
            "intermediate.csr",
            "-text",
            "-days",
            "1825",
            "-extfile",
            "v3.cnf",
            "-extensions",
            "v3_ca",
            "-CA",
            "root.crt",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "intermediate.crt",
        ],
        &server_request,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-text",
            "-days",
            "365",
            "-CA",
            "intermediate.crt",
            "-CAkey",
            "intermediate.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
        ],
    ];
    let outputs = ["server.crt", "server.key", "intermediate.crt", "root.crt"];
    let Some(files) = openssl_files("manual-chain", &[("v3.cnf", v3_ca)], &steps, &outputs) else {
        return;
    };
    let [cert, key, intermediate, root] = &files[..] else {
        unreachable!("four files")
    };
    assert!(cert.contains("Version: 1 (0x0)"), "{cert}");
    let bundle = format!("{cert}{intermediate}");
    let s = CertServer::start_with(&bundle, key, root, |o| o.file("alone.crt", cert));
    for mode in ["verify-ca", "verify-full"] {
        s.connects(&format!("sslmode={mode}"), true).await;
    }
    let url = s.url_at(WRONG_HOST, "sslmode=verify-full", Some("root.pem"));
    refused_at(&url, wrong_host(), &[WRONG_HOST, "localhost"]).await;
    // The server's certificate without the intermediate: nothing links it to the root.
    s.serve("alone.crt").await;
    s.refused(
        "verify-ca",
        TlsError::UnknownIssuer,
        &["not signed by a trusted root"],
    )
    .await;
}
