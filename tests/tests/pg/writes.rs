//! Write paths against a real PostgreSQL: upserts, `UPDATE ... FROM`, `DELETE ... USING`, CTEs
//! feeding DML, `RETURNING` expressions, row locks, raw SQL, `FromRow` result structs, an
//! injection corpus through every value path, and hostile identifiers.
//!
//! `DATABASE_URL` when set, otherwise a throwaway local cluster; every test gets a fresh database.

use orm_postgres::ErrorKind;
use orm_postgres::expr::escape_like;
use orm_postgres::prelude::*;
use orm_postgres::raw::{query, text};
use orm_testing::test_database;
use orm_tests::{Order, User};

use crate::users_db;

orm_postgres::alias!(Other = User);

fn user(name: &str, age: i32) -> User {
    User {
        id: 0,
        name: name.into(),
        email: None,
        age,
    }
}

async fn add_users(db: &impl Executor, users: &[(&str, i32)]) -> Vec<User> {
    let rows: Vec<User> = users.iter().map(|(n, a)| user(n, *a)).collect();
    db.fetch_all(insert_many(&rows))
        .await
        .expect("insert users")
}

async fn add_order(db: &impl Executor, user_id: i64, total: i32) -> Order {
    db.fetch_one(insert(&Order {
        id: 0,
        user_id,
        total,
        note: None,
    }))
    .await
    .expect("insert order")
}

async fn count_users(db: &impl Executor) -> i64 {
    db.fetch_one(select::<User>().count()).await.unwrap()
}

async fn ages(db: &impl Executor) -> Vec<(String, i32)> {
    db.fetch_all(
        select::<User>()
            .columns((User::name, User::age))
            .order_by(User::name),
    )
    .await
    .unwrap()
}

fn owned(rows: &[(&str, i32)]) -> Vec<(String, i32)> {
    rows.iter().map(|(n, a)| ((*n).to_owned(), *a)).collect()
}

// ================================================================ upserts

#[tokio::test]
async fn upsert_do_nothing_keeps_the_row_and_returns_nothing() {
    let t = users_db().await;
    add_users(&t.db, &[("jane", 30)]).await;

    // No target: any unique constraint.
    let returned = t
        .fetch_all(insert(&user("jane", 99)).on_conflict_do_nothing())
        .await
        .unwrap();
    assert!(returned.is_empty(), "a skipped row is not returned");
    // A column, and a tuple of columns.
    let none = t
        .fetch_optional(
            insert(&user("jane", 98))
                .on_conflict(User::name)
                .do_nothing(),
        )
        .await
        .unwrap();
    assert_eq!(none, None);
    let affected = t
        .execute(
            insert(&user("jane", 97))
                .no_returning()
                .on_conflict((User::name,))
                .do_nothing(),
        )
        .await
        .unwrap();
    assert_eq!(affected, 0);
    assert_eq!(count_users(&t.db).await, 1);
    assert_eq!(ages(&t.db).await, owned(&[("jane", 30)]));

    // Without a conflict the row goes in and comes back.
    let joe = t
        .fetch_one(insert(&user("joe", 5)).on_conflict_do_nothing())
        .await
        .unwrap();
    assert_eq!(joe.name, "joe");
    assert!(joe.id > 0);
    assert_eq!(count_users(&t.db).await, 2);
}

#[tokio::test]
async fn upsert_do_update_with_excluded_and_a_where_that_skips_rows() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 10), ("b", 50)]).await;

    // Take the new age only when it is higher.
    let rows = vec![user("a", 20), user("b", 40), user("c", 5)];
    let mut returned: Vec<(String, i32)> = t
        .fetch_all(
            insert_many(&rows)
                .on_conflict(User::name)
                .do_update(|u| {
                    u.set(User::age, excluded(User::age))
                        .set(User::email, Some("updated".to_owned()))
                        .where_(User::age.lt(excluded(User::age)))
                })
                .returning((User::name, User::age)),
        )
        .await
        .unwrap();
    returned.sort();
    assert_eq!(
        returned,
        owned(&[("a", 20), ("c", 5)]),
        "b was skipped by the WHERE"
    );
    assert_eq!(ages(&t.db).await, owned(&[("a", 20), ("b", 50), ("c", 5)]));
    let emails: Vec<(String, Option<String>)> = t
        .fetch_all(
            select::<User>()
                .columns((User::name, User::email))
                .order_by(User::name),
        )
        .await
        .unwrap();
    assert_eq!(
        emails,
        vec![
            ("a".into(), Some("updated".into())),
            ("b".into(), None),
            ("c".into(), None),
        ]
    );
}

#[tokio::test]
async fn upsert_counter_and_returning_expressions() {
    let t = users_db().await;
    // `xmax = 0` is true for a freshly inserted row, false for an updated one.
    for (i, expected_age) in [0, 1, 2, 3].into_iter().enumerate() {
        let (age, doubled, inserted, shout): (i32, i32, bool, String) = t
            .fetch_one(
                insert(&user("counter", 0))
                    .on_conflict(User::name)
                    .do_update(|u| u.set(User::age, User::age.add(1)))
                    .returning((
                        User::age,
                        User::age.mul(2),
                        text::<bool>("xmax = 0").expr(),
                        User::name.concat("!"),
                    )),
            )
            .await
            .unwrap();
        assert_eq!(age, expected_age);
        assert_eq!(doubled, expected_age * 2);
        assert_eq!(inserted, i == 0);
        assert_eq!(shout, "counter!");
    }
    assert_eq!(count_users(&t.db).await, 1);
}

