//! UPDATE ... FROM, DELETE ... USING.

use super::*;

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
