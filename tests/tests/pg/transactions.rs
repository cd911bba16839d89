//! Transactions, savepoints, and what dropping things mid-flight leaves behind.

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::{ErrorKind, IsolationLevel, TxOptions};
use orm_testing::TestDatabase;
use orm_tests::User;

use crate::{add_users, users_db};

async fn count(db: &impl Executor) -> i64 {
    db.fetch_one(select::<User>().count()).await.unwrap()
}

/// A pool of exactly one connection on the test's database.
async fn single(t: &TestDatabase) -> Database {
    t.builder()
        .max_connections(1)
        .wait_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap()
}

/// Whether the connection that runs it has no transaction block open: `SAVEPOINT` outside a
/// transaction block fails with SQLSTATE 25P01, inside one it succeeds.
async fn connection_is_clean(db: &Database) -> bool {
    match db.batch_execute("SAVEPOINT orm_clean_check").await {
        Err(e) => e.sqlstate() == Some("25P01"),
        Ok(()) => false,
    }
}

#[tokio::test]
async fn closure_commits_on_ok_and_rolls_back_on_err() {
    let t = users_db().await;
    let n = t
        .transaction(|tx| {
            async move {
                add_users(tx, &["a", "b"]).await;
                Ok::<_, orm_postgres::Error>(count(tx).await)
            }
            .scoped()
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(count(&t.db).await, 2);

    #[derive(Debug)]
    enum AppError {
        Db(#[allow(dead_code)] orm_postgres::Error),
        Rejected,
    }
    impl From<orm_postgres::Error> for AppError {
        fn from(e: orm_postgres::Error) -> Self {
            AppError::Db(e)
        }
    }
    let r: Result<(), AppError> = t
        .transaction(|tx| {
            async move {
                add_users(tx, &["c"]).await;
                assert_eq!(count(tx).await, 3);
                Err(AppError::Rejected)
            }
            .scoped()
        })
        .await;
    assert!(matches!(r, Err(AppError::Rejected)));
    assert_eq!(
        count(&t.db).await,
        2,
        "the insert of the failed transaction was rolled back"
    );
}

#[tokio::test]
async fn explicit_begin_commit_rollback() {
    let t = users_db().await;
    let tx = t.begin().await.unwrap();
    add_users(&tx, &["a"]).await;
    assert_eq!(
        count(&t.db).await,
        0,
        "uncommitted rows are invisible to others"
    );
    tx.commit().await.unwrap();
    assert_eq!(count(&t.db).await, 1);
    let tx = t.begin().await.unwrap();
    add_users(&tx, &["b"]).await;
    tx.rollback().await.unwrap();
    assert_eq!(count(&t.db).await, 1);
}

#[tokio::test]
async fn isolation_levels_and_read_only() {
    let t = users_db().await;
    for (level, name) in [
        (IsolationLevel::Serializable, "serializable"),
        (IsolationLevel::RepeatableRead, "repeatable read"),
        (IsolationLevel::ReadCommitted, "read committed"),
    ] {
        let tx = t
            .begin_with(TxOptions::default().isolation(level))
            .await
            .unwrap();
        let got: String = tx
            .fetch_one(select_values(orm_postgres::expr::func::<String>(
                "current_setting",
                [orm_postgres::expr::Node::Param(orm_postgres::expr::param(
                    "transaction_isolation".to_string(),
                ))],
            )))
            .await
            .unwrap();
        assert_eq!(got, name);
        tx.commit().await.unwrap();
    }
    let tx = t
        .begin_with(TxOptions::default().read_only())
        .await
        .unwrap();
    let err = tx.fetch_one(insert(&User::new("x"))).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("25006"), "{err:?}");
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn savepoints_nest() {
    let t = users_db().await;
    let mut tx = t.begin().await.unwrap();
    add_users(&tx, &["outer"]).await;
    {
        let sp = tx.savepoint().await.unwrap();
        assert!(sp.is_savepoint());
        add_users(&sp, &["inner-rolled-back"]).await;
        sp.rollback().await.unwrap();
    }
    {
        let mut sp = tx.savepoint().await.unwrap();
        add_users(&sp, &["inner-kept"]).await;
        {
            let sp2 = sp.savepoint().await.unwrap();
            add_users(&sp2, &["deepest"]).await;
            sp2.commit().await.unwrap();
        }
        sp.commit().await.unwrap();
    }
    {
        // Dropped without commit or rollback: undone before the parent's next statement.
        let sp = tx.savepoint().await.unwrap();
        add_users(&sp, &["dropped"]).await;
    }
    let mut names: Vec<String> = tx
        .fetch_all(select::<User>().columns(User::name))
        .await
        .unwrap();
    names.sort();
    assert_eq!(names, ["deepest", "inner-kept", "outer"]);
    tx.commit().await.unwrap();
    assert_eq!(count(&t.db).await, 3);
}

#[tokio::test]
async fn a_failed_statement_poisons_the_transaction_until_rollback() {
    let t = users_db().await;
    add_users(&t.db, &["taken"]).await;
    let mut tx = t.begin().await.unwrap();
    add_users(&tx, &["new"]).await;
    {
        let sp = tx.savepoint().await.unwrap();
        let err = sp.fetch_one(insert(&User::new("taken"))).await.unwrap_err();
        assert!(err.is_unique_violation());
        // Refused without being sent.
        let err = sp.fetch_one(select::<User>().count()).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::TransactionState(_)),
            "{err:?}"
        );
        sp.rollback().await.unwrap();
    }
    // Rolling back to the savepoint recovers the transaction.
    assert_eq!(count(&tx).await, 2);
    let err = tx.fetch_one(insert(&User::new("taken"))).await.unwrap_err();
    assert!(err.is_unique_violation());
    let err = tx.fetch_all(select::<User>()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::TransactionState(_)),
        "{err:?}"
    );
    // Committing a failed transaction rolls it back and says so.
    let err = tx.commit().await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::TransactionState(_)),
        "{err:?}"
    );
    assert_eq!(count(&t.db).await, 1);
}

