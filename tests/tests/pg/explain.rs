//! EXPLAIN on builder statements, with their real parameters: the typed plan tree, the text
//! plan, ANALYZE of a write rolled back, and the plan assertions a test pins plans with.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{Executor, ExplainOptions};
use orm_tests::{Order, User};

use crate::users_db;

/// `users` with 5000 rows and fresh statistics, so the planner prefers the indexes.
async fn populated() -> orm_testing::TestDatabase {
    let t = users_db().await;
    t.batch_execute(
        "INSERT INTO users (name, email, age) \
         SELECT 'u' || g, 'u' || g || '@x', g % 90 FROM generate_series(1, 5000) g; \
         ANALYZE users",
    )
    .await
    .expect("rows");
    t
}

#[tokio::test]
async fn a_lookup_by_a_unique_column_uses_its_index_with_the_real_value() {
    let t = populated().await;
    let plan = t
        .explain(select::<User>().filter(User::name.eq("u42".to_string())))
        .await
        .expect("explain");
    plan.assert_uses_index("users_name_key");
    plan.assert_no_seq_scan("users");
    let scan = plan
        .nodes()
        .into_iter()
        .find(|n| n.index.as_deref() == Some("users_name_key"))
        .expect("the index scan");
    assert_eq!(scan.relation.as_deref(), Some("users"));
    // Planned with the bound value, not a generic `$1`.
    assert_eq!(
        scan.index_cond.as_deref(),
        Some("((name)::text = 'u42'::text)")
    );
    assert!(plan.execution_ms.is_none(), "not run without ANALYZE");
    let text = plan.text();
    assert!(
        text.starts_with("Index Scan using users_name_key on users"),
        "{text}"
    );
}

#[tokio::test]
async fn a_scan_of_the_whole_table_is_seen_and_the_assertion_fails_loudly() {
    let t = populated().await;
    let plan = t
        .explain(select::<User>().filter(User::age.gt(10)))
        .await
        .expect("explain");
    assert_eq!(plan.seq_scans(), vec!["users"]);
    assert!(!plan.uses_index("users_name_key"));
    let panic = std::panic::catch_unwind(|| plan.assert_no_seq_scan("users"))
        .expect_err("a sequential scan");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message
            .starts_with("expected no sequential scan of users, the plan is:\nSeq Scan on users"),
        "{message}"
    );
}

#[tokio::test]
async fn explain_analyze_of_a_write_reports_actual_rows_and_changes_nothing() {
    let t = populated().await;
    let doomed: i64 = t
        .fetch_one(query::<i64>("SELECT count(*) FROM users WHERE age < 45"))
        .await
        .expect("count");
    let plan = t
        .explain_analyze(delete::<User>().filter(User::age.lt(45)))
        .await
        .expect("explain analyze");
    assert_eq!(plan.root.node_type, "ModifyTable");
    assert_eq!(plan.root.operation.as_deref(), Some("Delete"));
    assert!(
        plan.text().starts_with("Delete on users"),
        "{}",
        plan.text()
    );
    let scan = &plan.root.children[0];
    assert_eq!(scan.actual_rows, Some(doomed as f64));
    assert!(scan.shared_hit_blocks.is_some(), "BUFFERS reported");
    assert!(plan.execution_ms.is_some() && plan.planning_ms.is_some());
    let left: i64 = t
        .fetch_one(query::<i64>("SELECT count(*) FROM users"))
        .await
        .expect("count");
    assert_eq!(left, 5000, "the delete was rolled back");
}

#[tokio::test]
async fn the_text_plan_is_the_servers_own_and_joins_have_children() {
    let t = populated().await;
    t.batch_execute("INSERT INTO orders (user_id, total) SELECT id, 10 FROM users; ANALYZE orders")
        .await
        .expect("orders");
    let join = select::<User>()
        .join::<Order>(Order::user_id.eq(User::id))
        .filter(User::name.eq("u7".to_string()))
        .columns((User::name, Order::total));
    let plan = t.explain(&join).await.expect("explain");
    assert!(
        plan.root.children.len() >= 2 || plan.nodes().len() >= 3,
        "{}",
        plan.text()
    );
    assert!(plan.uses_index("users_name_key"), "{}", plan.text());
    let lines = t
        .explain_text(&join, ExplainOptions::new().without_costs())
        .await
        .expect("text");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Index Scan using users_name_key on users")),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| !l.contains("cost=")), "{lines:?}");
}
