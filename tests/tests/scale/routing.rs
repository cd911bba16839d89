//! Which server each kind of call runs on, by the servers' own counts too; round-robin over
//! two replicas.

use std::time::{Duration, Instant};

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{IsolationLevel, ReadYourWrites, ReplicaState, TxOptions};

use crate::{halt, on_replica, pair, probe, replicated, runs, serial, wait_until};

#[tokio::test]
async fn plain_reads_go_to_the_replica_and_everything_else_to_the_primary() {
    let _turn = serial().await;
    let pair = pair();
    let db = replicated().connect().await.expect("connect");

    // DDL and writes: the primary (a replica refuses them).
    db.batch_execute("DROP TABLE IF EXISTS routed; CREATE TABLE routed (id int PRIMARY KEY)")
        .await
        .expect("DDL on the primary");
    db.execute(query::<()>("INSERT INTO routed VALUES (1), (2)"))
        .await
        .expect("insert on the primary");
    wait_until(
        &pair.replica.url("postgres"),
        "SELECT count(*) = 2 FROM routed",
    )
    .await;

    // Plain reads: the replica, round and round; the metrics count them.
    let before = db.replicas()[0].statements;
    for _ in 0..5 {
        assert!(on_replica(&db).await, "a plain read runs on the replica");
    }
    let n: i64 = db
        .fetch_one(query::<i64>("SELECT count(*) FROM routed"))
        .await
        .expect("count");
    assert_eq!(n, 2);
    let status = &db.replicas()[0];
    assert_eq!(status.state, ReplicaState::InRotation);
    assert_eq!(status.reads, 6);
    // Six reads, and the check before the first that the replica is the primary's cluster.
    assert_eq!(status.statements - before, 6 + 1);
    assert_eq!(db.routing().replica_reads, 6);

    // Locking reads, reads in a transaction, sessions: the primary.
    let locked: Vec<i32> = db
        .fetch_all(query::<i32>("SELECT id FROM routed ORDER BY id FOR UPDATE"))
        .await
        .expect("FOR UPDATE runs on the primary (a replica refuses it)");
    assert_eq!(locked, [1, 2]);
    let tx = db.begin().await.expect("begin");
    assert!(!on_replica(&tx).await, "a transaction runs on the primary");
    tx.commit().await.expect("commit");
    let mut s = db.session();
    let tx = s.connection().await.expect("session transaction");
    assert!(!on_replica(tx).await, "a session runs on the primary");
    s.rollback().await.expect("rollback");
    // A statement that writes, though it starts with SELECT.
    let next: i64 = db
        .fetch_one(query::<i64>("SELECT txid_current()"))
        .await
        .expect("txid_current runs on the primary");
    assert!(next > 0);

    // Overrides per call.
    assert!(!on_replica(&db.on_primary()).await);
    assert!(on_replica(&db.on_replica()).await);
    // ... and per session: a read-only session on the replica; its writes are refused there.
    let mut s = db.on_replica().session();
    let tx = s
        .connection()
        .await
        .expect("session transaction on the replica");
    assert!(on_replica(tx).await);
    s.rollback().await.expect("rollback");
    let err = db
        .on_replica()
        .execute(query::<()>("INSERT INTO routed VALUES (3)"))
        .await
        .expect_err("a replica refuses writes");
    assert_eq!(err.sqlstate(), Some("25006"), "{err}");

    // Nothing of the above counted as a replica read but the two overrides and the session.
    assert_eq!(db.replicas()[0].reads, 6 + 3);

    // A transaction on a replica runs at the server's default isolation (each statement sees
    // what has been replayed by then), or in one snapshot when asked (as the README says).
    let isolation = || query::<String>("SELECT current_setting('transaction_isolation')");
    for (options, expected) in [
        (TxOptions::default(), "read committed"),
        (
            TxOptions::default().isolation(IsolationLevel::RepeatableRead),
            "repeatable read",
        ),
    ] {
        let tx = db.on_replica().begin_with(options).await.expect("begin");
        assert!(on_replica(&tx).await);
        assert_eq!(
            tx.fetch_one(isolation()).await.expect("isolation"),
            expected
        );
        tx.rollback().await.expect("rollback");
    }
}