#[tokio::test]
async fn upsert_on_a_named_constraint() {
    let t = users_db().await;
    add_users(&t.db, &[("jane", 30)]).await;
    let n = t
        .execute(
            insert(&user("jane", 1))
                .no_returning()
                .on_constraint("users_name_key")
                .do_nothing(),
        )
        .await
        .unwrap();
    assert_eq!(n, 0);
    let jane = t
        .fetch_one(
            insert(&user("jane", 31))
                .on_constraint("users_name_key")
                .do_update(|u| u.set_excluded(User::age)),
        )
        .await
        .unwrap();
    assert_eq!(jane.age, 31);

    // A constraint that does not exist is the server's error, typed.
    let err = t
        .execute(
            insert(&user("x", 1))
                .on_constraint("no_such_constraint")
                .do_nothing(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("42704"), "{err:?}");
}

#[tokio::test]
async fn upsert_many_rows_overwrites_and_inserts() {
    let t = users_db().await;
    let before = add_users(&t.db, &[("a", 1), ("b", 2)]).await;
    let mut rows = vec![user("a", 10), user("b", 20), user("c", 30)];
    rows[0].email = Some("a@x".into());
    let after = t
        .fetch_all(
            insert_many(&rows)
                .on_conflict(User::name)
                .do_update(|u| u.set_all_excluded()),
        )
        .await
        .unwrap();
    assert_eq!(after.len(), 3);
    // Existing rows keep their keys; their other columns are overwritten.
    assert_eq!(after[0].id, before[0].id);
    assert_eq!(after[0].email.as_deref(), Some("a@x"));
    assert_eq!(after[1].id, before[1].id);
    assert_eq!(ages(&t.db).await, owned(&[("a", 10), ("b", 20), ("c", 30)]));

    // The same key twice in one upsert: PostgreSQL refuses to update a row twice (21000).
    let err = t
        .execute(
            insert_many(&[user("d", 1), user("d", 2)])
                .on_conflict(User::name)
                .do_update(|u| u.set_excluded(User::age)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Database(_)), "{err:?}");
    assert_eq!(err.sqlstate(), Some("21000"));
    assert_eq!(
        count_users(&t.db).await,
        3,
        "nothing of the failed upsert stayed"
    );
}

#[tokio::test]
async fn upsert_targets_a_partial_unique_index() {
    let t = users_db().await;
    t.batch_execute(
        "CREATE UNIQUE INDEX users_email_present ON users (email) WHERE email IS NOT NULL",
    )
    .await
    .unwrap();
    let mut a = user("a", 1);
    a.email = Some("same@x".into());
    t.execute(insert(&a)).await.unwrap();

    let mut b = user("b", 2);
    b.email = Some("same@x".into());
    // Without the predicate the partial index is not inferred.
    let err = t
        .execute(insert(&b).on_conflict(User::email).do_nothing())
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("42P10"), "{err:?}");
    // With it, the conflict is found and the existing row updated.
    let updated = t
        .fetch_one(
            insert(&b)
                .on_conflict(User::email)
                .where_(User::email.is_not_null())
                .do_update(|u| u.set(User::age, excluded(User::age).add(100)))
                .returning((User::name, User::age)),
        )
        .await
        .unwrap();
    assert_eq!(updated, ("a".to_owned(), 102));

    // A partial index on a constant: the predicate is raw SQL, so it holds no parameter and
    // keeps matching once the prepared statement gets a generic plan (after five runs).
    t.batch_execute("CREATE UNIQUE INDEX users_email_adult ON users (email) WHERE age >= 18")
        .await
        .unwrap();
    let mut adult = user("adult", 20);
    adult.email = Some("adult@x".into());
    t.execute(insert(&adult)).await.unwrap();
    for i in 0..8 {
        let mut again = user(&format!("again {i}"), 30);
        again.email = Some("adult@x".into());
        let n = t
            .execute(
                insert(&again)
                    .no_returning()
                    .on_conflict(User::email)
                    .where_(text::<bool>("age >= 18"))
                    .do_nothing(),
            )
            .await
            .unwrap_or_else(|e| panic!("run {i}: {e:?}"));
        assert_eq!(n, 0);
    }
    // A predicate with a bound value would stop matching then: it is refused up front.
    let err = t
        .execute(
            insert(&adult)
                .on_conflict(User::email)
                .where_(User::age.ge(18))
                .do_nothing(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn upsert_from_insert_select() {
    let t = users_db().await;
    let users = add_users(&t.db, &[("a", 1), ("b", 2)]).await;
    add_order(&t.db, users[0].id, 7).await;
    add_order(&t.db, users[1].id, 9).await;
    // Copy each order as a user named after its buyer; "a" exists already: add the totals.
    let n = t
        .execute(
            insert_select::<User, _, _>(
                (User::name, User::age),
                select::<Order>()
                    .join::<Other>(Other::col(User::id).eq(Order::user_id))
                    .columns((Other::col(User::name), Order::total))
                    .filter(Order::total.lt(8)),
            )
            .on_conflict(User::name)
            .do_update(|u| u.set(User::age, User::age.add(excluded(User::age)))),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(ages(&t.db).await, owned(&[("a", 8), ("b", 2)]));
}

// ================================================================ UPDATE ... FROM, DELETE ... USING

#[tokio::test]
async fn update_from_a_joined_table() {
    let t = users_db().await;
    let u = add_users(&t.db, &[("adult", 30), ("child", 8)]).await;
    let o1 = add_order(&t.db, u[0].id, 10).await;
    let o2 = add_order(&t.db, u[1].id, 20).await;
    let updated: Vec<(i64, Option<String>, String, i32)> = t
        .fetch_all(
            update::<Order>()
                .from::<User>()
                .set(Order::note, User::name.concat(" ordered"))
                .set(Order::total, Order::total.add(User::age))
                .filter(User::id.eq(Order::user_id))
                .filter(User::age.ge(18))
                .returning((Order::id, Order::note, User::name, Order::total)),
        )
        .await
        .unwrap();
    assert_eq!(
        updated,
        vec![(o1.id, Some("adult ordered".into()), "adult".into(), 40)]
    );
    let untouched = t.fetch_one(select::<Order>().by_pk(o2.id)).await.unwrap();
    assert_eq!(untouched, o2);
}

#[tokio::test]
async fn update_from_an_alias_of_the_same_table() {
    let t = users_db().await;
    add_users(&t.db, &[("x", 1), ("x (old)", 40)]).await;
    // Each user takes the age of its "(old)" twin.
    let rows: Vec<(String, i32, String)> = t
        .fetch_all(
            update::<User>()
                .from::<Other>()
                .set(User::age, Other::col(User::age))
                .filter(Other::col(User::name).eq(User::name.concat(" (old)")))
                .returning((User::name, User::age, Other::col(User::name))),
        )
        .await
        .unwrap();
    assert_eq!(rows, vec![("x".into(), 40, "x (old)".into())]);
}

#[tokio::test]
async fn update_from_a_subquery() {
    let t = users_db().await;
    let u = add_users(&t.db, &[("a", 0), ("b", 0), ("c", 0)]).await;
    for (who, total) in [(0, 5), (0, 12), (1, 3)] {
        add_order(&t.db, u[who].id, total).await;
    }
    // Each user's biggest order.
    let (biggest, (user_id, total)) = select::<Order>()
        .columns((Order::user_id, func::label(Order::total, "biggest")))
        .distinct_on(Order::user_id)
        .order_by(Order::user_id)
        .order_by(Order::total.desc())
        .subquery("biggest");
    let n = t
        .execute(
            update::<User>()
                .from_derived(&biggest)
                .set(User::age, total)
                .filter(user_id.eq(User::id)),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(ages(&t.db).await, owned(&[("a", 12), ("b", 3), ("c", 0)]));
}

#[tokio::test]
async fn delete_using_a_joined_table_and_a_subquery() {
    let t = users_db().await;
    let u = add_users(&t.db, &[("keep", 1), ("gone", 2)]).await;
    add_order(&t.db, u[0].id, 1).await;
    let o = add_order(&t.db, u[1].id, 2).await;
    add_order(&t.db, u[1].id, 300).await;

    let deleted: Vec<(i64, String)> = t
        .fetch_all(
            delete::<Order>()
                .using::<User>()
                .filter(User::id.eq(Order::user_id) & User::name.eq("gone"))
                .filter(Order::total.lt(100))
                .returning((Order::id, User::name)),
        )
        .await
        .unwrap();
    assert_eq!(deleted, vec![(o.id, "gone".into())]);

    // Users without orders of 100 or more.
    let (big, (buyer,)) = select::<Order>()
        .filter(Order::total.ge(100))
        .columns((Order::user_id,))
        .subquery("big");
    let n = t
        .execute(
            delete::<Order>()
                .using_derived(&big)
                .filter(Order::user_id.ne(buyer)),
        )
        .await
        .unwrap();
    assert_eq!(n, 1, "the order of `keep`");
    let left: Vec<i32> = t
        .fetch_all(select::<Order>().columns(Order::total))
        .await
        .unwrap();
    assert_eq!(left, vec![300]);
}

#[tokio::test]
async fn ctes_feed_update_delete_and_insert_select() {
    let t = users_db().await;
    let u = add_users(&t.db, &[("adult", 30), ("child", 8)]).await;
    add_order(&t.db, u[0].id, 10).await;
    add_order(&t.db, u[1].id, 20).await;

    // WITH adults AS (...) UPDATE orders ... FROM adults
    let (adults, (adult_id, adult_name)) = select::<User>()
        .filter(User::age.ge(18))
        .columns((User::id, User::name))
        .cte("adults");
    let q = update::<Order>()
        .from_derived(&adults)
        .set(Order::note, adult_name)
        .filter(Order::user_id.eq(adult_id))
        .returning(Order::note);
    assert!(q.compile().unwrap().sql.starts_with("WITH \"adults\" AS ("));
    let notes = t.fetch_all(q).await.unwrap();
    assert_eq!(notes, vec![Some("adult".to_owned())]);

    // WITH recent AS (...) INSERT INTO orders (...) SELECT ... FROM recent
    let (recent, (uid, total)) = select::<Order>()
        .filter(Order::total.gt(15))
        .columns((Order::user_id, Order::total))
        .cte("recent");
    let q = insert_select::<Order, _, _>(
        (Order::user_id, Order::total, Order::note),
        select_from(&recent).columns((uid, total.mul(2), text::<Option<String>>("'copy'").expr())),
    )
    .returning((Order::user_id, Order::total, Order::note));
    assert!(q.compile().unwrap().sql.starts_with("WITH \"recent\" AS ("));
    let copied = t.fetch_all(q).await.unwrap();
    assert_eq!(copied, vec![(u[1].id, 40, Some("copy".to_owned()))]);

    // WITH small AS (...) DELETE FROM orders USING small
    let (small, (small_id,)) = select::<Order>()
        .filter(Order::total.lt(15))
        .columns((Order::id,))
        .cte("small");
    let gone = t
        .fetch_all(
            delete::<Order>()
                .using_derived(&small)
                .filter(Order::id.eq(small_id))
                .returning(Order::total),
        )
        .await
        .unwrap();
    assert_eq!(gone, vec![10]);
}

#[tokio::test]
async fn returning_expressions_of_insert_update_delete() {
    let t = users_db().await;
    let (id_plus, name_len): (i64, i32) = t
        .fetch_one(insert(&user("jane", 30)).returning((
            User::id.add(1000),
            text::<i32>("length(\"users\".\"name\")").expr(),
        )))
        .await
        .unwrap();
    assert!(id_plus > 1000);
    assert_eq!(name_len, 4);

    let (older, greeting): (i32, String) = t
        .fetch_one(
            update::<User>()
                .set(User::age, User::age.add(1))
                .filter(User::name.eq("jane"))
                .returning((User::age.mul(10), User::name.concat(", hi"))),
        )
        .await
        .unwrap();
    assert_eq!((older, greeting.as_str()), (310, "jane, hi"));

    let was: Vec<(String, bool)> = t
        .fetch_all(delete::<User>().returning((User::name, User::age.gt(18))))
        .await
        .unwrap();
    assert_eq!(was, vec![("jane".into(), true)]);
}

// ================================================================ row locks

#[tokio::test]
async fn for_update_skip_locked_skips_the_row_locked_by_another_transaction() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1), ("b", 2), ("c", 3)]).await;
    let tx1 = t.begin().await.unwrap();
    let locked = tx1
        .fetch_one(select::<User>().filter(User::name.eq("b")).for_update())
        .await
        .unwrap();
    assert_eq!(locked.name, "b");

    let tx2 = t.begin().await.unwrap();
    let free: Vec<String> = tx2
        .fetch_all(
            select::<User>()
                .columns(User::name)
                .order_by(User::name)
                .for_update()
                .skip_locked(),
        )
        .await
        .unwrap();
    assert_eq!(free, vec!["a".to_owned(), "c".to_owned()]);
    tx2.rollback().await.unwrap();
    tx1.rollback().await.unwrap();

    // Once released, it is there again.
    let all: Vec<String> = t
        .fetch_all(
            select::<User>()
                .columns(User::name)
                .for_update()
                .skip_locked(),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
}

#[tokio::test]
async fn nowait_on_a_locked_row_fails_with_55p03() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1)]).await;
    let tx1 = t.begin().await.unwrap();
    tx1.fetch_one(select::<User>().for_no_key_update())
        .await
        .unwrap();

    let tx2 = t.begin().await.unwrap();
    let err = tx2
        .fetch_all(select::<User>().for_update().nowait())
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Database(_)), "{err:?}");
    assert_eq!(err.sqlstate(), Some("55P03"));
    assert!(!err.is_retryable());
    tx2.rollback().await.unwrap();

    // FOR KEY SHARE does not conflict with FOR NO KEY UPDATE.
    let tx3 = t.begin().await.unwrap();
    let n = tx3
        .fetch_all(select::<User>().for_key_share().nowait())
        .await
        .unwrap();
    assert_eq!(n.len(), 1);
    tx3.rollback().await.unwrap();
    tx1.rollback().await.unwrap();
}

