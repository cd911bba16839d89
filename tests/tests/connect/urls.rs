//! The connection strings users paste, connecting for real: `postgresql://`, percent-encoded
//! passwords, host lists with `target_session_attrs`, `options`, key-value strings; and typed
//! errors for the rest.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ConfigError, ErrorKind};

use crate::server::{PASSWORD, PASSWORD_ROLE, black_hole, tls_server};

/// Percent-encodes everything but unreserved characters.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn current_user(url: &str) -> String {
    let db = Database::builder(url)
        .max_connections(1)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    db.fetch_one(query::<String>("SELECT current_user::text"))
        .await
        .unwrap()
}

#[tokio::test]
async fn postgresql_scheme_and_an_encoded_password() {
    let port = tls_server().cluster.port();
    let url = format!(
        "postgresql://{PASSWORD_ROLE}:{}@127.0.0.1:{port}/postgres",
        encode(PASSWORD)
    );
    assert_eq!(current_user(&url).await, PASSWORD_ROLE);
}

#[tokio::test]
async fn a_key_value_string_with_a_quoted_password() {
    let port = tls_server().cluster.port();
    let quoted = PASSWORD.replace('\\', "\\\\").replace('\'', "\\'");
    let conninfo = format!(
        "host=127.0.0.1 port={port} dbname=postgres user={PASSWORD_ROLE} password='{quoted}' \
         application_name='key value'"
    );
    assert_eq!(current_user(&conninfo).await, PASSWORD_ROLE);
}

#[tokio::test]
async fn a_host_list_skips_what_is_down_and_what_is_not_read_write() {
    let port = tls_server().cluster.port();
    // Port 1 refuses at once; the second host is the server.
    let url = format!(
        "postgresql://postgres@127.0.0.1:1,127.0.0.1:{port}/postgres?target_session_attrs=read-write"
    );
    assert_eq!(current_user(&url).await, "postgres");
    // No host is a read-only standby: no connection, a typed error.
    let url = format!(
        "postgresql://postgres@127.0.0.1:{port},localhost:{port}/postgres?target_session_attrs=read-only&hostaddr=127.0.0.1,127.0.0.1"
    );
    let err = Database::builder(url).connect().await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
}

#[tokio::test]
async fn options_set_the_search_path() {
    let s = tls_server();
    let url = s.url("postgres", "options=-c%20search_path%3Dapp,public");
    let db = Database::builder(url)
        .max_connections(1)
        .statement_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .unwrap();
    let path: String = db
        .fetch_one(query::<String>("SELECT current_setting('search_path')"))
        .await
        .unwrap();
    assert_eq!(path, "app,public");
    // The builder's statement_timeout joins the URL's options instead of replacing them.
    let timeout: String = db
        .fetch_one(query::<String>(
            "SELECT current_setting('statement_timeout')",
        ))
        .await
        .unwrap();
    assert_eq!(timeout, "30s");
}

#[tokio::test]
async fn bad_input_is_a_typed_configuration_error_before_any_connection() {
    for (url, expected) in [
        ("postgres://h:0/d", "invalid port \"0\""),
        (
            "postgres://h/d?colour=blue",
            "unknown connection parameter \"colour\"",
        ),
        ("postgres://h/d?hostaddr=nope", "invalid hostaddr \"nope\""),
        ("host=a,b port=1,2,3", "2 host(s) but 3 port value(s)"),
        (
            "postgres://h/d?sslmode=verify",
            "invalid sslmode \"verify\"",
        ),
    ] {
        let err = Database::builder(url).connect().await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Config { .. }),
            "{url}: {err:?}"
        );
        assert!(ConfigError::of(&err).is_some(), "{url}");
        assert!(err.to_string().contains(expected), "{url}: {err}");
    }
}

#[tokio::test]
async fn a_host_that_accepts_and_never_answers_is_given_up_after_connect_timeout() {
    let hole = black_hole();
    let port = tls_server().cluster.port();
    // The pool: the silent first host is given up after its second, and the next one
    // serves (before, the driver bounded only the TCP connect, which succeeds here, and the
    // startup waited until the pool's whole create budget was spent on the first host).
    let url = format!(
        "postgresql://postgres@127.0.0.1:{hole},127.0.0.1:{port}/postgres?connect_timeout=1&sslmode=disable"
    );
    let started = std::time::Instant::now();
    assert_eq!(current_user(&url).await, "postgres");
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_secs(1) && took < std::time::Duration::from_secs(10),
        "{took:?}"
    );
    // A connection of its own (a listener's): a typed error after the timeout, not a hang.
    let url = format!("postgresql://postgres@127.0.0.1:{hole}/postgres?connect_timeout=1");
    let db = Database::builder(url).build().unwrap();
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(std::time::Duration::from_secs(30), db.listener())
        .await
        .expect("the listener's connect hung")
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("timeout"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // `ping` too: an error after the timeout; against the real server, an answer.
    let err = db.ping().await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    let url = format!("postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable");
    let db = Database::builder(url).max_connections(1).build().unwrap();
    let conn = db.connection().await.unwrap();
    // Outside the pool: the only connection held, ping still answers.
    let took = db.ping().await.expect("ping");
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    drop(conn);
}
