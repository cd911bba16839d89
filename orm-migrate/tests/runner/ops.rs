//! Every operation: upgrade (head, an id, +N), downgrade (-N, an id, base), current, history,
//! heads, branches, stamp, and the offline SQL text.

use std::collections::BTreeSet;

use orm_migrate::runner::Direction;
use orm_migrate::{MigrateError, Target};
use orm_testing::test_database;

use crate::*;

fn current_ids(revs: &[&orm_migrate::Revision]) -> Vec<String> {
    revs.iter().map(|r| r.id.clone()).collect()
}

#[tokio::test]
async fn upgrade_to_head_then_nothing_left() {
    let t = test_database().await.expect("db");
    let m = migrator(chain());
    assert!(m.current(&t).await.expect("current").is_empty());
    assert!(
        m.applied(&t).await.expect("applied").is_empty(),
        "no table yet, no rows"
    );

    let done = m.upgrade(&t, &Target::Head).await.expect("upgrade");
    let ids: Vec<&str> = done.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, strs(&[1, 2, 3]));
    assert!(done.iter().all(|s| s.direction == Direction::Up));
    assert_eq!(done[0].message, "rev 1");
    assert_eq!(applied_ids(&t).await, strs(&[1, 2, 3]));
    assert_eq!(tables(&t).await, ["t1", "t2", "t3"]);
    assert_eq!(
        current_ids(&m.current(&t).await.expect("current")),
        strs(&[3])
    );

    let rows = m.applied(&t).await.expect("applied");
    let r1 = &rows[0];
    assert_eq!(r1.checksum, m.graph().get(&id(1)).expect("rev").checksum());
    assert_eq!(r1.message, "rev 1");
    assert_eq!(r1.applied_by, "postgres");
    assert!(r1.duration_ms.is_some_and(|ms| ms >= 0));

    assert!(
        m.upgrade(&t, &Target::Head)
            .await
            .expect("again")
            .is_empty()
    );
    assert!(m.run(&t).await.expect("run").is_empty());
}

#[tokio::test]
async fn upgrade_to_an_id_and_by_steps() {
    let t = test_database().await.expect("db");
    let m = migrator(chain());
    let done = m.upgrade(&t, &Target::Id(id(2))).await.expect("to 2");
    assert_eq!(done.len(), 2);
    assert_eq!(applied_ids(&t).await, strs(&[1, 2]));
    m.downgrade(&t, &Target::Base).await.expect("base");
    // A unique prefix names a revision too.
    let prefix = &id(1)[..13];
    assert_eq!(prefix, "2026010100000");
    assert!(matches!(
        m.upgrade(&t, &Target::parse(prefix).expect("target")).await,
        Err(MigrateError::UnknownRevision(_))
    ));
    let done = m.upgrade(&t, &Target::Relative(1)).await.expect("+1");
    assert_eq!(done[0].id, id(1));
    let done = m.upgrade(&t, &Target::Relative(2)).await.expect("+2");
    assert_eq!(done.len(), 2);
    assert_eq!(applied_ids(&t).await, strs(&[1, 2, 3]));
    let e = m
        .upgrade(&t, &Target::Relative(1))
        .await
        .expect_err("+1 past head");
    assert!(matches!(e, MigrateError::BadTarget { .. }), "{e}");
}

#[tokio::test]
async fn downgrade_by_steps_to_an_id_and_to_base() {
    let t = test_database().await.expect("db");
    let m = migrator(chain());
    m.upgrade(&t, &Target::Head).await.expect("upgrade");

    let done = m.downgrade(&t, &Target::Relative(-1)).await.expect("-1");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].id, id(3));
    assert_eq!(done[0].direction, Direction::Down);
    assert_eq!(tables(&t).await, ["t1", "t2"]);

    m.upgrade(&t, &Target::Head).await.expect("back up");
    let done = m.downgrade(&t, &Target::Id(id(1))).await.expect("to 1");
    let ids: Vec<&str> = done.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, strs(&[3, 2]), "children first");
    assert_eq!(applied_ids(&t).await, strs(&[1]));
    assert_eq!(tables(&t).await, ["t1"]);
    assert_eq!(
        current_ids(&m.current(&t).await.expect("current")),
        strs(&[1])
    );

    m.downgrade(&t, &Target::Base).await.expect("base");
    assert!(applied_ids(&t).await.is_empty());
    assert!(tables(&t).await.is_empty());
    assert!(m.current(&t).await.expect("current").is_empty());
    let e = m
        .downgrade(&t, &Target::Relative(-1))
        .await
        .expect_err("nothing applied");
    assert!(matches!(e, MigrateError::BadTarget { .. }), "{e}");
}

