//! Time limits: the client-side query timeout on a frozen backend (SIGSTOP), the server's
//! statement, lock and idle-in-transaction timeouts, each a typed error; the pool healthy
//! afterwards.

use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{Error, ErrorKind};
use orm_testing::test_database;

use crate::pid_of;

/// Sends a signal to a server process.
pub(crate) fn signal(pid: i32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// A backend frozen with SIGSTOP, thawed with SIGCONT when dropped (even when the test fails).
struct Frozen(i32);

impl Frozen {
    fn new(pid: i32) -> Frozen {
        signal(pid, "-STOP");
        Frozen(pid)
    }

    /// A connection of `db` and its backend's pid, the backend frozen.
    async fn connection(db: &Database) -> (orm_postgres::Connection, i32, Frozen) {
        let conn = db.connection().await.expect("connection");
        let pid = pid_of(&conn).await;
        (conn, pid, Frozen::new(pid))
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        signal(self.0, "-CONT");
    }
}

/// Whether a backend still exists.
async fn alive(db: &Database, pid: i32) -> bool {
    db.fetch_one(
        query::<i64>("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid").bind("pid", pid),
    )
    .await
    .expect("pg_stat_activity")
        > 0
}

#[tokio::test]
async fn a_frozen_backend_times_out_on_the_client_and_the_pool_stays_healthy() {
    let t = test_database().await.expect("db");
    // The server's own statement_timeout cannot fire: the process enforcing it is stopped.
    let db = t
        .builder()
        .statement_timeout(Duration::from_secs(2))
        .query_timeout(Some(Duration::from_secs(2)))
        .max_connections(4)
        .connect()
        .await
        .expect("connect");
    let (conn, pid, frozen) = Frozen::connection(&db).await;
    let start = Instant::now();
    let err: Error = conn
        .fetch_one(query::<i32>("SELECT 1"))
        .await
        .expect_err("no answer");
    let took = start.elapsed();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::QueryTimeout {
                in_transaction: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_timeout());
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "returned after {took:?}"
    );
    assert_eq!(
        err.to_string(),
        "no answer from the server within 2s: the statement was cancelled and its connection closed"
    );
    // The abandoned connection refuses further statements rather than wait again.
    let again = conn
        .fetch_one(query::<i32>("SELECT 1"))
        .await
        .expect_err("abandoned");
    assert!(again.is_connection_lost(), "{again:?}");
    drop(conn);
    // Meanwhile the pool serves other calls on other backends.
    for _ in 0..10 {
        assert_ne!(pid_of(&db).await, pid);
    }
    drop(frozen);
    // Thawed, the backend finds its client gone (and its query cancelled) and exits.
    let mut gone = false;
    for _ in 0..100 {
        if !alive(&db, pid).await {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "the abandoned backend exited once thawed");
}

/// Whether `err` is the client-side query timeout outside a transaction.
fn is_query_timeout(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::QueryTimeout {
            in_transaction: false,
            ..
        }
    )
}

