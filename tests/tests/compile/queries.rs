//! Snapshots of joins, subqueries, CTEs, set operations, grouping, locking and pagination.

use insta::assert_snapshot;
use orm_postgres::alias;
use orm_postgres::prelude::*;
use orm_postgres::raw::{query, text};
use orm_tests::{Order, User};

use crate::sql;

#[derive(Model, Debug, Clone)]
#[model(table = "employee")]
struct Employee {
    #[model(primary_key)]
    id: i32,
    name: String,
    #[model(references = "employee.id")]
    manager_id: Option<i32>,
}

alias!(Manager = Employee);

#[test]
fn join_kinds() {
    let on = || Order::user_id.eq(User::id);
    assert_snapshot!(sql(select::<User>()
        .join::<Order>(on())
        .columns((User::name, Order::total))));
    assert_snapshot!(sql(select::<User>()
        .left_join::<Order>(on())
        .columns((User::star(), Order::star()))));
    assert_snapshot!(sql(select::<User>()
        .right_join::<Order>(on())
        .columns((User::name, Order::total))));
    assert_snapshot!(sql(select::<User>()
        .full_join::<Order>(on())
        .columns((User::name, Order::total))));
    assert_snapshot!(sql(select::<User>().cross_join::<Order>().count()));
}

#[test]
fn join_on_declared_foreign_key() {
    assert_snapshot!(sql(select::<Order>()
        .join_fk::<User>()
        .columns((User::name, Order::total))));
    assert_snapshot!(sql(select::<User>()
        .left_join_fk::<Order>()
        .columns((User::name, Order::total))));
}

#[test]
fn self_join_through_alias() {
    assert_snapshot!(sql(select::<Employee>()
        .left_join::<Manager>(Manager::col(Employee::id).eq(Employee::manager_id))
        .columns((Employee::name, Manager::col(Employee::name)))));
}

#[test]
fn in_subquery_exists_and_scalar_subquery() {
    assert_snapshot!(sql(select::<User>()
        .filter(
            User::id.in_query(
                select::<Order>()
                    .filter(Order::total.gt(100))
                    .columns(Order::user_id)
            )
        )
        .filter(User::id.not_in_query(select::<Order>().columns(Order::user_id)))
        .filter(exists(
            select::<Order>().filter(Order::user_id.eq(User::id))
        ))
        .columns((
            User::name,
            select::<Order>()
                .filter(Order::user_id.eq(User::id))
                .count()
                .scalar(),
        ))));
}

#[test]
fn subquery_in_from_and_lateral() {
    let (big, (uid, total)) = select::<Order>()
        .filter(Order::total.ge(50))
        .columns((Order::user_id, Order::total))
        .subquery("big");
    assert_snapshot!(sql(select::<User>()
        .join_derived(&big, uid.eq(User::id))
        .columns((User::name, total))));
    assert_snapshot!(sql(select_from(&big).filter(total.lt(100)).columns(total)));
    let (top, (top_total,)) = select::<Order>()
        .filter(Order::user_id.eq(User::id))
        .order_by(Order::total.desc())
        .limit(1)
        .columns((Order::total,))
        .subquery("top");
    assert_snapshot!(sql(select::<User>()
        .left_join_lateral(&top)
        .columns((User::name, top_total.nullable()))));
}

#[test]
fn a_set_operation_in_from_names_its_expressions() {
    // Unlabelled expressions of the first select are labelled `c1`, ...: the handles name
    // columns the server has (it would have called both `lower`).
    let (names, (low, up)) = select::<User>()
        .columns((func::lower(User::name), func::upper(User::name)))
        .union(select::<User>().columns((func::upper(User::name), func::lower(User::name))))
        .subquery("names");
    let sql = select_from(&names)
        .columns((low, up))
        .compile()
        .unwrap()
        .sql;
    assert_eq!(
        sql,
        r#"SELECT "names"."c1", "names"."c2" FROM (SELECT lower("users"."name") AS "c1", upper("users"."name") AS "c2" FROM "users" UNION SELECT upper("users"."name"), lower("users"."name") FROM "users") AS "names""#
    );
}

#[test]
fn ctes_are_hoisted_once() {
    let (spend, (user_id, n)) = select::<Order>()
        .group_by(Order::user_id)
        .columns((Order::user_id, func::label(func::count_star(), "n")))
        .cte("spend");
    // Used twice (join and subquery): defined once, at the top.
    assert_snapshot!(sql(select::<User>()
        .join_derived(&spend, user_id.eq(User::id))
        .filter(User::id.in_query(select_from(&spend).columns(user_id)))
        .columns((User::name, n))));
}

