//! The server ends a session (SQLSTATE 57P01: `pg_terminate_backend`, a fast shutdown, a
//! failover): the call says the connection was lost, retryable; inside a transaction, that
//! the transaction was rolled back; and the pool never hands that connection out again.

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{Error, ErrorKind, RetryPolicy};
use orm_testing::test_database;

use crate::{backend_running, pid_of, terminate};

#[tokio::test]
async fn a_query_whose_backend_is_terminated_is_connection_lost_and_retryable() {
    let t = test_database().await.expect("db");
    let db: Database = t.db.clone();
    let call = tokio::spawn({
        let db = db.clone();
        async move {
            db.fetch_one(query::<i32>(
                "SELECT 1 FROM pg_sleep(30) /* doomed-query */",
            ))
            .await
        }
    });
    let pid = backend_running(&db, "doomed-query").await;
    terminate(&db, pid).await;
    let err: Error = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the call returns at once")
        .expect("task")
        .expect_err("the backend was terminated");
    assert!(
        matches!(err.kind(), ErrorKind::ConnectionLost(_)),
        "{err:?}"
    );
    assert_eq!(err.sqlstate(), Some("57P01"));
    assert!(err.is_connection_lost() && err.is_retryable(), "{err}");
    assert!(
        err.to_string()
            .starts_with("the connection to the database was lost: "),
        "{err}"
    );

    // The terminated connection is not handed out again: every later call works, on other
    // backends.
    for _ in 0..20 {
        let other = pid_of(&db).await;
        assert_ne!(other, pid);
    }
}

#[tokio::test]
async fn a_transaction_whose_backend_is_terminated_is_lost_and_says_so() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE ledger (id int PRIMARY KEY)")
        .await
        .expect("table");
    let tx = t.begin().await.expect("begin");
    tx.batch_execute("INSERT INTO ledger VALUES (1)")
        .await
        .expect("insert");
    let pid = pid_of(&tx).await;
    terminate(&t, pid).await;
    let err = tx
        .batch_execute("INSERT INTO ledger VALUES (2)")
        .await
        .expect_err("lost");
    assert!(
        matches!(err.kind(), ErrorKind::TransactionLost(_)),
        "{err:?}"
    );
    assert!(err.is_retryable() && err.is_connection_lost());
    assert!(
        err.to_string().starts_with(
            "the connection was lost inside a transaction, which the server rolled back"
        ),
        "{err}"
    );
    // Rolling back the lost transaction needs no server and succeeds.
    tx.rollback().await.expect("rollback of a lost transaction");
    let rows = t
        .fetch_one(query::<i64>("SELECT count(*) FROM ledger"))
        .await
        .expect("count");
    assert_eq!(rows, 0, "nothing of it was committed");
}

#[tokio::test]
async fn commit_after_the_loss_is_refused_with_the_same_kind() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE ledger (id int PRIMARY KEY)")
        .await
        .expect("table");
    let tx = t.begin().await.expect("begin");
    let pid = pid_of(&tx).await;
    terminate(&t, pid).await;
    // The loss is seen at the next statement, or at COMMIT itself.
    let _ = tx.batch_execute("INSERT INTO ledger VALUES (1)").await;
    let err = tx.commit().await.expect_err("nothing to commit");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::TransactionLost(_) | ErrorKind::CommitUnknown(_)
        ),
        "{err:?}"
    );
    assert_eq!(
        t.fetch_one(query::<i64>("SELECT count(*) FROM ledger"))
            .await
            .expect("count"),
        0
    );
}

#[tokio::test]
async fn retry_runs_a_lost_transaction_again_exactly_once_more() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE ledger (id int PRIMARY KEY)")
        .await
        .expect("table");
    let attempts = std::sync::atomic::AtomicU32::new(0);
    let db: Database = t.db.clone();
    let (attempts, killer) = (&attempts, &db);
    db.retry(RetryPolicy::default(), |s: &mut Session| {
        async move {
            let n = attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            s.execute(query::<()>("INSERT INTO ledger VALUES (1)"))
                .await?;
            if n == 0 {
                let pid = s.fetch_one(query::<i32>("SELECT pg_backend_pid()")).await?;
                terminate(killer, pid).await;
                s.execute(query::<()>("INSERT INTO ledger VALUES (2)"))
                    .await?;
            }
            Ok(())
        }
        .scoped()
    })
    .await
    .expect("the second attempt commits");
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 2);
    let ids: Vec<i32> = t
        .fetch_all(query::<i32>("SELECT id FROM ledger ORDER BY id"))
        .await
        .expect("rows");
    assert_eq!(
        ids,
        vec![1],
        "the first attempt left nothing, the second one row"
    );
}