#[tokio::test]
async fn a_failed_savepoint_committed_or_dropped_leaves_the_parent_going() {
    let t = users_db().await;
    add_users(&t.db, &["taken"]).await;
    let mut tx = t.begin().await.unwrap();
    add_users(&tx, &["parent"]).await;
    {
        // Committed after a failure: rolled back to the savepoint instead, and said so.
        let sp = tx.savepoint().await.unwrap();
        add_users(&sp, &["undone"]).await;
        assert!(sp.fetch_one(insert(&User::new("taken"))).await.is_err());
        let err = sp.commit().await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::TransactionState(_)),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("rolled back instead of released"),
            "{err}"
        );
    }
    // The parent goes on.
    add_users(&tx, &["after-commit"]).await;
    {
        // Dropped after a failure, inside another savepoint that is then released.
        let mut sp = tx.savepoint().await.unwrap();
        add_users(&sp, &["kept"]).await;
        {
            let inner = sp.savepoint().await.unwrap();
            assert!(inner.fetch_one(insert(&User::new("taken"))).await.is_err());
        }
        sp.commit().await.unwrap();
    }
    {
        // Dropped after a failure, right before the parent commits.
        let sp = tx.savepoint().await.unwrap();
        assert!(sp.fetch_one(insert(&User::new("taken"))).await.is_err());
    }
    tx.commit().await.unwrap();
    let mut names: Vec<String> =
        t.db.fetch_all(select::<User>().columns(User::name))
            .await
            .unwrap();
    names.sort();
    assert_eq!(names, ["after-commit", "kept", "parent", "taken"]);
}

