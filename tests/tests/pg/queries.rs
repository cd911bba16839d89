//! Joins, subqueries, CTEs, set operations, grouping and pagination against real data.

use orm_postgres::prelude::*;
use orm_postgres::{ErrorKind, alias, derived};
use orm_testing::{TestDatabase, test_database};
use orm_tests::{Order, User};

/// Employees with a manager: a self-referencing table.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "employee")]
pub struct Employee {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    #[model(references = "employee.id")]
    pub manager_id: Option<i32>,
}

alias!(Manager = Employee);

/// users: ann(3 orders: 10, 20, 300), bob(1 order: 50), cid(no orders).
/// employees: 1 ceo <- 2 vp <- 3 dev, 4 ops <- 2; 5 solo (no manager).
async fn shop() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[User::TABLE, Order::TABLE, Employee::TABLE])
        .await
        .unwrap();
    let users = t
        .fetch_all(insert_many(&[
            User::new("ann"),
            User::new("bob"),
            User::new("cid"),
        ]))
        .await
        .unwrap();
    let order = |u: usize, total: i32| Order {
        id: 0,
        user_id: users[u].id,
        total,
        note: None,
    };
    t.execute(insert_many(&[
        order(0, 10),
        order(0, 20),
        order(0, 300),
        order(1, 50),
    ]))
    .await
    .unwrap();
    let e = |id: i32, name: &str, manager_id: Option<i32>| Employee {
        id,
        name: name.into(),
        manager_id,
    };
    t.execute(insert_many(&[
        e(1, "ceo", None),
        e(2, "vp", Some(1)),
        e(3, "dev", Some(2)),
        e(4, "ops", Some(2)),
        e(5, "solo", None),
    ]))
    .await
    .unwrap();
    t
}

#[tokio::test]
async fn inner_left_right_full_and_fk_joins() {
    let t = shop().await;
    let inner: Vec<(String, i32)> = t
        .fetch_all(
            select::<User>()
                .join::<Order>(Order::user_id.eq(User::id))
                .order_by(User::name)
                .order_by(Order::total)
                .columns((User::name, Order::total)),
        )
        .await
        .unwrap();
    assert_eq!(
        inner,
        [
            ("ann".into(), 10),
            ("ann".into(), 20),
            ("ann".into(), 300),
            ("bob".into(), 50)
        ]
    );

    // The outer side comes back as Option, typed.
    let left: Vec<(String, Option<i32>)> = t
        .fetch_all(
            select::<User>()
                .left_join::<Order>(Order::user_id.eq(User::id).and(Order::total.gt(40)))
                .order_by(User::name)
                .columns((User::name, Order::total)),
        )
        .await
        .unwrap();
    assert_eq!(
        left,
        [
            ("ann".into(), Some(300)),
            ("bob".into(), Some(50)),
            ("cid".into(), None)
        ]
    );

    // Whole models, the outer one optional.
    let pairs: Vec<(User, Option<Order>)> = t
        .fetch_all(
            select::<User>()
                .left_join_fk::<Order>()
                .filter(User::name.ne("ann"))
                .order_by(User::name)
                .columns((User::star(), Order::star())),
        )
        .await
        .unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0].1.as_ref().map(|o| o.total), Some(50));
    assert!(pairs[1].1.is_none());

    // RIGHT JOIN makes the earlier sources optional.
    let right: Vec<(Option<String>, i32)> = t
        .fetch_all(
            select::<User>()
                .right_join::<Order>(Order::user_id.eq(User::id).and(User::name.eq("bob")))
                .order_by(Order::total)
                .columns((User::name, Order::total)),
        )
        .await
        .unwrap();
    assert_eq!(
        right,
        [
            (None, 10),
            (None, 20),
            (Some("bob".into()), 50),
            (None, 300)
        ]
    );

    // FULL JOIN: both sides optional.
    let full: Vec<(Option<String>, Option<i32>)> = t
        .fetch_all(
            select::<User>()
                .full_join::<Order>(Order::user_id.eq(User::id).and(Order::total.gt(100)))
                .order_by(User::name)
                .order_by(Order::total)
                .columns((User::name, Order::total)),
        )
        .await
        .unwrap();
    assert_eq!(
        full,
        [
            (Some("ann".into()), Some(300)),
            (Some("bob".into()), None),
            (Some("cid".into()), None),
            (None, Some(10)),
            (None, Some(20)),
            (None, Some(50)),
        ]
    );

    let fk: i64 = t
        .fetch_one(
            select::<Order>()
                .join_fk::<User>()
                .filter(User::name.eq("ann"))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(fk, 3);
    let cross: i64 = t
        .fetch_one(select::<User>().cross_join::<Order>().count())
        .await
        .unwrap();
    assert_eq!(cross, 12);
}

