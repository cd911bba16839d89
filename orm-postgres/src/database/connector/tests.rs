//! Opening connections address by address: a host name with several addresses, the first of
//! which never answers. No resolver of the test machine has such a name, so the connector
//! looks it up in a table of the test's; the addresses are listeners on loopback (127.0.0.2
//! and 127.0.0.1, one port), and no server is needed to see which of them were tried.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Connector, Resolver};
use crate::config::{Host, MapEnv, Target};
use crate::{ConnectFailure, Database, ErrorKind};

const SILENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const CLOSING: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));

/// Accepts connections on `listener` from a thread of its own, counting them; keeps each open
/// and silent (`keep`), or closes it at once.
fn serve(listener: TcpListener, keep: bool) -> Arc<AtomicUsize> {
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            if keep {
                held.push(stream);
            }
        }
    });
    accepted
}

/// A port with a listener on [`CLOSING`] that closes what it accepts, and one on [`SILENT`]
/// that never answers: the two addresses of `db.test`.
struct Addresses {
    port: u16,
    silent: Arc<AtomicUsize>,
    closing: Arc<AtomicUsize>,
}

fn addresses() -> Addresses {
    let closing = TcpListener::bind((CLOSING, 0)).expect("bind 127.0.0.1");
    let port = closing.local_addr().expect("addr").port();
    let silent = TcpListener::bind((SILENT, port)).expect("bind 127.0.0.2 (Linux loopback)");
    Addresses {
        port,
        silent: serve(silent, true),
        closing: serve(closing, false),
    }
}

/// A database for `db.test:<port>`, whose name has `addresses` in this order.
fn database(port: u16, addresses: Vec<IpAddr>, params: &str) -> (Database, Arc<Connector>) {
    let builder = Database::builder(format!(
        "postgres://app@db.test:{port}/app?sslmode=disable&{params}"
    ));
    let mut connector = builder.connector(&MapEnv::default()).expect("connector");
    connector.resolver = Resolver::Fixed(vec![("db.test".to_owned(), addresses)]);
    let db = builder.database(connector).expect("database");
    let connector = db.connector.clone();
    (db, connector)
}

#[tokio::test]
async fn each_address_of_a_host_name_gets_its_own_connect_timeout() {
    let a = addresses();
    let (db, _) = database(a.port, vec![SILENT, CLOSING], "connect_timeout=1");
    // A connection of its own: the silent address is given up after its second, and the next
    // one is tried (before, the one timeout covered both, and the second was never reached).
    let started = Instant::now();
    let err = db.ping().await.expect_err("no server");
    let took = started.elapsed();
    assert_eq!(a.silent.load(Ordering::SeqCst), 1);
    assert_eq!(a.closing.load(Ordering::SeqCst), 1, "{err}");
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // Both addresses named, in order, each with its own reason (before, only the last). The
    // closing listener's is "connection closed" or a reset, as the race goes.
    let port = a.port;
    let closed = ConnectFailure::of(&err).expect("attempts").attempts()[1].reason();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to the database: \
             connection to server at \"db.test\" (127.0.0.2), port {port} failed: \
             timeout expired (connect_timeout 1s)\n\
             connection to server at \"db.test\" (127.0.0.1), port {port} failed: {closed}"
        )
    );
    assert_attempts(&err, port);
    // The pool's connection likewise: the pool sets no limit of its own that would end the
    // attempt at the first address (it allowed the connect timeout once per host).
    let err = db.connection().await.map(drop).expect_err("no server");
    assert_eq!(a.silent.load(Ordering::SeqCst), 2);
    assert_eq!(a.closing.load(Ordering::SeqCst), 2, "{err}");
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    // Deadpool carries only the last attempt's error: the first comes back all the same.
    assert_attempts(&err, a.port);
}

/// `err` names both addresses of `db.test`: the silent one timed out, the closing one closed.
fn assert_attempts(err: &crate::Error, port: u16) {
    let attempts = ConnectFailure::of(err).expect("attempts").attempts();
    let seen: Vec<_> = attempts
        .iter()
        .map(|a| (a.host(), a.address(), a.port(), a.timed_out()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("db.test", Some(SILENT), port, true),
            ("db.test", Some(CLOSING), port, false),
        ],
        "{err}"
    );
    assert_eq!(attempts[0].reason(), "timeout expired (connect_timeout 1s)");
    let closed = attempts[1].reason();
    assert!(
        closed == "connection closed" || closed.starts_with("Connection reset by peer"),
        "{err}"
    );
    // Each attempt's own error says only its own line.
    assert_eq!(
        attempts[1].error().to_string(),
        format!(
            "cannot connect to the database: connection to server at \"db.test\" (127.0.0.1), \
             port {port} failed: {closed}"
        )
    );
}

#[tokio::test]
async fn a_name_s_addresses_are_tried_in_the_resolver_s_order_each_once() {
    let (_, connector) = database(5432, vec![CLOSING, SILENT, CLOSING], "");
    let target = &connector.targets[0];
    let limit = Some(Duration::from_secs(1));
    let found = connector.addresses(target, limit).await.expect("looked up");
    // In the resolver's order, each address once.
    assert_eq!(found, vec![Some(CLOSING), Some(SILENT)]);
    // Sockets, `hostaddr` and IP addresses need no lookup: the driver connects as configured.
    for host in [
        Host::Tcp("127.0.0.1".to_owned()),
        Host::Tcp("::1".to_owned()),
        Host::Unix("/run/postgresql".into()),
    ] {
        let target = Target {
            host,
            hostaddr: None,
            port: 5432,
        };
        assert_eq!(
            connector.addresses(&target, limit).await.ok(),
            Some(vec![None])
        );
    }
    let pinned = Target {
        hostaddr: Some(CLOSING),
        ..target.clone()
    };
    assert_eq!(
        connector.addresses(&pinned, limit).await.ok(),
        Some(vec![None])
    );
}
