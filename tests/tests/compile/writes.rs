//! Snapshots of the write statements added on top of plain INSERT/UPDATE/DELETE: upserts
//! (`ON CONFLICT`), `UPDATE ... FROM`, `DELETE ... USING`, CTEs feeding DML, and `FromRow`
//! result structs. No database needed; review changes with `cargo insta review`.

use insta::assert_snapshot;
use orm_postgres::expr;
use orm_postgres::prelude::*;
use orm_postgres::raw::{query, text};
use orm_tests::{Order, User};

use crate::sql;

/// Reserved words, spaces, capitals and an embedded quote in every identifier position.
#[derive(Model, Debug, Clone)]
#[model(table = "user", schema = "My App")]
struct Weird {
    #[model(primary_key, column = "order")]
    order: i32,
    #[model(column = "Select\"Me", unique)]
    quoted: String,
    #[model(column = "From")]
    from: Option<i64>,
}

/// Array columns make multi-row inserts fall back to VALUES.
#[derive(Model, Debug, Clone)]
#[model(table = "tagged")]
struct Tagged {
    #[model(primary_key)]
    id: i32,
    tags: Vec<String>,
}

orm_postgres::alias!(Buyer = User);
orm_postgres::alias!(Other = User);

fn error(s: impl Statement) -> String {
    s.compile().unwrap_err().to_string()
}

fn jane() -> User {
    User {
        id: 0,
        name: "Jane".into(),
        email: Some("jane@example.com".into()),
        age: 30,
    }
}

// ---------------------------------------------------------------- upserts

#[test]
fn upsert_do_nothing_without_target() {
    assert_snapshot!(sql(insert(&jane()).on_conflict_do_nothing()));
}

#[test]
fn upsert_do_nothing_on_columns() {
    let one = sql(insert(&jane()).on_conflict(User::name).do_nothing());
    let tuple = sql(insert(&jane()).on_conflict((User::name,)).do_nothing());
    assert_eq!(one, tuple, "a column and a 1-tuple are the same target");
    assert_snapshot!(one);
    assert_snapshot!(sql(insert(&jane())
        .no_returning()
        .on_conflict((User::name, User::email))
        .do_nothing()));
}

#[test]
fn upsert_on_constraint() {
    assert_snapshot!(sql(insert(&jane())
        .no_returning()
        .on_constraint("users_name_key")
        .do_nothing()));
}

#[test]
fn upsert_do_update_with_excluded_and_where() {
    assert_snapshot!(sql(insert(&jane())
        .on_conflict(User::name)
        .do_update(|u| u
            .set(User::email, excluded(User::email))
            .set(User::age, User::age.add(1))
            .where_(User::age.lt(excluded(User::age)))
            .where_(excluded(User::email).is_not_null()))
        .returning((User::id, User::age))));
}

#[test]
fn upsert_do_update_set_excluded_helpers() {
    assert_snapshot!(sql(insert(&jane())
        .no_returning()
        .on_conflict(User::name)
        .do_update(|u| u.set_all_excluded())));
    assert_snapshot!(sql(insert(&jane())
        .no_returning()
        .on_constraint("users_pkey")
        .do_update(|u| u.set_excluded(User::age))));
}

#[test]
fn upsert_with_index_predicate() {
    assert_snapshot!(sql(insert(&jane())
        .no_returning()
        .on_conflict(User::email)
        .where_(User::email.is_not_null())
        .where_(text::<bool>("age >= 18"))
        .do_update(|u| u.set(User::name, excluded(User::name)))));
}

#[test]
fn upsert_many_rows_through_unnest() {
    let rows = [jane(), User::new("Joe")];
    let two = insert_many(&rows)
        .on_conflict(User::name)
        .do_update(|u| u.set(User::age, excluded(User::age)))
        .compile()
        .unwrap();
    let one = insert_many(&rows[..1])
        .on_conflict(User::name)
        .do_update(|u| u.set(User::age, excluded(User::age)))
        .compile()
        .unwrap();
    assert_eq!(one.sql, two.sql, "the SQL does not depend on the row count");
    assert_snapshot!(two.to_string());
}

#[test]
fn upsert_many_rows_with_array_columns_is_shape_stable() {
    let rows = [
        Tagged {
            id: 1,
            tags: vec!["a".into()],
        },
        Tagged {
            id: 2,
            tags: vec![],
        },
    ];
    assert_snapshot!(sql(insert_many(&rows)
        .no_returning()
        .on_conflict(Tagged::id)
        .do_update(|u| u.set(Tagged::tags, excluded(Tagged::tags)))));
}

