//! The pool under pressure: its idle connections killed, every connection taken, the server
//! refusing new sessions. Each a typed error within its limit, and the pool heals.

use std::time::{Duration, Instant};

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ErrorKind, PoolStage, StatementMode};
use orm_testing::test_database;

use crate::pid_of;

#[tokio::test]
async fn killed_idle_connections_are_replaced() {
    let t = test_database().await.expect("db");
    let db = t
        .builder()
        .application_name("faults-idle")
        .max_connections(4)
        .build()
        .expect("pool");
    // Four connections opened and given back, idle (three in the pool, the last kept beside it).
    let held: Vec<_> = futures_util::future::join_all((0..4).map(|_| db.connection()))
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("four connections");
    let mut old = Vec::new();
    for c in &held {
        old.push(pid_of(c).await);
    }
    drop(held);
    assert_eq!(db.status().available, 4);
    let killed: i64 = t
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'faults-idle') x",
        ))
        .await
        .expect("terminate");
    assert_eq!(killed, 4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..20 {
        let pid = pid_of(&db).await;
        assert!(!old.contains(&pid), "a killed connection was handed out");
    }
}

#[tokio::test]
async fn an_exhausted_pool_times_out_typed_and_recovers() {
    let t = test_database().await.expect("db");
    let db = t
        .builder()
        .max_connections(2)
        .wait_timeout(Duration::from_millis(300))
        .build()
        .expect("pool");
    let a = db.connection().await.expect("first");
    let b = db.connection().await.expect("second");
    let start = Instant::now();
    let err = db
        .fetch_one(query::<i32>("SELECT 1"))
        .await
        .expect_err("no connection free");
    assert!(
        matches!(err.kind(), ErrorKind::PoolTimeout(PoolStage::Wait)),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    drop(a);
    assert_eq!(
        db.fetch_one(query::<i32>("SELECT 1")).await.expect("freed"),
        1
    );
    drop(b);
}

#[tokio::test]
async fn a_server_refusing_sessions_is_a_typed_connect_error() {
    let t = test_database().await.expect("db");
    // Superusers are exempt from connection limits: a role of the application's kind. The
    // limit counts every session of the database, the test's own among them: two more.
    let now: i64 = t
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
        ))
        .await
        .expect("sessions");
    t.batch_execute(&format!(
        "DROP ROLE IF EXISTS faults_app; CREATE ROLE faults_app LOGIN; \
         ALTER DATABASE \"{0}\" CONNECTION LIMIT {1}; GRANT ALL ON DATABASE \"{0}\" TO faults_app",
        t.name(),
        now + 2
    ))
    .await
    .expect("limit");
    let url = t.admin_url().replacen("postgres@", "faults_app@", 1);
    let db = Database::builder(url)
        .dbname(t.name())
        .max_connections(4)
        .wait_timeout(Duration::from_secs(2))
        .build()
        .expect("pool");
    let a = db.connection().await.expect("first");
    let b = db.connection().await.expect("second");
    let err = db
        .fetch_one(query::<i32>("SELECT 1"))
        .await
        .expect_err("refused");
    assert!(matches!(err.kind(), ErrorKind::Connect { .. }), "{err:?}");
    assert_eq!(err.sqlstate(), Some("53300"), "{err}");
    drop((a, b));
    assert_eq!(
        db.fetch_one(query::<i32>("SELECT 1"))
            .await
            .expect("room again"),
        1
    );
}

/// In the unnamed mode a checkout replaces a connection opened before types changed, and
/// waits for its replacement under the same wait timeout as for the first: the whole
/// checkout waits at most that long. Here one checkout waits for a busy pool of two stale
/// connections, gets one half way through its wait, closes it (another waiting checkout
/// takes its place and opens a new one), and waits again: its wait timeout passes before the
/// second stale connection is given back (a quarter of a timeout after). Before, each
/// replacement waited a whole wait timeout of its own, so it got that one (and replaced it
/// in turn): a checkout could wait up to `max_connections` timeouts and more.
#[tokio::test]
async fn an_unnamed_checkout_replacing_stale_connections_waits_at_most_its_wait_timeout() {
    let t = test_database().await.expect("db");
    let wait = Duration::from_secs(2);
    let db = t
        .builder()
        .max_connections(2)
        .wait_timeout(wait)
        .statement_mode(StatementMode::Unnamed)
        .build()
        .expect("pool");
    let a = db.connection().await.expect("a");
    let b = db.connection().await.expect("b");
    // Both opened before types changed: each is replaced at its next checkout.
    db.types_changed();
    let waiting = |n: usize| {
        let db = db.clone();
        async move {
            for _ in 0..500 {
                if db.status().waiting == n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("never {n} checkouts waiting: {:?}", db.status());
        }
    };
    let start = Instant::now();
    let mut first = tokio::spawn({
        let db = db.clone();
        async move { db.connection().await }
    });
    waiting(1).await;
    let second = tokio::spawn({
        let db = db.clone();
        async move { db.connection().await }
    });
    waiting(2).await;

    tokio::time::sleep_until((start + wait / 2).into()).await;
    drop(a);
    let second = second
        .await
        .expect("task")
        .expect("the second checkout opens a connection in place of the stale one");
    let outcome = match tokio::time::timeout_at((start + wait * 5 / 4).into(), &mut first).await {
        Ok(outcome) => outcome,
        Err(_) => {
            drop(b);
            tokio::time::timeout(wait * 10, first)
                .await
                .expect("the checkout ends")
        }
    };
    let err = outcome
        .expect("task")
        .map(drop)
        .expect_err("past its wait timeout");
    assert!(
        matches!(err.kind(), ErrorKind::PoolTimeout(PoolStage::Wait)),
        "{err:?}"
    );
    assert!(start.elapsed() < wait * 10);
    drop(second);
    assert_eq!(
        db.fetch_one(query::<i32>("SELECT 1"))
            .await
            .expect("the pool serves"),
        1
    );
}
