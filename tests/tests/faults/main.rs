//! The fault suite: what an operator and an attacker do to a running application, against a
//! real PostgreSQL — backends terminated mid-query and mid-transaction, servers restarted and
//! frozen, pgbouncer's server connections killed, timeouts, pools exhausted — each with the outcome checked exactly: every
//! acknowledged write is committed, every committed write was attempted, none twice.
//!
//! Tests that only disturb their own connections share the process's cluster; tests that
//! restart or freeze a server start a cluster of their own.

mod cache_listener;
mod cancel;
mod hand_off;
mod huge;
mod keyed;
mod listener;
mod pgbouncer;
mod pool;
mod pool_metrics;
mod publish;
mod restarts;
mod schema;
mod shutdown;
mod timeouts;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;

/// The backend pid of the connection running a statement that contains `marker`, seen from
/// another connection (waits until it shows up).
pub async fn backend_running(db: &Database, marker: &str) -> i32 {
    for _ in 0..500 {
        let pids = db
            .fetch_all(
                query::<i32>(
                    "SELECT pid FROM pg_stat_activity \
                     WHERE query LIKE '%' || :marker || '%' AND pid <> pg_backend_pid() \
                     AND state = 'active'",
                )
                .bind("marker", marker.to_string()),
            )
            .await
            .expect("pg_stat_activity");
        if let Some(pid) = pids.first() {
            return *pid;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no backend runs a statement with {marker:?}");
}

/// `pg_terminate_backend(pid)` from another connection.
pub async fn terminate(db: &Database, pid: i32) {
    let done = db
        .fetch_one(query::<bool>("SELECT pg_terminate_backend(:pid)").bind("pid", pid))
        .await
        .expect("terminate");
    assert!(done, "backend {pid} terminated");
}

/// [`terminate`], then waits until the server has no such process, so that what is sent next
/// is sent while that backend is gone.
pub async fn terminate_and_wait(db: &Database, pid: i32) {
    terminate(db, pid).await;
    for _ in 0..500 {
        let alive: bool = db
            .fetch_one(
                query::<bool>("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :pid)")
                    .bind("pid", pid),
            )
            .await
            .expect("pg_stat_activity");
        if !alive {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("backend {pid} is still there");
}

/// The backend pid of a connection.
pub async fn pid_of(db: &impl Executor) -> i32 {
    db.fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid")
}
