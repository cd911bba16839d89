//! Servers that go away or stop answering: a replica stopped (reads fall back to the primary,
//! and come back to it when it returns), a replica frozen with `SIGSTOP` (the client-side query
//! timeout takes it out of rotation, nothing waits forever), a server-side `statement_timeout`
//! on a live replica (the read's own error: neither rerun nor a reason to leave the rotation),
//! and a primary replaced by its promoted replica (writes find the server that accepts them
//! through the multi-host URL with `target_session_attrs=read-write`).

mod every_read;

use std::time::{Duration, Instant};

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ErrorKind, ReadYourWrites, ReplicaState, RoutingMetrics};
use orm_testing::{ClusterOptions, LocalCluster};

use crate::{
    halt, on_replica, pair, probe, replicated, runs, serial, wait_for_replica_reads, wait_until,
};

/// A replica URL that points at another cluster (not a copy of the primary) never serves: its
/// `system_identifier` differs from the primary's, checked before its first read and again
/// after each check interval.
#[tokio::test]
async fn a_replica_url_of_another_cluster_is_down_and_never_serves() {
    let _turn = serial().await;
    let pair = pair();
    let stranger = LocalCluster::start().expect("an unrelated cluster");
    let db = Database::builder(pair.primary.url("postgres"))
        .replica(stranger.url("postgres"))
        .replica_check_interval(Duration::from_millis(100))
        .connect()
        .await
        .expect("connect");
    let port = || query::<i32>("SELECT inet_server_port()");
    let primary_port = i32::from(pair.primary.port());
    assert_eq!(db.fetch_one(port()).await.expect("read"), primary_port);
    let status = &db.replicas()[0];
    assert!(
        matches!(&status.state, ReplicaState::Down { reason } if reason.starts_with("another cluster than the primary's: system identifier ")),
        "{status:?}"
    );
    assert_eq!(status.reads, 0);
    // Checked again after the interval: still not the primary's, still no read.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(db.fetch_one(port()).await.expect("read"), primary_port);
    assert!(matches!(db.replicas()[0].state, ReplicaState::Down { .. }));
    assert_eq!(db.replicas()[0].reads, 0);
    assert_eq!(db.routing().primary_reads_fallback, 2);
    // A real replica of the primary passes the same check.
    let db = Database::builder(pair.primary.url("postgres"))
        .replica(pair.replica.url("postgres"))
        .connect()
        .await
        .expect("connect");
    assert!(on_replica(&db).await);
    assert_eq!(db.replicas()[0].state, ReplicaState::InRotation);
}

#[tokio::test]
async fn a_stopped_replica_leaves_rotation_and_reads_go_to_the_primary() {
    let _turn = serial().await;
    let pair = pair();
    let db = replicated()
        .connect_timeout(Duration::from_secs(1))
        .replica_check_interval(Duration::from_millis(200))
        .connect()
        .await
        .expect("connect");
    assert!(on_replica(&db).await);

    // The replica is shared: started again when `halted` drops, also if an assert fails.
    let halted = halt(&pair.replica);
    for _ in 0..3 {
        assert!(!on_replica(&db).await, "the read falls back to the primary");
    }
    let status = &db.replicas()[0];
    assert!(
        matches!(status.state, ReplicaState::Down { .. }),
        "{status:?}"
    );
    assert_eq!(db.routing().primary_reads_fallback, 3);
    halted.resume();
    assert!(matches!(db.replicas()[0].state, ReplicaState::Down { .. }));
    assert_eq!(db.routing().primary_reads_fallback, 3);

    // Back in rotation at the first read after the check interval.
    wait_for_replica_reads(&db, "after the restart").await;
    assert_eq!(db.replicas()[0].state, ReplicaState::InRotation);
}