#[tokio::test]
async fn for_share_allows_another_for_share_but_not_for_update() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1)]).await;
    let tx1 = t.begin().await.unwrap();
    tx1.fetch_one(select::<User>().for_share()).await.unwrap();

    let tx2 = t.begin().await.unwrap();
    let shared = tx2
        .fetch_one(select::<User>().for_share().nowait())
        .await
        .unwrap();
    assert_eq!(shared.name, "a");
    tx2.rollback().await.unwrap();

    let tx3 = t.begin().await.unwrap();
    let err = tx3
        .fetch_one(select::<User>().for_update().nowait())
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("55P03"), "{err:?}");
    tx3.rollback().await.unwrap();
    tx1.rollback().await.unwrap();
}

#[tokio::test]
async fn lock_of_one_source_leaves_the_joined_table_free() {
    let t = users_db().await;
    let u = add_users(&t.db, &[("a", 1)]).await;
    add_order(&t.db, u[0].id, 5).await;
    let tx1 = t.begin().await.unwrap();
    let q = select::<Order>()
        .join::<User>(User::id.eq(Order::user_id))
        .columns((Order::id, User::name))
        .for_update()
        .of::<Order>();
    assert!(
        q.compile()
            .unwrap()
            .sql
            .ends_with(r#" FOR UPDATE OF "orders""#)
    );
    tx1.fetch_one(q).await.unwrap();

    let tx2 = t.begin().await.unwrap();
    tx2.fetch_one(select::<User>().for_update().nowait())
        .await
        .expect("users are not locked");
    let err = tx2
        .fetch_one(select::<Order>().for_update().nowait())
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("55P03"));
    tx2.rollback().await.unwrap();
    tx1.rollback().await.unwrap();
}

