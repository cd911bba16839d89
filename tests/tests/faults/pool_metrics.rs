//! Pool metrics counted exactly through a scripted sequence of what happens to pools:
//! checkouts, a wait timeout, a backend terminated while in use and another while idle, a
//! transaction dropped, a connection closed on request, a statement abandoned after the query
//! timeout. The same numbers reach the `metrics` facade (a debugging recorder, local to the
//! test's thread, so no other test's pool is counted).

use std::collections::BTreeMap;
use std::time::Duration;

use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ErrorKind, PoolMetrics, PoolStage};
use orm_testing::{TestDatabase, test_database};

use crate::pid_of;

/// An operator's session, outside every pool of the ORM (so it counts in none of them).
struct Operator(tokio_postgres::Client);

impl Operator {
    async fn connect(t: &TestDatabase) -> Operator {
        let (client, connection) = tokio_postgres::connect(t.admin_url(), tokio_postgres::NoTls)
            .await
            .expect("operator connects");
        tokio::spawn(connection);
        Operator(client)
    }

    async fn terminate(&self, pid: i32) {
        let row = self
            .0
            .query_one("SELECT pg_terminate_backend($1)", &[&pid])
            .await
            .expect("terminate");
        assert!(row.get::<_, bool>(0), "backend {pid} terminated");
    }
}

