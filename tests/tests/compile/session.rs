//! The SQL the session's flush plans, without a server: each step's statements, snapshotted.
//! (tests/tests/pg/session.rs runs the same plans against PostgreSQL.)

use orm_postgres::driver::UnitOfWork;
use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub age: i32,
    #[relationship(has_many = Order, foreign_key = "user_id")]
    pub orders: Related<Vec<Order>>,
    #[relationship(many_to_many = Group, secondary = Membership)]
    pub groups: Related<Vec<Group>>,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "orders")]
pub struct Order {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "users.id")]
    pub user_id: i64,
    pub total: i32,
    #[model(version)]
    pub version: i32,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "groups")]
pub struct Group {
    #[model(primary_key)]
    pub code: String,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "membership")]
pub struct Membership {
    #[model(primary_key, references = "users.id")]
    pub user_id: i64,
    #[model(primary_key, references = "groups.code")]
    pub group_code: String,
}

/// Runs a flush plan without a server, returning each step's SQL (one line per statement).
fn plan(uow: &mut UnitOfWork) -> Vec<Vec<String>> {
    let mut steps = Vec::new();
    let Some(mut plan) = uow.flush_begin().unwrap() else {
        return steps;
    };
    while let Some(step) = uow.flush_next(&mut plan).unwrap() {
        steps.push(step.jobs.iter().map(|j| j.query.sql.to_string()).collect());
        uow.flush_step_done(step).unwrap();
    }
    uow.flush_end(plan).unwrap();
    steps
}

#[test]
fn inserts_of_a_graph_go_parents_first_one_statement_per_table() {
    let mut uow = UnitOfWork::new();
    let mut u = User {
        name: "ann".into(),
        ..User::default()
    };
    u.orders = Related::loaded(vec![Order::default(), Order::default()]);
    u.groups = Related::loaded(vec![Group { code: "a".into() }]);
    uow.add(u);
    insta::assert_debug_snapshot!(plan(&mut uow));
}

#[test]
fn updates_are_batched_per_changed_column_set_with_version_checks() {
    let mut uow = UnitOfWork::new();
    let users: Vec<_> = (1..=3)
        .map(|id| {
            uow.register_loaded(User {
                id,
                name: format!("u{id}"),
                ..User::default()
            })
            .unwrap()
        })
        .collect();
    let order = uow
        .register_loaded(Order {
            id: 9,
            user_id: 1,
            total: 5,
            version: 1,
        })
        .unwrap();
    users[0].write().age = 1;
    users[1].write().age = 2;
    users[2].write().name = "renamed".into();
    order.write().total = 6;
    insta::assert_debug_snapshot!(plan(&mut uow));
    assert_eq!(order.read().version, 2, "the version was bumped");
    // Nothing changed since: no statement.
    assert!(plan(&mut uow).is_empty());
}

#[test]
fn deletes_go_children_first_with_association_rows_before_them() {
    let mut uow = UnitOfWork::new();
    let user = uow
        .register_loaded(User {
            id: 1,
            name: "u".into(),
            ..User::default()
        })
        .unwrap();
    let order = uow
        .register_loaded(Order {
            id: 2,
            user_id: 1,
            total: 1,
            version: 3,
        })
        .unwrap();
    uow.delete(&order).unwrap();
    uow.delete(&user).unwrap();
    insta::assert_debug_snapshot!(plan(&mut uow));
}

#[test]
fn a_large_identity_map_is_freed_in_order_and_spares_the_handles_kept() {
    // From 4,096 objects on, a dropped map frees its objects sorted by address.
    let mut uow = UnitOfWork::new();
    let kept: Vec<_> = (0..5_000)
        .map(|i| {
            let g = uow
                .register_loaded(Group {
                    code: format!("g{i}"),
                })
                .unwrap();
            (i, g)
        })
        .filter(|(i, _)| i % 1_000 == 7)
        .collect();
    let again = uow
        .register_loaded(Group {
            code: "g4007".into(),
        })
        .unwrap();
    assert!(Tracked::ptr_eq(&again, &kept[4].1), "one object per key");
    drop(again);
    drop(uow);
    let codes: Vec<String> = kept.iter().map(|(_, g)| g.read().code.clone()).collect();
    assert_eq!(codes, ["g7", "g1007", "g2007", "g3007", "g4007"]);
}