// ================================================================ raw SQL and FromRow

#[derive(Debug, PartialEq, FromRow)]
struct NameAge {
    name: String,
    age: i32,
    #[from_row(skip)]
    note: String,
}

#[derive(Debug, PartialEq, FromRow)]
struct OrderWithBuyer {
    order_id: i64,
    #[from_row(flatten)]
    buyer: User,
    #[from_row(flatten)]
    summary: NameAge,
    total: i32,
}

#[tokio::test]
async fn raw_text_in_a_filter_and_a_select_list() {
    let t = users_db().await;
    add_users(&t.db, &[("al", 1), ("bob", 2), ("carla", 3)]).await;
    let rows: Vec<(String, i32)> = t
        .fetch_all(
            select::<User>()
                .filter(text::<bool>("length(\"users\".\"name\") > :n").bind("n", 2_i32))
                .columns((
                    User::name,
                    text::<i32>("length(\"users\".\"name\") * :k")
                        .bind("k", 10_i32)
                        .expr(),
                ))
                .order_by(User::name),
        )
        .await
        .unwrap();
    assert_eq!(rows, owned(&[("bob", 30), ("carla", 50)]));

    // A raw fragment with its own OR stays one operand when ANDed with more conditions.
    let q = select::<User>()
        .filter(text::<bool>(
            "\"users\".\"name\" = 'al' OR \"users\".\"name\" = 'bob'",
        ))
        .filter(User::age.gt(1))
        .columns(User::name);
    assert!(
        q.compile()
            .unwrap()
            .sql
            .contains("(\"users\".\"name\" = 'al' OR ")
    );
    assert_eq!(t.fetch_all(q).await.unwrap(), ["bob"]);
}