#[test]
fn upsert_returning_expressions() {
    assert_snapshot!(sql(insert(&jane())
        .on_conflict(User::name)
        .do_update(|u| u.set(User::age, User::age.add(excluded(User::age))))
        .returning((
            User::id,
            User::age.mul(2),
            text::<bool>("xmax = 0").expr(),
        ))));
}

#[test]
fn upsert_from_insert_select() {
    assert_snapshot!(sql(insert_select::<User, _, _>(
        (User::name, User::age),
        select::<Order>().columns((
            expr::func::<String>(
                "concat",
                [
                    func::value("buyer ".to_string()).into_node(),
                    Order::user_id.into_node()
                ]
            ),
            Order::total,
        )),
    )
    .on_conflict(User::name)
    .do_update(|u| u.set(User::age, User::age.add(excluded(User::age))))));
}

#[test]
fn upsert_with_quoted_identifiers() {
    let w = Weird {
        order: 1,
        quoted: "x".into(),
        from: None,
    };
    assert_snapshot!(sql(insert(&w)
        .on_conflict(Weird::quoted)
        .do_update(|u| u.set_all_excluded().where_(Weird::from.is_null()))));
    assert_snapshot!(sql(insert(&w)
        .no_returning()
        .on_constraint("user \"pk\"")
        .do_nothing()));
}

#[test]
fn upsert_mistakes_are_errors() {
    assert_snapshot!(
        "do_update_without_set",
        error(insert(&jane()).on_conflict(User::name).do_update(|u| u))
    );
    assert_snapshot!(
        "predicate_on_constraint_target",
        error(
            insert(&jane())
                .on_constraint("users_name_key")
                .where_(User::age.gt(1))
                .do_nothing()
        )
    );
    assert_snapshot!(
        "index_predicate_with_a_value",
        error(
            insert(&jane())
                .on_conflict(User::email)
                .where_(User::age.ge(18))
                .do_nothing()
        )
    );
    assert_snapshot!(
        "set_column_of_another_table",
        error(
            insert(&jane())
                .on_conflict(User::name)
                .do_update(|u| u.set(User::age, Order::total))
        )
    );
}

// ---------------------------------------------------------------- UPDATE ... FROM

#[test]
fn update_from_joined_table() {
    assert_snapshot!(sql(update::<Order>()
        .from::<User>()
        .set(Order::note, User::name.concat(" ordered"))
        .filter(User::id.eq(Order::user_id))
        .filter(User::age.ge(18))));
}

#[test]
fn update_from_returning_columns_of_both_tables() {
    let q = update::<Order>()
        .from::<User>()
        .set(Order::total, Order::total.add(User::age))
        .filter(User::id.eq(Order::user_id))
        .returning((Order::id, Order::total, User::name, User::age.mul(2)));
    let _: &orm_postgres::stmt::Update<Order, (i64, i32, String, i32), _> = &q;
    assert_snapshot!(sql(q));
}

#[test]
fn update_from_alias_of_the_same_table() {
    assert_snapshot!(sql(update::<User>()
        .from::<Other>()
        .set(User::email, Other::col(User::email))
        .filter(Other::col(User::name).eq(User::name.concat(" (old)")))
        .returning((User::id, Other::col(User::id)))));
}

#[test]
fn update_from_subquery() {
    // Each user's biggest order.
    let (biggest, (user_id, total)) = select::<Order>()
        .columns((Order::user_id, func::label(Order::total, "biggest")))
        .distinct_on(Order::user_id)
        .order_by(Order::user_id)
        .order_by(Order::total.desc())
        .subquery("biggest");
    assert_snapshot!(sql(update::<User>()
        .from_derived(&biggest)
        .set(User::age, total)
        .filter(user_id.eq(User::id))
        .returning((User::name, total))));
}

#[test]
fn update_from_cte_is_hoisted_into_with() {
    let (adults, (adult_id,)) = select::<User>()
        .filter(User::age.ge(18))
        .columns((User::id,))
        .cte("adults");
    assert_snapshot!(sql(update::<Order>()
        .from_derived(&adults)
        .set(Order::note, "adult")
        .filter(Order::user_id.eq(adult_id))
        .returning(Order::id)));
}

