//! The point of expand/contract: the running release never notices. Writers of the old release
//! (through `balance_cents`) and of the new one (through `balance`) keep inserting and updating
//! while the expand, its backfill, the contract and both downgrades run; no write fails, no row
//! is lost, and every row holds what was last written to it, in both columns while both exist.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orm_migrate::Target;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

/// Which column a writer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    /// The old release: `balance_cents` (integer cents).
    Old,
    /// The new release: `balance` (numeric(12,2)).
    New,
}

/// What the writers share: the expected balance in cents of every row, by id, and the errors.
#[derive(Default)]
struct Ledger {
    expected: Mutex<HashMap<i64, i64>>,
    errors: Mutex<Vec<String>>,
    inserted: Mutex<u64>,
    writes: std::sync::atomic::AtomicU64,
}

/// A writer of `release`: inserts a row every third write, otherwise updates one of the rows
/// it owns (the seeded rows of its parity, and its own inserts), so that "the last write" of a
/// row is well defined. Each write is one statement, in its own transaction.
async fn writer(
    db: Database,
    release: Release,
    mut owned: Vec<i64>,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
) -> Vec<i64> {
    let mut k: i64 = i64::try_from(owned.len()).expect("fits") * 1000;
    while !stop.load(Ordering::Relaxed) {
        k += 1;
        let cents = 100_000 + k * 7 + i64::from(release == Release::New);
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        let result: orm_postgres::Result<i64> = if k % 3 == 0 || owned.is_empty() {
            let owner = format!("{release:?} {k}");
            let sql = match release {
                Release::Old => {
                    "INSERT INTO accounts (owner, balance_cents) VALUES (:owner, :cents) RETURNING id"
                }
                Release::New => {
                    "INSERT INTO accounts (owner, balance) VALUES (:owner, :amount::text::numeric) RETURNING id"
                }
            };
            let q = query::<i64>(sql).bind("owner", owner);
            let q = match release {
                Release::Old => q.bind("cents", i32::try_from(cents).expect("fits")),
                Release::New => q.bind("amount", amount.clone()),
            };
            let inserted = db.fetch_one(q).await;
            if let Ok(id) = &inserted {
                owned.push(*id);
                *ledger.inserted.lock().expect("lock") += 1;
            }
            inserted
        } else {
            let id = owned[usize::try_from(k * 7919).expect("positive") % owned.len()];
            let sql = match release {
                Release::Old => {
                    "UPDATE accounts SET balance_cents = :cents WHERE id = :id RETURNING id"
                }
                Release::New => {
                    "UPDATE accounts SET balance = :amount::text::numeric WHERE id = :id RETURNING id"
                }
            };
            let q = query::<i64>(sql).bind("id", id);
            let q = match release {
                Release::Old => q.bind("cents", i32::try_from(cents).expect("fits")),
                Release::New => q.bind("amount", amount.clone()),
            };
            db.fetch_one(q).await
        };
        match result {
            Ok(id) => {
                ledger.expected.lock().expect("lock").insert(id, cents);
                ledger.writes.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => ledger
                .errors
                .lock()
                .expect("lock")
                .push(format!("{release:?} writer: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    owned
}

/// A running writer.
type Running = (Arc<AtomicBool>, tokio::task::JoinHandle<Vec<i64>>);

/// Starts a writer; stop it with the flag and await the handle.
fn start(db: &Database, release: Release, owned: Vec<i64>, ledger: &Arc<Ledger>) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let handle = tokio::spawn(writer(
        db.clone(),
        release,
        owned,
        ledger.clone(),
        stop.clone(),
    ));
    (stop, handle)
}

/// Stops a writer; returns the rows it owns.
async fn finish(writer: Running) -> Vec<i64> {
    writer.0.store(true, Ordering::Relaxed);
    writer.1.await.expect("the writer ran to its end")
}

/// Rows whose two columns disagree (or where the new one is not filled).
async fn disagreeing(db: &Database) -> i64 {
    count(
        db,
        "SELECT count(*) FROM accounts \
         WHERE balance IS DISTINCT FROM balance_cents::numeric / 100 \
            OR balance_cents IS DISTINCT FROM (balance * 100)::integer",
    )
    .await
}

/// Every row against the ledger: the same ids, each holding the last balance written. Only
/// while no writer runs.
async fn check_rows(db: &Database, ledger: &Ledger, column: &str) {
    let sql: &'static str =
        format!("SELECT id, ({column})::bigint FROM accounts ORDER BY id").leak();
    let rows: Vec<(i64, Option<i64>)> = db
        .fetch_all(query::<(i64, Option<i64>)>(sql))
        .await
        .expect("rows");
    let expected = ledger.expected.lock().expect("lock").clone();
    assert_eq!(rows.len(), expected.len(), "row count = rows written");
    for (id, cents) in rows {
        assert_eq!(
            cents,
            expected.get(&id).copied(),
            "row {id}: {column} holds the last balance written"
        );
    }
}

#[tokio::test]
async fn writers_of_both_releases_never_notice_the_type_change() {
    let t = test_database().await.expect("db");
    let db: Database = t.db.clone();
    let seeded: u32 = 4000;
    let recorder = Arc::new(Recorder::default());
    let base = base(seeded);
    migrator(vec![base.clone()], &recorder)
        .upgrade(&db, &Target::Head)
        .await
        .expect("base");
    let ledger = Arc::new(Ledger::default());
    let (odd, even): (Vec<i64>, Vec<i64>) = (1..=i64::from(seeded)).partition(|id| id % 2 == 1);
    {
        let mut expected = ledger.expected.lock().expect("lock");
        for id in 1..=i64::from(seeded) {
            expected.insert(id, id * 3);
        }
    }

    // The old release writes throughout the expand and its backfill.
    let old = start(&db, Release::Old, odd, &ledger);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let expand = expand_balance(&db, 2).await;
    let m = migrator(vec![base.clone(), expand.clone()], &recorder)
        .backfill_batch(Some(250))
        .backfill_pause(Some(Duration::from_millis(5)));
    let writes_before = ledger.writes.load(Ordering::Relaxed);
    let done = m.upgrade(&db, &Target::Head).await.expect("expand");
    assert_eq!(done.len(), 1);
    let writes_during = ledger.writes.load(Ordering::Relaxed) - writes_before;
    assert!(
        writes_during >= 10,
        "the old release wrote during the expand: {writes_during} writes"
    );
    let finished = recorder.finished();
    assert_eq!(finished.len(), 1, "{finished:?}");
    let backfill = &finished[0];
    assert_eq!(backfill.target, "public.accounts.balance");
    assert!(backfill.batches > 1, "several batches: {backfill:?}");
    // The backfill fills the seeded rows, and rows the old release inserted before the
    // trigger existed (the run reflects the database for its lint first); never more.
    assert!(
        backfill.done <= u64::from(seeded) + writes_during && backfill.done > 0,
        "rows the writer did not fill: {backfill:?}"
    );
    assert!(
        recorder
            .reports()
            .windows(2)
            .all(|w| w[0].2.done <= w[1].2.done && w[1].2.done - w[0].2.done <= 250),
        "progress grows by at most a batch"
    );
    assert_eq!(
        disagreeing(&db).await,
        0,
        "every row filled, both columns agree"
    );
    let cols = columns(&db).await;
    assert_eq!(
        cols[3],
        ("balance".into(), "numeric(12,2)".into(), true, None),
        "NOT NULL like balance_cents, no default while both releases write"
    );

    // Both releases write side by side; the columns agree all along.
    let new = start(&db, Release::New, even, &ledger);
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            disagreeing(&db).await,
            0,
            "old and new agree during the overlap"
        );
    }
    finish(old).await;
    let owned = finish(new).await;
    check_rows(&db, &ledger, "balance_cents").await;
    check_rows(&db, &ledger, "balance * 100").await;

    // The contract, while the new release keeps writing.
    let new = start(&db, Release::New, owned, &ledger);
    let contract = contract(&db, &expand, 3).await;
    let revisions = vec![base.clone(), expand.clone(), contract.clone()];
    let m = migrator(revisions.clone(), &recorder);
    m.upgrade(&db, &Target::Head).await.expect("contract");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let owned = finish(new).await;
    let cols = columns(&db).await;
    assert_eq!(cols.len(), 3, "balance_cents is gone: {cols:?}");
    assert_eq!(
        cols[2],
        (
            "balance".into(),
            "numeric(12,2)".into(),
            true,
            Some("((0)::numeric / (100)::numeric)".into())
        ),
        "the converted default"
    );
    check_rows(&db, &ledger, "balance * 100").await;

    // Downgrading the contract brings balance_cents back, filled, with the new release writing.
    let new = start(&db, Release::New, owned, &ledger);
    m.downgrade(&db, &Target::Relative(-1))
        .await
        .expect("contract down");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(disagreeing(&db).await, 0, "re-expanded: both columns agree");
    let down_backfill = recorder
        .reports()
        .into_iter()
        .filter(|(d, _, p)| *d == Direction::Down && p.finished)
        .count();
    assert_eq!(
        down_backfill, 1,
        "the contract's down backfills balance_cents"
    );
    finish(new).await;
    check_rows(&db, &ledger, "balance_cents").await;
    check_rows(&db, &ledger, "balance * 100").await;
    let errors = ledger.errors.lock().expect("lock").clone();
    assert!(
        errors.is_empty(),
        "no write failed: {} failed, the first: {:?}",
        errors.len(),
        &errors[..errors.len().min(3)]
    );
    assert!(
        *ledger.inserted.lock().expect("lock") > 10,
        "the writers wrote"
    );

    // And the expand's down leaves the table as the base revision made it.
    let before_expand = {
        let fresh = test_database().await.expect("db");
        migrator(vec![base.clone()], &recorder)
            .upgrade(&fresh, &Target::Head)
            .await
            .expect("base");
        schema(&fresh).await
    };
    m.downgrade(&db, &Target::Id(id(1)))
        .await
        .expect("expand down");
    assert_eq!(schema(&db).await, before_expand);
}

#[tokio::test]
async fn a_rename_copies_not_null_the_unique_index_and_the_default() {
    let t = test_database().await.expect("db");
    let db: Database = t.db.clone();
    let recorder = Arc::new(Recorder::default());
    let base = base(500);
    migrator(vec![base.clone()], &recorder)
        .upgrade(&db, &Target::Head)
        .await
        .expect("base");
    let change = orm_migrate::expand::ColumnChange::new(
        &schema(&db).await,
        &orm_migrate::expand::ColumnPath::parse("accounts.owner").expect("path"),
        "holder",
    )
    .expect("a change");
    let (expand, notes) = change
        .expand_revision(&id(2), "rename owner")
        .expect("written");
    assert!(notes.is_empty(), "{notes:?}");
    let expand = expand.with_parents([id(1)]);
    let m = migrator(vec![base.clone(), expand.clone()], &recorder).backfill_batch(Some(64));
    m.upgrade(&db, &Target::Head).await.expect("expand");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM accounts WHERE holder IS DISTINCT FROM owner"
        )
        .await,
        0
    );
    // The copy of the unique index is valid and enforced on the new column.
    let e = db
        .execute(query::<()>(
            "INSERT INTO accounts (holder, balance_cents) VALUES ('seed 1', 1)",
        ))
        .await
        .expect_err("unique");
    assert_eq!(e.sqlstate(), Some("23505"), "{e}");
    // An old-release insert, a new-release insert and an update on each side.
    db.batch_execute(
        "INSERT INTO accounts (owner) VALUES ('old writer');\n\
         INSERT INTO accounts (holder) VALUES ('new writer');\n\
         UPDATE accounts SET owner = 'old update' WHERE id = 1;\n\
         UPDATE accounts SET holder = 'new update' WHERE id = 2;",
    )
    .await
    .expect("writes");
    let pairs: Vec<(String, String)> = db
        .fetch_all(query::<(String, String)>(
            "SELECT owner, holder FROM accounts WHERE id IN (1, 2) OR owner LIKE '% writer' ORDER BY id",
        ))
        .await
        .expect("rows");
    assert_eq!(
        pairs,
        [
            ("old update".to_owned(), "old update".to_owned()),
            ("new update".to_owned(), "new update".to_owned()),
            ("old writer".to_owned(), "old writer".to_owned()),
            ("new writer".to_owned(), "new writer".to_owned()),
        ]
    );
    let contract = contract(&db, &expand, 3).await;
    let m = migrator(vec![base, expand, contract], &recorder);
    m.upgrade(&db, &Target::Head).await.expect("contract");
    let s = schema(&db).await;
    let table = s.tables.values().next().expect("accounts");
    let holder = table.column("holder").expect("holder");
    assert!(!holder.nullable);
    assert_eq!(holder.default.as_deref(), Some("'anon'::text"));
    assert!(table.column("owner").is_none());
    assert!(
        table
            .indexes
            .values()
            .any(|i| i.unique && i.keys == ["holder"]),
        "{:?}",
        table.indexes
    );
    m.downgrade(&db, &Target::Base)
        .await
        .expect("all the way down");
}