#[tokio::test]
async fn raw_query_into_a_from_row_struct() {
    let t = users_db().await;
    add_users(&t.db, &[("al", 1), ("bob", 2)]).await;
    let rows = t
        .fetch_all(
            query::<NameAge>("SELECT name, age FROM users WHERE name <> :name ORDER BY name")
                .bind("name", "al".to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![NameAge {
            name: "bob".into(),
            age: 2,
            note: String::new()
        }]
    );
}

#[tokio::test]
async fn from_row_struct_with_flattened_model_through_into_rows() {
    let t = users_db().await;
    let u = add_users(&t.db, &[("al", 40)]).await;
    let o = add_order(&t.db, u[0].id, 7).await;
    let rows = t
        .fetch_all(
            select::<Order>()
                .join::<User>(User::id.eq(Order::user_id))
                .columns((
                    Order::id,
                    User::star(),
                    User::name.concat("?"),
                    User::age.add(1),
                    Order::total,
                ))
                .into_rows::<OrderWithBuyer>(),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![OrderWithBuyer {
            order_id: o.id,
            buyer: u[0].clone(),
            summary: NameAge {
                name: "al?".into(),
                age: 41,
                note: String::new()
            },
            total: 7,
        }]
    );
    assert_eq!(OrderWithBuyer::WIDTH, 8);

    // A column that does not decode names the struct and the field.
    let err = t
        .fetch_all(query::<NameAge>("SELECT name, name FROM users"))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Decode { model, column, .. } => {
            assert_eq!((*model, column.as_str()), ("NameAge", "age"));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    // Raw SQL is not analysed: a missing column is a decode error naming the field.
    let err = t
        .fetch_all(query::<NameAge>("SELECT name FROM users"))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Decode { model: "NameAge", column, .. } if column == "age"),
        "{err:?}"
    );
}

