//! The run's options: waiting for the migration lock (and giving up), the session's
//! `lock_timeout` and `statement_timeout`, and revisions outside a transaction.

use std::time::{Duration, Instant};

use orm_migrate::{MigrateError, Target};
use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

#[tokio::test]
async fn a_held_lock_makes_the_run_give_up_after_its_wait_naming_the_holder() {
    let t = test_database().await.expect("db");
    let m = migrator(chain()).lock_wait(Duration::from_millis(300));
    let key = m.lock_key().expect("key");
    let mut other = t.connection().await.expect("conn");
    other.close_on_drop();
    other
        .batch_execute(&format!("SELECT pg_advisory_lock({key})"))
        .await
        .expect("lock");
    let holder: i32 = other
        .fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid");

    let start = Instant::now();
    let e = m.upgrade(&t, &Target::Head).await.expect_err("locked");
    let waited = start.elapsed();
    match &e {
        MigrateError::LockTimeout {
            table,
            waited,
            holder: h,
        } => {
            assert_eq!(table, "public.orm_migrations");
            assert_eq!(*waited, Duration::from_millis(300));
            assert_eq!(*h, Some(holder));
        }
        other => panic!("expected LockTimeout, got {other:?}"),
    }
    assert!(
        e.to_string().contains(&format!("server process {holder}")),
        "{e}"
    );
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert!(matches!(
        m.stamp(&t, &Target::Head).await,
        Err(MigrateError::LockTimeout { .. })
    ));

    // A zero wait gives up at once.
    let start = Instant::now();
    let e = migrator(chain())
        .lock_wait(Duration::ZERO)
        .upgrade(&t, &Target::Head)
        .await
        .expect_err("locked");
    assert!(matches!(e, MigrateError::LockTimeout { .. }));
    assert!(start.elapsed() < Duration::from_secs(2));

    // Another version table has another lock.
    migrator(vec![rev(9, &[], "CREATE TABLE t9 (id int);", "")])
        .version_table("public", "other_versions")
        .upgrade(&t, &Target::Head)
        .await
        .expect("other table");

    // Released, the run goes ahead.
    other
        .batch_execute(&format!("SELECT pg_advisory_unlock({key})"))
        .await
        .expect("unlock");
    assert_eq!(m.upgrade(&t, &Target::Head).await.expect("free").len(), 3);
    assert_eq!(applied_ids(&t).await, strs(&[1, 2, 3]));
}

#[tokio::test]
async fn the_lock_timeout_fails_ddl_that_waits_for_a_table_lock() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE TABLE busy (id int)")
        .await
        .expect("table");
    let mut other = t.connection().await.expect("conn");
    let tx = other.begin().await.expect("begin");
    tx.batch_execute("LOCK TABLE busy IN ACCESS SHARE MODE")
        .await
        .expect("lock");

    let m = migrator(vec![rev(1, &[], "ALTER TABLE busy ADD COLUMN x int;", "")])
        .lock_timeout(Some(Duration::from_millis(200)));
    let start = Instant::now();
    let e = m
        .upgrade(&t, &Target::Head)
        .await
        .expect_err("lock timeout");
    assert!(
        matches!(&e, MigrateError::Step { source, .. } if source.sqlstate() == Some("55P03")),
        "{e}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(applied_ids(&t).await.is_empty());
    tx.rollback().await.expect("rollback");
    m.upgrade(&t, &Target::Head).await.expect("free now");
}

#[tokio::test]
async fn the_statement_timeout_cancels_a_long_statement() {
    let t = test_database().await.expect("db");
    let m = migrator(vec![rev(
        1,
        &[],
        "CREATE TABLE t1 (id int); SELECT pg_sleep(5);",
        "",
    )])
    .statement_timeout(Some(Duration::from_millis(200)));
    let e = m.upgrade(&t, &Target::Head).await.expect_err("timeout");
    assert!(
        matches!(&e, MigrateError::Step { source, .. } if matches!(source.kind(), ErrorKind::StatementTimeout(_))),
        "{e}"
    );
    assert!(tables(&t).await.is_empty());
}

/// The longest statement timeout is no timeout (the client's grace on top of it saturates).
#[tokio::test]
async fn the_longest_statement_timeout_runs_the_revisions() {
    let t = test_database().await.expect("db");
    let m = migrator(vec![rev(1, &[], "CREATE TABLE t1 (id int);", "")])
        .statement_timeout(Some(Duration::MAX));
    m.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_eq!(tables(&t).await, ["t1"]);
}