/// 1 <- 2, 1 <- 3 (a branch point at 1, two heads), 4 merges 2 and 3.
fn branched(with_merge: bool) -> Vec<orm_migrate::Revision> {
    let mut revs = vec![
        rev(1, &[], "CREATE TABLE t1 (id int);", "DROP TABLE t1;"),
        rev(2, &[1], "CREATE TABLE t2 (id int);", "DROP TABLE t2;"),
        rev(3, &[1], "CREATE TABLE t3 (id int);", "DROP TABLE t3;"),
    ];
    if with_merge {
        revs.push(rev(4, &[2, 3], "", ""));
    }
    revs
}

#[tokio::test]
async fn heads_branches_and_history_with_applied_flags() {
    let t = test_database().await.expect("db");
    let m = migrator(branched(false));
    assert_eq!(current_ids(&m.heads()), strs(&[2, 3]));
    assert_eq!(current_ids(&m.branches()), strs(&[1]));
    let e = m.upgrade(&t, &Target::Head).await.expect_err("two heads");
    assert!(
        matches!(e, MigrateError::MultipleHeads { ref heads } if heads == &strs(&[2, 3])),
        "{e}"
    );

    m.upgrade(&t, &Target::Id(id(2))).await.expect("to 2");
    let history = m.history(&t).await.expect("history");
    let flags: Vec<(String, bool, bool)> = history
        .iter()
        .map(|h| (h.revision.id.clone(), h.applied.is_some(), h.head))
        .collect();
    assert_eq!(
        flags,
        [
            (id(1), true, false),
            (id(2), true, true),
            (id(3), false, true)
        ]
    );
    let at1 = history[0].applied.as_ref().expect("applied").applied_at;
    let age = chrono::Utc::now() - at1;
    assert!(age.num_seconds().abs() < 60, "applied_at is now: {at1}");
    assert!(history.iter().all(|h| !h.edited));

    m.upgrade(&t, &Target::Heads).await.expect("heads");
    assert_eq!(
        current_ids(&m.current(&t).await.expect("current")),
        strs(&[2, 3])
    );

    // The merge revision (an empty up script) joins the heads.
    let m = migrator(branched(true));
    assert_eq!(current_ids(&m.heads()), strs(&[4]));
    let done = m.upgrade(&t, &Target::Head).await.expect("merge");
    assert_eq!(done.len(), 1);
    assert_eq!(
        current_ids(&m.current(&t).await.expect("current")),
        strs(&[4])
    );
    m.downgrade(&t, &Target::Id(id(1))).await.expect("to 1");
    assert_eq!(applied_ids(&t).await, strs(&[1]));
}

#[tokio::test]
async fn stamp_writes_and_removes_rows_without_running_sql() {
    let t = test_database().await.expect("db");
    let m = migrator(chain());
    let report = m.stamp(&t, &Target::Id(id(2))).await.expect("stamp 2");
    assert_eq!(report.added, strs(&[1, 2]));
    assert!(report.removed.is_empty() && report.repaired.is_empty());
    assert_eq!(applied_ids(&t).await, strs(&[1, 2]));
    assert!(tables(&t).await.is_empty(), "nothing ran");
    let rows = m.applied(&t).await.expect("rows");
    assert!(
        rows.iter().all(|r| r.duration_ms.is_none()),
        "stamped rows have no duration"
    );

    // The upgrade from there runs only revision 3.
    let done = m.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_eq!(done.len(), 1);
    assert_eq!(tables(&t).await, ["t3"]);

    let report = m.stamp(&t, &Target::Relative(-2)).await.expect("stamp -2");
    assert_eq!(report.removed, strs(&[3, 2]));
    assert_eq!(tables(&t).await, ["t3"], "nothing reverted");
    let report = m.stamp(&t, &Target::Base).await.expect("stamp base");
    assert_eq!(report.removed, strs(&[1]));
    assert!(applied_ids(&t).await.is_empty());
    let report = m.stamp(&t, &Target::Relative(3)).await.expect("stamp +3");
    assert_eq!(report.added, strs(&[1, 2, 3]));
}

