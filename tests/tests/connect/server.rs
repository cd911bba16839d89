//! The servers of this suite: a cluster of its own with TLS on (a certificate chain made here
//! with rcgen) and roles for password and certificate authentication, and the process's
//! plain cluster (no TLS) for the fallbacks.

use std::path::PathBuf;
use std::sync::OnceLock;

use orm_postgres::{Database, Executor};
use orm_testing::{ClusterOptions, LocalCluster};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// The password of [`PASSWORD_ROLE`], with every character a URL must encode.
pub const PASSWORD: &str = "p@ss:w/rd%?#&=' x";

/// A role that must authenticate with [`PASSWORD`] (scram-sha-256), over TCP and sockets.
pub const PASSWORD_ROLE: &str = "pwuser";

/// A role that must present a client certificate (`cert` authentication), over TLS only.
pub const CERT_ROLE: &str = "certuser";

/// A role the server takes in plain text only (`hostnossl`; over TLS, `reject`).
pub const PLAIN_ROLE: &str = "plainuser";

/// A role the server takes over TLS only (`hostssl`; in plain text, `reject`).
pub const TLS_ROLE: &str = "tlsuser";

/// The TLS cluster and where its client-side files are.
pub struct TlsServer {
    pub cluster: LocalCluster,
}

impl TlsServer {
    /// A file of the data directory: `ca.pem`, `other-ca.pem`, `client.crt`, `client.key`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.cluster.data_dir().join(name)
    }

    /// `postgres://<user>@127.0.0.1:<port>/postgres?<params>`.
    pub fn url(&self, user: &str, params: &str) -> String {
        format!(
            "postgres://{user}@127.0.0.1:{}/postgres?{params}",
            self.cluster.port()
        )
    }

    /// `params` plus the parameters that verify the server against the test CA.
    pub fn verify_params(&self, mode: &str) -> String {
        format!(
            "sslmode={mode}&sslrootcert={}",
            self.file("ca.pem").display()
        )
    }
}

/// The PEM files of a certificate chain: a CA, a server certificate it signed for
/// `localhost` and `127.0.0.1`, a client certificate for [`CERT_ROLE`], and another CA that
/// signed nothing here.
struct Chain {
    ca: String,
    other_ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

/// A self-signed CA certificate.
pub fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca")
}

fn chain() -> Chain {
    let root = ca("orm test CA");
    let other = ca("some other CA");
    let server_key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server_cert = params.signed_by(&server_key, &root).expect("server cert");
    let client_key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
    params
        .distinguished_name
        .push(DnType::CommonName, CERT_ROLE);
    let client_cert = params.signed_by(&client_key, &root).expect("client cert");
    Chain {
        ca: root.pem(),
        other_ca: other.pem(),
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
        client_cert: client_cert.pem(),
        client_key: client_key.serialize_pem(),
    }
}

/// The suite's TLS cluster, started on first use (and stopped by its watchdog when the test
/// process ends).
pub fn tls_server() -> &'static TlsServer {
    static SERVER: OnceLock<TlsServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let c = chain();
        let cluster = LocalCluster::start_with(
            tls_options(&c.server_cert, &c.server_key)
                .file("ca.pem", &c.ca)
                .file("other-ca.pem", &c.other_ca)
                .file("client.crt", &c.client_cert)
                .file("client.key", &c.client_key)
                .setting("ssl_ca_file", "ca.pem")
                .hba_line(format!("hostssl   all {CERT_ROLE} 127.0.0.1/32 cert"))
                .hba_line(format!("hostnossl all {CERT_ROLE} 127.0.0.1/32 reject"))
                .hba_line(format!("hostnossl all {PLAIN_ROLE} 127.0.0.1/32 trust"))
                .hba_line(format!("hostssl   all {PLAIN_ROLE} 127.0.0.1/32 reject"))
                .hba_line(format!("hostssl   all {TLS_ROLE} 127.0.0.1/32 trust"))
                .hba_line(format!("hostnossl all {TLS_ROLE} 127.0.0.1/32 reject"))
                .hba_line(format!(
                    "host      all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256"
                )),
        )
        .expect("the TLS cluster starts");
        // Roles, created from a thread of its own (this may run inside a test's runtime).
        let url = cluster.url("postgres");
        std::thread::spawn(move || create_roles(&url))
            .join()
            .expect("roles created");
        TlsServer { cluster }
    })
}

/// A cluster's options with TLS on, serving `cert` (PEM) with `key` (`server.crt`,
/// `server.key` in its data directory).
pub fn tls_options(cert: &str, key: &str) -> ClusterOptions {
    ClusterOptions::new()
        .file("server.crt", cert)
        .file("server.key", key)
        .setting("ssl", "on")
        .setting("ssl_cert_file", "server.crt")
        .setting("ssl_key_file", "server.key")
}

/// Creates [`PASSWORD_ROLE`], [`CERT_ROLE`], [`PLAIN_ROLE`] and [`TLS_ROLE`] on the server at
/// `url`.
pub fn create_roles(url: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let db = Database::builder(url)
            .max_connections(1)
            .connect()
            .await
            .expect("admin connection");
        let password = PASSWORD.replace('\'', "''");
        db.batch_execute(&format!(
            "CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{password}'; CREATE ROLE {CERT_ROLE} LOGIN; \
             CREATE ROLE {PLAIN_ROLE} LOGIN; CREATE ROLE {TLS_ROLE} LOGIN"
        ))
        .await
        .expect("roles");
    });
}

/// The process's plain cluster (no TLS): `postgres://postgres@127.0.0.1:<port>/postgres`.
pub fn plain_url(params: &str) -> String {
    let cluster = orm_testing::shared().expect("the local cluster starts");
    format!("{}?{params}", cluster.url("postgres"))
}

/// A TCP port that accepts connections and never sends a byte (a server frozen after its
/// accept, a proxy whose backend is gone); the connections stay open until the process ends.
pub fn black_hole() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// A TCP port nobody listens on (bound, then freed): connecting to it is refused at once.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port()
}

/// Whether the connection `db` hands out is encrypted, as the server sees it.
pub async fn uses_tls(db: &Database) -> bool {
    db.fetch_one(orm_postgres::raw::query::<bool>(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    ))
    .await
    .expect("pg_stat_ssl")
}