#[tokio::test]
async fn a_revision_outside_a_transaction_runs_statement_by_statement() {
    let t = test_database().await.expect("db");
    let up = "CREATE INDEX CONCURRENTLY t1_id ON t1 (id);\n\
              -- a comment; with a semicolon\n\
              CREATE INDEX CONCURRENTLY t1_id_note ON t1 (id) WHERE id > 0";
    let revs = vec![
        rev(1, &[], "CREATE TABLE t1 (id int);", "DROP TABLE t1;"),
        rev(
            2,
            &[1],
            up,
            "DROP INDEX CONCURRENTLY t1_id;\nDROP INDEX CONCURRENTLY t1_id_note;",
        )
        .with_transactional(false),
    ];
    // In a transaction, CREATE INDEX CONCURRENTLY is refused: the path is needed. The lint
    // says so before anything runs; without it, the server does.
    let mut in_tx = revs.clone();
    in_tx[1] = in_tx[1].clone().with_transactional(true);
    let e = migrator(in_tx.clone())
        .upgrade(&t, &Target::Head)
        .await
        .expect_err("linted");
    let MigrateError::Lint(report) = &e else {
        panic!("{e}")
    };
    assert_eq!(
        report.rules(),
        vec![
            orm_migrate::lint::Rule::ConcurrentlyInTransaction,
            orm_migrate::lint::Rule::ConcurrentlyInTransaction
        ]
    );
    assert!(tables(&t).await.is_empty(), "nothing ran");
    let e = migrator(in_tx)
        .lint(false)
        .upgrade(&t, &Target::Head)
        .await
        .expect_err("in a transaction");
    assert!(
        matches!(&e, MigrateError::Step { source, .. } if source.sqlstate() == Some("25001")),
        "{e}"
    );

    let m = migrator(revs);
    m.upgrade(&t, &Target::Head).await.expect("upgrade");
    let valid: Vec<(String, bool)> = t
        .fetch_all(query::<(String, bool)>(
            "SELECT c.relname::text, i.indisvalid FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid ORDER BY 1",
        ))
        .await
        .expect("indexes");
    let ours: Vec<(String, bool)> = valid
        .into_iter()
        .filter(|(n, _)| n.starts_with("t1_"))
        .collect();
    assert_eq!(ours, [("t1_id".into(), true), ("t1_id_note".into(), true)]);
    assert_eq!(applied_ids(&t).await, strs(&[1, 2]));

    m.downgrade(&t, &Target::Relative(-1))
        .await
        .expect("downgrade");
    assert_eq!(applied_ids(&t).await, strs(&[1]));
    let n: i64 = t
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 't1'",
        ))
        .await
        .expect("count");
    assert_eq!(n, 0);
}

/// A run waiting on a long revision checks that the server still answers: a busy server
/// does, and the run completes; a frozen one does not, and the run ends with `Unresponsive`
/// within the check's limits instead of waiting forever (the run's statements have no
/// client-side limit without a statement_timeout). On a cluster of its own, which it freezes.
#[tokio::test]
async fn a_server_that_stops_answering_ends_the_run_and_a_busy_one_does_not() {
    let cluster = orm_testing::LocalCluster::start().expect("a cluster of its own");
    let db = Database::builder(cluster.url("postgres"))
        .connect_timeout(Duration::from_secs(1))
        .query_timeout(Some(Duration::from_secs(2)))
        .connect()
        .await
        .expect("connect");
    let probe = Some(Duration::from_millis(100));
    let busy = rev(1, &[], "CREATE TABLE t1 (id int); SELECT pg_sleep(1);", "");
    migrator(vec![busy.clone()])
        .server_probe(probe)
        .upgrade(&db, &Target::Head)
        .await
        .expect("a busy server answers its checks");

    let long = rev(2, &[1], "CREATE TABLE t2 (id int); SELECT pg_sleep(3);", "");
    let m = migrator(vec![busy, long]).server_probe(probe);
    let started = Instant::now();
    // Bounded here too, so that a run that never ends fails this test instead of hanging it.
    let run = tokio::time::timeout(Duration::from_secs(30), m.upgrade(&db, &Target::Head));
    let (result, frozen) = tokio::join!(run, async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cluster.freeze().expect("freeze")
    });
    let took = started.elapsed();
    let e = result
        .expect("the run waited on the frozen server for 30 s")
        .expect_err("a frozen server");
    assert!(matches!(e, MigrateError::Unresponsive { .. }), "{e}");
    assert!(e.to_string().contains("stopped answering"), "{e}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    drop(frozen);

    // Thawed: the server saw the run's connection closed and rolled revision 2 back.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tables = tables(&db).await;
        if tables == ["t1"] && applied_ids(&db).await == [id(1)] {
            break;
        }
        assert!(Instant::now() < deadline, "left behind: {tables:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A run's future is `Send`: a service may run it in `tokio::spawn`.
#[test]
fn runs_are_send() {
    fn send<T: Send>(_: T) {}
    let db = Database::builder("postgres://u@localhost/none")
        .build()
        .expect("built");
    let m = migrator(chain());
    send(m.upgrade(&db, &Target::Head));
    send(m.downgrade(&db, &Target::Base));
    send(m.stamp(&db, &Target::Head));
}
