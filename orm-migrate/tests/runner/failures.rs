//! What a failure leaves behind, and the checks made before anything runs: a failing
//! revision, an irreversible downgrade, an edited or unknown applied revision, Rust functions
//! (run in the revision's transaction, rolled back with it, and required to be registered).

use orm_migrate::runner::StepFuture;
use orm_migrate::{MigrateError, Target};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

#[tokio::test]
async fn a_failing_revision_leaves_the_database_at_the_previous_one() {
    let t = test_database().await.expect("db");
    let revs = vec![
        rev(1, &[], "CREATE TABLE t1 (id int);", "DROP TABLE t1;"),
        rev(
            2,
            &[1],
            "CREATE TABLE t2 (id int);\nINSERT INTO t1 VALUES (1);\nSELECT 1/0;\n",
            "DROP TABLE t2;",
        ),
        rev(3, &[2], "CREATE TABLE t3 (id int);", "DROP TABLE t3;"),
    ];
    let m = migrator(revs);
    let e = m.upgrade(&t, &Target::Head).await.expect_err("2 fails");
    match &e {
        MigrateError::Step { id: failed, source } => {
            assert_eq!(failed, &id(2));
            assert_eq!(source.sqlstate(), Some("22012"), "division by zero");
        }
        other => panic!("expected a Step error, got {other:?}"),
    }
    assert!(
        e.to_string().starts_with("revision 20260101000002: "),
        "{e}"
    );
    assert_eq!(applied_ids(&t).await, strs(&[1]));
    assert_eq!(tables(&t).await, ["t1"], "t2 rolled back, t3 never ran");
    let n: i64 = t
        .fetch_one(query::<i64>("SELECT count(*) FROM t1"))
        .await
        .expect("count");
    assert_eq!(n, 0, "the insert was rolled back");
    // The lock was released: the next run goes ahead (and fails the same way).
    assert!(matches!(
        m.upgrade(&t, &Target::Head).await,
        Err(MigrateError::Step { .. })
    ));
}

#[tokio::test]
async fn an_irreversible_down_script_fails_and_keeps_the_revision() {
    let t = test_database().await.expect("db");
    let down = "DO $$ BEGIN RAISE EXCEPTION 'irreversible: t2 dropped a column with data'; END $$;";
    let m = migrator(vec![
        rev(1, &[], "CREATE TABLE t1 (id int);", "DROP TABLE t1;"),
        rev(2, &[1], "CREATE TABLE t2 (id int);", down),
    ]);
    m.upgrade(&t, &Target::Head).await.expect("upgrade");
    let e = m
        .downgrade(&t, &Target::Base)
        .await
        .expect_err("irreversible");
    assert!(
        matches!(&e, MigrateError::Step { id: f, .. } if f == &id(2)),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("irreversible: t2 dropped a column with data"),
        "{e}"
    );
    assert_eq!(applied_ids(&t).await, strs(&[1, 2]));
    assert_eq!(tables(&t).await, ["t1", "t2"]);
}

#[tokio::test]
async fn an_edited_revision_is_refused_until_allowed_or_stamped() {
    let t = test_database().await.expect("db");
    migrator(chain())
        .upgrade(&t, &Target::Id(id(2)))
        .await
        .expect("upgrade");

    let mut edited = chain();
    edited[1] = rev(
        2,
        &[1],
        "CREATE TABLE t2 (id bigint);\n",
        "DROP TABLE t2;\n",
    );
    let new_sum = edited[1].checksum();
    let m = migrator(edited.clone());
    let e = m.upgrade(&t, &Target::Head).await.expect_err("edited");
    match &e {
        MigrateError::Edited {
            id: which,
            applied,
            current,
            ..
        } => {
            assert_eq!(which, &id(2));
            assert_eq!(current, &new_sum);
            assert_ne!(applied, current);
        }
        other => panic!("expected Edited, got {other:?}"),
    }
    assert!(e.to_string().contains("--allow-edited"), "{e}");
    assert_eq!(applied_ids(&t).await, strs(&[1, 2]), "nothing ran");
    assert!(matches!(
        m.downgrade(&t, &Target::Base).await,
        Err(MigrateError::Edited { .. })
    ));
    let history = m.history(&t).await.expect("history");
    let flags: Vec<bool> = history.iter().map(|h| h.edited).collect();
    assert_eq!(flags, [false, true, false]);

    // allow_edited accepts it, records the new checksum, and goes on.
    let m = migrator(edited.clone()).allow_edited(true);
    assert_eq!(
        m.upgrade(&t, &Target::Head).await.expect("allowed").len(),
        1
    );
    let rows = m.applied(&t).await.expect("rows");
    assert_eq!(rows[1].checksum, new_sum);
    migrator(edited.clone())
        .upgrade(&t, &Target::Head)
        .await
        .expect("repaired for good");

    // Edit again, and repair with stamp (to where the database is).
    let mut again = edited;
    again[0] = rev(
        1,
        &[],
        "CREATE TABLE t1 (id int); -- edited\n",
        "DROP TABLE t1;\n",
    );
    let m = migrator(again.clone());
    assert!(matches!(
        m.upgrade(&t, &Target::Head).await,
        Err(MigrateError::Edited { .. })
    ));
    let report = m.stamp(&t, &Target::Head).await.expect("stamp");
    assert_eq!(report.repaired, strs(&[1]));
    assert!(report.added.is_empty() && report.removed.is_empty());
    assert!(
        m.upgrade(&t, &Target::Head)
            .await
            .expect("repaired")
            .is_empty()
    );
}