/// Waits (bounded) until `closed` connections of `db` have ended: a connection's IO ends in its
/// own task, after the statement that saw it break has returned.
async fn until_closed(db: &Database, closed: u64) -> PoolMetrics {
    for _ in 0..500 {
        let m = db.metrics();
        if m.closed >= closed {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never {closed} closed connections: {:?}", db.metrics());
}

async fn one(db: &impl Executor) -> Result<i32> {
    db.fetch_one(query::<i32>("SELECT 1")).await
}

/// The scripted sequence; returns the database (its last connection still open) and its final
/// snapshot.
async fn scripted(t: &TestDatabase) -> (Database, PoolMetrics) {
    let db = t
        .builder()
        .max_connections(1)
        .wait_timeout(Duration::from_millis(200))
        .build()
        .expect("pool");
    let operator = Operator::connect(t).await;
    let m = db.metrics();
    assert_eq!((m.checkouts, m.opened, m.closed), (0, 0, 0));
    assert_eq!((m.status.max_size, m.status.size), (1, 0));

    // Three statements: three checkouts of one connection.
    for _ in 0..3 {
        assert_eq!(one(&db).await.expect("select"), 1);
    }
    let m = db.metrics();
    assert_eq!((m.checkouts, m.opened), (3, 1));
    assert_eq!(
        (m.status.size, m.status.available, m.status.in_use),
        (1, 1, 0)
    );

    // The only connection held: another call gives up waiting.
    let held = db.connection().await.expect("held");
    assert_eq!(db.metrics().status.in_use, 1);
    let err = one(&db).await.expect_err("no free connection");
    assert!(
        matches!(err.kind(), ErrorKind::PoolTimeout(PoolStage::Wait)),
        "{err:?}"
    );
    let m = db.metrics();
    assert_eq!((m.checkouts, m.wait_timeouts), (4, 1));

    // Its backend terminated while held: the next statement on it fails, and it is discarded.
    operator.terminate(pid_of(&held).await).await;
    let err = one(&held).await.expect_err("terminated");
    assert!(err.is_connection_lost(), "{err:?}");
    drop(held);
    let m = until_closed(&db, 1).await;
    assert_eq!(m.discarded.lost, 1);
    assert_eq!(m.status.size, 0);

    // The next call opens a new connection.
    assert_eq!(one(&db).await.expect("after"), 1);
    let m = db.metrics();
    assert_eq!((m.checkouts, m.opened), (5, 2));

    // Terminated while idle (kept beside the pool): found broken at the next checkout, replaced.
    operator.terminate(pid_of(&db).await).await;
    until_closed(&db, 2).await;
    assert_eq!(one(&db).await.expect("replaced"), 1);
    let m = db.metrics();
    assert_eq!((m.checkouts, m.opened, m.discarded.broken), (7, 3, 1));

    // A transaction that ran nothing sent nothing (its BEGIN goes with its first statement):
    // dropped, its connection goes back to the pool.
    drop(db.begin().await.expect("begin"));
    let m = db.metrics();
    assert_eq!((m.checkouts, m.closed, m.status.available), (8, 2, 1));

    // A transaction dropped without commit or rollback after a statement: closed, the server
    // rolls back.
    let tx = db.begin().await.expect("begin");
    assert_eq!(one(&tx).await.expect("in the transaction"), 1);
    drop(tx);
    let m = until_closed(&db, 3).await;
    assert_eq!((m.checkouts, m.discarded.unclean), (9, 1));

    // A held connection closed on request.
    let mut conn = db.connection().await.expect("conn");
    conn.close_on_drop();
    drop(conn);
    let m = until_closed(&db, 4).await;
    assert_eq!((m.checkouts, m.discarded.requested), (10, 1));

    // A statement abandoned after the client-side query timeout.
    let err = db
        .with_query_timeout(Some(Duration::from_millis(100)))
        .batch_execute("SELECT pg_sleep(30)")
        .await
        .expect_err("timed out");
    assert!(
        matches!(err.kind(), ErrorKind::QueryTimeout { .. }),
        "{err:?}"
    );
    let m = until_closed(&db, 5).await;
    assert_eq!((m.checkouts, m.discarded.timed_out), (11, 1));

    // And a last statement on a fresh connection.
    assert_eq!(one(&db).await.expect("last"), 1);
    let m = db.metrics();
    assert_eq!(
        (
            m.checkouts,
            m.wait_timeouts,
            m.opened,
            m.closed,
            m.connect_errors
        ),
        (12, 1, 6, 5, 0)
    );
    let d = m.discarded;
    assert_eq!(
        (d.lost, d.broken, d.unclean, d.requested, d.timed_out),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(
        (
            m.status.size,
            m.status.available,
            m.status.in_use,
            m.status.waiting
        ),
        (1, 1, 0, 0)
    );
    (db, m)
}

/// The metrics of a pool whose server refuses every connection.
#[tokio::test]
async fn failed_connects_are_counted() {
    let t = test_database().await.expect("db");
    let db = Database::builder(t.admin_url())
        .dbname("orm_no_such_database")
        .max_connections(1)
        .build()
        .expect("pool");
    for _ in 0..2 {
        let err = one(&db).await.expect_err("no such database");
        assert_eq!(err.sqlstate(), Some("3D000"), "{err}");
    }
    let m = db.metrics();
    assert_eq!((m.connect_errors, m.opened, m.checkouts), (2, 0, 0));
}

/// The scripted sequence under a debugging recorder: the facade's counters equal the snapshot,
/// and the gauges say what the pool held after its last return.
#[test]
fn pool_metrics_count_a_scripted_sequence_and_reach_the_facade() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // Runtimes on this thread only, so every task (the connections' IO among them) records
    // into this test's recorder. The test database is made on a runtime of its own, gone
    // before the recording starts, so none of its pools' tasks ends inside the recording.
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    };
    let t = runtime().block_on(test_database()).expect("db");
    let rt = runtime();
    let (db, m) = metrics::with_local_recorder(&recorder, || rt.block_on(scripted(&t)));
    let snapshot = snapshotter.snapshot();
    drop((db, t));
    let mut counters = BTreeMap::new();
    let mut gauges = BTreeMap::new();
    for (key, _, _, value) in snapshot.into_vec() {
        let k = key.key();
        let mut name = k.name().to_string();
        for label in k.labels() {
            name.push_str(&format!("{{{}={}}}", label.key(), label.value()));
        }
        match (key.kind(), value) {
            (MetricKind::Counter, DebugValue::Counter(n)) => {
                counters.insert(name, n);
            }
            (MetricKind::Gauge, DebugValue::Gauge(v)) => {
                gauges.insert(name, v.into_inner());
            }
            other => panic!("unexpected metric {name}: {other:?}"),
        }
    }
    let c = |name: &str| counters.get(name).copied().unwrap_or(0);
    assert_eq!(c("db.pool.checkouts"), m.checkouts);
    assert_eq!(c("db.pool.wait_timeouts"), m.wait_timeouts);
    assert_eq!(c("db.pool.connections.opened"), m.opened);
    assert_eq!(c("db.pool.connections.closed"), m.closed);
    assert_eq!(c("db.pool.connections.errors"), 0);
    for (reason, n) in [
        ("lost", m.discarded.lost),
        ("broken", m.discarded.broken),
        ("unclean", m.discarded.unclean),
        ("requested", m.discarded.requested),
        ("timed_out", m.discarded.timed_out),
    ] {
        let name = format!("db.pool.connections.discarded{{reason={reason}}}");
        assert_eq!(c(&name), n, "{name}");
    }
    let g = |name: &str| gauges.get(name).copied();
    assert_eq!(g("db.pool.max"), Some(1.0));
    assert_eq!(g("db.pool.size"), Some(1.0));
    assert_eq!(g("db.pool.idle"), Some(1.0));
    assert_eq!(g("db.pool.in_use"), Some(0.0));
    assert_eq!(g("db.pool.waiting"), Some(0.0));
}
