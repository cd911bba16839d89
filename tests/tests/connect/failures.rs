//! A connect that fails says where, attempt by attempt, as libpq does: each host of the list
//! (and each address of a name) named with its address and port, or its socket, in the order
//! tried, each with its own reason; `ConnectFailure::of(&err)` gives the same list typed.

use std::io::ErrorKind as IoKind;
use std::net::{IpAddr, Ipv4Addr};

use orm_postgres::prelude::*;
use orm_postgres::{ConnectFailure, ErrorKind};

use crate::server::{PASSWORD, PASSWORD_ROLE, black_hole, closed_port, tls_server};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The attempts of a failed connect: host, address, port, whether it timed out, its reason.
fn attempts(err: &orm_postgres::Error) -> Vec<(String, Option<IpAddr>, u16, bool, String)> {
    ConnectFailure::of(err)
        .unwrap_or_else(|| panic!("no attempts in {err:?}"))
        .attempts()
        .iter()
        .map(|a| {
            (
                a.host().to_owned(),
                a.address(),
                a.port(),
                a.timed_out(),
                a.reason().to_owned(),
            )
        })
        .collect()
}

/// The `io::ErrorKind` at the root of an attempt's error, if any.
fn io_kind(attempt: &orm_postgres::ConnectAttempt) -> Option<IoKind> {
    let mut source = std::error::Error::source(attempt.error());
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

#[tokio::test]
async fn a_refused_connection_names_the_address_and_port() {
    let port = closed_port();
    let err = Database::connect(&format!(
        "postgres://app@127.0.0.1:{port}/app?sslmode=disable"
    ))
    .await
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to the database: connection to server at \"127.0.0.1\", \
             port {port} failed: Connection refused (os error 111)"
        )
    );
    assert_eq!(
        attempts(&err),
        vec![(
            "127.0.0.1".to_owned(),
            Some(LOOPBACK),
            port,
            false,
            "Connection refused (os error 111)".to_owned()
        )]
    );
    let failure = ConnectFailure::of(&err).unwrap();
    assert_eq!(
        io_kind(&failure.attempts()[0]),
        Some(IoKind::ConnectionRefused)
    );
}

#[tokio::test]
async fn every_host_of_a_list_is_named_in_order_with_its_own_reason() {
    // Refused at once; accepted and never answered (given up after connect_timeout); a
    // server that refuses the password.
    let (refused, silent) = (closed_port(), black_hole());
    let server = tls_server().cluster.port();
    let url = format!(
        "postgres://{PASSWORD_ROLE}:wrong-secret@127.0.0.1:{refused},127.0.0.1:{silent},\
         localhost:{server}/postgres?connect_timeout=1&sslmode=disable"
    );
    let err = Database::builder(url)
        .max_connections(1)
        .connect()
        .await
        .unwrap_err();
    let auth = format!("password authentication failed for user \"{PASSWORD_ROLE}\"");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to the database: \
             connection to server at \"127.0.0.1\", port {refused} failed: \
             Connection refused (os error 111)\n\
             connection to server at \"127.0.0.1\", port {silent} failed: \
             timeout expired (connect_timeout 1s)\n\
             connection to server at \"localhost\" (127.0.0.1), port {server} failed: \
             {auth} (SQLSTATE 28P01)"
        )
    );
    let seen = attempts(&err);
    let brief: Vec<_> = seen
        .iter()
        .map(|(host, address, port, timed_out, _)| (host.as_str(), *address, *port, *timed_out))
        .collect();
    assert_eq!(
        brief,
        vec![
            ("127.0.0.1", Some(LOOPBACK), refused, false),
            ("127.0.0.1", Some(LOOPBACK), silent, true),
            // A name: the address it was looked up to.
            ("localhost", Some(LOOPBACK), server, false),
        ]
    );
    // Classified by the last attempt: the server's refusal is the error's SQLSTATE; the
    // others' are their own.
    assert_eq!(err.sqlstate(), Some("28P01"), "{err}");
    let failure = ConnectFailure::of(&err).unwrap();
    let each: Vec<_> = failure
        .attempts()
        .iter()
        .map(|a| a.error().sqlstate())
        .collect();
    assert_eq!(each, vec![None, None, Some("28P01")]);
    assert_eq!(
        io_kind(&failure.attempts()[0]),
        Some(IoKind::ConnectionRefused)
    );
    // No secret in any output.
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("wrong-secret"), "{text}");
    }
}

#[tokio::test]
async fn a_wrong_password_names_the_server() {
    let port = tls_server().cluster.port();
    let err = Database::builder(format!(
        "postgres://{PASSWORD_ROLE}@127.0.0.1:{port}/postgres?sslmode=require"
    ))
    .password(format!("{PASSWORD}-not"))
    .max_connections(1)
    .connect()
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to the database: connection to server at \"127.0.0.1\", \
             port {port} failed: password authentication failed for user \
             \"{PASSWORD_ROLE}\" (SQLSTATE 28P01)"
        )
    );
    assert_eq!(err.sqlstate(), Some("28P01"));
    assert!(!format!("{err:?}").contains(PASSWORD), "{err:?}");
}

#[tokio::test]
async fn a_read_write_list_without_a_writable_server_says_so_of_each() {
    // Servers whose sessions start read-only, as a standby's do (no standby needed): each is
    // connected to, and left for not allowing writes.
    let port = orm_testing::shared().expect("the local cluster").port();
    let url = format!(
        "postgres://postgres@127.0.0.1:{port},localhost:{port}/postgres?sslmode=disable\
         &hostaddr=127.0.0.1,127.0.0.1&target_session_attrs=read-write\
         &options=-c%20default_transaction_read_only%3Don"
    );
    let err = Database::builder(url)
        .max_connections(1)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to the database: \
             connection to server at \"127.0.0.1\", port {port} failed: \
             database does not allow writes\n\
             connection to server at \"localhost\" (127.0.0.1), port {port} failed: \
             database does not allow writes"
        )
    );
    let failure = ConnectFailure::of(&err).unwrap();
    for attempt in failure.attempts() {
        assert_eq!(
            io_kind(attempt),
            Some(IoKind::PermissionDenied),
            "{attempt}"
        );
    }
}

#[tokio::test]
async fn a_missing_socket_is_named_by_its_path() {
    let dir = std::env::temp_dir().join(format!("no-server-{}", std::process::id()));
    let url = format!("postgres://app@/app?host={}&port=5999", dir.display());
    let err = Database::builder(url)
        .max_connections(1)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to the database: connection to server on socket \
             \"{}/.s.PGSQL.5999\" failed: No such file or directory (os error 2)",
            dir.display()
        )
    );
    let failure = ConnectFailure::of(&err).unwrap();
    let attempt = &failure.attempts()[0];
    assert!(attempt.is_socket());
    assert_eq!((attempt.address(), attempt.port()), (None, 5999));
}
