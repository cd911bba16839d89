//! Scaling out, against real servers the tests start: a primary and a hot-standby streaming
//! replica made with `pg_basebackup -R` on loopback ports (orm-testing's
//! [`LocalCluster::start_replica`]).
//!
//! - `routing.rs`: which server each kind of call runs on, seen from the server
//!   (`pg_is_in_recovery()`, a write refused by a replica, each server's own
//!   `pg_stat_statements` counts) and from the database's metrics; round-robin over two
//!   replicas;
//! - `read_your_writes.rs`: a replica whose replay is delayed (`recovery_min_apply_delay`):
//!   reads after a write, per client and through a write token, and the lag limit (also of a
//!   replica cut off from its primary);
//! - `failover.rs`: a stopped replica, a frozen one (`SIGSTOP`), a server-side statement
//!   timeout that is no failure of the replica, and a promoted replica found through a
//!   multi-host URL with `target_session_attrs=read-write`;
//! - `sharding.rs`: a sharded database over two more servers (`LocalCluster::start_many`):
//!   routing, maps, fan-out, refusals, sessions, and a shard that is down.
//!
//! One primary (preloading `pg_stat_statements`, so every server counts what ran on it) and
//! one replica are shared by the binary, and a second replica started by the first test that
//! needs it; the tests take turns (`serial`), since some stop or freeze servers and all read
//! the replicas' counters.

mod failover;
mod read_your_writes;
mod routing;
mod sharding;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::{ClusterOptions, LocalCluster};

/// The primary and its replicas, started once.
pub struct Pair {
    pub primary: LocalCluster,
    pub replica: LocalCluster,
    second: OnceLock<LocalCluster>,
}

impl Pair {
    /// A second streaming replica of the primary, started by the first test that asks.
    pub fn second(&self) -> &LocalCluster {
        self.second.get_or_init(|| {
            self.primary
                .start_replica(ClusterOptions::new())
                .expect("second replica")
        })
    }
}

pub fn pair() -> &'static Pair {
    static PAIR: OnceLock<Pair> = OnceLock::new();
    PAIR.get_or_init(|| {
        // The replicas copy the primary's postgresql.conf (pg_basebackup): all of them count
        // their statements.
        // `wal_keep_size`: a replica stopped and started again (or frozen) asks for the WAL it
        // missed, and the tests' `CREATE DATABASE`s fill segments fast; without it the primary's
        // checkpoints may have removed that WAL ("requested WAL segment ... has already been
        // removed") and the replica never catches up again.
        let primary = LocalCluster::start_with(
            ClusterOptions::new()
                .setting("shared_preload_libraries", "pg_stat_statements")
                .setting("wal_keep_size", "1GB"),
        )
        .expect("primary");
        let replica = primary
            .start_replica(ClusterOptions::new())
            .expect("replica");
        Pair {
            primary,
            replica,
            second: OnceLock::new(),
        }
    })
}

/// Makes `table` on the shared primary, one row (`id` = 1), and waits until each of
/// `replicas` has replayed it; installs `pg_stat_statements` first. Each test counts its own
/// statements on its own table, so the servers' counts of other tests never mix in.
pub async fn probe(table: &str, replicas: &[&LocalCluster]) {
    let primary = Database::connect(&pair().primary.url("postgres"))
        .await
        .expect("primary");
    primary
        .batch_execute(&format!(
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; \
             DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int); \
             INSERT INTO {table} VALUES (1)"
        ))
        .await
        .expect("probe table");
    let deadline = Instant::now() + Duration::from_secs(20);
    for replica in replicas {
        let db = Database::connect(&replica.url("postgres"))
            .await
            .expect("replica");
        // Table and row came in one transaction: the table seen, the row is too.
        while !db
            .fetch_one(
                query::<bool>("SELECT to_regclass(:t) IS NOT NULL").bind("t", table.to_owned()),
            )
            .await
            .expect("to_regclass")
        {
            assert!(
                Instant::now() < deadline,
                "{table} never reached {}",
                replica.url("postgres")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// How many times `sql` ran to its end on the server at `url`, by the server's own count
/// (`pg_stat_statements`; a statement that failed is not counted). The server replaces
/// constants by `$n` in the text it keeps: `sql` must hold none.
pub async fn runs(url: &str, sql: &'static str) -> i64 {
    let db = Database::connect(url).await.expect("direct connection");
    db.fetch_one(
        query::<i64>(
            "SELECT COALESCE(sum(calls), 0)::int8 FROM pg_stat_statements WHERE query = :sql",
        )
        .bind("sql", sql.to_owned()),
    )
    .await
    .expect("pg_stat_statements")
}

/// A server stopped by [`halt`], started again when dropped unless [`resume`](Halted::resume)d
/// (the servers are shared: a failing test must not leave one down for the others).
pub struct Halted<'a>(Option<&'a LocalCluster>);

pub fn halt(server: &LocalCluster) -> Halted<'_> {
    server.halt().expect("stop the server");
    Halted(Some(server))
}

impl Halted<'_> {
    pub fn resume(mut self) {
        if let Some(server) = self.0.take() {
            server.resume().expect("start the server again");
        }
    }
}

impl Drop for Halted<'_> {
    fn drop(&mut self) {
        if let Some(server) = self.0.take() {
            let _ = server.resume();
        }
    }
}

/// The tests take turns: some stop servers, all read counters.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// Whether the server a read ran on is a replica.
pub async fn on_replica(db: &impl Executor) -> bool {
    db.fetch_one(query::<bool>("SELECT pg_is_in_recovery()"))
        .await
        .expect("pg_is_in_recovery")
}

/// Waits (at most 20 s) until `check` holds on a direct connection to `url`.
pub async fn wait_until(url: &str, sql: &'static str) {
    let db = Database::builder(url)
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("direct connection");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(true) = db.fetch_one(query::<bool>(sql)).await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {sql} on {url}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (at most 10 s) until a plain read of `db` runs on a replica again.
pub async fn wait_for_replica_reads(db: &Database, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !on_replica(db).await {
        assert!(
            Instant::now() < deadline,
            "{what}: reads never went back to the replica"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The shared primary with the shared replica, reads never held back by read-your-writes.
pub fn replicated() -> orm_postgres::DatabaseBuilder {
    let pair = pair();
    Database::builder(pair.primary.url("postgres"))
        .replica(pair.replica.url("postgres"))
        .read_your_writes(orm_postgres::ReadYourWrites::Off)
}
