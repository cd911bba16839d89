//! The result cache's listener losing its connection: from the moment the loss is found until
//! a new connection listens, other processes' commits go unseen, so the cache serves and stores
//! nothing; once it listens again it starts afresh.

use std::time::Duration;

use orm_postgres::ResultCache;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::LocalCluster;

use crate::terminate_and_wait;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "notes")]
pub struct Note {
    #[model(primary_key)]
    pub id: i32,
    pub body: String,
}

/// The note's body through the cache (an hour's time to live: only invalidations end it).
async fn body(db: &Database) -> String {
    db.fetch_one(select::<Note>().by_pk(1).cached(Duration::from_secs(3600)))
        .await
        .expect("the note")
        .body
}

/// Polls `db` until the note reads `want`, for at most `limit`.
async fn wait_for(db: &Database, want: &str, limit: Duration, why: &str) {
    let deadline = tokio::time::Instant::now() + limit;
    while body(db).await != want {
        assert!(tokio::time::Instant::now() < deadline, "{why}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn set_body(db: &Database, text: &str) {
    db.execute(
        update::<Note>()
            .set(Note::body, text)
            .filter(Note::id.eq(1)),
    )
    .await
    .expect("update");
}

#[tokio::test]
async fn a_cache_whose_listener_is_down_serves_nothing_stale() {
    // A cluster of its own: the cached side's role is barred from logging in for a while.
    let cluster = LocalCluster::start().expect("a cluster of its own");
    let admin = Database::builder(cluster.url("postgres"))
        .connect()
        .await
        .expect("connect");
    admin
        .batch_execute(
            "CREATE ROLE app LOGIN; \
             CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL); \
             INSERT INTO notes VALUES (1, 'first'); GRANT ALL ON notes TO app",
        )
        .await
        .expect("setup");
    let channel = ResultCache::new().notify_channel("notes_cache");
    let app_url = cluster.url("postgres").replacen("postgres@", "app@", 1);
    let cached = Database::builder(&app_url)
        .max_connections(1)
        .result_cache(channel.clone())
        .connect()
        .await
        .expect("the cached side");
    // Another process writing, whose cache announces its commits on the channel.
    let writer = Database::builder(cluster.url("postgres"))
        .result_cache(channel)
        .connect()
        .await
        .expect("the writer");

    assert_eq!(body(&cached).await, "first");
    assert_eq!(body(&cached).await, "first");
    assert_eq!(cached.metrics().cache.hits, 1);
    set_body(&writer, "second").await;
    wait_for(
        &cached,
        "second",
        Duration::from_secs(5),
        "the write was never heard of",
    )
    .await;

    // The listener's connection goes, and no new one may log in.
    admin
        .batch_execute("ALTER ROLE app NOLOGIN")
        .await
        .expect("nologin");
    let pids = admin
        .fetch_all(query::<i32>(
            "SELECT pid FROM pg_stat_activity WHERE usename = 'app' AND query LIKE 'LISTEN%'",
        ))
        .await
        .expect("pg_stat_activity");
    assert_eq!(pids.len(), 1, "{pids:?}");
    terminate_and_wait(&admin, pids[0]).await;
    // A commit whose announcement nobody hears: the cache must not answer from before it.
    set_body(&writer, "third").await;
    wait_for(
        &cached,
        "third",
        Duration::from_secs(5),
        "the cache served a result from before a commit it could not hear of",
    )
    .await;
    // Nor does it store anything while down.
    let hits = cached.metrics().cache.hits;
    for _ in 0..3 {
        assert_eq!(body(&cached).await, "third");
    }
    assert_eq!(cached.metrics().cache.hits, hits);

    // Back: the listener reconnects (its attempts are at most 5 s apart), and the cache serves
    // again, nothing older than the reconnection.
    admin
        .batch_execute("ALTER ROLE app LOGIN")
        .await
        .expect("login");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while cached.metrics().cache.hits == hits {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cache never served again"
        );
        assert_eq!(body(&cached).await, "third");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    set_body(&writer, "fourth").await;
    wait_for(
        &cached,
        "fourth",
        Duration::from_secs(5),
        "the write after the reconnection was never heard of",
    )
    .await;
}
