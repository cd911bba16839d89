//! The backfill itself: bounded batches, each its own transaction; a failed run resumed where
//! it stopped; rows held by another transaction skipped and come back to; the offline form run
//! by `psql`.

use std::sync::Arc;
use std::time::Duration;

use orm_migrate::{MigrateError, Target};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

/// Records the transaction of every update of `accounts` (an `AFTER UPDATE` row trigger).
const LOG_TRANSACTIONS: &str = "\
CREATE TABLE touched (txid bigint NOT NULL);
CREATE FUNCTION log_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO touched VALUES (txid_current());
    RETURN NULL;
END $$;
CREATE TRIGGER zz_log AFTER UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION log_txid();";

#[tokio::test]
async fn batches_are_bounded_and_each_is_its_own_transaction() {
    let t = test_database().await.expect("db");
    let recorder = Arc::new(Recorder::default());
    let base = base(1000);
    migrator(vec![base.clone()], &recorder)
        .upgrade(&t, &Target::Head)
        .await
        .expect("base");
    t.batch_execute(LOG_TRANSACTIONS).await.expect("log");
    let expand = expand_balance(&t, 2).await;
    migrator(vec![base, expand], &recorder)
        .backfill_batch(Some(90))
        .backfill_pause(Some(Duration::ZERO))
        .upgrade(&t, &Target::Head)
        .await
        .expect("expand");
    let per_tx: Vec<i64> = t
        .fetch_all(query::<i64>(
            "SELECT count(*) FROM touched GROUP BY txid ORDER BY 1 DESC",
        ))
        .await
        .expect("per transaction");
    assert_eq!(per_tx.iter().sum::<i64>(), 1000, "every row updated once");
    assert_eq!(per_tx.len(), 12, "1000 rows in batches of 90: {per_tx:?}");
    assert!(per_tx.iter().all(|&n| n <= 90), "{per_tx:?}");
    let finished = recorder.finished();
    assert_eq!(finished.len(), 1);
    assert_eq!(
        (finished[0].done, finished[0].batches, finished[0].skipped),
        (1000, 12, 0)
    );
    assert_eq!(
        finished[0].estimate, 1000,
        "counted: the table was never analysed"
    );
}

#[tokio::test]
async fn a_failed_backfill_resumes_where_it_stopped() {
    let t = test_database().await.expect("db");
    let recorder = Arc::new(Recorder::default());
    let base = base(1000);
    migrator(vec![base.clone()], &recorder)
        .upgrade(&t, &Target::Head)
        .await
        .expect("base");
    // Updating row 550 fails while `fail` has a row: the sixth batch of 100 fails.
    t.batch_execute(
        "CREATE TABLE fail (x int); INSERT INTO fail VALUES (1);
         CREATE FUNCTION fail_at_550() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.id = 550 AND EXISTS (SELECT 1 FROM fail) THEN
                 RAISE EXCEPTION 'interrupted at 550';
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER zz_fail BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION fail_at_550();",
    )
    .await
    .expect("the trap");
    let expand = expand_balance(&t, 2).await;
    let m = migrator(vec![base, expand], &recorder)
        .backfill_batch(Some(100))
        .backfill_pause(Some(Duration::ZERO));
    let e = m.upgrade(&t, &Target::Head).await.expect_err("interrupted");
    assert!(
        matches!(&e, MigrateError::Step { id: i, .. } if *i == id(2)),
        "{e}"
    );
    assert!(e.to_string().contains("interrupted at 550"), "{e}");
    assert_eq!(count(&t, "SELECT count(*) FROM orm_migrations").await, 1);
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM accounts WHERE balance IS NOT NULL"
        )
        .await,
        500,
        "five batches committed before the sixth failed"
    );

    t.batch_execute("DELETE FROM fail").await.expect("disarm");
    let before = recorder.reports().len();
    m.upgrade(&t, &Target::Head).await.expect("resumed");
    let rerun: Vec<_> = recorder.reports().split_off(before);
    let last = &rerun.last().expect("reports").2;
    assert!(last.finished);
    assert_eq!(last.done, 500, "only the rows left: {last:?}");
    assert_eq!(
        last.batches, 6,
        "five batches of 100 and an empty one: {last:?}"
    );
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM accounts WHERE balance = balance_cents::numeric / 100"
        )
        .await,
        1000
    );
    assert_eq!(count(&t, "SELECT count(*) FROM orm_migrations").await, 2);
}

