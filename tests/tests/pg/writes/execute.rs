//! `execute` throws the returned rows away: an insert is sent without the `RETURNING` of every
//! column that `insert` and `insert_many` add for `fetch_*`, and the count is the same.

use super::*;

#[tokio::test]
async fn execute_sends_an_insert_without_its_default_returning() {
    let t = users_db().await;
    let rows = [user("ann", 30), user("bob", 40), user("cid", 50)];
    let log = t.db.statement_log();
    let inserted = t.execute(insert_many(&rows)).await.unwrap();
    let one = t.execute(insert(&user("dee", 60))).await.unwrap();
    let sql = log.finish();
    assert_eq!((inserted, one), (3, 1));
    assert_eq!(sql.len(), 2, "{sql:?}");
    for s in &sql {
        assert!(s.starts_with(r#"INSERT INTO "users""#), "{s}");
        assert!(!s.contains("RETURNING"), "{s}");
    }
    assert_eq!(
        ages(&t.db).await,
        owned(&[("ann", 30), ("bob", 40), ("cid", 50), ("dee", 60)])
    );

    // An upsert counts its updated rows the same way without the clause.
    let upserted = t
        .execute(
            insert_many(&[user("ann", 31), user("eve", 70)])
                .on_conflict(User::name)
                .do_update(|u| u.set_excluded(User::age)),
        )
        .await
        .unwrap();
    assert_eq!(upserted, 2);
    assert_eq!(count_users(&t.db).await, 5);
}

#[tokio::test]
async fn execute_keeps_a_returning_the_caller_chose_and_fetch_keeps_the_default() {
    let t = users_db().await;
    let log = t.db.statement_log();
    let n = t
        .execute(insert(&user("ann", 30)).returning(User::id))
        .await
        .unwrap();
    let fetched = t.fetch_all(insert_many(&[user("bob", 40)])).await.unwrap();
    let sql = log.finish();
    assert_eq!(n, 1);
    assert_eq!(sql.len(), 2, "{sql:?}");
    assert!(sql[0].ends_with(r#"RETURNING "users"."id""#), "{}", sql[0]);
    assert!(
        sql[1].contains(r#"RETURNING "users"."id", "users"."name""#),
        "{}",
        sql[1]
    );
    assert_eq!(fetched[0].name, "bob");
    assert!(fetched[0].id > 0);
}

#[test]
fn compile_discarding_rows_drops_only_the_default_returning() {
    let plain = insert(&user("ann", 30));
    assert!(plain.compile().unwrap().sql.contains("RETURNING"));
    let discarded = plain.compile_discarding_rows(None).unwrap();
    assert_eq!(
        discarded.sql,
        r#"INSERT INTO "users" ("name", "email", "age") VALUES ($1, $2, $3)"#
    );
    assert_eq!(discarded.params.len(), 3);
    let chosen = insert(&user("ann", 30)).returning(User::name);
    assert!(
        chosen
            .compile_discarding_rows(None)
            .unwrap()
            .sql
            .ends_with(r#"RETURNING "users"."name""#)
    );
}
