//! A held `Connection`: one server session for every statement and transaction run through
//! it, a dropped transaction rolled back before its next statement, and `close_on_drop`
//! ending the session (and its advisory locks) instead of handing it to the pool.

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::TestDatabase;

async fn pool_of_one(t: &TestDatabase) -> Database {
    t.builder()
        .max_connections(1)
        .wait_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap()
}

async fn pid(db: &impl Executor) -> i32 {
    db.fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .unwrap()
}

/// Whether another session can take advisory lock 7 (and gives it back at once).
async fn lock_is_free(t: &TestDatabase) -> bool {
    let other = t.builder().max_connections(1).connect().await.unwrap();
    let mut c = other.connection().await.unwrap();
    c.close_on_drop();
    c.fetch_one(query::<bool>("SELECT pg_try_advisory_lock(7)"))
        .await
        .unwrap()
}

#[tokio::test]
async fn statements_and_transactions_share_one_session() {
    let t = orm_testing::test_database().await.unwrap();
    let mut conn = t.connection().await.unwrap();
    let first = pid(&conn).await;
    conn.batch_execute("SELECT pg_advisory_lock(7); SET application_name = 'held'")
        .await
        .unwrap();
    let tx = conn.begin().await.unwrap();
    assert_eq!(pid(&tx).await, first);
    tx.batch_execute("CREATE TABLE t (id int)").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(pid(&conn).await, first);
    let name: String = conn
        .fetch_one(query::<String>(
            "SELECT current_setting('application_name')",
        ))
        .await
        .unwrap();
    assert_eq!(name, "held");
    assert!(!lock_is_free(&t).await, "the held session keeps its lock");
    conn.batch_execute("SELECT pg_advisory_unlock(7)")
        .await
        .unwrap();
    assert!(lock_is_free(&t).await);
}

#[tokio::test]
async fn a_dropped_transaction_is_rolled_back_before_the_next_statement() {
    let t = orm_testing::test_database().await.unwrap();
    t.batch_execute("CREATE TABLE t (id int)").await.unwrap();
    let mut conn = t.connection().await.unwrap();
    {
        let tx = conn.begin().await.unwrap();
        tx.batch_execute("INSERT INTO t VALUES (1)").await.unwrap();
    }
    // The next statement runs outside the dropped transaction: a SAVEPOINT fails there.
    let e = conn.batch_execute("SAVEPOINT s").await.unwrap_err();
    assert_eq!(e.sqlstate(), Some("25P01"));
    let n: i64 = t
        .fetch_one(query::<i64>("SELECT count(*) FROM t"))
        .await
        .unwrap();
    assert_eq!(n, 0);
    // A new transaction after a dropped one commits normally.
    {
        let tx = conn.begin().await.unwrap();
        drop(tx);
    }
    let tx = conn.begin().await.unwrap();
    tx.batch_execute("INSERT INTO t VALUES (2)").await.unwrap();
    tx.commit().await.unwrap();
    let n: i64 = t
        .fetch_one(query::<i64>("SELECT count(*) FROM t"))
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_failed_transaction_can_be_rolled_back_and_the_connection_reused() {
    let t = orm_testing::test_database().await.unwrap();
    let mut conn = t.connection().await.unwrap();
    let tx = conn.begin().await.unwrap();
    assert!(tx.batch_execute("SELECT 1/0").await.is_err());
    tx.rollback().await.unwrap();
    let one: i32 = conn.fetch_one(query::<i32>("SELECT 1")).await.unwrap();
    assert_eq!(one, 1);
}

#[tokio::test]
async fn dropped_it_returns_to_the_pool_unless_closed_on_drop() {
    let t = orm_testing::test_database().await.unwrap();
    let db = pool_of_one(&t).await;
    let kept = {
        let conn = db.connection().await.unwrap();
        pid(&conn).await
    };
    assert_eq!(
        pid(&db).await,
        kept,
        "a clean connection goes back to the pool"
    );

    let closed = {
        let mut conn = db.connection().await.unwrap();
        conn.close_on_drop();
        conn.batch_execute("SELECT pg_advisory_lock(7)")
            .await
            .unwrap();
        pid(&conn).await
    };
    assert_eq!(closed, kept);
    assert_ne!(pid(&db).await, closed, "closed on drop: a new session");
    // The server ends the closed session, and its lock with it (shortly after the close).
    let mut free = false;
    for _ in 0..100 {
        if lock_is_free(&t).await {
            free = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(free);
}