#[tokio::test]
async fn self_join_through_an_alias() {
    let t = shop().await;
    let rows: Vec<(String, Option<String>)> = t
        .fetch_all(
            select::<Employee>()
                .left_join::<Manager>(Manager::col(Employee::id).eq(Employee::manager_id))
                .order_by(Employee::id)
                .columns((Employee::name, Manager::col(Employee::name))),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            ("ceo".into(), None),
            ("vp".into(), Some("ceo".into())),
            ("dev".into(), Some("vp".into())),
            ("ops".into(), Some("vp".into())),
            ("solo".into(), None),
        ]
    );
}

#[tokio::test]
async fn subqueries_in_filters_select_lists_and_from() {
    let t = shop().await;
    // IN (subquery)
    let big_spenders: Vec<String> = t
        .fetch_all(
            select::<User>()
                .filter(
                    User::id.in_query(
                        select::<Order>()
                            .filter(Order::total.gt(40))
                            .columns(Order::user_id),
                    ),
                )
                .order_by(User::name)
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(big_spenders, ["ann", "bob"]);
    // NOT EXISTS, correlated.
    let without: Vec<String> = t
        .fetch_all(
            select::<User>()
                .filter(!exists(
                    select::<Order>().filter(Order::user_id.eq(User::id)),
                ))
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(without, ["cid"]);
    // A correlated scalar subquery in the select list.
    let counts: Vec<(String, Option<i64>)> = t
        .fetch_all(
            select::<User>().order_by(User::name).columns((
                User::name,
                select::<Order>()
                    .filter(Order::user_id.eq(User::id))
                    .count()
                    .scalar(),
            )),
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        [
            ("ann".into(), Some(3)),
            ("bob".into(), Some(1)),
            ("cid".into(), Some(0))
        ]
    );
    // A subquery in FROM with typed columns, joined back.
    let (big, (big_user, big_total)) = select::<Order>()
        .filter(Order::total.ge(50))
        .columns((Order::user_id, Order::total))
        .subquery("big");
    let rows: Vec<(String, i32)> = t
        .fetch_all(
            select::<User>()
                .join_derived(&big, big_user.eq(User::id))
                .order_by(big_total.desc())
                .columns((User::name, big_total)),
        )
        .await
        .unwrap();
    assert_eq!(rows, [("ann".into(), 300), ("bob".into(), 50)]);
    let from_sub: Vec<i32> = t
        .fetch_all(
            select_from(&big)
                .filter(big_total.lt(100))
                .columns(big_total),
        )
        .await
        .unwrap();
    assert_eq!(from_sub, [50]);
}

#[tokio::test]
async fn lateral_join_takes_the_top_order_per_user() {
    let t = shop().await;
    let (top, (top_total,)) = select::<Order>()
        .filter(Order::user_id.eq(User::id))
        .order_by(Order::total.desc())
        .limit(1)
        .columns((Order::total,))
        .subquery("top");
    let rows: Vec<(String, i32)> = t
        .fetch_all(
            select::<User>()
                .join_lateral(&top)
                .order_by(User::name)
                .columns((User::name, top_total)),
        )
        .await
        .unwrap();
    assert_eq!(rows, [("ann".into(), 300), ("bob".into(), 50)]);
    let rows: Vec<(String, Option<i32>)> = t
        .fetch_all(
            select::<User>()
                .left_join_lateral(&top)
                .order_by(User::name)
                .columns((User::name, top_total.nullable())),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            ("ann".into(), Some(300)),
            ("bob".into(), Some(50)),
            ("cid".into(), None)
        ]
    );
}

derived!(Spend = "spend");
derived!(Top = "top");

/// The outer side of a derived-table join, named by a `derived!` type, comes back as `Option`:
/// cid has no orders, so no row in the subquery, the lateral subquery or the CTE, and decodes
/// to `None` (a string-named table's handles would be a decode error there).
#[tokio::test]
async fn outer_joined_derived_tables_decode_missing_rows_to_none() {
    let t = shop().await;
    let (spend, (spend_user, spend_sum)) = select::<Order>()
        .group_by(Order::user_id)
        .columns((
            Order::user_id,
            func::label(func::sum(Order::total), "total"),
        ))
        .subquery(Spend);
    let q = select::<User>()
        .left_join_derived(&spend, spend_user.eq(User::id))
        .order_by(User::name)
        .columns((User::name, spend_user, spend_sum));
    insta::assert_snapshot!("left_join_derived_subquery", q.compile().unwrap().sql);
    let rows: Vec<(String, Option<i64>, Option<i64>)> = t.fetch_all(q).await.unwrap();
    let ids = |name: &str| rows.iter().find(|r| r.0 == name).and_then(|r| r.1);
    assert!(ids("ann").is_some() && ids("bob").is_some());
    assert_eq!(
        rows.iter().map(|r| (r.0.as_str(), r.2)).collect::<Vec<_>>(),
        [("ann", Some(330)), ("bob", Some(50)), ("cid", None)]
    );

    let (top, top_total) = select::<Order>()
        .filter(Order::user_id.eq(User::id))
        .order_by(Order::total.desc())
        .limit(1)
        .columns(Order::total)
        .subquery(Top);
    let q = select::<User>()
        .left_join_lateral(&top)
        .order_by(User::name)
        .columns((User::name, top_total));
    insta::assert_snapshot!("left_join_lateral_subquery", q.compile().unwrap().sql);
    let rows: Vec<(String, Option<i32>)> = t.fetch_all(q).await.unwrap();
    assert_eq!(
        rows,
        [
            ("ann".into(), Some(300)),
            ("bob".into(), Some(50)),
            ("cid".into(), None)
        ]
    );

    let (spend, (spend_user, spend_orders)) = select::<Order>()
        .group_by(Order::user_id)
        .columns((Order::user_id, func::label(func::count_star(), "n")))
        .cte(Spend);
    let q = select::<User>()
        .left_join_derived(&spend, spend_user.eq(User::id))
        .order_by(User::name)
        .columns((User::name, spend_orders));
    insta::assert_snapshot!("left_join_cte", q.compile().unwrap().sql);
    let rows: Vec<(String, Option<i64>)> = t.fetch_all(q).await.unwrap();
    assert_eq!(
        rows,
        [
            ("ann".into(), Some(3)),
            ("bob".into(), Some(1)),
            ("cid".into(), None)
        ]
    );

    // Inner-joined, the same named CTE's handles are plain values.
    let rows: Vec<(String, i64)> = t
        .fetch_all(
            select::<User>()
                .join_derived(&spend, spend_user.eq(User::id))
                .order_by(User::name)
                .columns((User::name, spend_orders)),
        )
        .await
        .unwrap();
    assert_eq!(rows, [("ann".into(), 3), ("bob".into(), 1)]);
}

#[tokio::test]
async fn ctes_plain_and_recursive() {
    let t = shop().await;
    let (spend, (spend_user, spend_orders)) = select::<Order>()
        .group_by(Order::user_id)
        .columns((Order::user_id, func::label(func::count_star(), "n")))
        .cte("spend");
    let rows: Vec<(String, i64)> = t
        .fetch_all(
            select::<User>()
                .join_derived(&spend, spend_user.eq(User::id))
                .order_by(User::name)
                .columns((User::name, spend_orders)),
        )
        .await
        .unwrap();
    assert_eq!(rows, [("ann".into(), 3), ("bob".into(), 1)]);

    // The reporting chain under the CEO, with depth.
    let (chain, (chain_id, chain_name, depth)) = recursive_cte(
        "chain",
        select::<Employee>()
            .filter(Employee::manager_id.is_null().and(Employee::name.eq("ceo")))
            .columns((Employee::id, Employee::name, func::value(0_i32))),
        |chain, (id, _name, depth)| {
            select::<Employee>()
                .join_derived(chain, Employee::manager_id.eq(id))
                .columns((Employee::id, Employee::name, depth.add(1)))
        },
    );
    let rows: Vec<(String, i32)> = t
        .fetch_all(
            select_from(&chain)
                .order_by(depth)
                .order_by(chain_id)
                .columns((chain_name, depth)),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            ("ceo".into(), 0),
            ("vp".into(), 1),
            ("dev".into(), 2),
            ("ops".into(), 2)
        ]
    );
}

