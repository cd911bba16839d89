//! The connection last given back is kept for the next checkout while nobody else wants one
//! (`orm-postgres/src/conn/hot.rs`): it counts as idle, a checkout waiting in the pool always
//! gets the connection given back, and one the server closed while it was kept is replaced.

use std::time::{Duration, Instant};

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::{pid_of, terminate_and_wait};

/// A pool of one connection whose waits are long enough never to end a test.
fn one_connection(t: &orm_testing::TestDatabase) -> Database {
    t.builder()
        .max_connections(1)
        .wait_timeout(Duration::from_secs(5))
        .build()
        .expect("pool")
}

#[tokio::test]
async fn a_connection_given_back_alone_is_kept_idle_and_reused() {
    let t = test_database().await.expect("db");
    let db = t.builder().max_connections(4).build().expect("pool");
    let first = pid_of(&db).await;
    for _ in 0..5 {
        assert_eq!(pid_of(&db).await, first, "another connection was opened");
    }
    let s = db.status();
    assert_eq!((s.size, s.available, s.in_use), (1, 1, 0), "{s:?}");
    assert_eq!(db.metrics().status, s);
    // Held, it is in use; given back, idle again.
    let held = db.connection().await.expect("held");
    assert_eq!(pid_of(&held).await, first);
    let s = db.status();
    assert_eq!((s.size, s.available, s.in_use), (1, 0, 1), "{s:?}");
    drop(held);
    assert_eq!(db.status().available, 1);
}

#[tokio::test]
async fn a_checkout_waiting_in_the_pool_gets_the_connection_given_back() {
    let t = test_database().await.expect("db");
    let db = one_connection(&t);
    let held = db.connection().await.expect("held");
    let waiting = tokio::spawn({
        let db = db.clone();
        async move {
            let start = Instant::now();
            let pid = pid_of(&db).await;
            (pid, start.elapsed())
        }
    });
    // The other checkout is waiting when the connection is given back.
    for _ in 0..500 {
        if db.status().waiting == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(db.status().waiting, 1);
    let pid = pid_of(&held).await;
    drop(held);
    let (got, waited) = waiting.await.expect("task");
    assert_eq!(got, pid);
    assert!(waited < Duration::from_secs(4), "waited {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_taking_turns_on_one_connection_never_miss_it() {
    let t = test_database().await.expect("db");
    let db = one_connection(&t);
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut sum = 0i64;
                for n in 0..150i64 {
                    let v: i64 = db
                        .fetch_one(query::<i64>("SELECT :n::int8").bind("n", n + i))
                        .await
                        .expect("no checkout may wait for a connection kept idle");
                    sum += v;
                }
                sum
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let i = i as i64;
        assert_eq!(task.await.expect("task"), (0..150).sum::<i64>() + 150 * i);
    }
    let s = db.status();
    assert_eq!(
        (s.size, s.available, s.in_use, s.waiting),
        (1, 1, 0, 0),
        "{s:?}"
    );
}

#[tokio::test]
async fn a_kept_connection_the_server_closed_is_counted_broken_and_replaced() {
    let t = test_database().await.expect("db");
    let db = t.builder().max_connections(2).build().expect("pool");
    let kept = pid_of(&db).await;
    let before = db.metrics();
    terminate_and_wait(&t, kept).await;
    // The client learns of the end from its connection's task, which counts it closed.
    for _ in 0..500 {
        if db.metrics().closed > before.closed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(db.metrics().closed, before.closed + 1);
    let before = before.discarded.broken;
    let now = pid_of(&db).await;
    assert_ne!(now, kept);
    assert_eq!(db.metrics().discarded.broken, before + 1);
    let s = db.status();
    assert_eq!((s.size, s.available, s.in_use), (1, 1, 0), "{s:?}");
}
