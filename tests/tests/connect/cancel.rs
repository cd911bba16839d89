//! Cancelling a running statement from another task through the cancel protocol, on a plain
//! and on a TLS connection.

use std::time::{Duration, Instant};

use orm_postgres::prelude::*;
use orm_postgres::{CancelHandle, ErrorKind};

use crate::server::tls_server;

/// Cancels through `handle` once a statement of `db`'s server runs `pg_sleep`.
fn cancel_soon(watch: Database, handle: CancelHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for _ in 0..500 {
            let running: i64 = watch
                .fetch_one(orm_postgres::raw::query::<i64>(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE query LIKE 'SELECT pg_sleep(%' AND state = 'active' \
                     AND datname = current_database()",
                ))
                .await
                .unwrap();
            if running > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        handle.cancel().await.unwrap();
    })
}

fn assert_cancelled(err: &orm_postgres::Error, began: Instant) {
    assert!(
        matches!(err.kind(), ErrorKind::StatementTimeout(_)),
        "{err:?}"
    );
    assert_eq!(err.sqlstate(), Some("57014"));
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
}

#[tokio::test]
async fn a_long_statement_is_cancelled_from_another_task() {
    let t = orm_testing::test_database().await.unwrap();
    let conn = t.connection().await.unwrap();
    let began = Instant::now();
    let canceller = cancel_soon(t.db.clone(), conn.cancel_handle());
    let err = conn.batch_execute("SELECT pg_sleep(60)").await.unwrap_err();
    assert_cancelled(&err, began);
    canceller.await.unwrap();
    // The connection is still good. Cancelling while idle does nothing to it, though the
    // request is asynchronous: on a loaded machine the server may deliver it to the statement
    // that follows (57014), once.
    conn.cancel_handle().cancel().await.unwrap();
    if let Err(e) = conn.batch_execute("SELECT 1").await {
        assert_eq!(e.sqlstate(), Some("57014"), "{e:?}");
    }
    conn.batch_execute("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn a_transaction_statement_is_cancelled_over_tls() {
    let s = tls_server();
    let db = Database::builder(s.url("postgres", "sslmode=require"))
        .max_connections(2)
        .connect()
        .await
        .unwrap();
    let tx = db.begin().await.unwrap();
    let began = Instant::now();
    let canceller = cancel_soon(db.clone(), tx.cancel_handle());
    let err = tx.batch_execute("SELECT pg_sleep(60)").await.unwrap_err();
    assert_cancelled(&err, began);
    canceller.await.unwrap();
    tx.rollback().await.unwrap();
}