/// The README's *Scaling out* example, on the test's servers.
#[tokio::test]
async fn the_readme_example_routes_as_it_says() {
    use orm_postgres::__doc_fixture::User;
    use std::time::Duration;

    let _turn = serial().await;
    let pair = pair();
    let db = Database::builder(pair.primary.url("postgres"))
        .replica(pair.replica.url("postgres"))
        .read_your_writes(ReadYourWrites::Lsn(Duration::from_secs(5))) // the default
        .max_replica_lag(Some(Duration::from_secs(2)))
        .connect()
        .await
        .expect("connect");
    db.batch_execute("DROP TABLE IF EXISTS users")
        .await
        .expect("drop");
    db.create_all(&[User::TABLE]).await.expect("create");
    wait_until(
        &pair.replica.url("postgres"),
        "SELECT to_regclass('users') IS NOT NULL",
    )
    .await;
    let users = db.fetch_all(select::<User>()).await.expect("read"); // a replica
    assert!(users.is_empty());
    // Right after create_all, read-your-writes may still send it to the primary.
    let r = db.routing();
    assert_eq!(r.replica_reads + r.primary_reads_after_write, 1);
    db.execute(update::<User>().set(User::email, None::<String>))
        .await
        .expect("write"); // the primary
    assert_eq!(db.routing(), r);
    assert_eq!(db.replicas()[0].state, ReplicaState::InRotation);
}

/// Where calls ran, as each server counts its statements (`pg_stat_statements`), not as the
/// client counts its routing.
#[tokio::test]
async fn the_servers_own_counts_show_where_each_call_ran() {
    const READ: &str = "SELECT count(*) FROM probe_routing";
    const WRITE: &str = "UPDATE probe_routing SET id = id";
    let _turn = serial().await;
    let pair = pair();
    probe("probe_routing", &[&pair.replica]).await;
    let (primary, replica) = (pair.primary.url("postgres"), pair.replica.url("postgres"));
    let db = replicated().connect().await.expect("connect");

    for _ in 0..4 {
        assert_eq!(db.fetch_one(query::<i64>(READ)).await.expect("read"), 1);
    }
    db.on_primary()
        .fetch_one(query::<i64>(READ))
        .await
        .expect("read on the primary");
    let tx = db.begin().await.expect("begin");
    tx.fetch_one(query::<i64>(READ)).await.expect("read in tx");
    tx.execute(query::<()>(WRITE)).await.expect("write in tx");
    tx.commit().await.expect("commit");
    for _ in 0..2 {
        assert_eq!(db.execute(query::<()>(WRITE)).await.expect("write"), 1);
    }

    assert_eq!(runs(&replica, READ).await, 4, "the plain reads");
    assert_eq!(
        runs(&primary, READ).await,
        2,
        "on_primary and in a transaction"
    );
    assert_eq!(runs(&primary, WRITE).await, 3);
    assert_eq!(runs(&replica, WRITE).await, 0);
    // The client's counters agree.
    assert_eq!(db.routing().replica_reads, 4);
    assert_eq!(db.replicas()[0].reads, 4);
}