#[test]
fn update_from_several_sources() {
    let (big, (big_id,)) = select::<Order>()
        .filter(Order::total.gt(100))
        .columns((Order::id,))
        .subquery("big");
    assert_snapshot!(sql(update::<Order>()
        .from::<User>()
        .from_derived(&big)
        .set(Order::note, User::name)
        .filter(User::id.eq(Order::user_id) & big_id.eq(Order::id))));
}

#[test]
fn update_from_mistakes_are_errors() {
    assert_snapshot!(
        "update_from_same_table_twice",
        error(update::<User>().from::<User>().set(User::age, 1))
    );
    assert_snapshot!(
        "column_of_a_table_not_in_from",
        error(
            update::<User>()
                .set(User::age, 1)
                .filter(Order::user_id.eq(User::id))
        )
    );
}

// ---------------------------------------------------------------- DELETE ... USING

#[test]
fn delete_using_joined_table() {
    assert_snapshot!(sql(delete::<Order>()
        .using::<User>()
        .filter(User::id.eq(Order::user_id) & User::name.eq("gone"))
        .returning((Order::id, User::name))));
}

#[test]
fn delete_using_alias() {
    assert_snapshot!(sql(delete::<User>()
        .using::<Other>()
        .filter(Other::col(User::name).eq(User::name) & Other::col(User::id).gt(User::id))
        .returning_model()));
}

#[test]
fn delete_using_subquery_and_cte() {
    let (idle, (idle_id,)) = select::<User>()
        .filter(User::age.lt(1))
        .columns((User::id,))
        .subquery("idle");
    assert_snapshot!(sql(delete::<Order>()
        .using_derived(&idle)
        .filter(Order::user_id.eq(idle_id))));
    let (idle, (idle_id,)) = select::<User>()
        .filter(User::age.lt(1))
        .columns((User::id,))
        .cte("idle");
    assert_snapshot!(sql(delete::<Order>()
        .using_derived(&idle)
        .filter(Order::user_id.eq(idle_id))
        .returning(Order::id)));
}

#[test]
fn delete_using_mistakes_are_errors() {
    assert_snapshot!(
        "delete_using_same_table_twice",
        error(delete::<Order>().using::<Order>())
    );
    assert_snapshot!(
        "filter_column_of_unknown_table",
        error(delete::<Order>().filter(User::age.gt(1)))
    );
}

// ---------------------------------------------------------------- CTEs feeding INSERT

#[test]
fn insert_select_from_cte_is_hoisted_into_with() {
    let (recent, (uid, total)) = select::<Order>()
        .filter(Order::total.gt(10))
        .columns((Order::user_id, Order::total))
        .cte("recent");
    assert_snapshot!(sql(insert_select::<Order, _, _>(
        (Order::user_id, Order::total),
        select_from(&recent).columns((uid, total.mul(2))),
    )
    .returning(Order::id)));
}

// ---------------------------------------------------------------- FromRow structs

#[derive(Debug, FromRow)]
#[allow(dead_code)]
struct TopCustomer {
    name: String,
    orders: i64,
    #[from_row(skip)]
    rank: u32,
}

#[derive(Debug, FromRow)]
#[allow(dead_code)]
struct OrderWithBuyer {
    order_id: i64,
    #[from_row(flatten)]
    buyer: User,
    #[from_row(flatten)]
    top: TopCustomer,
    total: i32,
}

#[test]
fn from_row_widths() {
    assert_eq!(<TopCustomer as orm_postgres::FromRow>::WIDTH, 2);
    assert_eq!(
        <OrderWithBuyer as orm_postgres::FromRow>::WIDTH,
        1 + 4 + 2 + 1
    );
}

#[test]
fn into_rows_checks_the_width() {
    let q = select::<Order>()
        .join::<User>(User::id.eq(Order::user_id))
        .columns((User::name, func::count_star()))
        .group_by(User::name)
        .into_rows::<TopCustomer>();
    assert_snapshot!(sql(q));
    // The message names the row type by its Rust path, which is where this test lives, not
    // anything the library decides: the snapshot was taken when this module was the test binary
    // `compile_writes`, so the path is written as it was then.
    let mismatch = error(
        select::<User>()
            .columns((User::name,))
            .into_rows::<TopCustomer>(),
    );
    assert_snapshot!(
        "width_mismatch",
        mismatch.replace("compile::writes::", "compile_writes::")
    );
}

#[test]
fn raw_query_into_from_row_struct() {
    assert_snapshot!(sql(query::<TopCustomer>(
        "SELECT name, count(*)::int8 FROM users WHERE name <> :name GROUP BY name"
    )
    .bind("name", "x".to_string())));
}