#[tokio::test]
async fn raw_missing_binding_is_an_invalid_statement() {
    let t = users_db().await;
    let err = t
        .fetch_all(query::<NameAge>(
            "SELECT name, age FROM users WHERE name = :who",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains(":who"), "{err}");
    let err = t
        .fetch_all(select::<User>().filter(text::<bool>("age > :min").bind("max", 1_i32)))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn raw_casts_literals_quoted_names_and_comments_are_left_alone() {
    let t = users_db().await;
    let q = query::<(String, i32, String, String)>(
        "SELECT ':not_a_param'::text, '42'::int4, :x::text AS \"odd:name\", \
         'it''s :also_not' -- :nor_this\n",
    )
    .bind("x", "bound".to_owned());
    let compiled = q.compile().unwrap();
    assert_eq!(compiled.params.len(), 1);
    assert!(compiled.sql.contains("$1::text"), "{}", compiled.sql);
    let row = t.fetch_one(q).await.unwrap();
    assert_eq!(
        row,
        (
            ":not_a_param".into(),
            42,
            "bound".into(),
            "it's :also_not".into()
        )
    );
}

// ================================================================ injection corpus

/// Strings that would break or subvert SQL built by concatenation. NUL is handled apart: text
/// cannot hold it.
const HOSTILE: &[&str] = &[
    "'",
    "''",
    "\\",
    "\\'",
    "$1",
    "$2::text",
    "'; DROP TABLE users; --",
    "\"; DROP TABLE users; --",
    "Robert'); DROP TABLE students;--",
    "＇ full-width apostrophe",
    "ʼ modifier apostrophe",
    "%",
    "_",
    "50%_off\\",
    "line\nbreak",
    "cr\r\nlf\ttab",
    "emoji 🎉 👩‍👩‍👧",
    ":name",
    "::text",
    "/* comment */",
    "-- comment",
    "E'\\x41'",
    "$$ dollar $$",
    "$tag$ x $tag$",
    "\u{202E}rtl override",
    "\u{FEFF}bom",
    "NULL",
    "",
    " ",
];

/// Compiles `make(value)` and `make("benign")`: the SQL text must not depend on the value, and
/// a distinctive value must not appear in it.
fn assert_value_not_in_sql<S: Statement>(value: &str, make: impl Fn(&str) -> S) {
    let hostile = make(value).compile().unwrap().sql;
    let benign = make("benign").compile().unwrap().sql;
    assert_eq!(
        hostile, benign,
        "the SQL text changed with the value {value:?}"
    );
    if value.chars().count() >= 3 {
        assert!(!hostile.contains(value), "{value:?} is in {hostile}");
    }
}

fn hostile_user(i: usize, v: &str) -> User {
    User {
        id: 0,
        name: v.to_owned(),
        email: Some(format!("{i}{v}")),
        age: i as i32,
    }
}

#[tokio::test]
async fn hostile_values_round_trip_through_every_value_path() {
    let t = users_db().await;

    // insert (VALUES)
    for (i, v) in HOSTILE.iter().enumerate() {
        assert_value_not_in_sql(v, |v| insert(&hostile_user(i, v)));
        let back = t.fetch_one(insert(&hostile_user(i, v))).await.unwrap();
        assert_eq!(back.name, *v);
        assert_eq!(back.email, Some(format!("{i}{v}")));
    }
    assert_eq!(count_users(&t.db).await, HOSTILE.len() as i64);
    let table_is_there = t.fetch_all(select::<User>()).await.unwrap();
    assert_eq!(table_is_there.len(), HOSTILE.len());

    for (i, v) in HOSTILE.iter().enumerate() {
        // filter eq
        assert_value_not_in_sql(v, |v| select::<User>().filter(User::name.eq(v)));
        let found = t
            .fetch_one(select::<User>().filter(User::name.eq(*v)))
            .await
            .unwrap();
        assert_eq!(found.email, Some(format!("{i}{v}")));

        // LIKE with the value escaped: matches itself only
        assert_value_not_in_sql(v, |v| {
            select::<User>().filter(User::name.like(escape_like(v)))
        });
        let like: Vec<String> = t
            .fetch_all(
                select::<User>()
                    .columns(User::name)
                    .filter(User::name.like(escape_like(v))),
            )
            .await
            .unwrap();
        assert_eq!(like, vec![(*v).to_owned()], "LIKE {v:?}");

        // contains: a literal substring, wildcards included
        let mut contains: Vec<String> = t
            .fetch_all(
                select::<User>()
                    .columns(User::name)
                    .filter(User::name.contains(v)),
            )
            .await
            .unwrap();
        contains.sort();
        let mut expected: Vec<String> = HOSTILE
            .iter()
            .filter(|h| h.contains(*v))
            .map(|h| (*h).to_owned())
            .collect();
        expected.sort();
        assert_eq!(contains, expected, "contains {v:?}");

        // is_in
        assert_value_not_in_sql(v, |v| {
            select::<User>().filter(User::name.is_in([v.to_owned()]))
        });
        let ids: Vec<i32> = t
            .fetch_all(
                select::<User>()
                    .columns(User::age)
                    .filter(User::name.is_in([(*v).to_owned(), "nobody".to_owned()])),
            )
            .await
            .unwrap();
        assert_eq!(ids, vec![i as i32]);

        // raw text binds
        let raw: i64 = t
            .fetch_one(
                select::<User>()
                    .filter(text::<bool>("\"users\".\"name\" = :v").bind("v", (*v).to_owned()))
                    .count(),
            )
            .await
            .unwrap();
        assert_eq!(raw, 1, "raw bind {v:?}");
        let echoed: String = t
            .fetch_one(query::<String>("SELECT :v::text").bind("v", (*v).to_owned()))
            .await
            .unwrap();
        assert_eq!(echoed, *v);
    }
    let all: i64 = t
        .fetch_one(
            select::<User>()
                .filter(User::name.is_in(HOSTILE.iter().map(|s| (*s).to_owned())))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(all, HOSTILE.len() as i64);

    // update set
    for (i, v) in HOSTILE.iter().enumerate() {
        let new = format!("{v}|{i}");
        assert_value_not_in_sql(&new, |v| {
            update::<User>().set(User::email, v).filter(User::age.eq(0))
        });
        let back: Option<String> = t
            .fetch_one(
                update::<User>()
                    .set(User::email, new.as_str())
                    .filter(User::name.eq(*v))
                    .returning(User::email),
            )
            .await
            .unwrap();
        assert_eq!(back, Some(new));
    }

    // upsert through EXCLUDED
    for (i, v) in HOSTILE.iter().enumerate() {
        let mut row = hostile_user(i, v);
        row.email = Some(format!("excluded {v}"));
        assert_value_not_in_sql(v, |v| {
            insert(&hostile_user(0, v))
                .on_conflict(User::name)
                .do_update(|u| u.set(User::email, excluded(User::email)))
        });
        let back = t
            .fetch_one(
                insert(&row)
                    .on_conflict(User::name)
                    .do_update(|u| u.set(User::email, excluded(User::email))),
            )
            .await
            .unwrap();
        assert_eq!(back.name, *v);
        assert_eq!(back.email, Some(format!("excluded {v}")));
    }
    assert_eq!(count_users(&t.db).await, HOSTILE.len() as i64);

    // delete by value
    for v in HOSTILE {
        assert_value_not_in_sql(v, |v| delete::<User>().filter(User::name.eq(v)));
        let n = t
            .execute(delete::<User>().filter(User::name.eq(*v)))
            .await
            .unwrap();
        assert_eq!(n, 1, "delete {v:?}");
    }
    assert_eq!(count_users(&t.db).await, 0);
}

#[tokio::test]
async fn hostile_values_round_trip_through_insert_many_and_upsert_many() {
    let t = users_db().await;
    let rows: Vec<User> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, v)| hostile_user(i, v))
        .collect();
    let sql = insert_many(&rows).compile().unwrap().sql;
    for v in HOSTILE.iter().filter(|v| v.chars().count() >= 3) {
        assert!(!sql.contains(v), "{v:?} in {sql}");
    }
    let back = t.fetch_all(insert_many(&rows)).await.unwrap();
    let names: Vec<&str> = back.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, HOSTILE);

    // The same rows again, with new emails, through EXCLUDED.
    let again: Vec<User> = rows
        .iter()
        .map(|u| User {
            email: Some(format!("{}#again", u.name)),
            ..u.clone()
        })
        .collect();
    let back = t
        .fetch_all(
            insert_many(&again)
                .on_conflict(User::name)
                .do_update(|u| u.set_excluded(User::email)),
        )
        .await
        .unwrap();
    assert_eq!(back.len(), HOSTILE.len());
    for (u, v) in back.iter().zip(HOSTILE) {
        assert_eq!(u.name, *v);
        assert_eq!(u.email, Some(format!("{v}#again")));
    }
}

