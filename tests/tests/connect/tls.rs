//! TLS with every `sslmode`, against a cluster with `ssl = on` and a certificate chain made by
//! the test, and against a plain one.

use orm_postgres::prelude::*;
use orm_postgres::{ErrorKind, SslMode, TlsError};

use crate::server::{CERT_ROLE, PLAIN_ROLE, TLS_ROLE, TlsServer, plain_url, tls_server, uses_tls};

/// A database of one connection at `url`, connected.
pub async fn connect(url: &str) -> orm_postgres::Result<Database> {
    Database::builder(url).max_connections(1).connect().await
}

#[tokio::test]
async fn require_encrypts_without_verifying() {
    let s = tls_server();
    let db = connect(&s.url("postgres", "sslmode=require"))
        .await
        .unwrap();
    assert!(uses_tls(&db).await);
}

#[tokio::test]
async fn prefer_encrypts_when_the_server_offers_tls() {
    let s = tls_server();
    let db = connect(&s.url("postgres", "")).await.unwrap();
    assert!(uses_tls(&db).await, "prefer is the default");
}

#[tokio::test]
async fn verify_full_accepts_the_right_ca_and_host_name() {
    let s = tls_server();
    let port = s.cluster.port();
    let ca = s.file("ca.pem");
    for url in [
        // The name on the certificate, reached at its address without a DNS lookup.
        format!(
            "host=localhost hostaddr=127.0.0.1 port={port} user=postgres dbname=postgres \
             sslmode=verify-full sslrootcert={}",
            ca.display()
        ),
        // An IP address the certificate names.
        s.url("postgres", &s.verify_params("verify-full")),
    ] {
        let db = connect(&url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(uses_tls(&db).await);
    }
}

/// The TLS server at its address, under a name its certificate does not hold.
fn wrong_host_name(s: &TlsServer, mode: &str) -> String {
    format!(
        "host=db.wrong.example hostaddr=127.0.0.1 port={} user=postgres sslmode={mode} \
         sslrootcert={}",
        s.cluster.port(),
        s.file("ca.pem").display()
    )
}

#[tokio::test]
async fn verify_full_rejects_a_wrong_host_name() {
    let s = tls_server();
    let url = wrong_host_name(s, "verify-full");
    let err = connect(&url).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    match TlsError::of(&err) {
        Some(TlsError::HostNameMismatch { host, names }) => {
            assert_eq!(host, "db.wrong.example");
            assert!(names.iter().any(|n| n == "localhost"), "{names:?}");
        }
        other => panic!("{other:?}: {err}"),
    }
    assert!(
        err.to_string()
            .contains("not valid for host \"db.wrong.example\""),
        "{err}"
    );
}

#[tokio::test]
async fn verify_ca_checks_the_chain_but_not_the_name() {
    let s = tls_server();
    let url = wrong_host_name(s, "verify-ca");
    let db = connect(&url).await.unwrap();
    assert!(uses_tls(&db).await);
}

#[tokio::test]
async fn verify_ca_rejects_an_unknown_ca() {
    let s = tls_server();
    let url = s.url(
        "postgres",
        &format!(
            "sslmode=verify-ca&sslrootcert={}",
            s.file("other-ca.pem").display()
        ),
    );
    let err = connect(&url).await.unwrap_err();
    assert_eq!(TlsError::of(&err), Some(&TlsError::UnknownIssuer), "{err}");
    assert!(
        err.to_string().contains("not signed by a trusted root"),
        "{err}"
    );
    // A root certificate makes `require` verify the chain too, as in libpq.
    let url = s.url(
        "postgres",
        &format!(
            "sslmode=require&sslrootcert={}",
            s.file("other-ca.pem").display()
        ),
    );
    let err = connect(&url).await.unwrap_err();
    assert_eq!(TlsError::of(&err), Some(&TlsError::UnknownIssuer), "{err}");
}

#[tokio::test]
async fn disable_connects_in_plain_text_to_either_server() {
    let db = connect(&plain_url("sslmode=disable")).await.unwrap();
    assert!(!uses_tls(&db).await);
    let db = connect(&tls_server().url("postgres", "sslmode=disable"))
        .await
        .unwrap();
    assert!(!uses_tls(&db).await);
}

#[tokio::test]
async fn prefer_falls_back_to_plain_text() {
    let db = connect(&plain_url("sslmode=prefer")).await.unwrap();
    assert!(!uses_tls(&db).await);
}

/// As libpq: the server accepts TLS, the handshake fails (here the client cannot verify the
/// certificate: a root certificate makes `prefer` verify the chain), and a new connection
/// without TLS follows. Before, the connection failed.
#[tokio::test]
async fn prefer_retries_in_plain_text_when_the_handshake_fails() {
    let s = tls_server();
    let other = s.file("other-ca.pem");
    let url = s.url("postgres", &format!("sslrootcert={}", other.display()));
    let db = connect(&url).await.unwrap();
    assert!(!uses_tls(&db).await);
    // `require` has no plain text to fall back to.
    let url = s.url(
        "postgres",
        &format!("sslmode=require&sslrootcert={}", other.display()),
    );
    let err = connect(&url).await.map(drop).unwrap_err();
    assert_eq!(TlsError::of(&err), Some(&TlsError::UnknownIssuer), "{err}");
    // When plain text is refused too, the error is the handshake's.
    let url = s.url(TLS_ROLE, &format!("sslrootcert={}", other.display()));
    let err = connect(&url).await.map(drop).unwrap_err();
    assert_eq!(TlsError::of(&err), Some(&TlsError::UnknownIssuer), "{err}");
}

/// As libpq: over TLS the server refuses the user before authenticating it (`pg_hba.conf`
/// takes it in plain text only), and a new connection without TLS follows.
#[tokio::test]
async fn prefer_retries_in_plain_text_when_the_server_refuses_tls() {
    let s = tls_server();
    let db = connect(&s.url(PLAIN_ROLE, "")).await.unwrap();
    assert!(!uses_tls(&db).await);
    let err = connect(&s.url(PLAIN_ROLE, "sslmode=require"))
        .await
        .map(drop)
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("28000"), "{err}");
}

