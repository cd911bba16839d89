//! A replica whose replay is delayed by `recovery_min_apply_delay`: reads right after a write,
//! with and without read-your-writes, per client and through a write token; and the lag
//! limit taking a replica out of rotation and back, also one cut off from its primary.

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ErrorKind, ReadYourWrites, ReplicaState, WriteToken};
use orm_testing::{ClusterOptions, LocalCluster};
use proptest::prelude::*;

use crate::{on_replica, pair, serial, wait_for_replica_reads, wait_until};

/// The shared primary with `replica`, without read-your-writes, a lag limit of `max` checked
/// every 100 ms.
fn lag_limited(replica: &str, max: Duration) -> Database {
    Database::builder(pair().primary.url("postgres"))
        .replica(replica)
        .read_your_writes(ReadYourWrites::Off)
        .max_replica_lag(Some(max))
        .replica_check_interval(Duration::from_millis(100))
        .build()
        .expect("build")
}

/// The replica of `db` is out of rotation, lagging by more than `limit`, and reads fell back
/// to the primary.
fn assert_lagging(db: &Database, limit: Duration) {
    let status = &db.replicas()[0];
    assert!(
        matches!(status.state, ReplicaState::Lagging { lag } if lag > limit),
        "{status:?}"
    );
    assert!(db.routing().primary_reads_fallback >= 1);
}

#[tokio::test]
async fn reads_after_a_write_see_it_and_a_lagging_replica_leaves_rotation() {
    let _turn = serial().await;
    let (delayed, build) = delayed_replica("2s");
    let delayed_url = delayed.url("postgres");
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
    let limited = lag_limited(&delayed_url, Duration::from_millis(300));
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
    assert_lagging(&limited, Duration::from_millis(300));
    wait_for_replica_reads(&limited, "after the lag").await;
    assert_eq!(limited.replicas()[0].state, ReplicaState::InRotation);
    assert_eq!(limited.fetch_one(count()).await.expect("count"), 4);
}

/// A replica of the shared primary whose replay waits `delay` (`recovery_min_apply_delay`),
/// and what builds a database on the primary with it and a read-your-writes mode.
fn delayed_replica(delay: &str) -> (LocalCluster, impl Fn(ReadYourWrites) -> Database) {
    let pair = pair();
    let delayed = pair
        .primary
        .start_replica(ClusterOptions::new().setting("recovery_min_apply_delay", delay))
        .expect("delayed replica");
    let primary_url = pair.primary.url("postgres");
    let delayed_url = delayed.url("postgres");
    let build = move |mode| {
        Database::builder(primary_url.clone())
            .replica(delayed_url.clone())
            .read_your_writes(mode)
            .build()
            .expect("build")
    };
    (delayed, build)
}

/// Creates `table` (one int column) on the primary and waits until the replica has it.
async fn fresh_table(db: &Database, replica: &LocalCluster, table: &'static str) {
    db.batch_execute(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int PRIMARY KEY)"
    ))
    .await
    .expect("table");
    let check = sql(format!("SELECT to_regclass('{table}') IS NOT NULL"));
    wait_until(&replica.url("postgres"), check).await;
}