/// A stream waits no longer than the query timeout, to start or for its next row: a frozen
/// backend ends it with the same `QueryTimeout` as any statement, its connection abandoned.
#[tokio::test]
async fn a_stream_from_a_frozen_backend_times_out_to_start_and_between_rows() {
    // Rows wider than the server's 8 KB send buffer, one every 100 ms: each is sent as it is
    // made, so the stream is still waiting on the server after its first row.
    const SLOW_ROWS: &str = "SELECT g, repeat('x', 20000) || CASE WHEN pg_sleep(0.1) IS NULL THEN '' ELSE '' END \
                             FROM generate_series(1, 50) g";
    let t = test_database().await.expect("db");
    let limit = Duration::from_secs(1);
    let db = t.with_query_timeout(Some(limit));

    let (conn, _, frozen) = Frozen::connection(&db).await;
    let start = Instant::now();
    let err = match conn.stream(query::<i32>("SELECT 1")).await {
        Ok(_) => panic!("a frozen backend started a stream"),
        Err(e) => e,
    };
    let took = start.elapsed();
    assert!(is_query_timeout(&err), "{err:?}");
    assert!(took >= limit && took < 3 * limit, "returned after {took:?}");
    drop(frozen);
    let again = conn
        .fetch_one(query::<i32>("SELECT 1"))
        .await
        .expect_err("abandoned");
    assert!(again.is_connection_lost(), "{again:?}");
    drop(conn);

    let conn = db.connection().await.expect("connection");
    let pid = pid_of(&conn).await;
    let mut rows = conn
        .stream(query::<(i32, String)>(SLOW_ROWS))
        .await
        .expect("stream");
    let (first, text) = rows.try_next().await.expect("first row").expect("a row");
    assert_eq!((first, text.len()), (1, 20000));
    let frozen = Frozen::new(pid);
    let start = Instant::now();
    let mut read = 1;
    let err = loop {
        match rows.try_next().await {
            Ok(Some(_)) => read += 1,
            Ok(None) => panic!("the stream ended while its backend was frozen"),
            Err(e) => break e,
        }
    };
    let took = start.elapsed();
    assert!(is_query_timeout(&err), "{err:?}");
    assert!(read < 50, "{read} rows");
    assert!(took >= limit && took < 3 * limit, "returned after {took:?}");
    // The stream has ended; its connection is abandoned.
    assert!(rows.try_next().await.expect("ended").is_none());
    drop(rows);
    drop(frozen);
    let again = conn
        .fetch_one(query::<i32>("SELECT 1"))
        .await
        .expect_err("abandoned");
    assert!(again.is_connection_lost(), "{again:?}");
}

/// A query timeout past the clock's range (`Duration::MAX`) is no limit, for a stream that
/// waits between rows too (its deadline was once computed with an overflowing addition).
#[tokio::test]
async fn a_stream_with_the_longest_query_timeout_waits_between_rows() {
    let t = test_database().await.expect("db");
    let db = t.with_query_timeout(Some(Duration::MAX));
    // Rows wider than the server's send buffer, one every 50 ms: the stream waits for each.
    let rows: Vec<String> = db
        .stream(query::<String>(
            "SELECT g::text || repeat('x', 20000) FROM generate_series(1, 3) g \
             WHERE pg_sleep(0.05) IS NOT NULL",
        ))
        .await
        .expect("stream")
        .try_collect()
        .await
        .expect("rows");
    let heads: Vec<&str> = rows.iter().map(|r| &r[..1]).collect();
    assert_eq!(heads, ["1", "2", "3"]);
}

#[tokio::test]
async fn a_timeout_inside_a_transaction_loses_it_and_says_so() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE ledger (id int PRIMARY KEY)")
        .await
        .expect("table");
    let db = t.with_query_timeout(Some(Duration::from_millis(300)));
    let tx = db.begin().await.expect("begin");
    tx.batch_execute("INSERT INTO ledger VALUES (1)")
        .await
        .expect("insert");
    let err = tx
        .batch_execute("SELECT pg_sleep(5)")
        .await
        .expect_err("too slow");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::QueryTimeout {
                in_transaction: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("inside a transaction (now rolled back)")
    );
    let commit = tx.commit().await.expect_err("lost");
    assert!(
        matches!(commit.kind(), ErrorKind::TransactionLost(_)),
        "{commit:?}"
    );
    assert_eq!(
        t.fetch_one(query::<i64>("SELECT count(*) FROM ledger"))
            .await
            .expect("count"),
        0
    );
    // Per call: the same database without the limit waits for the slow statement.
    t.with_query_timeout(None)
        .batch_execute("SELECT pg_sleep(0.5)")
        .await
        .expect("no limit");
}

