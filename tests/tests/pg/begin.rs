//! A transaction's `BEGIN` goes with its first statement, in the same round trip: `begin`
//! sends nothing, the first statement writes the `BEGIN` just before itself; a `BEGIN ...
//! SERIALIZABLE` (which a hot standby refuses) is answered before its statement goes; a
//! `BEGIN` that fails fails its statement.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::{RawQuery, query};
use orm_postgres::{Connection, ErrorKind, IsolationLevel, TxOptions};
use orm_testing::TestDatabase;

async fn setup() -> TestDatabase {
    let t = orm_testing::test_database().await.expect("test database");
    t.batch_execute("CREATE TABLE pipelined (n int NOT NULL)")
        .await
        .expect("schema");
    t
}

fn insert(n: i32) -> RawQuery<()> {
    query::<()>("INSERT INTO pipelined VALUES (:n)").bind("n", n)
}

/// Polls `fut` once: it must not be done (its statements are sent, not answered).
async fn poll_once<F: Future>(fut: &mut Pin<Box<F>>) {
    let pending = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_pending())).await;
    assert!(pending, "answered within its first poll");
}

/// What the server says backend `pid` is doing, once it is `state` (waits up to 2 s): its last
/// statement.
async fn last_statement(t: &TestDatabase, pid: i32, state: &str) -> String {
    let mut seen = (String::new(), String::new());
    for _ in 0..200 {
        seen = t
            .fetch_one(
                query::<(String, String)>(
                    "SELECT state, query FROM pg_stat_activity WHERE pid = :pid",
                )
                .bind("pid", pid),
            )
            .await
            .expect("activity");
        if seen.0 == state {
            return seen.1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("backend {pid} never became {state:?}: {seen:?}");
}

/// A held connection of `t`, and its backend's pid.
async fn held(t: &TestDatabase) -> (Connection, i32) {
    let conn = t.connection().await.expect("connection");
    let pid = conn
        .fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid");
    (conn, pid)
}

async fn rows(t: &TestDatabase) -> Vec<i32> {
    t.fetch_all(query::<i32>("SELECT n FROM pipelined ORDER BY n"))
        .await
        .expect("rows")
}

#[tokio::test]
async fn begin_sends_nothing_and_goes_with_the_first_statement() {
    let t = setup().await;
    let (mut conn, pid) = held(&t).await;
    let tx = conn.begin().await.expect("begin");
    // Nothing sent: the backend is idle, not in a transaction.
    assert_eq!(
        last_statement(&t, pid, "idle").await,
        "SELECT pg_backend_pid()"
    );
    // One poll of the first statement: the BEGIN and the INSERT both reach the server.
    let mut first = Box::pin(tx.execute(insert(1)));
    poll_once(&mut first).await;
    assert_eq!(
        last_statement(&t, pid, "idle in transaction").await,
        "INSERT INTO pipelined VALUES ($1)"
    );
    assert_eq!(first.await.expect("insert"), 1);
    assert!(rows(&t).await.is_empty(), "not committed yet");
    tx.execute(insert(2)).await.expect("insert 2");
    tx.commit().await.expect("commit");
    assert_eq!(rows(&t).await, [1, 2]);
}

#[tokio::test]
async fn a_serializable_begin_is_answered_before_its_statement_goes() {
    let t = setup().await;
    let (mut conn, pid) = held(&t).await;
    let tx = conn
        .begin_with(TxOptions::default().isolation(IsolationLevel::Serializable))
        .await
        .expect("begin");
    let mut first = Box::pin(tx.execute(insert(1)));
    poll_once(&mut first).await;
    // The first poll sent the BEGIN alone: the INSERT waits for its answer (the next poll).
    assert_eq!(
        last_statement(&t, pid, "idle in transaction").await,
        "BEGIN ISOLATION LEVEL SERIALIZABLE"
    );
    assert_eq!(first.await.expect("insert"), 1);
    tx.commit().await.expect("commit");
    assert_eq!(rows(&t).await, [1]);
}

/// A `BEGIN` (sent with its statement, or alone for `SERIALIZABLE`) on a session the server
/// ended: the statement fails with the transaction lost, the next one is refused rather than
/// run outside the transaction, the rollback has nothing to send, and nothing was written.
#[tokio::test]
async fn a_begin_that_fails_fails_its_statement_and_nothing_runs_outside_the_transaction() {
    let t = setup().await;
    for options in [
        TxOptions::default(),
        TxOptions::default().isolation(IsolationLevel::Serializable),
    ] {
        let (mut conn, pid) = held(&t).await;
        let tx = conn.begin_with(options).await.expect("begin");
        // The server ends the session before the BEGIN is sent.
        let killed: bool = t
            .fetch_one(query::<bool>("SELECT pg_terminate_backend(:pid, 5000)").bind("pid", pid))
            .await
            .expect("terminate");
        assert!(killed);
        let e = tx.execute(insert(1)).await.expect_err("BEGIN failed");
        assert!(
            matches!(e.kind(), ErrorKind::TransactionLost(_)),
            "the BEGIN's error, in a transaction ({options:?}): {e:?}"
        );
        let e = tx.execute(insert(2)).await.expect_err("refused");
        assert!(
            matches!(e.kind(), ErrorKind::TransactionState(_)),
            "refused until the rollback ({options:?}): {e:?}"
        );
        tx.rollback().await.expect("rollback");
        assert!(rows(&t).await.is_empty(), "{options:?}");
    }
}