/// A replica that stops answering (every process of it `SIGSTOP`ped: connections stay open,
/// new ones hang after the TCP handshake) costs a read at most the query timeout, once: the
/// read runs again on the primary, and the replica stays out of rotation (each later try
/// bounded by the check timeout) until it answers again.
#[tokio::test]
async fn a_frozen_replica_leaves_rotation_without_hanging_reads_and_returns_when_thawed() {
    const READ: &str = "SELECT count(*) FROM probe_frozen";
    let _turn = serial().await;
    let pair = pair();
    let replica = pair.second();
    probe("probe_frozen", &[replica]).await;
    let (primary_url, replica_url) = (pair.primary.url("postgres"), replica.url("postgres"));
    let query_timeout = Duration::from_secs(1);
    let db = freezable(&primary_url, &replica_url, query_timeout).await;
    // The replica's pool now holds an open connection.
    assert_eq!(db.fetch_one(query::<i64>(READ)).await.expect("read"), 1);
    assert_eq!(runs(&replica_url, READ).await, 1);

    let frozen = replica.freeze().expect("freeze the replica");
    assert!(frozen.processes() > 3, "postmaster and children");
    // The read is sent on the open connection, gets no answer, is given up after the query
    // timeout, and runs again on the primary (the server says so).
    let start = Instant::now();
    assert_eq!(db.fetch_one(query::<i64>(READ)).await.expect("read"), 1);
    let took = start.elapsed();
    assert!(
        took >= query_timeout && took < 4 * query_timeout,
        "{took:?}"
    );
    assert_eq!(runs(&primary_url, READ).await, 1);
    let status = &db.replicas()[0];
    assert!(
        matches!(&status.state, ReplicaState::Down { reason } if reason.contains("no answer from the server")),
        "{status:?}"
    );
    let lost = RoutingMetrics {
        replica_reads: 2,
        primary_reads_after_write: 0,
        primary_reads_fallback: 1,
    };
    assert_eq!(db.routing(), lost);

    // After the check interval a read tries the replica again: a new connection, which the
    // frozen postmaster never answers; the check timeout ends the try, the read goes to the
    // primary.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(db.fetch_one(query::<i64>(READ)).await.expect("read"), 1);
    assert_eq!(runs(&primary_url, READ).await, 2);
    let status = &db.replicas()[0];
    assert!(
        matches!(&status.state, ReplicaState::Down { reason } if reason == "no connection within 500ms"),
        "{status:?}"
    );
    assert_eq!(db.routing().primary_reads_fallback, 2);

    // Thawed, it answers again: back in rotation at the next check.
    frozen.thaw();
    wait_for_replica_reads(&db, "after the thaw").await;
    assert_eq!(db.replicas()[0].state, ReplicaState::InRotation);
    let before = runs(&replica_url, READ).await;
    assert_eq!(db.fetch_one(query::<i64>(READ)).await.expect("read"), 1);
    assert_eq!(runs(&replica_url, READ).await, before + 1);
    assert_eq!(runs(&primary_url, READ).await, 2);
}

/// `statement_timeout` ending a read on a live replica (SQLSTATE 57014) is the read's own
/// error, as on the primary: reported, not rerun elsewhere, and no reason for the replica to
/// leave the rotation.
#[tokio::test]
async fn a_statement_timeout_on_a_live_replica_is_the_reads_error_and_the_replica_stays() {
    // Sleeps a second on a replica, returns at once on the primary: a rerun there would
    // succeed, and the primary would count it.
    const SLOW: &str =
        "SELECT CASE WHEN pg_is_in_recovery() THEN pg_sleep(id)::text END FROM probe_slow";
    const READ: &str = "SELECT count(*) FROM probe_slow";
    let _turn = serial().await;
    let pair = pair();
    probe("probe_slow", &[&pair.replica]).await;
    let (primary_url, replica_url) = (pair.primary.url("postgres"), pair.replica.url("postgres"));
    let db = replicated()
        .statement_timeout(Duration::from_millis(100))
        .connect()
        .await
        .expect("connect");

    let err = db
        .fetch_one(query::<Option<String>>(SLOW))
        .await
        .expect_err("the replica cancels it");
    assert!(
        matches!(err.kind(), ErrorKind::StatementTimeout(_)),
        "{err:?}"
    );
    assert_eq!(err.sqlstate(), Some("57014"));
    assert_eq!(db.replicas()[0].state, ReplicaState::InRotation);
    assert_eq!(
        db.routing(),
        RoutingMetrics {
            replica_reads: 1,
            primary_reads_after_write: 0,
            primary_reads_fallback: 0,
        }
    );
    assert_eq!(
        runs(&primary_url, SLOW).await,
        0,
        "not rerun on the primary"
    );

    // The replica keeps serving.
    assert_eq!(db.fetch_one(query::<i64>(READ)).await.expect("read"), 1);
    assert_eq!(runs(&replica_url, READ).await, 1);
    assert_eq!(runs(&primary_url, READ).await, 0);
    assert_eq!(db.replicas()[0].reads, 2);
}

