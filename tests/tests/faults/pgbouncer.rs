//! Behind pgbouncer in transaction mode, in the unnamed statement mode: the server
//! connections pgbouncer holds are terminated, pgbouncer drops every client (`KILL`), and the
//! server restarts — all under concurrent keyed writes that retry. Every acknowledged write is
//! committed, every committed write was attempted, none is there twice.
//!
//! A cluster of its own (it is restarted). Without a pgbouncer binary the test says so loudly
//! and passes (CI installs it: `.ci/run`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orm_postgres::StatementMode;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::{ClusterError, LocalCluster, Pgbouncer, PgbouncerOptions, Shutdown};

use crate::keyed::{self, Ledger};

const WRITERS: i32 = 6;

/// Writes key `k`: odd keys by one statement, even ones in a transaction (insert, then update).
async fn write(db: &Database, k: i32, ledger: &Mutex<Ledger>) {
    if k % 2 == 1 {
        keyed::write(k, ledger, || keyed::insert(db, k)).await;
    } else {
        keyed::write(k, ledger, || in_transaction(db, k)).await;
    }
}

/// The write of `k` in a transaction: an insert, then the update that sets its value.
async fn in_transaction(db: &Database, k: i32) -> orm_postgres::Result<()> {
    let tx = db.begin().await?;
    tx.execute(
        query::<()>("INSERT INTO kv VALUES (:k, 0) ON CONFLICT (k) DO NOTHING").bind("k", k),
    )
    .await?;
    tx.execute(query::<()>("UPDATE kv SET v = :k * 2 WHERE k = :k").bind("k", k))
        .await?;
    tx.commit().await
}

/// Terminates the server backends of `dbname` (those pgbouncer holds), from a direct
/// connection; returns how many.
async fn terminate_server_connections(direct: &Database, dbname: &str) -> i64 {
    direct
        .fetch_one(
            query::<i64>(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = :db AND pid <> pg_backend_pid()) x",
            )
            .bind("db", dbname.to_string()),
        )
        .await
        .expect("terminate")
}

#[tokio::test]
async fn server_connections_killed_and_restarted_behind_pgbouncer_lose_nothing() {
    let cluster = Arc::new(LocalCluster::start().expect("a cluster of its own"));
    // After a failed login (the server restarting) pgbouncer waits this long to try again.
    let options = PgbouncerOptions::new()
        .pool_size(2)
        .setting("server_login_retry", "1");
    let bouncer = match Pgbouncer::start_with(&cluster, options) {
        Ok(b) => b,
        Err(e @ ClusterError::NoPgbouncer { .. }) => {
            let _ = std::io::stderr().write_all(
                format!(
                    "\n{0}\nSKIPPED: the pgbouncer fault test did not run: {e}\n{0}\n",
                    "*".repeat(72)
                )
                .as_bytes(),
            );
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let direct = Database::connect(&cluster.url("postgres"))
        .await
        .expect("direct");
    direct
        .batch_execute(&format!(
            "{}; ALTER DATABASE postgres SET synchronous_commit = on",
            keyed::KV_TABLE
        ))
        .await
        .expect("table");
    // synchronous_commit on (the test cluster turns it off): an acknowledged commit must
    // survive the crash restart.
    let db = Database::builder(bouncer.url("postgres"))
        .statement_mode(StatementMode::Unnamed)
        .max_connections(6)
        .wait_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
        .query_timeout(Some(Duration::from_secs(10)))
        .build()
        .expect("pool");
    keyed::assert_synchronous_commit(&db).await;

    // The writers write key after key until every fault has happened.
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, ledger, stop) = (db.clone(), ledger.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    write(&db, w * 100_000 + i, &ledger).await;
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        })
        .collect();

    // pgbouncer's server connections terminated under it, five times.
    let mut terminated = 0;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(120)).await;
        terminated += terminate_server_connections(&direct, "postgres").await;
    }
    // pgbouncer drops every client and server connection of the database, then takes new ones.
    let admin = Database::builder(bouncer.url("pgbouncer"))
        .max_connections(1)
        .connect()
        .await
        .expect("pgbouncer's admin console");
    tokio::time::sleep(Duration::from_millis(120)).await;
    admin.batch_execute("KILL postgres").await.expect("KILL");
    tokio::time::sleep(Duration::from_millis(100)).await;
    admin
        .batch_execute("RESUME postgres")
        .await
        .expect("RESUME");
    // The server restarted behind pgbouncer: fast, then as after a crash.
    for mode in [Shutdown::Fast, Shutdown::Immediate] {
        tokio::time::sleep(Duration::from_millis(200)).await;
        keyed::restart(&cluster, mode).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }

    let direct = Database::connect(&cluster.url("postgres"))
        .await
        .expect("direct, after the restarts");
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    assert!(
        ledger.attempted.len() >= WRITERS as usize * 10,
        "{} keys attempted",
        ledger.attempted.len()
    );
    keyed::assert_table_matches(&direct, &ledger).await;
    // The faults were real: server connections were terminated, and writes had to retry.
    assert!(terminated > 0, "no server connection was terminated");
    assert!(ledger.retried > 0, "no write had to retry");
}