#[test]
fn recursive_cte_with_depth() {
    let (chain, (id, name, depth)) = recursive_cte(
        "chain",
        select::<Employee>()
            .filter(Employee::manager_id.is_null())
            .columns((Employee::id, Employee::name, func::value(0_i32))),
        |chain, (id, _, depth)| {
            select::<Employee>()
                .join_derived(chain, Employee::manager_id.eq(id))
                .columns((Employee::id, Employee::name, depth.add(1)))
        },
    );
    assert_snapshot!(sql(select_from(&chain)
        .order_by(depth)
        .columns((id, name, depth))));
}

#[test]
fn set_operations() {
    let a = || {
        select::<Order>()
            .filter(Order::total.lt(30))
            .columns(Order::total)
    };
    let b = || {
        select::<Order>()
            .filter(Order::total.gt(100))
            .columns(Order::total)
    };
    assert_snapshot!(sql(a().union(b()).order_by(Order::total.desc()).limit(3)));
    assert_snapshot!(sql(a().union_all(b()).union_all(a())));
    assert_snapshot!(sql(a().intersect(b().limit(5))));
    assert_snapshot!(sql(a().except(b())));
    assert_snapshot!(sql(a().intersect_all(b()).except(a())));
    // The rows are the set operation's: relationship loads of either select would be dropped.
    use orm_tests::chinook::Artist;
    let loads = || select::<Artist>().load(Artist::albums.selectin());
    for q in [
        loads().union(select::<Artist>()),
        select::<Artist>().except(loads()),
    ] {
        let err = q.compile().unwrap_err();
        assert!(
            err.to_string().contains("runs no relationship loads"),
            "{err}"
        );
    }
}

#[test]
fn grouping_having_distinct_on_windows() {
    assert_snapshot!(sql(select::<Order>()
        .group_by((Order::user_id, Order::note))
        .having(func::count_star().gt(1))
        .columns((Order::user_id, Order::note, func::count_star()))));
    assert_snapshot!(sql(select::<Order>()
        .distinct_on(Order::user_id)
        .order_by(Order::user_id)
        .order_by(Order::total.desc())));
}

#[test]
fn locking_clauses() {
    assert_snapshot!(sql(select::<User>().filter(User::id.eq(1)).for_update()));
    assert_snapshot!(sql(select::<User>()
        .join_fk::<Order>()
        .for_no_key_update()
        .of::<User>()
        .nowait()));
    assert_snapshot!(sql(select::<Order>().for_share().skip_locked().limit(10)));
    assert_snapshot!(sql(select::<Order>().for_key_share()));
}

#[test]
fn lock_modifiers_in_any_order_and_never_alone() {
    // Before the strength, and kept by a second strength: once dropped silently (a queue
    // worker's `skip_locked()` before `for_update()` then waited on every locked row).
    let q = select::<User>().limit(1).skip_locked().for_update();
    assert!(
        q.compile()
            .unwrap()
            .sql
            .ends_with(" FOR UPDATE SKIP LOCKED")
    );
    let q = select::<User>()
        .join_fk::<Order>()
        .for_update()
        .of::<User>()
        .nowait()
        .for_share();
    assert!(
        q.compile()
            .unwrap()
            .sql
            .ends_with(r#" FOR SHARE OF "users" NOWAIT"#)
    );
    let err = select::<User>().skip_locked().compile().unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err}"
    );
    assert!(err.to_string().contains("modify a row lock"), "{err}");
}

