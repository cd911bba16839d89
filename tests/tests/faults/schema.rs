//! Schema changes under a running application: twenty processes calling `create_all` at once,
//! and cached statements whose table changed under them.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;
use orm_tests::{Order, User};

#[tokio::test]
async fn twenty_create_all_at_once_all_succeed() {
    let t = test_database().await.expect("db");
    // Twenty pools of one connection each: twenty processes starting together.
    let mut pools = Vec::new();
    for _ in 0..20 {
        pools.push(t.builder().max_connections(1).build().expect("pool"));
    }
    let calls = pools
        .iter()
        .map(|db| db.create_all(&[User::TABLE, Order::TABLE]));
    let results = futures_util::future::join_all(calls).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let tables = t
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        ))
        .await
        .expect("count");
    assert_eq!(tables, 2);
}

#[tokio::test]
async fn a_cached_statement_survives_its_table_changing() {
    let t = test_database().await.expect("db");
    t.create_all(&[User::TABLE]).await.expect("create");
    let db = t.builder().max_connections(1).build().expect("pool");
    let q = || query::<(i64, String)>("SELECT id, name FROM users ORDER BY id");
    assert!(db.fetch_all(q()).await.expect("cached").is_empty());
    // Another client changes the table under the cached statement: a column added before
    // the ones it reads, and a column type widened.
    t.batch_execute(
        "ALTER TABLE users ADD COLUMN nickname text; \
         INSERT INTO users (name, age) VALUES ('a', 1)",
    )
    .await
    .expect("alter");
    let rows = db.fetch_all(q()).await.expect("re-prepared");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, "a");
}
