//! Servers that go away: a replica stopped (reads fall back to the primary, and come back to
//! it when it returns), and a primary replaced by its promoted replica (writes find it through
//! the multi-host URL with `target_session_attrs=read-write`).

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ErrorKind, ReplicaState};
use orm_testing::{ClusterOptions, LocalCluster};

use crate::{on_replica, pair, replicated, serial, wait_for_replica_reads, wait_until};

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

    pair.replica.halt().expect("stop the replica");
    let result = std::panic::AssertUnwindSafe(async {
        for _ in 0..3 {
            assert!(!on_replica(&db).await, "the read falls back to the primary");
        }
        let status = &db.replicas()[0];
        assert!(
            matches!(status.state, ReplicaState::Down { .. }),
            "{status:?}"
        );
        assert_eq!(db.routing().primary_reads_fallback, 3);
    });
    // The replica is shared: start it again before reporting a failure.
    let outcome = futures_util::FutureExt::catch_unwind(result).await;
    pair.replica.resume().expect("start the replica again");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    assert!(matches!(db.replicas()[0].state, ReplicaState::Down { .. }));
    assert_eq!(db.routing().primary_reads_fallback, 3);

    // Back in rotation at the first read after the check interval.
    wait_for_replica_reads(&db, "after the restart").await;
    assert_eq!(db.replicas()[0].state, ReplicaState::InRotation);
}

#[tokio::test]
async fn writes_find_the_promoted_replica_through_the_host_list() {
    let _turn = serial().await;
    let old = LocalCluster::start().expect("primary of its own");
    let new = old
        .start_replica(ClusterOptions::new())
        .expect("its replica");
    let hosts = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write",
        old.port(),
        new.port()
    );
    let db = Database::builder(hosts)
        .replica(new.url("postgres"))
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
        .expect("connect");
    db.batch_execute("CREATE TABLE moved (id int PRIMARY KEY)")
        .await
        .expect("table");
    db.execute(query::<()>("INSERT INTO moved VALUES (1)"))
        .await
        .expect("insert");
    wait_until(&new.url("postgres"), "SELECT count(*) = 1 FROM moved").await;

    old.halt().expect("stop the primary");
    new.promote().expect("promote the replica");

    // The pool's connections to the old primary are gone; the next one is opened through the
    // host list: the old primary refuses, the promoted one accepts writes.
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
    let ids: Vec<i32> = db
        .on_primary()
        .fetch_all(query::<i32>("SELECT id FROM moved ORDER BY id"))
        .await
        .expect("read");
    assert_eq!(ids, [1, 2]);
    assert!(!on_replica(&db.on_primary()).await, "the new primary");
}
