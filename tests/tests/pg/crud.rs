//! Insert, select, update and delete through the typed builder.

use futures_util::TryStreamExt;
use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_tests::{Enrollment, Order, User};

use crate::{add_users, users_db};

#[tokio::test]
async fn insert_returns_generated_key_and_defaults() {
    let t = users_db().await;
    let jane = t.fetch_one(insert(&User::new("Jane"))).await.unwrap();
    assert!(jane.id > 0);
    assert_eq!(jane.name, "Jane");
    assert_eq!(jane.age, 0);
    let john = t.fetch_one(insert(&User::new("John"))).await.unwrap();
    assert_eq!(john.id, jane.id + 1);
}

#[tokio::test]
async fn insert_many_returns_rows_in_order_with_sql_independent_of_count() {
    let t = users_db().await;
    let names: Vec<String> = (0..50).map(|i| format!("user{i:02}")).collect();
    let users: Vec<User> = names.iter().map(|n| User::new(n)).collect();
    let two = insert_many(&users[..2]).compile().unwrap();
    let fifty = insert_many(&users).compile().unwrap();
    assert_eq!(
        two.sql, fifty.sql,
        "multi-row insert SQL must not depend on row count"
    );
    assert_eq!(two.params.len(), fifty.params.len());

    let inserted = t.fetch_all(insert_many(&users)).await.unwrap();
    assert_eq!(inserted.len(), 50);
    for (i, u) in inserted.iter().enumerate() {
        assert_eq!(u.name, names[i]);
        assert!(u.id > 0);
    }
    let count = t.fetch_one(select::<User>().count()).await.unwrap();
    assert_eq!(count, 50);

    // No rows: nothing inserted, no error.
    let none = t.fetch_all(insert_many::<User>(&[])).await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn comparison_and_boolean_filters() {
    let t = users_db().await;
    let users = add_users(&t.db, &["a", "b", "c", "d", "e"]).await;
    for (i, u) in users.iter().enumerate() {
        t.execute(
            update::<User>()
                .set(User::age, (i as i32 + 1) * 10)
                .filter(User::id.eq(u.id)),
        )
        .await
        .unwrap();
    }
    let names = |q: Select<User>| {
        let db = t.db.clone();
        async move {
            db.fetch_all(q.order_by(User::name))
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names(select::<User>().filter(User::age.eq(30))).await,
        ["c"]
    );
    assert_eq!(
        names(select::<User>().filter(User::age.ne(30))).await,
        ["a", "b", "d", "e"]
    );
    assert_eq!(
        names(select::<User>().filter(User::age.lt(30))).await,
        ["a", "b"]
    );
    assert_eq!(
        names(select::<User>().filter(User::age.le(30))).await,
        ["a", "b", "c"]
    );
    assert_eq!(
        names(select::<User>().filter(User::age.gt(30))).await,
        ["d", "e"]
    );
    assert_eq!(
        names(select::<User>().filter(User::age.ge(30))).await,
        ["c", "d", "e"]
    );
    assert_eq!(
        names(select::<User>().filter(User::age.between(20, 40))).await,
        ["b", "c", "d"]
    );
    assert_eq!(
        names(select::<User>().filter(User::age.not_between(20, 40))).await,
        ["a", "e"]
    );
    assert_eq!(
        names(select::<User>().filter(User::age.lt(20).or(User::age.gt(40)))).await,
        ["a", "e"]
    );
    assert_eq!(
        names(select::<User>().filter(User::age.gt(10) & User::age.lt(50) & !User::name.eq("c")))
            .await,
        ["b", "d"]
    );
    // Filters accumulate with AND.
    assert_eq!(
        names(
            select::<User>()
                .filter(User::age.gt(10))
                .filter(User::age.lt(30))
        )
        .await,
        ["b"]
    );
    // Dynamic composition from optional input.
    let min_age: Option<i32> = Some(20);
    let name_prefix: Option<&str> = None;
    let conds = [
        min_age.map(|a| User::age.ge(a)),
        name_prefix.map(|p| User::name.starts_with(p)),
    ];
    assert_eq!(
        names(select::<User>().filter(func::all(conds.into_iter().flatten()))).await,
        ["b", "c", "d", "e"]
    );
    assert_eq!(
        names(select::<User>().filter(func::any([]))).await,
        Vec::<String>::new()
    );
}

/// A condition of thousands of `OR`ed (or `AND`ed) terms, as `func::any` over a list a user
/// sent: one flat list in the tree, so compiling, printing and dropping it take no stack per
/// term (a chain of 5,000 once overflowed a 2 MiB stack and aborted the process).
#[tokio::test]
async fn thousands_of_conditions_compile_flat_and_run() {
    let t = users_db().await;
    add_users(&t.db, &["a", "b", "c"]).await;
    let names = |q: Select<User>| {
        let db = t.db.clone();
        async move {
            let users = db.fetch_all(q.order_by(User::name)).await.unwrap();
            users.into_iter().map(|u| u.name).collect::<Vec<_>>()
        }
    };
    let mut wanted: Vec<String> = (0..20_000).map(|i| format!("x{i}")).collect();
    wanted.push("b".into());
    let q = select::<User>().filter(func::any(wanted.iter().map(|n| User::name.eq(n.clone()))));
    let sql = q.compile().unwrap().sql;
    assert_eq!(sql.matches(" OR ").count(), 20_000);
    assert!(!sql.contains("(("), "flat, not nested: {}", &sql[..200]);
    assert_eq!(names(q).await, ["b"]);
    // Filters added in a loop build the same flat list.
    let mut q = select::<User>();
    for i in 0..10_000 {
        q = q.filter(User::name.ne(format!("x{i}")));
    }
    assert_eq!(names(q).await, ["a", "b", "c"]);
}

#[tokio::test]
async fn in_and_not_in_use_one_array_parameter() {
    let t = users_db().await;
    add_users(&t.db, &["a", "b", "c"]).await;
    let q1 = select::<User>()
        .filter(User::name.is_in(["a"]))
        .compile()
        .unwrap();
    let q3 = select::<User>()
        .filter(User::name.is_in(["a", "b", "c"]))
        .compile()
        .unwrap();
    assert_eq!(q1.sql, q3.sql);
    assert!(q1.sql.contains("= ANY($1)"), "{}", q1.sql);

    let found = t
        .fetch_all(
            select::<User>()
                .filter(User::name.is_in(["a", "c", "zzz"]))
                .order_by(User::name),
        )
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["a", "c"]
    );
    let found = t
        .fetch_all(
            select::<User>()
                .filter(User::name.not_in(["a"]))
                .order_by(User::name),
        )
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["b", "c"]
    );
    // Empty lists: IN () matches nothing, NOT IN () matches everything.
    let none: Vec<String> = Vec::new();
    assert_eq!(
        t.fetch_one(
            select::<User>()
                .filter(User::name.is_in(none.clone()))
                .count()
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        t.fetch_one(select::<User>().filter(User::name.not_in(none)).count())
            .await
            .unwrap(),
        3
    );
    // Integer lists.
    let ids: Vec<i64> = t
        .fetch_all(select::<User>().columns(User::id))
        .await
        .unwrap();
    let n = t
        .fetch_one(select::<User>().filter(User::id.is_in(ids.clone())).count())
        .await
        .unwrap();
    assert_eq!(n, 3);
}

#[tokio::test]
async fn null_checks_and_optional_values() {
    let t = users_db().await;
    let users = add_users(&t.db, &["a", "b"]).await;
    t.execute(
        update::<User>()
            .set(User::email, "a@example.com")
            .filter(User::id.eq(users[0].id)),
    )
    .await
    .unwrap();
    let with: Vec<String> = t
        .fetch_all(
            select::<User>()
                .filter(User::email.is_not_null())
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(with, ["a"]);
    let without: Vec<String> = t
        .fetch_all(
            select::<User>()
                .filter(User::email.is_null())
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(without, ["b"]);
    // Comparing a nullable column with a plain value, and setting NULL back.
    let n = t
        .fetch_one(
            select::<User>()
                .filter(User::email.eq("a@example.com"))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    t.execute(update::<User>().set(User::email, None::<String>))
        .await
        .unwrap();
    let n = t
        .fetch_one(select::<User>().filter(User::email.is_null()).count())
        .await
        .unwrap();
    assert_eq!(n, 2);
}

/// The names of the users `filter` matches, sorted.
async fn names_where(db: &impl Executor, filter: Expr<bool>) -> Vec<String> {
    let mut names: Vec<String> = db
        .fetch_all(select::<User>().filter(filter).columns(User::name))
        .await
        .unwrap();
    names.sort();
    names
}

/// `IS [NOT] DISTINCT FROM` treat `NULL` as a value; `=` and `<>` with a `NULL` side are
/// unknown, so a filter drops those rows.
#[tokio::test]
async fn distinct_from_compares_nulls_where_eq_does_not() {
    let t = users_db().await;
    let users = add_users(&t.db, &["a", "b", "c"]).await;
    t.execute(
        update::<User>()
            .set(User::email, "a@example.com")
            .filter(User::id.eq(users[0].id)),
    )
    .await
    .unwrap();
    let names = |filter: Expr<bool>| names_where(&t.db, filter);
    let none: Option<&str> = None;
    // `= NULL` matches nothing; `IS NOT DISTINCT FROM NULL` the two rows holding NULL.
    assert!(names(User::email.eq(none)).await.is_empty());
    assert_eq!(
        names(User::email.is_not_distinct_from(none)).await,
        ["b", "c"]
    );
    // `<> NULL` matches nothing; `IS DISTINCT FROM NULL` the row holding a value.
    assert!(names(User::email.ne(none)).await.is_empty());
    assert_eq!(names(User::email.is_distinct_from(none)).await, ["a"]);
    // Against a value: `<>` drops the NULL rows, `IS DISTINCT FROM` keeps them.
    assert!(names(User::email.ne("a@example.com")).await.is_empty());
    assert_eq!(
        names(User::email.is_distinct_from("a@example.com")).await,
        ["b", "c"]
    );
    assert_eq!(
        names(User::email.is_not_distinct_from(Some("a@example.com".to_string()))).await,
        ["a"]
    );
    // Between two columns, one of them NULL: `<>` is unknown, `IS DISTINCT FROM` true.
    assert_eq!(names(User::name.ne(User::email)).await, ["a"]);
    assert_eq!(
        names(User::name.is_distinct_from(User::email)).await,
        ["a", "b", "c"]
    );
}

#[tokio::test]
async fn like_helpers_escape_wildcards() {
    let t = users_db().await;
    add_users(
        &t.db,
        &[
            "50%_off",
            "5000_off",
            "50a_off",
            r"back\slash",
            "Alpha",
            "alphabet",
        ],
    )
    .await;
    let q = |filter: Expr<bool>| names_where(&t.db, filter);
    assert_eq!(q(User::name.contains("%_")).await, ["50%_off"]);
    assert_eq!(q(User::name.starts_with("50%")).await, ["50%_off"]);
    assert_eq!(
        q(User::name.ends_with("_off")).await,
        ["50%_off", "5000_off", "50a_off"]
    );
    assert_eq!(q(User::name.contains(r"\")).await, [r"back\slash"]);
    // Raw patterns keep their wildcards.
    assert_eq!(
        q(User::name.like("50_\\_off")).await,
        ["50%_off", "50a_off"]
    );
    assert_eq!(q(User::name.like("Alpha%")).await, ["Alpha"]);
    assert_eq!(q(User::name.ilike("alpha%")).await, ["Alpha", "alphabet"]);
    assert_eq!(
        q(User::name.not_ilike("%a%")).await,
        ["50%_off", "5000_off"]
    );
    assert_eq!(
        q(User::name.not_like("%0%")).await,
        ["Alpha", "alphabet", r"back\slash"]
    );
}

#[tokio::test]
async fn order_limit_offset_and_nulls() {
    let t = users_db().await;
    let users = add_users(&t.db, &["a", "b", "c", "d"]).await;
    t.execute(
        update::<User>()
            .set(User::email, "x")
            .filter(User::id.is_in([users[1].id, users[3].id])),
    )
    .await
    .unwrap();
    let page: Vec<String> = t
        .fetch_all(
            select::<User>()
                .order_by(User::name.desc())
                .limit(2)
                .offset(1)
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(page, ["c", "b"]);
    let nulls_first: Vec<String> = t
        .fetch_all(
            select::<User>()
                .order_by(User::email.asc().nulls_first())
                .order_by(User::name)
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(nulls_first, ["a", "c", "b", "d"]);
    let nulls_last: Vec<String> = t
        .fetch_all(
            select::<User>()
                .order_by(User::email.desc().nulls_last())
                .order_by(User::name.desc())
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(nulls_last, ["d", "b", "c", "a"]);
    // LIMIT and OFFSET are parameters: the SQL does not change with them.
    assert_eq!(
        select::<User>().limit(1).compile().unwrap().sql,
        select::<User>().limit(100).compile().unwrap().sql
    );
}

#[tokio::test]
async fn tuples_count_exists_distinct() {
    let t = users_db().await;
    let users = add_users(&t.db, &["a", "b", "c"]).await;
    t.execute(update::<User>().set(User::age, 7)).await.unwrap();
    let rows: Vec<(i64, String, Option<String>)> = t
        .fetch_all(
            select::<User>()
                .order_by(User::id)
                .columns((User::id, User::name, User::email)),
        )
        .await
        .unwrap();
    assert_eq!(rows[0], (users[0].id, "a".to_string(), None));
    assert_eq!(rows.len(), 3);

    assert_eq!(t.fetch_one(select::<User>().count()).await.unwrap(), 3);
    assert_eq!(
        t.fetch_one(select::<User>().filter(User::name.eq("zz")).count())
            .await
            .unwrap(),
        0
    );
    // count over a limited query counts what the query returns.
    assert_eq!(
        t.fetch_one(select::<User>().limit(2).count())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        t.fetch_one(select::<User>().columns(User::age).distinct().count())
            .await
            .unwrap(),
        1
    );
    assert!(
        t.fetch_one(select::<User>().filter(User::name.eq("a")).exists())
            .await
            .unwrap()
    );
    assert!(
        !t.fetch_one(select::<User>().filter(User::name.eq("zz")).exists())
            .await
            .unwrap()
    );
    let ages: Vec<i32> = t
        .fetch_all(select::<User>().columns(User::age).distinct())
        .await
        .unwrap();
    assert_eq!(ages, [7]);
    // Expressions in the select list.
    let next_ages: Vec<i32> = t
        .fetch_all(
            select::<User>()
                .order_by(User::id)
                .columns(User::age.add(1)),
        )
        .await
        .unwrap();
    assert_eq!(next_ages, [8, 8, 8]);
    let n: i64 = t
        .fetch_one(select_values(func::count_star()))
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn fetch_one_and_optional_check_row_counts() {
    let t = users_db().await;
    add_users(&t.db, &["a", "b"]).await;
    let e = t
        .fetch_one(select::<User>().filter(User::name.eq("zz")))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(matches!(
        e.kind(),
        ErrorKind::RowCount {
            expected: 1,
            actual: 0
        }
    ));
    let e = t.fetch_one(select::<User>()).await.unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::RowCount {
                expected: 1,
                actual: 2
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "expected 1 row, got 2");
    assert!(
        t.fetch_optional(select::<User>().filter(User::name.eq("zz")))
            .await
            .unwrap()
            .is_none()
    );
    let a = t
        .fetch_optional(select::<User>().filter(User::name.eq("a")))
        .await
        .unwrap();
    assert_eq!(a.map(|u| u.name).as_deref(), Some("a"));
    let e = t.fetch_optional(select::<User>()).await.unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::RowCount {
            expected: 1,
            actual: 2
        }
    ));
    // The connection stays usable after a row-count error.
    assert_eq!(t.fetch_one(select::<User>().count()).await.unwrap(), 2);
}

#[tokio::test]
async fn update_and_delete_with_returning() {
    let t = users_db().await;
    let users = add_users(&t.db, &["a", "b", "c"]).await;
    let updated: Vec<(i64, i32)> = t
        .fetch_all(
            update::<User>()
                .set(User::age, User::age.add(5))
                .filter(User::name.ne("b"))
                .returning((User::id, User::age)),
        )
        .await
        .unwrap();
    assert_eq!(updated.len(), 2);
    assert!(updated.iter().all(|(_, age)| *age == 5));
    let n = t
        .execute(
            update::<User>()
                .set(User::age, 1)
                .filter(User::name.eq("b")),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let b: User = t
        .fetch_one(
            update::<User>()
                .set(User::email, "b@x")
                .filter(User::name.eq("b"))
                .returning_model(),
        )
        .await
        .unwrap();
    assert_eq!((b.age, b.email.as_deref()), (1, Some("b@x")));

    // Saving a whole object by its key.
    let mut c = users[2].clone();
    c.name = "see".into();
    c.age = 42;
    let saved = t.fetch_one(update_model(&c)).await.unwrap();
    assert_eq!(saved, c);
    let reread = t.fetch_one(select::<User>().by_pk(c.id)).await.unwrap();
    assert_eq!(reread, c);

    let deleted: Vec<String> = t
        .fetch_all(
            delete::<User>()
                .filter(User::age.eq(5))
                .returning(User::name),
        )
        .await
        .unwrap();
    assert_eq!(deleted, ["a"]);
    assert_eq!(t.execute(delete_model(&users[1])).await.unwrap(), 1);
    assert_eq!(t.execute(delete_model(&users[1])).await.unwrap(), 0);
    assert_eq!(t.fetch_one(select::<User>().count()).await.unwrap(), 1);
}

#[tokio::test]
async fn orders_of_one_user_and_cascade() {
    let t = users_db().await;
    let users = add_users(&t.db, &["jane", "john"]).await;
    let orders: Vec<Order> = [(0, 100), (0, 250), (1, 80)]
        .iter()
        .map(|&(u, total)| Order {
            id: 0,
            user_id: users[u].id,
            total,
            note: None,
        })
        .collect();
    t.fetch_all(insert_many(&orders)).await.unwrap();
    let janes: Vec<i32> = t
        .fetch_all(
            select::<Order>()
                .filter(Order::user_id.eq(users[0].id))
                .order_by(Order::total)
                .columns(Order::total),
        )
        .await
        .unwrap();
    assert_eq!(janes, [100, 250]);
    // ON DELETE CASCADE from the declared foreign key.
    t.execute(delete_model(&users[0])).await.unwrap();
    assert_eq!(t.fetch_one(select::<Order>().count()).await.unwrap(), 1);
}

#[tokio::test]
async fn composite_primary_key() {
    let t = orm_testing::test_database().await.unwrap();
    t.create_all(&[Enrollment::TABLE]).await.unwrap();
    let rows = vec![
        Enrollment {
            student: 1,
            course: "math".into(),
            grade: None,
        },
        Enrollment {
            student: 1,
            course: "art".into(),
            grade: Some(3),
        },
        Enrollment {
            student: 2,
            course: "math".into(),
            grade: Some(5),
        },
    ];
    t.fetch_all(insert_many(&rows)).await.unwrap();
    let e = t
        .fetch_one(select::<Enrollment>().by_pk((1, "math".to_string())))
        .await
        .unwrap();
    assert_eq!(e, rows[0]);
    let mut changed = rows[0].clone();
    changed.grade = Some(4);
    assert_eq!(t.fetch_one(update_model(&changed)).await.unwrap(), changed);
    assert_eq!(changed.pk(), (1, "math".to_string()));
    // The same (student, course) twice violates the composite key.
    let err = t.fetch_one(insert(&rows[2])).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    assert_eq!(err.constraint(), Some("enrollment_pkey"));
    assert_eq!(t.execute(delete_model(&rows[1])).await.unwrap(), 1);
    assert_eq!(
        t.fetch_one(select::<Enrollment>().count()).await.unwrap(),
        2
    );
}

#[tokio::test]
async fn stream_reads_rows_one_at_a_time() {
    let t = users_db().await;
    let names: Vec<String> = (0..1000).map(|i| format!("u{i:04}")).collect();
    let users: Vec<User> = names.iter().map(|n| User::new(n)).collect();
    t.execute(insert_many(&users)).await.unwrap();
    let stream = t
        .stream(select::<User>().order_by(User::name))
        .await
        .unwrap();
    let got: Vec<User> = stream.try_collect().await.unwrap();
    assert_eq!(got.len(), 1000);
    assert_eq!(got[999].name, "u0999");
    // Stop early: the connection is discarded, and the next call works.
    {
        let mut stream = t.stream(select::<User>()).await.unwrap();
        let first = stream.try_next().await.unwrap();
        assert!(first.is_some());
    }
    assert_eq!(t.fetch_one(select::<User>().count()).await.unwrap(), 1000);
}
