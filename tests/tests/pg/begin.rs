//! A transaction's `BEGIN` goes with its first statement, in the same round trip: `begin`
//! sends nothing, the first statement writes the `BEGIN` just before itself; a `BEGIN ...
//! SERIALIZABLE` (which a hot standby refuses) is sent alone by `begin`; a `BEGIN` sent alone
//! (before a savepoint) and dropped keeps the transaction; a `BEGIN` that fails fails its
//! statement.

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
pub(crate) async fn poll_once<F: Future>(fut: &mut Pin<Box<F>>) {
    let pending = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_pending())).await;
    assert!(pending, "answered within its first poll");
}

/// What the server says backend `pid` is doing: its state and last statement.
async fn activity(t: &TestDatabase, pid: i32) -> (String, String) {
    t.fetch_one(
        query::<(String, String)>("SELECT state, query FROM pg_stat_activity WHERE pid = :pid")
            .bind("pid", pid),
    )
    .await
    .expect("activity")
}

/// Whether backend `pid` comes to be in `state` with `statement` its last (waits up to 2 s).
async fn reaches(t: &TestDatabase, pid: i32, state: &str, statement: &str) -> bool {
    for _ in 0..200 {
        let (s, q) = activity(t, pid).await;
        if s == state && q == statement {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("backend {pid}: {:?}", activity(t, pid).await);
    false
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
    assert!(reaches(&t, pid, "idle", "SELECT pg_backend_pid()").await);
    // One poll of the first statement: the BEGIN and the INSERT both reach the server.
    let mut first = Box::pin(tx.execute(insert(1)));
    poll_once(&mut first).await;
    assert!(
        reaches(
            &t,
            pid,
            "idle in transaction",
            "INSERT INTO pipelined VALUES ($1)"
        )
        .await
    );
    assert_eq!(first.await.expect("insert"), 1);
    assert!(rows(&t).await.is_empty(), "not committed yet");
    tx.execute(insert(2)).await.expect("insert 2");
    tx.commit().await.expect("commit");
    assert_eq!(rows(&t).await, [1, 2]);
}

#[tokio::test]
async fn a_serializable_begin_is_sent_alone_by_begin() {
    let t = setup().await;
    let (mut conn, pid) = held(&t).await;
    let tx = conn
        .begin_with(TxOptions::default().isolation(IsolationLevel::Serializable))
        .await
        .expect("begin");
    // Sent and answered by `begin` itself: a hot standby refuses it, and a statement sent
    // behind a refused BEGIN would run outside the transaction.
    assert!(
        reaches(
            &t,
            pid,
            "idle in transaction",
            "BEGIN ISOLATION LEVEL SERIALIZABLE"
        )
        .await
    );
    tx.execute(insert(1)).await.expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(rows(&t).await, [1]);
}

/// A savepoint cannot carry the BEGIN: it is sent alone first. Dropped once it is sent, the
/// transaction stays open on both sides, and what runs next runs inside it.
#[tokio::test]
async fn a_begin_sent_alone_and_dropped_keeps_the_transaction() {
    let t = setup().await;
    let (mut conn, pid) = held(&t).await;
    let mut tx = conn.begin().await.expect("begin");
    let mut savepoint = Box::pin(tx.savepoint());
    poll_once(&mut savepoint).await;
    drop(savepoint);
    assert!(reaches(&t, pid, "idle in transaction", "BEGIN").await);
    tx.execute(insert(1))
        .await
        .expect("insert, in the transaction");
    tx.rollback().await.expect("rollback");
    assert!(
        rows(&t).await.is_empty(),
        "the insert ran outside the transaction"
    );
}

/// A `BEGIN` sent with its statement, on a session the server ended: the statement fails with
/// the transaction lost, the next one is refused rather than run outside the transaction, the
/// rollback has nothing to send, and nothing was written. A `SERIALIZABLE` one fails `begin`.
#[tokio::test]
async fn a_begin_that_fails_fails_its_statement_and_nothing_runs_outside_the_transaction() {
    let t = setup().await;
    let t = &t;
    let terminate = |pid: i32| async move {
        let killed: bool = t
            .fetch_one(query::<bool>("SELECT pg_terminate_backend(:pid, 5000)").bind("pid", pid))
            .await
            .expect("terminate");
        assert!(killed);
    };
    let (mut conn, pid) = held(t).await;
    let tx = conn.begin().await.expect("begin");
    // The server ends the session before the BEGIN is sent.
    terminate(pid).await;
    let e = tx.execute(insert(1)).await.expect_err("BEGIN failed");
    assert!(
        matches!(e.kind(), ErrorKind::TransactionLost(_)),
        "the BEGIN's error, in a transaction: {e:?}"
    );
    let e = tx.execute(insert(2)).await.expect_err("refused");
    assert!(
        matches!(e.kind(), ErrorKind::TransactionState(_)),
        "refused until the rollback: {e:?}"
    );
    tx.rollback().await.expect("rollback");
    assert!(rows(t).await.is_empty());

    let (mut conn, pid) = held(t).await;
    terminate(pid).await;
    let e = conn
        .begin_with(TxOptions::default().isolation(IsolationLevel::Serializable))
        .await
        .expect_err("BEGIN failed");
    assert!(e.is_connection_lost(), "{e:?}");
}

#[tokio::test]
async fn a_transaction_that_runs_nothing_sends_nothing() {
    let t = setup().await;
    let (mut conn, pid) = held(&t).await;
    let log = t.statement_log();
    conn.begin()
        .await
        .expect("begin")
        .commit()
        .await
        .expect("commit");
    conn.begin()
        .await
        .expect("begin")
        .rollback()
        .await
        .expect("rollback");
    drop(conn.begin().await.expect("begin"));
    // The backend ran nothing since its pid was asked.
    assert!(reaches(&t, pid, "idle", "SELECT pg_backend_pid()").await);
    // And the connection is clean: a write commits on its own.
    conn.execute(insert(1)).await.expect("insert");
    let sent = log.finish();
    assert!(
        sent.iter()
            .all(|s| !["BEGIN", "COMMIT", "ROLLBACK"].contains(&s.as_str())),
        "{sent:?}"
    );
    assert!(sent.contains(&"INSERT INTO pipelined VALUES ($1)".to_owned()));
    assert_eq!(rows(&t).await, [1]);
}

/// A cancel request could land on a BEGIN sent ahead of a statement: once a handle of the
/// connection is made, its BEGINs go alone, sent by `begin`.
#[tokio::test]
async fn after_a_cancel_the_begin_is_sent_alone() {
    let t = setup().await;
    let (mut conn, pid) = held(&t).await;
    conn.cancel_handle().cancel().await.expect("cancel");
    // Sent while nothing runs, the cancel is dropped by the backend once it arrives (a
    // statement sent at once could have been cancelled instead: which is why, from now on,
    // this connection's BEGINs go alone).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let tx = conn.begin().await.expect("begin");
    assert!(reaches(&t, pid, "idle in transaction", "BEGIN").await);
    tx.execute(insert(1)).await.expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(rows(&t).await, [1]);
}

/// A cancel handle made after `begin` (the BEGIN kept for the first statement): the BEGIN goes
/// alone before the first statement, and the connection is closed when released, so the
/// handle cancels nothing of the next user's.
#[tokio::test]
async fn a_cancel_handle_sends_the_begin_alone_and_closes_the_connection_at_release() {
    let t = setup().await;
    let db = t.builder().max_connections(1).build().expect("pool");
    let pid = db
        .fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid");
    let tx = db.begin().await.expect("begin");
    let cancel = tx.cancel_handle();
    let mut first = Box::pin(tx.execute(insert(1)));
    poll_once(&mut first).await;
    // The first poll sent the BEGIN alone: the INSERT waits for its answer.
    assert!(reaches(&t, pid, "idle in transaction", "BEGIN").await);
    assert_eq!(first.await.expect("insert"), 1);
    tx.commit().await.expect("commit");
    assert_eq!(rows(&t).await, [1]);
    let m = db.metrics();
    assert_eq!(m.discarded.requested, 1, "closed at release: {m:?}");
    drop(cancel);
    // The next checkout is another backend.
    let next = db
        .fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid");
    assert_ne!(next, pid);
}

/// A statement dropped before its result was read may have failed on the server, which then
/// answers COMMIT with ROLLBACK (no error to the driver): the commit asks first, and says so
/// instead of returning `Ok` for work the server threw away. A dropped statement that ran
/// commits with the rest.
#[tokio::test]
async fn a_commit_after_a_dropped_statement_says_whether_it_committed() {
    let t = setup().await;

    // Dropped, and failed on the server: the commit is a rollback, and an error.
    let tx = t.begin().await.expect("begin");
    tx.execute(insert(1)).await.expect("insert");
    let mut bad = Box::pin(tx.batch_execute("INSERT INTO pipelined VALUES (NULL)"));
    poll_once(&mut bad).await;
    drop(bad);
    let err = tx.commit().await.expect_err("rolled back");
    assert!(
        matches!(err.kind(), ErrorKind::TransactionState(_)),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("rolled back instead of committed"),
        "{err}"
    );
    assert!(rows(&t).await.is_empty());

    // Dropped, and ran: committed with the rest.
    let tx = t.begin().await.expect("begin");
    tx.execute(insert(1)).await.expect("insert");
    let mut fine = Box::pin(tx.batch_execute("INSERT INTO pipelined VALUES (2)"));
    poll_once(&mut fine).await;
    drop(fine);
    tx.commit().await.expect("commit");
    assert_eq!(rows(&t).await, [1, 2]);

    // A copy given up midway (its sink dropped) aborts the transaction on the server.
    t.batch_execute("CREATE TABLE copied (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL)")
        .await
        .expect("table");
    let tx = t.begin().await.expect("begin");
    tx.execute(insert(3)).await.expect("insert");
    let endless = futures_util::stream::unfold(0, |i| async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Some((
            Copied {
                id: 0,
                name: format!("c{i}"),
            },
            i + 1,
        ))
    });
    let given_up =
        tokio::time::timeout(Duration::from_millis(200), tx.copy_in_stream(endless)).await;
    assert!(given_up.is_err(), "the copy was still running");
    let err = tx.commit().await.expect_err("rolled back");
    assert!(
        err.to_string().contains("rolled back instead of committed"),
        "{err}"
    );
    assert_eq!(rows(&t).await, [1, 2]);
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "copied")]
struct Copied {
    #[model(primary_key, generated)]
    id: i64,
    name: String,
}

/// A dropped transaction's rollback, owed by a held connection, stays owed until the server
/// answers it: the statement carrying it dropped in flight leaves it for the next, and the
/// connection is not left believing a transaction is open.
#[tokio::test]
async fn a_deferred_rollback_dropped_in_flight_is_sent_again() {
    let t = setup().await;
    let (mut conn, _) = held(&t).await;
    {
        let tx = conn.begin().await.expect("begin");
        tx.execute(insert(1)).await.expect("insert");
    }
    let mut next = Box::pin(conn.batch_execute("SELECT 1"));
    poll_once(&mut next).await;
    drop(next);
    let tx = conn
        .begin()
        .await
        .expect("begin after the dropped rollback");
    tx.execute(insert(2)).await.expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(rows(&t).await, [2]);
}