#[tokio::test]
async fn dropped_transaction_rolls_back_and_next_user_gets_a_clean_connection() {
    let t = users_db().await;
    let db = single(&t).await;
    {
        let tx = db.begin().await.unwrap();
        add_users(&tx, &["never"]).await;
        // Dropped without commit.
    }
    assert_eq!(count(&db).await, 0);
    assert!(connection_is_clean(&db).await);
    assert_eq!(db.status().max_size, 1);
}

#[tokio::test]
async fn dropped_future_mid_transaction_leaves_nothing_behind() {
    let t = users_db().await;
    let db = single(&t).await;
    let work = db.transaction(|tx| {
        async move {
            add_users(tx, &["half-done"]).await;
            tx.batch_execute("SELECT pg_sleep(10)").await?;
            Ok::<_, orm_postgres::Error>(())
        }
        .scoped()
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(300), work)
            .await
            .is_err()
    );
    // The only connection was in a transaction with a query in flight: it was closed, not
    // returned, and the next user gets a fresh, clean one without waiting for the sleep.
    let started = std::time::Instant::now();
    assert_eq!(count(&db).await, 0);
    assert!(connection_is_clean(&db).await);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn dropped_future_mid_query_discards_the_connection() {
    let t = users_db().await;
    let db = single(&t).await;
    let sleep = db.batch_execute("SELECT pg_sleep(10)");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), sleep)
            .await
            .is_err()
    );
    assert_eq!(
        db.status().size,
        0,
        "the busy connection was not returned to the pool"
    );
    let started = std::time::Instant::now();
    assert!(connection_is_clean(&db).await);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(db.status().size, 1);
}

#[tokio::test]
async fn stale_cached_statement_is_prepared_again() {
    let t = users_db().await;
    let db = single(&t).await;
    add_users(&db, &["a"]).await;
    let before: Vec<User> = db.fetch_all(select::<User>()).await.unwrap();
    // Change a selected column's type: the cached plan's result type changes (SQLSTATE 0A000).
    db.batch_execute("ALTER TABLE users ALTER COLUMN name TYPE TEXT")
        .await
        .unwrap();
    let after: Vec<User> = db.fetch_all(select::<User>()).await.unwrap();
    assert_eq!(before, after);

    // Inside a transaction the error is reported, not retried.
    let tx = db.begin().await.unwrap();
    tx.fetch_all(select::<User>()).await.unwrap();
    tx.commit().await.unwrap();
    let other = users_db_conn(&t).await;
    other
        .batch_execute("ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(100)")
        .await
        .unwrap();
    let tx = db.begin().await.unwrap();
    let err = tx.fetch_all(select::<User>()).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("0A000"), "{err:?}");
    tx.rollback().await.unwrap();
    assert_eq!(db.fetch_all(select::<User>()).await.unwrap(), before);
}

/// Each connection keeps its own prepared statements: one prepared on a connection is never
/// used on another, open at the same time or opened after the first was closed (inside a
/// transaction the server would refuse it, SQLSTATE 26000, rather than have it re-prepared).
#[tokio::test]
async fn prepared_statements_stay_with_their_connection() {
    let t = users_db().await;
    let db = users_db_conn(&t).await;
    add_users(&db, &["a"]).await;
    let expected: Vec<User> = db.fetch_all(select::<User>()).await.unwrap();

    // Two transactions hold two connections; the same statement runs on each in turn.
    let first = db.begin().await.unwrap();
    let second = db.begin().await.unwrap();
    for tx in [&first, &second, &first, &second] {
        assert_eq!(tx.fetch_all(select::<User>()).await.unwrap(), expected);
        assert_eq!(
            tx.fetch_one(select::<User>().by_pk(expected[0].id))
                .await
                .unwrap(),
            expected[0]
        );
    }
    first.commit().await.unwrap();
    second.commit().await.unwrap();

    // A dropped transaction closes its connection; the later ones are new connections, whose
    // first statement inside a transaction must be prepared on them.
    for _ in 0..3 {
        let tx = db.begin().await.unwrap();
        assert_eq!(tx.fetch_all(select::<User>()).await.unwrap(), expected);
        drop(tx);
    }
    let tx = db.begin().await.unwrap();
    assert_eq!(tx.fetch_all(select::<User>()).await.unwrap(), expected);
    tx.commit().await.unwrap();
    // The two first connections were closed by the dropped transactions, and two were opened
    // after them.
    let metrics = db.metrics();
    assert!(metrics.opened >= 4, "{metrics:?}");
}

