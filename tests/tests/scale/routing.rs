//! Which server each kind of call runs on.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ReadYourWrites, ReplicaState};

use crate::{on_replica, pair, replicated, serial, wait_until};

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
    assert_eq!(status.statements - before, 6);
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
