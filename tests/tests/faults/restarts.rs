//! The server restarted (fast, then immediate: a crash) under concurrent keyed writes that
//! retry: every acknowledged write is committed, every committed write was attempted, none is
//! there twice. A cluster of its own: the restarts would disturb the other tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use orm_postgres::prelude::*;
use orm_testing::{LocalCluster, Shutdown};

use crate::keyed::{self, Ledger};

const WRITERS: i32 = 6;
const KEYS: i32 = 150;

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
    db.batch_execute(keyed::KV_TABLE).await.expect("table");
    keyed::assert_synchronous_commit(&db).await;

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (db, ledger) = (db.clone(), ledger.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..KEYS {
                let k = w * 10_000 + i;
                keyed::write(k, &ledger, || keyed::insert(&db, k)).await;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    for mode in [Shutdown::Fast, Shutdown::Immediate] {
        tokio::time::sleep(Duration::from_millis(250)).await;
        keyed::restart(&cluster, mode).await;
    }
    for w in writers {
        w.await.expect("writer");
    }

    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    assert_eq!(ledger.attempted.len(), (WRITERS * KEYS) as usize);
    keyed::assert_table_matches(&db, &ledger).await;
}