#[tokio::test]
async fn nul_in_text_is_a_data_exception_on_every_path() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1)]).await;
    let nul = "a\0b";
    let errors = [
        t.execute(insert(&user(nul, 1))).await.unwrap_err(),
        t.execute(insert_many(&[user("ok", 1), user(nul, 2)]))
            .await
            .unwrap_err(),
        t.execute(update::<User>().set(User::name, nul))
            .await
            .unwrap_err(),
        t.fetch_all(select::<User>().filter(User::name.eq(nul)))
            .await
            .unwrap_err(),
        t.fetch_all(select::<User>().filter(User::name.is_in([nul.to_owned()])))
            .await
            .unwrap_err(),
        t.fetch_all(query::<String>("SELECT :v::text").bind("v", nul.to_owned()))
            .await
            .unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err.kind(), ErrorKind::DataException(_)), "{err:?}");
        assert_eq!(err.sqlstate(), Some("22021"));
    }
    assert_eq!(ages(&t.db).await, owned(&[("a", 1)]), "nothing was written");
}

#[tokio::test]
async fn limit_and_offset_are_numbers() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1), ("b", 2), ("c", 3)]).await;
    let q = |limit: i64, offset: i64| {
        select::<User>()
            .columns(User::name)
            .order_by(User::name)
            .limit(limit)
            .offset(offset)
    };
    assert_eq!(
        q(1, 0).compile().unwrap().sql,
        q(i64::MAX, 2).compile().unwrap().sql
    );
    assert_eq!(t.fetch_all(q(i64::MAX, 1)).await.unwrap(), ["b", "c"]);
    assert_eq!(
        t.fetch_all(q(1, i64::MAX)).await.unwrap(),
        Vec::<String>::new()
    );
    for (limit, offset, state) in [(-1, 0, "2201W"), (1, -1, "2201X")] {
        let err = t.fetch_all(q(limit, offset)).await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::DataException(_)), "{err:?}");
        assert_eq!(err.sqlstate(), Some(state));
    }
}