/// SQL text built at run time, for `raw::query` (which takes static text: SQL is code, values
/// are bound); the tests' table names differ per case.
fn sql(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

async fn count(db: &impl Executor, table: &str) -> i64 {
    db.fetch_one(query::<i64>(sql(format!("SELECT count(*) FROM {table}"))))
        .await
        .expect("count")
}

#[tokio::test]
async fn each_client_reads_its_own_writes_and_not_the_others() {
    let _turn = serial().await;
    let (delayed, build) = delayed_replica("3s");
    for (mode, table) in [
        (ReadYourWrites::Lsn(Duration::from_secs(60)), "ryw_lsn"),
        (
            ReadYourWrites::Primary(Duration::from_secs(60)),
            "ryw_window",
        ),
    ] {
        let db = build(mode);
        fresh_table(&db, &delayed, table).await;
        // Two requests of one web service: two clients of the shared handle.
        let a = db.with_own_writes();
        let b = db.with_own_writes();
        let before = db.routing();

        a.execute(query::<()>(sql(format!("INSERT INTO {table} VALUES (1)"))))
            .await
            .expect("insert");
        // B did not write: its read goes to the replica, 3 s behind, which lacks A's row.
        assert_eq!(count(&b, table).await, 0, "{mode:?}: B reads the replica");
        // A wrote: its reads (and its clones') go to the primary and see the row.
        assert_eq!(count(&a, table).await, 1, "{mode:?}: A reads its write");
        assert_eq!(count(&a.clone(), table).await, 1, "{mode:?}: clones share");
        assert_eq!(
            count(&b, table).await,
            0,
            "{mode:?}: B still on the replica"
        );
        let after = db.routing();
        assert_eq!(after.replica_reads - before.replica_reads, 2, "{mode:?}");
        assert_eq!(
            after.primary_reads_after_write - before.primary_reads_after_write,
            2,
            "{mode:?}"
        );
        assert_eq!(after.primary_reads_fallback, before.primary_reads_fallback);
        assert!(on_replica(&b).await && !on_replica(&a).await, "{mode:?}");

        // A session opened on B is B's: its commit marks B, and B's reads see it.
        let mut s = b.session();
        s.execute(query::<()>(sql(format!("INSERT INTO {table} VALUES (2)"))))
            .await
            .expect("insert in a session");
        s.commit().await.expect("commit");
        assert_eq!(
            count(&b, table).await,
            2,
            "{mode:?}: B reads its session's write"
        );
        assert!(!on_replica(&b).await, "{mode:?}");
        // A third client, untouched by both: the replica.
        assert!(on_replica(&db.with_own_writes()).await, "{mode:?}");
    }
}

#[tokio::test]
async fn a_write_token_carries_a_clients_write_to_another_process() {
    let _turn = serial().await;
    let (delayed, build) = delayed_replica("3s");
    let lsn = ReadYourWrites::Lsn(Duration::from_secs(60));
    let db = build(lsn);
    fresh_table(&db, &delayed, "ryw_token").await;
    let writer = db.with_own_writes();
    assert_eq!(writer.last_write().await.expect("last write"), None);

    // The README's read-your-writes example: one request writes and sets a cookie ...
    let shared = db.clone();
    let db = shared.with_own_writes(); // per request: this client's writes only
    db.execute(query::<()>("INSERT INTO ryw_token VALUES (1)"))
        .await
        .expect("insert");
    let token = db.last_write().await.expect("last write").expect("a write");
    let cookie = token.to_string(); // "0/3000148@1764880000000"
    // ... the next request, in another process, reads after it.
    let other = build(lsn);
    let shared2 = other.clone();
    let db2 = shared2.reads_after(&cookie.parse::<WriteToken>().expect("the token parses"));
    assert_eq!(cookie.parse::<WriteToken>().expect("token"), token);
    assert_eq!(db.last_write().await.expect("again"), Some(token));

    let before = other.routing();
    assert_eq!(
        count(&other.with_own_writes(), "ryw_token").await,
        0,
        "a client without the token reads the replica, which lacks the row"
    );
    assert_eq!(
        count(&db2, "ryw_token").await,
        1,
        "the token's reads wait for its LSN"
    );
    let after = other.routing();
    assert_eq!(after.replica_reads - before.replica_reads, 1);
    assert_eq!(
        after.primary_reads_after_write - before.primary_reads_after_write,
        1
    );
    // Once the replica has replayed past the token's LSN, its reads go there again (within
    // the window), and see the row.
    wait_for_replica_reads(&db2, "after the replay").await;
    assert_eq!(count(&db2, "ryw_token").await, 1);

    // Primary mode: a fresh token holds reads on the primary for the window; one older than
    // the window does not. Off: tokens change nothing.
    let window = build(ReadYourWrites::Primary(Duration::from_secs(60)));
    assert!(!on_replica(&window.reads_after(&token)).await);
    let old: WriteToken = format!("{}@0", cookie.split('@').next().expect("lsn"))
        .parse()
        .expect("an old token");
    assert!(on_replica(&window.reads_after(&old)).await);
    let off = build(ReadYourWrites::Off);
    assert!(on_replica(&off.reads_after(&token)).await);
}

#[test]
fn malformed_write_tokens_are_typed_errors() {
    for bad in [
        "",
        "@",
        "0/16B3748",
        "1764880000000",
        "0/16B3748@",
        "0/16B3748@-1",
        "0/16B3748@+1",
        "0/16B3748@1.5",
        "0/16B3748@99999999999999999999",
        "16B3748@1",
        "0/@1",
        "123456789/0@1",
        "0/xyz@1",
        "0/1@1@1",
        " 0/1@1",
        "0/1@1 ",
    ] {
        let err = bad.parse::<WriteToken>().expect_err(bad);
        assert!(
            matches!(err.kind(), ErrorKind::InvalidWriteToken { .. }),
            "{bad:?}: {err}"
        );
        assert!(
            err.to_string().starts_with("invalid write token: "),
            "{err}"
        );
    }
    let token: WriteToken = "a/b@7".parse().expect("lower case hex");
    assert_eq!(token.to_string(), "A/B@7");
}

proptest! {
    /// A token's text parses back to it, whatever its LSN and time (PostgreSQL's `pg_lsn`
    /// form, upper or lower case).
    #[test]
    fn write_tokens_round_trip(hi in any::<u32>(), lo in any::<u32>(), ms in any::<u64>(), lower in any::<bool>()) {
        let text = format!("{hi:X}/{lo:X}@{ms}");
        let given = if lower { text.to_lowercase() } else { text.clone() };
        let token: WriteToken = given.parse().expect("a valid token");
        prop_assert_eq!(token.to_string(), text.clone());
        prop_assert_eq!(text.parse::<WriteToken>().expect("again"), token);
    }
}

#[tokio::test]
async fn a_replica_cut_off_from_its_primary_lags_by_the_age_of_its_data() {
    let _turn = serial().await;
    let pair = pair();
    let replica = pair
        .primary
        .start_replica(ClusterOptions::new())
        .expect("replica");
    let replica_url = replica.url("postgres");
    let db = lag_limited(&replica_url, Duration::from_millis(500));
    fresh_table(&db, &replica, "ryw_cut").await;
    db.execute(query::<()>("INSERT INTO ryw_cut VALUES (1)"))
        .await
        .expect("insert");
    wait_until(&replica_url, "SELECT count(*) = 1 FROM ryw_cut").await;
    assert!(
        on_replica(&db).await,
        "streaming and caught up: in rotation"
    );

    // Cut the replica off: its WAL receiver now dials a port nobody listens on (a reload
    // restarts the receiver with the new setting). It has replayed all it received, so
    // "received = replayed" would call it caught up forever.
    let admin = Database::builder(replica_url.clone())
        .connect()
        .await
        .expect("replica admin");
    let conninfo: String = admin
        .fetch_one(query::<String>(
            "SELECT current_setting('primary_conninfo')",
        ))
        .await
        .expect("primary_conninfo");
    let point_at = async |value: &str| {
        let set = format!(
            "ALTER SYSTEM SET primary_conninfo = '{}'",
            value.replace('\'', "''")
        );
        admin
            .batch_execute(&set)
            .await
            .expect("ALTER SYSTEM on the replica");
        admin
            .batch_execute("SELECT pg_reload_conf()")
            .await
            .expect("reload");
    };
    point_at("host=127.0.0.1 port=1 user=postgres").await;
    wait_until(
        &replica_url,
        "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')",
    )
    .await;
    db.execute(query::<()>("INSERT INTO ryw_cut VALUES (2)"))
        .await
        .expect("insert the replica never receives");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        count(&db, "ryw_cut").await,
        2,
        "the read goes to the primary"
    );
    assert_lagging(&db, Duration::from_millis(500));

    // Reconnected, it streams, replays and comes back.
    point_at(&conninfo).await;
    wait_for_replica_reads(&db, "after reconnecting").await;
    assert_eq!(db.replicas()[0].state, ReplicaState::InRotation);
    assert_eq!(count(&db, "ryw_cut").await, 2);
}
