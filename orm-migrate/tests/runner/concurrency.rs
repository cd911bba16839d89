//! Twenty runners at once, each with a pool of its own: every one succeeds and each revision
//! is applied exactly once. (The same with twenty processes of the CLI is in tests/cli.)

use std::sync::Arc;

use orm_migrate::Target;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

/// Five revisions; each inserts its number into `counter` (the first creates it), and sleeps
/// a little so the runners overlap.
fn counting() -> Vec<orm_migrate::Revision> {
    (1..=5)
        .map(|n| {
            let parents: &[u32] = if n == 1 { &[] } else { &[n - 1] };
            let create = if n == 1 {
                "CREATE TABLE counter (rev int NOT NULL);\n"
            } else {
                ""
            };
            rev(
                n,
                parents,
                &format!("{create}INSERT INTO counter VALUES ({n});\nSELECT pg_sleep(0.02);\n"),
                "",
            )
        })
        .collect()
}

#[tokio::test]
async fn twenty_runners_apply_each_revision_once() {
    let t = test_database().await.expect("db");
    let m = Arc::new(migrator(counting()));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let db = Database::builder(t.admin_url())
            .dbname(t.name())
            .max_connections(2)
            .build()
            .expect("pool");
        let m = m.clone();
        tasks.push(tokio::spawn(
            async move { m.upgrade(&db, &Target::Head).await },
        ));
    }
    let mut applied_by_runs = 0;
    for task in tasks {
        let done = task.await.expect("task").expect("every runner succeeds");
        applied_by_runs += done.len();
    }
    assert_eq!(
        applied_by_runs, 5,
        "each revision applied by exactly one runner"
    );
    let counter: Vec<i32> = t
        .fetch_all(query::<i32>("SELECT rev FROM counter ORDER BY rev"))
        .await
        .expect("counter");
    assert_eq!(counter, [1, 2, 3, 4, 5]);
    assert_eq!(applied_ids(&t).await, strs(&[1, 2, 3, 4, 5]));
}
