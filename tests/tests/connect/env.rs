//! libpq's environment variables as defaults, connecting for real: a database that only the
//! environment describes, and `PGSSLMODE=verify-full` enforced on a server without TLS and on
//! one whose certificate the client cannot verify. Each test gives its own environment
//! through `DatabaseBuilder::environment`, never the process's.

use std::collections::HashMap;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{DatabaseBuilder, TlsError};

use crate::server::{PASSWORD, PASSWORD_ROLE, plain_url, tls_server, uses_tls};
use crate::tls::assert_no_tls_refusal;

/// `url` with `vars` as its whole environment.
fn with_env(url: &str, vars: &[(&str, String)]) -> DatabaseBuilder {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Database::builder(url)
        .max_connections(1)
        .environment(move |name| vars.get(name).cloned())
}

#[tokio::test]
async fn the_environment_alone_says_where_and_how_to_connect() {
    let s = tls_server();
    let vars = [
        ("PGHOST", "localhost".to_owned()),
        ("PGHOSTADDR", "127.0.0.1".to_owned()),
        ("PGPORT", s.cluster.port().to_string()),
        ("PGUSER", PASSWORD_ROLE.to_owned()),
        ("PGPASSWORD", PASSWORD.to_owned()),
        ("PGDATABASE", "postgres".to_owned()),
        ("PGAPPNAME", "from the environment".to_owned()),
        ("PGOPTIONS", "-c search_path=envpath".to_owned()),
        ("PGCONNECT_TIMEOUT", "5".to_owned()),
        ("PGSSLMODE", "verify-full".to_owned()),
        ("PGSSLROOTCERT", s.file("ca.pem").display().to_string()),
    ];
    let db = with_env("", &vars).connect().await.unwrap();
    let (user, app, path): (String, String, String) = db
        .fetch_one(query::<(String, String, String)>(
            "SELECT current_user::text, current_setting('application_name'), \
             current_setting('search_path')",
        ))
        .await
        .unwrap();
    assert_eq!(user, PASSWORD_ROLE);
    assert_eq!(app, "from the environment");
    assert_eq!(path, "envpath");
    assert!(uses_tls(&db).await);
    // The connection string wins over the environment.
    let db = with_env("application_name=mine sslmode=disable", &vars)
        .connect()
        .await
        .unwrap();
    let app: String = db
        .fetch_one(query::<String>(
            "SELECT current_setting('application_name')",
        ))
        .await
        .unwrap();
    assert_eq!(app, "mine");
    assert!(!uses_tls(&db).await);
}

/// The environment of a deployment that insists on a verified server.
fn verify_full(root: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PGSSLMODE", "verify-full".to_owned()),
        (
            "PGSSLROOTCERT",
            tls_server().file(root).display().to_string(),
        ),
    ]
}

/// The error of connecting to `url` in the environment `vars`.
async fn refused(url: &str, vars: &[(&str, String)]) -> orm_postgres::Error {
    with_env(url, vars).connect().await.map(drop).unwrap_err()
}

#[tokio::test]
async fn pgsslmode_verify_full_refuses_a_server_without_tls() {
    // A URL without sslmode, as a deployment's DATABASE_URL often is.
    assert_no_tls_refusal(&refused(&plain_url(""), &verify_full("ca.pem")).await);
}

#[tokio::test]
async fn pgsslmode_verify_full_refuses_a_certificate_it_cannot_verify() {
    let s = tls_server();
    let port = s.cluster.port();
    // Signed by a CA the client does not trust.
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let err = refused(&url, &verify_full("other-ca.pem")).await;
    assert_eq!(TlsError::of(&err), Some(&TlsError::UnknownIssuer), "{err}");
    // Valid, but not for the name connected to.
    let url = format!("host=db.wrong.example hostaddr=127.0.0.1 port={port} user=postgres");
    let err = refused(&url, &verify_full("ca.pem")).await;
    assert!(
        matches!(TlsError::of(&err), Some(TlsError::HostNameMismatch { .. })),
        "{err}"
    );
    // The same environment with the right name connects, verified.
    let url = format!("host=localhost hostaddr=127.0.0.1 port={port} user=postgres");
    let db = with_env(&url, &verify_full("ca.pem"))
        .connect()
        .await
        .unwrap();
    assert!(uses_tls(&db).await);
}
