//! A replica whose replay is delayed by `recovery_min_apply_delay`: reads right after a write,
//! with and without read-your-writes, and the lag limit taking it out of rotation and back.

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ReadYourWrites, ReplicaState};
use orm_testing::ClusterOptions;

use crate::{on_replica, pair, serial, wait_for_replica_reads, wait_until};

#[tokio::test]
async fn reads_after_a_write_see_it_and_a_lagging_replica_leaves_rotation() {
    let _turn = serial().await;
    let pair = pair();
    let delayed = pair
        .primary
        .start_replica(ClusterOptions::new().setting("recovery_min_apply_delay", "2s"))
        .expect("delayed replica");
    let primary_url = pair.primary.url("postgres");
    let delayed_url = delayed.url("postgres");
    let build = |mode| {
        Database::builder(primary_url.clone())
            .replica(delayed_url.clone())
            .read_your_writes(mode)
            .build()
            .expect("build")
    };
    let off = build(ReadYourWrites::Off);
    off.batch_execute("DROP TABLE IF EXISTS ryw; CREATE TABLE ryw (id int PRIMARY KEY)")
        .await
        .expect("table");
    wait_until(&delayed_url, "SELECT to_regclass('ryw') IS NOT NULL").await;
    let count = || query::<i64>("SELECT count(*) FROM ryw");

    // Without read-your-writes, a read right after a write misses it (the replica is behind):
    // the delay is real.
    off.execute(query::<()>("INSERT INTO ryw VALUES (1)"))
        .await
        .expect("insert");
    assert_eq!(off.fetch_one(count()).await.expect("count"), 0);
    assert_eq!(off.routing().replica_reads, 1);

    // LSN mode (the default): the replica has not replayed the write, so the read goes to the
    // primary and sees it.
    let lsn = build(ReadYourWrites::Lsn(Duration::from_secs(30)));
    lsn.execute(query::<()>("INSERT INTO ryw VALUES (2)"))
        .await
        .expect("insert");
    assert_eq!(lsn.fetch_one(count()).await.expect("count"), 2);
    assert_eq!(lsn.routing().primary_reads_after_write, 1);
    assert_eq!(lsn.routing().replica_reads, 0);
    // Once the replica has replayed past the primary's position after the write, reads go
    // back to it (still in the window).
    wait_for_replica_reads(&lsn, "after the replay").await;
    assert_eq!(lsn.fetch_one(count()).await.expect("count"), 2);
    assert!(lsn.routing().replica_reads >= 2);

    // Primary mode: within the window, reads go to the primary whatever the replica.
    let window = build(ReadYourWrites::Primary(Duration::from_millis(1500)));
    let tx = window.begin().await.expect("begin");
    tx.execute(query::<()>("INSERT INTO ryw VALUES (3)"))
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(window.fetch_one(count()).await.expect("count"), 3);
    assert!(!on_replica(&window).await);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(
        on_replica(&window).await,
        "after the window, reads go to the replica"
    );

    wait_until(&delayed_url, "SELECT count(*) = 3 FROM ryw").await;

    // The lag limit: after a write the delayed replica is behind by more than 300 ms, leaves
    // the rotation, and comes back once it has replayed.
    let limited = Database::builder(primary_url.clone())
        .replica(delayed_url.clone())
        .read_your_writes(ReadYourWrites::Off)
        .max_replica_lag(Some(Duration::from_millis(300)))
        .replica_check_interval(Duration::from_millis(100))
        .build()
        .expect("build");
    assert!(on_replica(&limited).await, "caught up: in rotation");
    limited
        .execute(query::<()>("INSERT INTO ryw VALUES (4)"))
        .await
        .expect("insert");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !on_replica(&limited).await,
        "lagging: the read goes to the primary"
    );
    let status = &limited.replicas()[0];
    assert!(
        matches!(status.state, ReplicaState::Lagging { lag } if lag > Duration::from_millis(300)),
        "{status:?}"
    );
    assert!(limited.routing().primary_reads_fallback >= 1);
    wait_for_replica_reads(&limited, "after the lag").await;
    assert_eq!(limited.replicas()[0].state, ReplicaState::InRotation);
    assert_eq!(limited.fetch_one(count()).await.expect("count"), 4);
}