#[test]
fn offline_upgrade_sql_is_the_scripts_in_transactions_with_their_rows() {
    let mut revs = chain();
    revs[1] = rev(
        2,
        &[1],
        "CREATE TABLE t2 (id int) -- no semicolon",
        "DROP TABLE t2",
    );
    revs.push(
        rev(
            4,
            &[3],
            "CREATE INDEX CONCURRENTLY t3_id ON t3 (id);",
            "DROP INDEX CONCURRENTLY t3_id;",
        )
        .with_transactional(false),
    );
    let m = migrator(revs);
    let sum = |n: u32| m.graph().get(&id(n)).expect("rev").checksum();
    let sql = m
        .sql_for_upgrade(&BTreeSet::new(), &Target::Id(id(2)))
        .expect("sql");
    let expected = format!(
        "-- orm-migrate: upgrade to 20260101000002 (2 revisions)\n\
         SET lock_timeout = 10000;\n\
         SET statement_timeout = 0;\n\
         \n\
         CREATE TABLE IF NOT EXISTS \"public\".\"orm_migrations\" (\n    \
             id text PRIMARY KEY,\n    \
             checksum text NOT NULL,\n    \
             message text NOT NULL DEFAULT '',\n    \
             applied_at timestamptz NOT NULL DEFAULT now(),\n    \
             duration_ms bigint,\n    \
             applied_by text NOT NULL DEFAULT current_user\n\
         );\n\
         \n\
         -- 20260101000001: rev 1\n\
         BEGIN;\n\
         CREATE TABLE t1 (id int);\n\
         INSERT INTO \"public\".\"orm_migrations\" (id, checksum, message) VALUES ('20260101000001', '{}', 'rev 1');\n\
         COMMIT;\n\
         \n\
         -- 20260101000002: rev 2\n\
         BEGIN;\n\
         CREATE TABLE t2 (id int) -- no semicolon\n\
         ;\n\
         INSERT INTO \"public\".\"orm_migrations\" (id, checksum, message) VALUES ('20260101000002', '{}', 'rev 2');\n\
         COMMIT;\n",
        sum(1),
        sum(2)
    );
    assert_eq!(sql, expected);

    // From revision 3 applied: only the non-transactional 4, without BEGIN/COMMIT.
    let applied = m.applied_at(&Target::Id(id(3))).expect("applied");
    assert_eq!(applied, strs(&[1, 2, 3]).into_iter().collect());
    let sql = m.sql_for_upgrade(&applied, &Target::Head).expect("sql");
    let tail = sql.split_once(");\n\n").expect("after the table").1;
    assert_eq!(
        tail,
        format!(
            "-- 20260101000004: rev 4 (outside a transaction)\n\
             CREATE INDEX CONCURRENTLY t3_id ON t3 (id);\n\
             INSERT INTO \"public\".\"orm_migrations\" (id, checksum, message) VALUES ('20260101000004', '{}', 'rev 4');\n",
            sum(4)
        )
    );
}

#[test]
fn offline_downgrade_sql_runs_down_scripts_children_first() {
    let m = migrator(chain())
        .lock_timeout(None)
        .version_table("ops", "versions");
    let applied = m.applied_at(&Target::Head).expect("applied");
    let sql = m
        .sql_for_downgrade(&applied, &Target::Id(id(1)))
        .expect("sql");
    assert_eq!(
        sql,
        "-- orm-migrate: downgrade to 20260101000001 (2 revisions)\n\
         SET lock_timeout = 0;\n\
         SET statement_timeout = 0;\n\
         \n\
         -- 20260101000003: rev 3\n\
         BEGIN;\n\
         DROP TABLE t3;\n\
         DELETE FROM \"ops\".\"versions\" WHERE id = '20260101000003';\n\
         COMMIT;\n\
         \n\
         -- 20260101000002: rev 2\n\
         BEGIN;\n\
         DROP TABLE t2;\n\
         DELETE FROM \"ops\".\"versions\" WHERE id = '20260101000002';\n\
         COMMIT;\n"
    );
    // Nothing to do is a script with no revision.
    let none = m
        .sql_for_downgrade(&BTreeSet::new(), &Target::Base)
        .expect("sql");
    assert!(
        none.starts_with("-- orm-migrate: downgrade to base (0 revisions)\n"),
        "{none}"
    );
    // A function cannot be written out.
    let m = migrator(vec![rev(1, &[], "SELECT 1;", "").with_run("seed")]);
    let e = m
        .sql_for_upgrade(&BTreeSet::new(), &Target::Head)
        .expect_err("function");
    assert!(
        matches!(e, MigrateError::OfflineFunction { ref name, .. } if name == "seed"),
        "{e}"
    );
}

#[tokio::test]
async fn the_version_table_can_live_in_another_schema() {
    let t = test_database().await.expect("db");
    let m = migrator(chain()).version_table("ops", "versions");
    m.upgrade(&t, &Target::Relative(1)).await.expect("upgrade");
    let ids: Vec<String> = t
        .fetch_all(orm_postgres::raw::query::<String>(
            "SELECT id FROM ops.versions",
        ))
        .await
        .expect("rows");
    assert_eq!(ids, strs(&[1]));
    assert_eq!(
        current_ids(&m.current(&t).await.expect("current")),
        strs(&[1])
    );
    // The default table was never created.
    let m2 = migrator(chain());
    assert!(m2.applied(&t).await.expect("rows").is_empty());
}