#[tokio::test]
async fn set_operations() {
    let t = shop().await;
    let small = select::<Order>()
        .filter(Order::total.lt(30))
        .columns(Order::total);
    let ann = select::<Order>()
        .join_fk::<User>()
        .filter(User::name.eq("ann"))
        .columns(Order::total);
    let union: Vec<i32> = t
        .fetch_all(
            small
                .clone()
                .union(ann.clone())
                .order_by(Order::total.desc()),
        )
        .await
        .unwrap();
    assert_eq!(union, [300, 20, 10]);
    let all: Vec<i32> = t
        .fetch_all(small.clone().union_all(ann.clone()).order_by(Order::total))
        .await
        .unwrap();
    assert_eq!(all, [10, 10, 20, 20, 300]);
    let both: Vec<i32> = t
        .fetch_all(small.clone().intersect(ann.clone()).order_by(Order::total))
        .await
        .unwrap();
    assert_eq!(both, [10, 20]);
    let only_ann: Vec<i32> = t
        .fetch_all(ann.except(small).order_by(Order::total).limit(5))
        .await
        .unwrap();
    assert_eq!(only_ann, [300]);
}

#[tokio::test]
async fn grouping_having_distinct_on() {
    let t = shop().await;
    let per_user: Vec<(i64, i64)> = t
        .fetch_all(
            select::<Order>()
                .group_by(Order::user_id)
                .having(func::count_star().gt(1))
                .columns((Order::user_id, func::count_star())),
        )
        .await
        .unwrap();
    assert_eq!(per_user.len(), 1);
    assert_eq!(per_user[0].1, 3);
    // The biggest order of each user.
    let biggest: Vec<(i64, i32)> = t
        .fetch_all(
            select::<Order>()
                .distinct_on(Order::user_id)
                .order_by(Order::user_id)
                .order_by(Order::total.desc())
                .columns((Order::user_id, Order::total)),
        )
        .await
        .unwrap();
    assert_eq!(biggest.iter().map(|r| r.1).collect::<Vec<_>>(), [300, 50]);
}

