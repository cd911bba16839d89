//! Upserts.

use super::*;

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