#[tokio::test]
async fn an_applied_revision_missing_from_the_directory_is_reported() {
    let t = test_database().await.expect("db");
    migrator(chain())
        .upgrade(&t, &Target::Head)
        .await
        .expect("upgrade");
    let m = migrator(chain().into_iter().take(2).collect());
    let unknown = |r: orm_migrate::Result<_>| matches!(r, Err(MigrateError::UnknownApplied(ref i)) if i == &id(3));
    assert!(unknown(m.upgrade(&t, &Target::Head).await.map(|_| ())));
    assert!(unknown(m.downgrade(&t, &Target::Base).await.map(|_| ())));
    assert!(unknown(m.current(&t).await.map(|_| ())));
    assert!(unknown(m.stamp(&t, &Target::Head).await.map(|_| ())));
    // History shows what the graph has; applied() shows every row.
    assert_eq!(m.history(&t).await.expect("history").len(), 2);
    assert_eq!(
        ids_of(&m.applied(&t).await.expect("rows")),
        strs(&[1, 2, 3])
    );
}

fn seed<'a>(tx: &'a Transaction<'a>) -> StepFuture<'a> {
    Box::pin(async move {
        tx.batch_execute("INSERT INTO t1 SELECT generate_series(1, 3)")
            .await?;
        Ok(())
    })
}

#[tokio::test]
async fn a_registered_function_runs_in_the_revisions_transaction() {
    let t = test_database().await.expect("db");
    let revs = vec![
        rev(1, &[], "CREATE TABLE t1 (id int);", "DROP TABLE t1;").with_run("seed"),
        rev(
            2,
            &[1],
            "ALTER TABLE t1 ADD COLUMN note text;",
            "ALTER TABLE t1 DROP COLUMN note;",
        )
        .with_run("fail"),
    ];
    // Not registered: refused before anything runs.
    let e = migrator(revs.clone())
        .upgrade(&t, &Target::Head)
        .await
        .expect_err("unregistered");
    assert!(
        matches!(&e, MigrateError::UnknownFunction { name, .. } if name == "seed"),
        "{e}"
    );
    assert!(tables(&t).await.is_empty());

    let m = migrator(revs)
        .register("seed", seed)
        .register("fail", |tx| {
            Box::pin(async move {
                tx.batch_execute("UPDATE t1 SET note = 'seen'").await?;
                // Sees the revision's own uncommitted DDL and the seed's rows.
                let n: i64 = tx
                    .fetch_one(query::<i64>("SELECT count(*) FROM t1 WHERE note = 'seen'"))
                    .await?;
                Err(format!("refusing after touching {n} rows").into())
            })
        });
    let e = m.upgrade(&t, &Target::Head).await.expect_err("fail");
    match &e {
        MigrateError::Function {
            id: which,
            name,
            source,
        } => {
            assert_eq!(which, &id(2));
            assert_eq!(name, "fail");
            assert_eq!(source.to_string(), "refusing after touching 3 rows");
        }
        other => panic!("expected a Function error, got {other:?}"),
    }
    assert_eq!(applied_ids(&t).await, strs(&[1]));
    let seeded: Vec<i32> = t
        .fetch_all(query::<i32>("SELECT id FROM t1 ORDER BY id"))
        .await
        .expect("rows");
    assert_eq!(
        seeded,
        [1, 2, 3],
        "revision 1 committed its function's rows"
    );
    let has_note: bool = t
        .fetch_one(query::<bool>(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
             WHERE table_name = 't1' AND column_name = 'note')",
        ))
        .await
        .expect("column");
    assert!(
        !has_note,
        "revision 2's DDL was rolled back with its function"
    );

    // A database error in a function is a Step error.
    let m = migrator(vec![rev(1, &[], "SELECT 1;", "").with_run("bad")]).register("bad", |tx| {
        Box::pin(async move {
            tx.batch_execute("SELECT * FROM no_such_table").await?;
            Ok(())
        })
    });
    let t2 = test_database().await.expect("db");
    let e = m.upgrade(&t2, &Target::Head).await.expect_err("bad");
    assert!(
        matches!(&e, MigrateError::Step { source, .. } if source.sqlstate() == Some("42P01")),
        "{e}"
    );
}