#[tokio::test]
async fn keyset_and_offset_pagination() {
    let t = shop().await;
    let names: Vec<String> = (0..25).map(|i| format!("p{:02}", i % 10)).collect();
    let users: Vec<User> = names
        .iter()
        .enumerate()
        .map(|(i, n)| User::new(&format!("{n}-{i:02}")))
        .collect();
    t.execute(insert_many(&users)).await.unwrap();
    let base = || select::<User>().filter(User::name.starts_with("p"));
    let mut seen = Vec::new();
    let mut cursor: Option<(String, i64)> = None;
    loop {
        let q = match cursor.clone() {
            None => base().order_by(User::name).order_by(User::id),
            Some(c) => base().after((User::name, User::id), c),
        };
        let page: Vec<User> = t.fetch_all(q.limit(10)).await.unwrap();
        if page.is_empty() {
            break;
        }
        let last = page.last().unwrap();
        cursor = Some((last.name.clone(), last.id));
        seen.extend(page.into_iter().map(|u| u.name));
    }
    let mut expected: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    let page2: Vec<String> = t
        .fetch_all(base().order_by(User::name).page(2, 10).columns(User::name))
        .await
        .unwrap();
    assert_eq!(page2, expected[10..20]);
}

#[tokio::test]
async fn run_time_checks_of_what_types_cannot_see() {
    let t = shop().await;
    // A filter on a table that is not in the query.
    let err = t
        .fetch_all(select::<User>().filter(Order::total.gt(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains(r#""orders"."total""#), "{err}");
    // No foreign key between the tables.
    let err = t
        .fetch_all(select::<User>().join_fk::<Employee>())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no foreign key"), "{err}");
    // Two foreign keys (a self-join of employee): ambiguous.
    let err = t
        .fetch_all(select::<Employee>().join_fk::<Manager>())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("foreign keys could join"), "{err}");
    // A row type whose width does not match the selection.
    let err = t
        .fetch_all(select::<User>().columns(User::id).into_rows::<User>())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("selects 1 column"), "{err}");
}

#[tokio::test]
async fn an_expression_with_values_grouped_and_selected_binds_them_once() {
    let t = shop().await;
    // Built once and cloned: the select list and GROUP BY share the same `$n`, so the server sees
    // one expression (two different `$n` would be a 42803 grouping error).
    let bucket = func::case_when(Order::total.lt(100), "small").otherwise("big");
    let q = select::<Order>()
        .group_by(bucket.clone())
        .order_by(bucket.clone())
        .columns((bucket, func::count_all()));
    let sql = q.compile().unwrap().sql;
    assert_eq!(sql.matches("$1").count(), 3, "{sql}");
    let rows: Vec<(String, i64)> = t.fetch_all(q).await.unwrap();
    assert_eq!(rows, [("big".into(), 1), ("small".into(), 3)]);
    // A nullable boolean aggregate is a HAVING condition.
    let users: Vec<i64> = t
        .fetch_all(
            select::<Order>()
                .group_by(Order::user_id)
                .having(func::bool_or(Order::total.gt(200)))
                .columns(Order::user_id),
        )
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn raw_parameters_are_found_in_code_only_on_the_server_too() {
    let t = orm_testing::test_database().await.unwrap();
    let q = orm_postgres::raw::query::<(String, String, String, i32)>(
        "SELECT $t$ :v $t$, E'it\\'s :v', ':v' /* :v */ -- :v\n, :v::int",
    )
    .bind("v", 7_i32);
    let row = t.fetch_one(q).await.unwrap();
    assert_eq!(
        row,
        (
            " :v ".to_string(),
            "it's :v".to_string(),
            ":v".to_string(),
            7
        )
    );
}
