//! Keyed writes that retry until acknowledged, for the tests that restart servers under them:
//! the ledger of what was attempted and acknowledged, the retry rule, and the table checked
//! against it at the end.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{Error, ErrorKind};
use orm_testing::{LocalCluster, Shutdown};

/// The table the writers fill: `kv (k int PRIMARY KEY, v int NOT NULL)`, each `v` = `k * 2`.
pub const KV_TABLE: &str = "CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)";

/// What the writers did.
#[derive(Default)]
pub struct Ledger {
    /// Keys whose write was started.
    pub attempted: BTreeSet<i32>,
    /// Keys whose write the server acknowledged.
    pub acknowledged: BTreeSet<i32>,
    /// Failed attempts that were retried.
    pub retried: usize,
}

/// Whether an attempt may be repeated: the connection was lost (the outcome of a commit may be
/// unknown), or no connection was to be had for a while (the server restarting).
pub fn retryable(e: &Error) -> bool {
    e.is_retryable()
        || matches!(
            e.kind(),
            ErrorKind::Connect { .. }
                | ErrorKind::PoolTimeout(_)
                | ErrorKind::CommitUnknown(_)
                | ErrorKind::QueryTimeout { .. }
        )
}

/// Writes key `k` with `attempt` until acknowledged, retrying what is [`retryable`]. The write
/// must be idempotent, since a lost connection may hide a commit.
pub async fn write<F, Fut>(k: i32, ledger: &Mutex<Ledger>, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    ledger.lock().unwrap().attempted.insert(k);
    for _ in 0..400 {
        match attempt().await {
            Ok(()) => {
                ledger.lock().unwrap().acknowledged.insert(k);
                return;
            }
            Err(e) if retryable(&e) => {
                ledger.lock().unwrap().retried += 1;
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => panic!("key {k}: not retryable: {e:?}"),
        }
    }
    panic!("key {k}: never acknowledged");
}

/// The one-statement write of `k`.
pub async fn insert(db: &Database, k: i32) -> Result<(), Error> {
    db.execute(
        query::<()>("INSERT INTO kv VALUES (:k, :k * 2) ON CONFLICT (k) DO NOTHING").bind("k", k),
    )
    .await
    .map(|_| ())
}

/// Restarts `cluster` in `mode`, off the runtime's thread.
pub async fn restart(cluster: &Arc<LocalCluster>, mode: Shutdown) {
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.restart(mode))
        .await
        .expect("join")
        .expect("restart");
}

/// Checks that `db`'s sessions commit synchronously (the test cluster turns it off): an
/// acknowledged commit must survive a crash.
pub async fn assert_synchronous_commit(db: &Database) {
    let sync: String = db
        .fetch_one(query::<String>("SHOW synchronous_commit"))
        .await
        .expect("show");
    assert_eq!(sync, "on");
}

/// Reads `kv` back and checks it against the ledger: every value right, no key twice,
/// acknowledged ⊆ committed ⊆ attempted, and every attempt acknowledged in the end.
pub async fn assert_table_matches(db: &Database, ledger: &Ledger) {
    let committed: Vec<i32> = db
        .fetch_all(query::<i32>("SELECT k FROM kv ORDER BY k"))
        .await
        .expect("read back");
    let wrong: i64 = db
        .fetch_one(query::<i64>("SELECT count(*) FROM kv WHERE v <> k * 2"))
        .await
        .expect("values");
    assert_eq!(wrong, 0, "every value is the one written");
    orm_tests::assert_reconciled(&ledger.attempted, &ledger.acknowledged, &committed);
    // Every writer retried until acknowledged: all of them are there.
    assert_eq!(ledger.acknowledged, ledger.attempted);
}