async fn users_db_conn(t: &TestDatabase) -> Database {
    t.builder().connect().await.unwrap()
}

/// Set in the child process of [`echo_prints_each_statement_its_rows_and_no_value`].
const ECHO_CHILD: &str = "ORM_TESTS_ECHO_CHILD";

#[tokio::test]
async fn echo_prints_each_statement_its_rows_and_no_value() {
    if std::env::var_os(ECHO_CHILD).is_some() {
        // The child: echo on, output going to the real stderr (--nocapture).
        let t = users_db().await;
        let db = t.builder().echo(true).connect().await.unwrap();
        add_users(&db, &["secret-name-42"]).await;
        assert_eq!(count(&db).await, 1);
        // A session's flush reports the rows of its multi-row insert.
        let mut s = db.session();
        s.add_all([User::new("s1"), User::new("s2")]);
        s.commit().await.unwrap();
        return;
    }
    // The parent runs this same test in a child process and reads what it printed: the
    // harness captures `eprintln!` inside a test, so only another process can see it.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "transactions::echo_prints_each_statement_its_rows_and_no_value",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ECHO_CHILD, "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let echoed: Vec<&str> = err.lines().filter(|l| l.starts_with("[orm]")).collect();
    assert!(
        echoed
            .iter()
            .any(|l| l.starts_with("[orm] INSERT INTO \"users\"")),
        "{echoed:?}"
    );
    assert!(
        echoed
            .iter()
            .any(|l| l.starts_with("[orm] SELECT count(*) FROM \"users\"")),
        "{echoed:?}"
    );
    assert!(
        echoed
            .iter()
            .any(|l| l.starts_with("[orm]   -> 1 row(s) in ")),
        "the insert's row count: {echoed:?}"
    );
    assert!(
        !err.contains("secret-name-42"),
        "parameter values are never printed: {err}"
    );
    // Each statement's line is followed by its outcome, but the transaction's BEGIN, which
    // goes with its first statement: both lines, then both outcomes in the same order. The
    // session's two-row insert reports two rows, BEGIN and COMMIT no row count.
    assert!(
        echoed.windows(4).any(|w| w[0] == "[orm] BEGIN"
            && w[1].starts_with("[orm] INSERT INTO \"users\"")
            && w[2].starts_with("[orm]   -> done in ")
            && w[3].starts_with("[orm]   -> 2 row(s) in ")),
        "{echoed:?}"
    );
    let outcome_of = |prefix: &str| -> Vec<&str> {
        echoed
            .windows(2)
            .filter(|w| w[0].starts_with(prefix))
            .map(|w| w[1].split(" in ").next().unwrap_or(""))
            .collect()
    };
    assert_eq!(
        outcome_of("[orm] COMMIT"),
        ["[orm]   -> done"],
        "{echoed:?}"
    );
}

/// A failed transaction's commit (sent as a rollback) ends it: the held connection runs the
/// next statement, instead of refusing everything with no transaction left to roll back.
#[tokio::test]
async fn a_failed_transactions_commit_leaves_a_held_connection_usable() {
    let t = users_db().await;
    let mut conn = t.connection().await.unwrap();
    let tx = conn.begin().await.unwrap();
    assert!(tx.batch_execute("SELECT 1/0").await.is_err());
    let e = tx.commit().await.expect_err("rolled back instead");
    assert!(matches!(e.kind(), ErrorKind::TransactionState(_)), "{e:?}");
    assert_eq!(
        conn.fetch_one(orm_postgres::raw::query::<i32>("SELECT 1"))
            .await
            .expect("the connection runs the next statement"),
        1
    );
}