#[tokio::test]
async fn the_server_timeouts_have_their_own_kinds() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE ledger (id int PRIMARY KEY); INSERT INTO ledger VALUES (1)")
        .await
        .expect("table");

    // statement_timeout: 57014.
    let slow = t
        .builder()
        .statement_timeout(Duration::from_millis(100))
        .connect()
        .await
        .expect("connect");
    let err = slow
        .batch_execute("SELECT pg_sleep(2)")
        .await
        .expect_err("cancelled");
    assert!(
        matches!(err.kind(), ErrorKind::StatementTimeout(_)),
        "{err:?}"
    );
    assert!(err.is_timeout() && !err.is_connection_lost());

    // lock_timeout: 55P03, next to it.
    let holder = t.begin().await.expect("begin");
    holder
        .batch_execute("SELECT * FROM ledger FOR UPDATE")
        .await
        .expect("lock");
    let waiter = t.begin().await.expect("begin");
    waiter
        .batch_execute("SET LOCAL lock_timeout = '100ms'")
        .await
        .expect("set");
    let err = waiter
        .batch_execute("UPDATE ledger SET id = 2")
        .await
        .expect_err("lock not available");
    assert!(matches!(err.kind(), ErrorKind::LockTimeout(_)), "{err:?}");
    assert_eq!(err.sqlstate(), Some("55P03"));
    assert!(err.is_timeout());
    waiter.rollback().await.expect("rollback");
    holder.rollback().await.expect("rollback");

    // idle_in_transaction_session_timeout: the server ends the session (FATAL 25P03).
    let tx = t.begin().await.expect("begin");
    tx.batch_execute("SET LOCAL idle_in_transaction_session_timeout = '100ms'")
        .await
        .expect("set");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let err = tx
        .batch_execute("SELECT 1")
        .await
        .expect_err("session ended");
    assert!(
        matches!(err.kind(), ErrorKind::TransactionLost(_)),
        "{err:?}"
    );
    tx.rollback().await.expect("a lost transaction rolls back");
    assert_eq!(
        t.fetch_one(query::<i64>("SELECT count(*) FROM ledger"))
            .await
            .expect("the pool is fine"),
        1
    );
}

/// A copy waits on the server at most the query timeout at each step: a backend frozen in
/// the middle of a `COPY … FROM STDIN` fills the socket's buffers, and the next chunk's send
/// ends the copy with `QueryTimeout`, its connection abandoned.
#[tokio::test]
async fn a_copy_into_a_backend_frozen_midway_times_out_on_a_send() {
    use orm_tests::User;
    let t = test_database().await.expect("db");
    t.create_all(&[User::TABLE]).await.expect("users");
    let limit = Duration::from_secs(1);
    let db = t.with_query_timeout(Some(limit));
    let conn = db.connection().await.expect("connection");
    let pid = pid_of(&conn).await;
    let frozen = std::sync::Mutex::new(None::<(Frozen, Instant)>);
    // 5,000 rows of 10 KB: far more than the socket buffers hold. The backend is frozen once
    // 500 KB (several chunks) went through.
    let rows = futures_util::stream::iter(0..5_000).map(|i| {
        if i == 50 {
            *frozen.lock().unwrap() = Some((Frozen::new(pid), Instant::now()));
        }
        User {
            email: Some("x".repeat(10_000)),
            ..User::new(&format!("u{i}"))
        }
    });
    let err = conn.copy_in_stream(rows).await.expect_err("frozen");
    let (thaw, since) = frozen.lock().unwrap().take().expect("frozen midway");
    let took = since.elapsed();
    assert!(is_query_timeout(&err), "{err:?}");
    assert!(took >= limit && took < 3 * limit, "returned after {took:?}");
    drop(thaw);
    let again = conn
        .fetch_one(query::<i32>("SELECT 1"))
        .await
        .expect_err("abandoned");
    assert!(again.is_connection_lost(), "{again:?}");
    drop(conn);
    assert_eq!(
        t.fetch_one(query::<i64>("SELECT count(*) FROM users"))
            .await
            .expect("the pool is fine"),
        0
    );
}