/// `target_session_attrs=read-write` across a host list whose first host is a live standby:
/// every connection skips it (it answers, but `transaction_read_only` is on) for the primary
/// behind it; after the standby is promoted and the old primary stopped, new connections land
/// on the promoted one.
#[tokio::test]
async fn writes_find_the_primary_through_the_host_list_before_and_after_a_promotion() {
    let _turn = serial().await;
    let old = LocalCluster::start().expect("primary of its own");
    let standby = old
        .start_replica(ClusterOptions::new())
        .expect("its replica");
    let hosts = |attrs: &str| {
        format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres{attrs}",
            standby.port(),
            old.port()
        )
    };
    let port = || query::<i32>("SELECT inet_server_port()");
    let in_recovery = || query::<bool>("SELECT pg_is_in_recovery()");

    // Without the attribute, the first host that answers is taken: the standby, which refuses
    // writes. The host list alone proves nothing.
    let any = Database::connect(&hosts("")).await.expect("connect");
    assert_eq!(
        any.fetch_one(port()).await.expect("port"),
        i32::from(standby.port())
    );
    let err = any
        .execute(query::<()>("CREATE TABLE moved (id int PRIMARY KEY)"))
        .await
        .expect_err("the standby refuses writes");
    assert_eq!(err.sqlstate(), Some("25006"), "{err}");

    let db = Database::builder(hosts("?target_session_attrs=read-write"))
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
        .expect("connect");
    db.batch_execute("CREATE TABLE moved (id int PRIMARY KEY)")
        .await
        .expect("table");
    // The connection that wrote is the primary's, behind the standby in the list.
    let conn = db.connection().await.expect("connection");
    conn.execute(query::<()>("INSERT INTO moved VALUES (1)"))
        .await
        .expect("insert");
    assert!(!conn.fetch_one(in_recovery()).await.expect("recovery"));
    assert_eq!(
        conn.fetch_one(port()).await.expect("port"),
        i32::from(old.port())
    );
    drop(conn);
    let direct = Database::connect(&old.url("postgres")).await.expect("old");
    let ids: Vec<i32> = direct
        .fetch_all(query::<i32>("SELECT id FROM moved"))
        .await
        .expect("read on the primary");
    assert_eq!(ids, [1]);
    drop(direct);
    wait_until(&standby.url("postgres"), "SELECT count(*) = 1 FROM moved").await;

    // Failover: the standby promoted, the old primary stopped.
    standby.promote().expect("promote the standby");
    old.halt().expect("stop the old primary");

    // The pool's connections to the old primary are gone (the first call may still meet one:
    // ConnectionLost, to retry); new ones are opened on the promoted server.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match db
            .execute(query::<()>("INSERT INTO moved VALUES (2)"))
            .await
        {
            Ok(n) => {
                assert_eq!(n, 1);
                break;
            }
            Err(e) if attempts < 3 && matches!(e.kind(), ErrorKind::ConnectionLost(_)) => {}
            Err(e) => panic!("the write after the promotion failed: {e}"),
        }
    }
    let conn = db.connection().await.expect("connection");
    assert_eq!(
        conn.fetch_one(port()).await.expect("port"),
        i32::from(standby.port())
    );
    assert!(!conn.fetch_one(in_recovery()).await.expect("recovery"));
    let ids: Vec<i32> = conn
        .fetch_all(query::<i32>("SELECT id FROM moved ORDER BY id"))
        .await
        .expect("read");
    assert_eq!(ids, [1, 2]);
    drop(conn);
    // A database built now (a process started after the failover) finds it too.
    let fresh = Database::connect(&hosts("?target_session_attrs=read-write"))
        .await
        .expect("connect after the failover");
    assert_eq!(
        fresh.fetch_one(port()).await.expect("port"),
        i32::from(standby.port())
    );
}

/// The primary with one replica that a test freezes: reads wait `query_timeout` for an answer,
/// checks are short, and read-your-writes is off (every read may go to the replica).
pub async fn freezable(primary_url: &str, replica_url: &str, query_timeout: Duration) -> Database {
    Database::builder(primary_url)
        .replica(replica_url)
        .read_your_writes(ReadYourWrites::Off)
        .query_timeout(Some(query_timeout))
        .connect_timeout(Duration::from_secs(1))
        .replica_check_interval(Duration::from_millis(300))
        .replica_check_timeout(Duration::from_millis(500))
        .connect()
        .await
        .expect("connect")
}
