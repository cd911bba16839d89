//! Scaling out, against real servers the tests start: a primary and a hot-standby streaming
//! replica made with `pg_basebackup -R` on loopback ports (orm-testing's
//! [`LocalCluster::start_replica`]).
//!
//! - `routing.rs`: which server each kind of call runs on, seen from the server
//!   (`pg_is_in_recovery()`, a write refused by a replica) and from the database's metrics;
//! - `read_your_writes.rs`: a replica whose replay is delayed (`recovery_min_apply_delay`):
//!   reads after a write, per client and through a write token, and the lag limit (also of a
//!   replica cut off from its primary);
//! - `failover.rs`: a stopped replica, and a promoted one found through a multi-host URL;
//! - `sharding.rs`: a sharded database over two more servers (`LocalCluster::start_many`):
//!   routing, maps, fan-out, refusals, sessions, and a shard that is down.
//!
//! One primary and one replica are shared by the binary; the tests take turns (`serial`),
//! since some stop servers and all read the replica's counters.

mod failover;
mod read_your_writes;
mod routing;
mod sharding;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::{ClusterOptions, LocalCluster};

/// The primary and its replica, started once.
pub struct Pair {
    pub primary: LocalCluster,
    pub replica: LocalCluster,
}

pub fn pair() -> &'static Pair {
    static PAIR: OnceLock<Pair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let primary = LocalCluster::start().expect("primary");
        let replica = primary
            .start_replica(ClusterOptions::new())
            .expect("replica");
        Pair { primary, replica }
    })
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