/// An error after authentication (no such database) is no reason to try without TLS: had
/// this retried, the server would have refused the plain connection (28000) instead.
#[tokio::test]
async fn prefer_does_not_retry_after_authentication() {
    let s = tls_server();
    let url = format!(
        "postgres://{TLS_ROLE}@127.0.0.1:{}/no_such_database",
        s.cluster.port()
    );
    let err = connect(&url).await.map(drop).unwrap_err();
    assert_eq!(err.sqlstate(), Some("3D000"), "{err}");
    let db = connect(&s.url(TLS_ROLE, "")).await.unwrap();
    assert!(uses_tls(&db).await);
}

#[tokio::test]
async fn require_fails_clearly_on_a_server_without_tls() {
    for mode in ["require", "verify-full"] {
        let mut url = plain_url(&format!("sslmode={mode}"));
        if mode == "verify-full" {
            url = format!(
                "{url}&sslrootcert={}",
                tls_server().file("ca.pem").display()
            );
        }
        let err = connect(&url).await.unwrap_err();
        assert_no_tls_refusal(&err);
    }
}

/// `err` is the refusal of a mode that requires TLS by a server without it.
pub fn assert_no_tls_refusal(err: &orm_postgres::Error) {
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    assert!(
        err.to_string().contains("server does not support TLS"),
        "{err}"
    );
}

#[tokio::test]
async fn a_client_certificate_passes_cert_authentication() {
    let s = tls_server();
    let url = s.url(
        CERT_ROLE,
        &format!(
            "{}&sslcert={}&sslkey={}",
            s.verify_params("verify-full"),
            s.file("client.crt").display(),
            s.file("client.key").display()
        ),
    );
    let db = connect(&url).await.unwrap();
    let user: String = db
        .fetch_one(orm_postgres::raw::query::<String>(
            "SELECT current_user::text",
        ))
        .await
        .unwrap();
    assert_eq!(user, CERT_ROLE);
    // Without the certificate, `cert` authentication refuses.
    let err = connect(&s.url(CERT_ROLE, &s.verify_params("verify-full")))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    assert_eq!(err.sqlstate(), Some("28000"), "{err}");
}

#[tokio::test]
async fn the_builder_sets_what_the_url_would() {
    let s = tls_server();
    let db = Database::builder(s.url(CERT_ROLE, "sslmode=disable"))
        .ssl_mode(SslMode::VerifyFull)
        .ssl_root_cert(s.file("ca.pem"))
        .ssl_client_cert(s.file("client.crt"), s.file("client.key"))
        .max_connections(1)
        .connect()
        .await
        .unwrap();
    assert!(uses_tls(&db).await);
}