// ================================================================ hostile identifiers

/// A table named `user` (reserved) in a schema with a space, with a column named with a
/// quote, capitals and spaces.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "user", schema = "My App")]
struct Member {
    #[model(primary_key, generated, column = "ID")]
    id: i64,
    #[model(column = "Select\"Me", unique)]
    select_me: String,
    #[model(column = "group by")]
    group: Option<i32>,
}

/// `order` (reserved), referencing `user`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "order", schema = "My App")]
struct Purchase {
    #[model(primary_key, generated, column = "Order")]
    id: i64,
    #[model(
        column = "User ID",
        references = "user.ID",
        on_delete = "cascade",
        index
    )]
    member: i64,
    #[model(column = "from")]
    from: String,
}

orm_postgres::alias!(Friend = Member);

#[derive(Debug, PartialEq, FromRow)]
struct MemberPurchase {
    name: String,
    from: String,
}

fn member(name: &str) -> Member {
    Member {
        id: 0,
        select_me: name.into(),
        group: None,
    }
}

#[tokio::test]
async fn quoted_reserved_and_spaced_identifiers_work_everywhere() {
    let t = test_database().await.unwrap();
    t.create_all(&[Purchase::TABLE, Member::TABLE])
        .await
        .unwrap();
    t.create_all(&[Purchase::TABLE, Member::TABLE])
        .await
        .expect("create_all is idempotent");

    // insert, insert_many
    let ann = t.fetch_one(insert(&member("Ann \"A\""))).await.unwrap();
    let others = t
        .fetch_all(insert_many(&[member("bob's"), member("select")]))
        .await
        .unwrap();
    let bob = &others[0];
    for (m, from) in [(&ann, "x"), (&ann, "y"), (bob, "z")] {
        t.execute(insert(&Purchase {
            id: 0,
            member: m.id,
            from: from.into(),
        }))
        .await
        .unwrap();
    }

    // select with a filter and a join on the declared foreign key, into a FromRow struct
    let rows = t
        .fetch_all(
            select::<Purchase>()
                .join_fk::<Member>()
                .filter(Member::select_me.eq("Ann \"A\""))
                .columns((Member::select_me, Purchase::from))
                .order_by(Purchase::from)
                .into_rows::<MemberPurchase>(),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            MemberPurchase {
                name: "Ann \"A\"".into(),
                from: "x".into()
            },
            MemberPurchase {
                name: "Ann \"A\"".into(),
                from: "y".into()
            },
        ]
    );

    // update, and update ... from
    let n = t
        .execute(
            update::<Member>()
                .set(Member::group, Some(7))
                .filter(Member::select_me.ne("select")),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let renamed: Vec<String> = t
        .fetch_all(
            update::<Purchase>()
                .from::<Member>()
                .set(Purchase::from, Member::select_me.concat(" bought"))
                .filter(Member::id.eq(Purchase::member) & Member::group.eq(7))
                .returning(Purchase::from),
        )
        .await
        .unwrap();
    assert_eq!(renamed.len(), 3);
    assert!(renamed.contains(&"bob's bought".to_owned()));

    // self-join through an alias
    let pairs: Vec<(String, Option<String>)> = t
        .fetch_all(
            select::<Member>()
                .left_join::<Friend>(
                    Friend::col(Member::group).eq(Member::group)
                        & Friend::col(Member::id).ne(Member::id),
                )
                .columns((Member::select_me, Friend::col(Member::select_me)))
                .order_by(Member::select_me),
        )
        .await
        .unwrap();
    assert_eq!(
        pairs,
        vec![
            ("Ann \"A\"".into(), Some("bob's".into())),
            ("bob's".into(), Some("Ann \"A\"".into())),
            ("select".into(), None),
        ]
    );

    // upsert on the quoted unique column
    let upserted = t
        .fetch_one(
            insert(&Member {
                id: 0,
                select_me: "select".into(),
                group: Some(1),
            })
            .on_conflict(Member::select_me)
            .do_update(|u| u.set_all_excluded().where_(Member::group.is_null())),
        )
        .await
        .unwrap();
    assert_eq!(upserted.group, Some(1));
    assert_eq!(upserted.id, others[1].id);

    // delete ... using, then delete
    let gone: Vec<String> = t
        .fetch_all(
            delete::<Purchase>()
                .using::<Member>()
                .filter(Member::id.eq(Purchase::member) & Member::select_me.eq("bob's"))
                .returning(Purchase::from),
        )
        .await
        .unwrap();
    assert_eq!(gone, vec!["bob's bought".to_owned()]);
    let n = t
        .execute(delete::<Member>().filter(Member::id.eq(ann.id)))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let left: i64 = t.fetch_one(select::<Purchase>().count()).await.unwrap();
    assert_eq!(left, 0, "the cascade removed ann's purchases");
}
