//! A database with a read replica: the runner's reads (`applied`, `current`, `history`, the
//! lint before an upgrade) and its runs go to the primary, never to a replica that has not
//! replayed the latest run, whichever handle they are given.

use orm_migrate::Target;
use orm_postgres::ReadYourWrites;
use orm_testing::{ClusterOptions, LocalCluster};

use crate::*;

#[tokio::test]
async fn the_runner_reads_and_runs_on_the_primary_only() {
    let primary = LocalCluster::start().expect("primary");
    // A replica that replays nothing for an hour: whatever the runs write, it lacks.
    let replica = primary
        .start_replica(ClusterOptions::new().setting("recovery_min_apply_delay", "1h"))
        .expect("replica");
    let db = Database::builder(primary.url("postgres"))
        .replica(replica.url("postgres"))
        .read_your_writes(ReadYourWrites::Off)
        .connect()
        .await
        .expect("connect");
    let m = migrator(chain());
    // Through a handle pinned to the replica, the run still goes to the primary.
    let done = m
        .upgrade(&db.on_replica(), &Target::Id(id(2)))
        .await
        .expect("upgrade through an on_replica() handle");
    assert_eq!(done.len(), 2);
    let done = m.upgrade(&db, &Target::Head).await.expect("upgrade");
    assert_eq!(done.len(), 1);

    let on_replica = Database::builder(replica.url("postgres"))
        .connect()
        .await
        .expect("replica");
    let missing: bool = on_replica
        .fetch_one(query::<bool>(
            "SELECT to_regclass('orm_migrations') IS NULL",
        ))
        .await
        .expect("to_regclass");
    assert!(missing, "the replica has replayed none of it");
    // A plain read of `db` does go to that replica.
    let in_recovery: bool = db
        .fetch_one(query::<bool>("SELECT pg_is_in_recovery()"))
        .await
        .expect("read");
    assert!(in_recovery);

    for handle in [db.clone(), db.on_replica()] {
        let applied = m.applied(&handle).await.expect("applied");
        assert_eq!(ids_of(&applied), strs(&[1, 2, 3]));
        let current = m.current(&handle).await.expect("current");
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].id, id(3));
        let history = m.history(&handle).await.expect("history");
        assert_eq!(history.len(), 3);
        assert!(history.iter().all(|e| e.applied.is_some()));
        let report = m.lint_pending(&handle, &Target::Heads).await.expect("lint");
        assert_eq!(report.errors(), 0);
        assert!(
            m.upgrade(&handle, &Target::Heads)
                .await
                .expect("nothing left")
                .is_empty()
        );
    }

    // A fourth revision: the lint reads the primary's schema (t1 exists there, not on the
    // replica) and finds the unsafe step.
    let mut revisions = chain();
    revisions.push(rev(
        4,
        &[3],
        "ALTER TABLE t1 ADD COLUMN n int NOT NULL;\n",
        "ALTER TABLE t1 DROP COLUMN n;\n",
    ));
    let m4 = migrator(revisions);
    let report = m4
        .lint_pending(&db.on_replica(), &Target::Heads)
        .await
        .expect("lint");
    assert!(
        report
            .findings()
            .any(|(_, f)| f.message.contains("adds n NOT NULL to")
                && f.message.contains("which exists")),
        "{report:?}"
    );
}