/// Two replicas: plain reads take turns, as both servers count; a stopped one leaves the
/// rotation (no read lost, none sent to the primary) while the other serves every read, and
/// takes its turns again once it is back.
#[tokio::test]
async fn reads_alternate_over_two_replicas_and_a_stopped_one_leaves_the_rotation() {
    const READ: &str = "SELECT count(*) FROM probe_two";
    let _turn = serial().await;
    let pair = pair();
    let (first, second) = (&pair.replica, pair.second());
    probe("probe_two", &[first, second]).await;
    let urls = [
        pair.primary.url("postgres"),
        first.url("postgres"),
        second.url("postgres"),
    ];
    let counts = || async {
        let mut n = [0; 3];
        for (n, url) in n.iter_mut().zip(&urls) {
            *n = runs(url, READ).await;
        }
        n
    };
    let db = Database::builder(urls[0].clone())
        .replica(urls[1].clone())
        .replica(urls[2].clone())
        .read_your_writes(ReadYourWrites::Off)
        .connect_timeout(Duration::from_secs(1))
        .replica_check_interval(Duration::from_millis(200))
        .connect()
        .await
        .expect("connect");
    let read = || async { db.fetch_one(query::<i64>(READ)).await.expect("read") };

    for _ in 0..6 {
        assert_eq!(read().await, 1);
    }
    assert_eq!(counts().await, [0, 3, 3], "primary, first, second");
    let reads: Vec<u64> = db.replicas().iter().map(|r| r.reads).collect();
    assert_eq!(reads, [3, 3]);

    // The second stopped (started again when `halted` drops, also if an assert fails).
    let halted = halt(second);
    for _ in 0..4 {
        assert_eq!(read().await, 1);
    }
    assert_eq!(
        runs(&urls[0], READ).await,
        0,
        "no read fell back to the primary"
    );
    assert_eq!(
        runs(&urls[1], READ).await,
        3 + 4,
        "the first served them all"
    );
    let status = &db.replicas()[1];
    assert!(
        matches!(status.state, ReplicaState::Down { .. }),
        "{status:?}"
    );
    assert_eq!(db.replicas()[0].state, ReplicaState::InRotation);
    assert_eq!(db.routing().primary_reads_fallback, 0);
    halted.resume();

    // Back: after the check interval, reads take turns over both again.
    let back = runs(&urls[2], READ).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.replicas()[1].state != ReplicaState::InRotation {
        assert!(Instant::now() < deadline, "the second never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
        read().await;
    }
    let before = counts().await;
    for _ in 0..4 {
        assert_eq!(read().await, 1);
    }
    let after = counts().await;
    assert_eq!(after[1] - before[1], 2, "{before:?} -> {after:?}");
    assert_eq!(after[2] - before[2], 2, "{before:?} -> {after:?}");
    assert!(after[2] > back);
    assert_eq!(after[0], 0);
}

/// A replica whose pool is busy (every connection at work) is skipped for that read, not taken
/// out of the rotation: before, the check's timeout fired first and marked it `Down` ("no
/// connection within ..."), so under load healthy replicas left and every read went to the
/// primary.
#[tokio::test]
async fn a_busy_replica_stays_in_the_rotation() {
    let _turn = serial().await;
    let pair = pair();
    probe("probe_busy", &[&pair.replica]).await;
    let db = Database::builder(pair.primary.url("postgres"))
        .replica(pair.replica.url("postgres"))
        .read_your_writes(ReadYourWrites::Off)
        .max_connections(1)
        .replica_check_timeout(Duration::from_millis(300))
        .connect()
        .await
        .expect("connect");
    // Warm: the replica's one connection is open and verified.
    assert!(on_replica(&db).await);
    let slow = db.fetch_one(query::<String>("SELECT pg_sleep(1.5)::text"));
    let quick = async {
        // Once the slow read holds the replica's only connection.
        tokio::time::sleep(Duration::from_millis(200)).await;
        db.fetch_one(query::<i64>("SELECT count(*) FROM probe_busy"))
            .await
    };
    let (slow, quick) = tokio::join!(slow, quick);
    slow.expect("the slow read");
    assert_eq!(quick.expect("the read served elsewhere"), 1);
    let status = &db.replicas()[0];
    assert_eq!(status.state, ReplicaState::InRotation, "{status:?}");
    assert!(on_replica(&db).await, "reads go to the replica again");
}
