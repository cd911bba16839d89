//! Call-site tags: the sqlcommenter comment naming the Rust call site and the handle's tags,
//! escaped so no tag can end it; one prepared statement per call site and shape, not per
//! value; and `top_statements` reading `pg_stat_statements` on a cluster of its own that
//! preloads the extension.

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ErrorKind, parse_tags};
use orm_testing::{ClusterOptions, LocalCluster, TestDatabase};
use orm_tests::User;

use super::{add_users, users_db};

/// A second pool on the test's database with call-site tags on (one connection, so its
/// prepared statements can be counted).
async fn tagged_db(t: &TestDatabase) -> Database {
    t.builder()
        .max_connections(1)
        .call_site_tags(true)
        .connect()
        .await
        .expect("tagged database")
}

#[tokio::test]
async fn each_statement_names_its_call_site_and_tags_that_cannot_end_the_comment() {
    let t = users_db().await;
    add_users(&t.db, &["ann"]).await;
    let db = tagged_db(&t)
        .await
        .tagged("route", "/users/{id}")
        .tagged("evil", "x'*/ DROP TABLE users; --");
    let log = db.statement_log();
    let line = line!() + 2;
    let names: Vec<String> = db
        .fetch_all(select::<User>().columns(User::name))
        .await
        .expect("fetch");
    assert_eq!(names, ["ann"]);
    let sql = &log.statements()[0];
    assert!(
        sql.starts_with(r#"SELECT "users"."name" FROM "users" /*evil='x%27%2A%2F%20DROP%20TABLE%20users%3B%20--',file='tests%2Ftests%2Fpg%2Fcall_site.rs',line='"#),
        "{sql}"
    );
    assert!(
        sql.ends_with(&format!(",line='{line}',route='%2Fusers%2F%7Bid%7D'*/")),
        "{sql}"
    );
    // The comment closes once, at the end: the table survived.
    assert_eq!(sql.matches("*/").count(), 1);
    let tags = parse_tags(sql);
    assert_eq!(tags["evil"], "x'*/ DROP TABLE users; --");
    assert_eq!(tags["line"], line.to_string());
    assert_eq!(
        db.fetch_one(query::<i64>("SELECT count(*) FROM users"))
            .await
            .expect("count"),
        1
    );

    // Transactions and sessions carry the handle's tags; their queries name their own sites.
    let tx = db.begin().await.expect("begin");
    let line = line!() + 1;
    tx.execute(update::<User>().set(User::age, 3))
        .await
        .expect("update");
    tx.commit().await.expect("commit");
    let mut s = db.session();
    let line2 = line!() + 2;
    let ann = s
        .one(select::<User>().filter(User::name.eq("ann")))
        .await
        .expect("one");
    assert_eq!(ann.read().age, 3);
    s.rollback().await.expect("rollback");
    let sent = log.finish();
    let update = sent
        .iter()
        .find(|q| q.starts_with("UPDATE"))
        .expect("update sent");
    assert_eq!(parse_tags(update)["line"], line.to_string());
    assert_eq!(parse_tags(update)["route"], "/users/{id}");
    let one = sent
        .iter()
        .rfind(|q| q.starts_with("SELECT"))
        .expect("select sent");
    assert_eq!(parse_tags(one)["line"], line2.to_string(), "{one}");

    // Off by default: no comment.
    let log = t.db.statement_log();
    t.db.fetch_all(select::<User>()).await.expect("plain");
    assert!(!log.finish()[0].contains("/*"));
}

/// One call site for every value.
async fn by_name(db: &Database, name: &str) -> Option<User> {
    db.fetch_optional(select::<User>().filter(User::name.eq(name.to_string())))
        .await
        .expect("by name")
}

async fn prepared(db: &Database) -> i64 {
    db.fetch_one(query::<i64>("SELECT count(*) FROM pg_prepared_statements"))
        .await
        .expect("prepared statements")
}

#[tokio::test]
async fn a_call_site_is_one_prepared_statement_whatever_the_values() {
    let t = users_db().await;
    add_users(&t.db, &["ann"]).await;
    let db = tagged_db(&t).await;
    prepared(&db).await;
    let before = prepared(&db).await;
    for i in 0..20 {
        by_name(&db, &format!("user {i}")).await;
    }
    assert_eq!(prepared(&db).await - before, 1);
    // Another call site of the same statement is another one.
    db.fetch_optional(select::<User>().filter(User::name.eq("ann".to_string())))
        .await
        .expect("second site");
    assert_eq!(prepared(&db).await - before, 2);
}

#[tokio::test]
async fn top_statements_reads_pg_stat_statements_with_the_tags() {
    // Without the extension: a clear error.
    let t = users_db().await;
    let e = t.db.top_statements(5).await.expect_err("not installed");
    assert!(matches!(e.kind(), ErrorKind::Config { .. }), "{e:?}");

    let cluster = LocalCluster::start_with(
        ClusterOptions::new().setting("shared_preload_libraries", "pg_stat_statements"),
    )
    .expect("a cluster preloading pg_stat_statements");
    let db = Database::builder(cluster.url("postgres"))
        .max_connections(2)
        .call_site_tags(true)
        .connect()
        .await
        .expect("connect");
    db.batch_execute("CREATE EXTENSION pg_stat_statements; SELECT pg_stat_statements_reset()")
        .await
        .expect("create extension");
    let slow = db.tagged("route", "/slow");
    let line = line!() + 2;
    for ms in [30, 40, 50] {
        slow.fetch_one(
            query::<String>("SELECT pg_sleep(:s)::text").bind("s", f64::from(ms) / 1000.0),
        )
        .await
        .expect("sleep");
    }
    // The same statement from another call site, after the first.
    db.fetch_one(query::<String>("SELECT pg_sleep(:s)::text").bind("s", 0.01))
        .await
        .expect("sleep elsewhere");

    let top = db.top_statements(3).await.expect("top statements");
    let first = &top[0];
    assert!(first.query.contains("pg_sleep"), "{top:#?}");
    // Counted by shape: both call sites' runs, under the comment of the first one seen.
    assert_eq!(first.calls, 4, "{first:?}");
    assert!(first.total_time >= Duration::from_millis(125), "{first:?}");
    assert_eq!(first.tags["route"], "/slow");
    assert_eq!(first.tags["line"], line.to_string());
    assert_eq!(first.tags["file"], file!());
    assert!(top.windows(2).all(|w| w[0].total_time >= w[1].total_time));
}
