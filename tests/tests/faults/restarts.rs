//! The server restarted (fast, then immediate: a crash) under concurrent keyed writes that
//! retry: every acknowledged write is committed, every committed write was attempted, none is
//! there twice. A cluster of its own: the restarts would disturb the other tests.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::{LocalCluster, Shutdown};

const WRITERS: i32 = 6;
const KEYS: i32 = 150;

/// What the writers did: keys attempted, keys whose insert was acknowledged.
#[derive(Default)]
struct Ledger {
    attempted: BTreeSet<i32>,
    acknowledged: BTreeSet<i32>,
}

/// Inserts `k` until the server acknowledges it, retrying what is retryable (the connection
/// lost mid-insert, no connection to be had while the server restarts). The insert is
/// idempotent, since a lost connection may hide a commit.
async fn write(db: &Database, k: i32, ledger: &Mutex<Ledger>) {
    ledger.lock().unwrap().attempted.insert(k);
    for _ in 0..400 {
        let r = db
            .execute(
                query::<()>("INSERT INTO kv VALUES (:k, :k * 2) ON CONFLICT (k) DO NOTHING")
                    .bind("k", k),
            )
            .await;
        match r {
            Ok(_) => {
                ledger.lock().unwrap().acknowledged.insert(k);
                return;
            }
            Err(e)
                if e.is_retryable()
                    || matches!(
                        e.kind(),
                        orm_postgres::ErrorKind::Connect { .. }
                            | orm_postgres::ErrorKind::PoolTimeout(_)
                    ) =>
            {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => panic!("key {k}: not retryable: {e:?}"),
        }
    }
    panic!("key {k}: never acknowledged");
}

#[tokio::test]
async fn restarts_under_keyed_writes_lose_nothing_acknowledged() {
    let cluster = Arc::new(LocalCluster::start().expect("a cluster of its own"));
    // synchronous_commit on for these sessions (the test cluster turns it off for speed): an
    // acknowledged commit must survive the crash.
    let url = format!(
        "{}?options=-c%20synchronous_commit%3Don",
        cluster.url("postgres")
    );
    let db = Database::builder(url)
        .max_connections(6)
        .wait_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
        .query_timeout(Some(Duration::from_secs(10)))
        .connect()
        .await
        .expect("connect");
    db.batch_execute("CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)")
        .await
        .expect("table");
    let sync: String = db
        .fetch_one(query::<String>("SHOW synchronous_commit"))
        .await
        .expect("show");
    assert_eq!(sync, "on");

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (db, ledger) = (db.clone(), ledger.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..KEYS {
                write(&db, w * 10_000 + i, &ledger).await;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    for mode in [Shutdown::Fast, Shutdown::Immediate] {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let c = cluster.clone();
        tokio::task::spawn_blocking(move || c.restart(mode))
            .await
            .expect("join")
            .expect("restart");
    }
    for w in writers {
        w.await.expect("writer");
    }

    let committed: Vec<i32> = db
        .fetch_all(query::<i32>("SELECT k FROM kv ORDER BY k"))
        .await
        .expect("read back");
    let committed_set: BTreeSet<i32> = committed.iter().copied().collect();
    assert_eq!(committed.len(), committed_set.len(), "no key twice");
    let wrong: i64 = db
        .fetch_one(query::<i64>("SELECT count(*) FROM kv WHERE v <> k * 2"))
        .await
        .expect("values");
    assert_eq!(wrong, 0);
    let ledger = ledger.lock().unwrap();
    assert_eq!(ledger.attempted.len(), (WRITERS * KEYS) as usize);
    assert!(
        ledger.acknowledged.is_subset(&committed_set),
        "acknowledged but lost: {:?}",
        ledger
            .acknowledged
            .difference(&committed_set)
            .collect::<Vec<_>>()
    );
    assert!(
        committed_set.is_subset(&ledger.attempted),
        "committed but never attempted"
    );
    // Every writer retried until acknowledged: all of them are there.
    assert_eq!(ledger.acknowledged, ledger.attempted);
}
