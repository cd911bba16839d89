//! A future dropped at every await point: the transaction it was running is either wholly
//! committed (and then it had been acknowledged, or the drop came after COMMIT was sent) or
//! wholly absent, and the pool only hands out clean connections afterwards. A savepoint's
//! rollback dropped in flight leaves its transaction as the server has it: going.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

/// Polls a future at most `n` times, then drops it.
struct PollN<F: Future> {
    fut: Pin<Box<F>>,
    left: usize,
}

impl<F: Future> Future for PollN<F> {
    type Output = Option<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.fut.as_mut().poll(cx) {
            Poll::Ready(v) => Poll::Ready(Some(v)),
            Poll::Pending => {
                self.left -= 1;
                if self.left == 0 {
                    Poll::Ready(None)
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

#[tokio::test]
async fn a_transaction_dropped_at_every_await_point_is_all_or_nothing() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE ledger (batch int NOT NULL, n int NOT NULL)")
        .await
        .expect("table");
    let db = t.builder().max_connections(2).build().expect("pool");
    let mut completed_at = None;
    for n in 1..200usize {
        let batch = n as i32;
        let work = {
            let db = db.clone();
            async move {
                db.transaction(|tx| {
                    async move {
                        for i in 0..3 {
                            tx.execute(
                                query::<()>("INSERT INTO ledger VALUES (:b, :i)")
                                    .bind("b", batch)
                                    .bind("i", i),
                            )
                            .await?;
                        }
                        Ok::<(), orm_postgres::Error>(())
                    }
                    .scoped()
                })
                .await
            }
        };
        let outcome = PollN {
            fut: Box::pin(work),
            left: n,
        }
        .await;
        let rows: i64 = t
            .fetch_one(
                query::<i64>("SELECT count(*) FROM ledger WHERE batch = :b").bind("b", batch),
            )
            .await
            .expect("count");
        match outcome {
            Some(Ok(())) => {
                assert_eq!(rows, 3, "acknowledged at poll {n} but not all there");
                completed_at = Some(n);
                break;
            }
            Some(Err(e)) => panic!("poll {n}: {e}"),
            // Dropped: nothing, or (dropped after COMMIT left) everything.
            None => assert!(rows == 0 || rows == 3, "dropped at poll {n}: {rows} rows"),
        }
        // No session is left inside a transaction (a dropped one's connection is closed, and
        // its server process exits at once), and the pool still serves.
        let mut left = -1;
        for _ in 0..100 {
            left = t
                .fetch_one(query::<i64>(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND state LIKE 'idle in transaction%'",
                ))
                .await
                .expect("sessions");
            if left == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(
            left, 0,
            "a session left in a transaction after dropping at poll {n}"
        );
        assert_eq!(
            db.fetch_one(query::<i32>("SELECT 1"))
                .await
                .expect("the pool serves"),
            1
        );
    }
    assert!(
        completed_at.is_some(),
        "the transaction completed within 200 polls"
    );
}

/// `BEGIN` (which goes with the transaction's first statement), `COMMIT` and `ROLLBACK` on a
/// held connection, each dropped after its first poll (the statement sent, its answer not
/// read): the connection is not left in a transaction the server may have open. Its next
/// `begin` works, and a write after it is committed on its own, not held in a transaction
/// nobody commits.
#[tokio::test]
async fn begin_commit_and_rollback_dropped_mid_flight_leave_a_held_connection_clean() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE held (n int NOT NULL)")
        .await
        .expect("schema");
    let count = || async {
        t.fetch_one(query::<i64>("SELECT count(*) FROM held"))
            .await
            .expect("count")
    };
    let insert = |n: i32| query::<()>("INSERT INTO held VALUES (:n)").bind("n", n);
    let mut conn = t.connection().await.expect("connection");

    // `begin` sends nothing: done in one poll. The transaction's first statement carries the
    // BEGIN; dropped with it after its first poll (both sent, neither answer read), with the
    // transaction: that write is rolled back, and the write that follows commits by itself.
    let tx = PollN {
        fut: Box::pin(conn.begin()),
        left: 1,
    }
    .await
    .expect("begin done in one poll: it sends nothing")
    .expect("begin");
    let first = PollN {
        fut: Box::pin(tx.execute(insert(100))),
        left: 1,
    };
    assert!(
        first.await.is_none(),
        "BEGIN and INSERT answered in one poll"
    );
    drop(tx);
    conn.execute(insert(1)).await.expect("insert 1");
    assert_eq!(
        t.fetch_all(query::<i32>("SELECT n FROM held"))
            .await
            .expect("rows"),
        [1],
        "the write of the dropped transaction is rolled back; the write after it commits"
    );

    // COMMIT dropped: a new transaction begins, and the write after it commits by itself.
    let tx = conn.begin().await.expect("begin");
    tx.execute(insert(2)).await.expect("insert 2");
    let commit = PollN {
        fut: Box::pin(tx.commit()),
        left: 1,
    };
    assert!(commit.await.is_none(), "COMMIT answered in one poll");
    let tx = conn.begin().await.expect("begin after a dropped COMMIT");
    tx.rollback().await.expect("rollback");
    conn.execute(insert(3)).await.expect("insert 3");
    let after_commit = count().await;
    assert!(
        after_commit == 2 || after_commit == 3,
        "{after_commit} rows: insert 3 is held in a transaction"
    );

    // ROLLBACK dropped: the same.
    let tx = conn.begin().await.expect("begin");
    tx.execute(insert(4)).await.expect("insert 4");
    let rollback = PollN {
        fut: Box::pin(tx.rollback()),
        left: 1,
    };
    assert!(rollback.await.is_none(), "ROLLBACK answered in one poll");
    conn.begin()
        .await
        .expect("begin after a dropped ROLLBACK")
        .rollback()
        .await
        .expect("rollback");
    conn.execute(insert(5)).await.expect("insert 5");
    assert_eq!(
        count().await,
        after_commit + 1,
        "insert 4 rolled back, 5 committed"
    );
}

/// A savepoint's rollback dropped in flight, after a statement failed inside the savepoint:
/// the `ROLLBACK TO SAVEPOINT` was sent, so the server runs it before anything sent after it,
/// and the transaction goes on as PostgreSQL has it then: healthy, without the savepoint's
/// writes, and it commits. Both for a rollback called and for one owed by a savepoint dropped
/// (which the parent's next statement sends first, here dropped in flight with it). Before,
/// the transaction stayed marked failed: every later statement was refused, and its commit
/// rolled back a healthy transaction.
#[tokio::test]
async fn a_savepoint_rollback_dropped_in_flight_leaves_the_transaction_going() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE kept (n int PRIMARY KEY)")
        .await
        .expect("schema");
    let insert = |n: i32| query::<()>("INSERT INTO kept VALUES (:n)").bind("n", n);
    let all = "SELECT n FROM kept ORDER BY n";
    let mut tx = t.begin().await.expect("begin");
    tx.execute(insert(1)).await.expect("insert 1");

    // A rollback called, dropped after its first poll.
    let sp = tx.savepoint().await.expect("savepoint");
    sp.execute(insert(2)).await.expect("insert 2");
    let err = sp.execute(insert(1)).await.expect_err("a duplicate");
    assert!(err.is_unique_violation(), "{err:?}");
    let rollback = PollN {
        fut: Box::pin(sp.rollback()),
        left: 1,
    };
    assert!(
        rollback.await.is_none(),
        "ROLLBACK TO SAVEPOINT answered in one poll"
    );
    tx.execute(insert(3))
        .await
        .expect("a statement after the savepoint's rollback");
    assert_eq!(
        tx.fetch_all(query::<i32>(all)).await.expect("rows"),
        [1, 3],
        "the savepoint's write is undone, the transaction's kept"
    );

    // A rollback owed by a dropped savepoint, sent ahead of the parent's next statement, both
    // dropped after their first poll.
    {
        let sp = tx.savepoint().await.expect("savepoint");
        sp.execute(insert(4)).await.expect("insert 4");
        assert!(sp.execute(insert(1)).await.is_err(), "a duplicate");
    }
    let next = PollN {
        fut: Box::pin(tx.execute(insert(5))),
        left: 1,
    };
    assert!(
        next.await.is_none(),
        "the owed rollback answered in one poll"
    );
    tx.execute(insert(6))
        .await
        .expect("a statement after the owed rollback");

    tx.commit().await.expect("commit");
    assert_eq!(
        t.fetch_all(query::<i32>(all)).await.expect("rows"),
        [1, 3, 6]
    );

    // And a statement failing after such a rollback fails the transaction, as ever: its
    // commit rolls back and says so.
    let mut tx = t.begin().await.expect("begin");
    tx.execute(insert(7)).await.expect("insert 7");
    let sp = tx.savepoint().await.expect("savepoint");
    assert!(sp.execute(insert(1)).await.is_err(), "a duplicate");
    let rollback = PollN {
        fut: Box::pin(sp.rollback()),
        left: 1,
    };
    assert!(
        rollback.await.is_none(),
        "ROLLBACK TO SAVEPOINT answered in one poll"
    );
    let err = tx.execute(insert(1)).await.expect_err("a duplicate");
    assert!(err.is_unique_violation(), "{err:?}");
    let err = tx.commit().await.expect_err("a failed transaction");
    assert!(
        matches!(err.kind(), ErrorKind::TransactionState(_)),
        "{err:?}"
    );
    assert_eq!(
        t.fetch_all(query::<i32>(all)).await.expect("rows"),
        [1, 3, 6]
    );
}

/// Rolling back to a savepoint undoes a savepoint dropped inside it, whose rollback was owed:
/// nothing is owed after. Before, the owed rollback was still sent before the parent's next
/// statement, naming a savepoint the server no longer had, which failed the transaction.
#[tokio::test]
async fn rolling_back_to_a_savepoint_settles_one_dropped_inside_it() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE nested (n int NOT NULL)")
        .await
        .expect("schema");
    let insert = |n: i32| query::<()>("INSERT INTO nested VALUES (:n)").bind("n", n);
    let mut tx = t.begin().await.expect("begin");
    tx.execute(insert(1)).await.expect("insert 1");
    let mut outer = tx.savepoint().await.expect("outer savepoint");
    {
        let inner = outer.savepoint().await.expect("inner savepoint");
        inner.execute(insert(2)).await.expect("insert 2");
    }
    outer
        .rollback()
        .await
        .expect("rollback to the outer savepoint");
    tx.execute(insert(3))
        .await
        .expect("a statement after the rollback");
    tx.commit().await.expect("commit");
    assert_eq!(
        t.fetch_all(query::<i32>("SELECT n FROM nested ORDER BY n"))
            .await
            .expect("rows"),
        [1, 3]
    );
}