#[test]
fn pages_refuse_or_replace_what_would_skip_rows() {
    // `after` orders by its keys only: an ordering given before would skip and repeat rows.
    let q = select::<User>()
        .order_by(User::email)
        .after((User::name, User::id), ("m".to_string(), 10_i64));
    assert!(
        q.compile()
            .unwrap()
            .sql
            .ends_with(r#" ORDER BY "users"."name", "users"."id""#)
    );
    // A keyset page is sized by its own `limit`: the select's LIMIT or OFFSET is refused.
    for q in [select::<User>().offset(20), select::<User>().limit(5)] {
        let err = q.keyset(User::id).compile().unwrap_err();
        assert!(
            err.to_string().contains("takes no LIMIT or OFFSET"),
            "{err}"
        );
    }
}

#[test]
fn exists_and_count_keep_a_list_that_makes_the_rows() {
    // `SELECT count(*)` has one row even of an empty table: replaced by `1` (or counted as the
    // table's rows) it would answer another question.
    let agg = || select::<Order>().columns(func::count_all());
    let sql = agg().exists().compile().unwrap().sql;
    assert_eq!(sql, r#"SELECT EXISTS (SELECT count(*) FROM "orders")"#);
    let sql = select::<User>()
        .filter(exists(agg()))
        .compile()
        .unwrap()
        .sql;
    assert!(
        sql.ends_with(r#"WHERE EXISTS (SELECT count(*) FROM "orders")"#),
        "{sql}"
    );
    let sql = agg().count().compile().unwrap().sql;
    assert_eq!(
        sql,
        r#"SELECT count(*) FROM (SELECT count(*) FROM "orders") AS "sub""#
    );
    // Plain columns and the builder's scalar functions are still replaced.
    let sql = select::<User>()
        .columns(func::lower(User::name))
        .exists()
        .compile()
        .unwrap()
        .sql;
    assert_eq!(sql, r#"SELECT EXISTS (SELECT 1 FROM "users")"#);
}

#[test]
fn pagination() {
    assert_snapshot!(sql(select::<User>().order_by(User::name).page(3, 20)));
    assert_snapshot!(sql(select::<User>()
        .after((User::name, User::id), ("m".to_string(), 10_i64))
        .limit(20)));
}

#[test]
fn raw_sql_fragments_and_statements() {
    assert_snapshot!(sql(select::<User>().filter(
        text::<bool>("\"users\".\"age\" BETWEEN :lo AND :hi AND note::text <> ':not_a_param'")
            .bind("lo", 1)
            .bind("hi", 9)
    )));
    assert_snapshot!(sql(query::<(i64, String)>(
        "SELECT id, name FROM users WHERE name = :name -- :ignored\n"
    )
    .bind("name", "x".to_string())));
    let err = query::<i64>("SELECT :missing").compile().unwrap_err();
    assert!(err.to_string().contains(":missing has no value"), "{err}");
    // Bound twice, the last value counts (once the first was sent); a value for a name the
    // text does not use (misspelled, or inside a string) is refused, not dropped.
    let q = query::<i64>("SELECT :n")
        .bind("n", 1_i64)
        .bind("n", 2_i64)
        .compile()
        .unwrap();
    assert_eq!((q.sql.as_ref(), q.params.len()), ("SELECT $1", 1));
    assert_eq!(format!("{:?}", q.params[0]), "2");
    for q in [
        query::<i64>("SELECT :n").bind("n", 1_i64).bind("m", 2_i64),
        query::<i64>("SELECT ':n'").bind("n", 1_i64),
    ] {
        let err = q.compile().unwrap_err();
        assert!(
            err.to_string().contains("which its text does not use"),
            "{err}"
        );
    }
}

#[test]
fn insert_from_select() {
    assert_snapshot!(sql(insert_select::<User, _, _>(
        (User::name, User::email),
        select::<User>()
            .filter(User::age.gt(30))
            .columns((User::name.concat("-copy"), User::email)),
    )));
}

#[test]
fn sql_of_a_shape_does_not_depend_on_values() {
    let q = |min: i32, names: Vec<String>, page: i64| {
        select::<User>()
            .join_fk::<Order>()
            .filter(Order::total.gt(min).and(User::name.is_in(names)))
            .page(page, 10)
            .compile()
            .unwrap()
            .sql
    };
    assert_eq!(
        q(1, vec!["a".into()], 1),
        q(999, vec!["x".into(), "y".into(), "z".into()], 42)
    );
}

/// `by_pk` on an aliased source names the key by the alias (it named the table, which is not
/// in the `FROM` list), whether the statement was built yet or not.
#[test]
fn by_pk_on_an_alias_qualifies_the_key_by_the_alias() {
    assert_eq!(
        select::<Manager>().by_pk(7).compile().unwrap().sql,
        r#"SELECT "Manager"."id", "Manager"."name", "Manager"."manager_id" FROM "employee" AS "Manager" WHERE "Manager"."id" = $1"#
    );
    // Built as a tree first (a filter), then the key.
    let sql = select::<Manager>()
        .filter(Manager::col(Employee::id).gt(0))
        .by_pk(7)
        .compile()
        .unwrap()
        .sql;
    assert!(
        sql.ends_with(
            r#"FROM "employee" AS "Manager" WHERE ("Manager"."id" > $1) AND ("Manager"."id" = $2)"#
        ),
        "{sql}"
    );
}