#[tokio::test]
async fn rows_held_by_another_transaction_are_skipped_then_filled() {
    let t = test_database().await.expect("db");
    let recorder = Arc::new(Recorder::default());
    let base = base(300);
    migrator(vec![base.clone()], &recorder)
        .upgrade(&t, &Target::Head)
        .await
        .expect("base");
    // The expand's column and trigger first (its ALTER TABLE would wait for the row lock),
    // then its backfill alone.
    let expand = expand_balance(&t, 2).await;
    let (ddl, _) = expand
        .up
        .split_once("\n-- 3.")
        .expect("the backfill's part");
    let ddl = orm_migrate::Revision::new(id(2), "column and trigger")
        .with_parents([id(1)])
        .with_transactional(false)
        .with_up(ddl);
    let fill = orm_migrate::Revision::new(id(3), "backfill")
        .with_parents([id(2)])
        .with_transactional(false)
        .with_up("SELECT 1;\n-- @backfill public.accounts.balance key id\n");
    migrator(vec![base.clone(), ddl.clone()], &recorder)
        .upgrade(&t, &Target::Head)
        .await
        .expect("column and trigger");
    // Another transaction holds row 10 for a second, then lets go without writing.
    let mut holder = t.connection().await.expect("a connection");
    let locked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = locked.clone();
    let release = tokio::spawn(async move {
        let tx = holder.begin().await.expect("begin");
        tx.batch_execute("SELECT * FROM accounts WHERE id = 10 FOR UPDATE")
            .await
            .expect("lock row 10");
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        tx.rollback().await.expect("rollback");
    });
    while !locked.load(std::sync::atomic::Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    migrator(vec![base, ddl, fill], &recorder)
        .backfill_batch(Some(100))
        .backfill_pause(Some(Duration::from_millis(50)))
        .upgrade(&t, &Target::Head)
        .await
        .expect("expand");
    release.await.expect("released");
    let last = recorder.finished().pop().expect("finished");
    assert_eq!(
        last.skipped, 3,
        "row 10 was skipped by the three passes that skip locked rows: {last:?}"
    );
    assert_eq!(last.done, 300, "and filled by a later pass: {last:?}");
    assert_eq!(
        count(&t, "SELECT count(*) FROM accounts WHERE balance IS NULL").await,
        0
    );
}

/// The URL of a test database, for `psql`.
fn url(t: &orm_testing::TestDatabase) -> String {
    let admin = t.admin_url();
    let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
    let cut = base.rfind('/').expect("a path in the URL");
    let mut url = format!("{}/{}", &base[..cut], t.name());
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    url
}

#[tokio::test]
async fn the_offline_sql_does_the_same_when_psql_runs_it() {
    let psql_ok = std::process::Command::new("psql")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !psql_ok {
        eprintln!("skipped: no psql on the PATH");
        return;
    }
    let t = test_database().await.expect("db");
    let recorder = Arc::new(Recorder::default());
    let base = base(1000);
    migrator(vec![base.clone()], &recorder)
        .upgrade(&t, &Target::Head)
        .await
        .expect("base");
    t.batch_execute(LOG_TRANSACTIONS).await.expect("log");
    let expand = expand_balance(&t, 2).await;
    let m = migrator(vec![base, expand.clone()], &recorder)
        .backfill_batch(Some(300))
        .backfill_pause(Some(Duration::ZERO));
    let sql = m
        .sql_for_upgrade(
            &m.applied_at(&Target::Id(id(1))).expect("at 1"),
            &Target::Head,
        )
        .expect("offline");
    assert!(!sql.contains("-- @backfill"), "{sql}");
    assert!(sql.contains("DO $backfill$"), "{sql}");
    let file = std::env::temp_dir().join(format!("orm-expand-{}.sql", t.name()));
    std::fs::write(&file, &sql).expect("write");
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url(&t), "-f"])
        .arg(&file)
        .output()
        .expect("psql");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}\n{sql}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM accounts WHERE balance = balance_cents::numeric / 100"
        )
        .await,
        1000
    );
    let per_tx: Vec<i64> = t
        .fetch_all(query::<i64>("SELECT count(*) FROM touched GROUP BY txid"))
        .await
        .expect("per transaction");
    assert_eq!(per_tx.len(), 4, "batches of 300: {per_tx:?}");
    assert!(per_tx.iter().all(|&n| n <= 300), "{per_tx:?}");
    assert_eq!(
        t.fetch_all(query::<String>("SELECT id FROM orm_migrations ORDER BY id"))
            .await
            .expect("versions"),
        [id(1), id(2)]
    );
}

#[tokio::test]
async fn a_composite_key_is_walked_in_order() {
    let t = test_database().await.expect("db");
    t.batch_execute(
        "CREATE TABLE pairs (a int, b text, v int NOT NULL, PRIMARY KEY (a, b));
         INSERT INTO pairs SELECT g % 7, 'k' || g, g FROM generate_series(1, 250) g;",
    )
    .await
    .expect("pairs");
    let change = orm_migrate::expand::ColumnChange::new(
        &schema(&t).await,
        &orm_migrate::expand::ColumnPath::parse("pairs.v").expect("path"),
        "w",
    )
    .expect("a change");
    let (expand, _) = change.expand_revision(&id(1), "rename v").expect("written");
    assert!(
        expand.up.contains("-- @backfill public.pairs.w key a, b"),
        "{}",
        expand.up
    );
    let recorder = Arc::new(Recorder::default());
    migrator(vec![expand], &recorder)
        .backfill_batch(Some(40))
        .upgrade(&t, &Target::Head)
        .await
        .expect("expand");
    let last = recorder.finished().pop().expect("finished");
    assert_eq!((last.done, last.batches), (250, 7), "{last:?}");
    assert_eq!(
        count(&t, "SELECT count(*) FROM pairs WHERE w = v").await,
        250
    );
}
