//! The README's tour, compiled and run against a real server, so the README stays true.
//!
//! It mirrors the README section by section (the tour here, the relationship and session
//! sections in `relationships` and `session`), so that a change to one is found next to the
//! other.

use orm_postgres::prelude::*;
use orm_postgres::raw::{query, text};
use orm_postgres::{IsolationLevel, TxOptions, alias};
use orm_testing::test_database;
use orm_tests::{Order, User};

#[derive(Model, Debug, Clone)]
#[model(table = "employee")]
pub struct Employee {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    #[model(references = "employee.id")]
    pub manager_id: Option<i32>,
}

#[derive(FromRow, Debug)]
struct Spender {
    name: String,
    orders: i64,
}

#[tokio::test]
async fn the_tour_runs() -> orm_postgres::Result<()> {
    let t = test_database().await?;
    let db = &t.db;
    db.create_all(&[User::TABLE, Order::TABLE, Employee::TABLE])
        .await?;

    // Writes
    let jane = db.fetch_one(insert(&User::new("Jane"))).await?;
    let orders: Vec<Order> = (1..=3)
        .map(|i| Order {
            id: 0,
            user_id: jane.id,
            total: i * 100,
            note: None,
        })
        .collect();
    let many: Vec<Order> = db.fetch_all(insert_many(&orders)).await?;
    assert_eq!(many.len(), 3);
    db.execute(
        update::<Order>()
            .set(Order::total, Order::total.add(20))
            .filter(Order::id.eq(many[0].id)),
    )
    .await?;
    let saved: User = db.fetch_one(update_model(&jane)).await?;
    assert_eq!(saved.name, "Jane");
    let users = vec![User::new("Jane"), User::new("Bob")];
    db.execute(insert_many(&users).on_conflict(User::name).do_update(|u| {
        u.set(User::email, excluded(User::email))
            .where_(User::email.is_null())
    }))
    .await?;
    db.execute(insert(&User::new("Bob")).on_conflict_do_nothing())
        .await?;
    db.execute(
        update::<Order>()
            .from::<User>()
            .set(Order::note, User::name)
            .filter(Order::user_id.eq(User::id)),
    )
    .await?;
    db.execute(
        delete::<Order>()
            .using::<User>()
            .filter(Order::user_id.eq(User::id).and(User::name.eq("bob"))),
    )
    .await?;
    db.execute(insert_select::<User, _, _>(
        (User::name,),
        select::<Order>()
            .filter(Order::note.is_not_null())
            .limit(1)
            .columns(Order::note),
    ))
    .await
    .unwrap_err(); // "Jane" exists: a unique violation, as it should be
    let gone: Vec<i64> = db
        .fetch_all(
            delete::<Order>()
                .filter(Order::total.lt(10))
                .returning(Order::id),
        )
        .await?;
    assert!(gone.is_empty());

    // Queries
    let big: Vec<Order> = db
        .fetch_all(
            select::<Order>()
                .filter(Order::user_id.eq(jane.id) & Order::total.between(100, 500))
                .order_by(Order::total.desc())
                .limit(10),
        )
        .await?;
    assert_eq!(big.len(), 3);
    let _names: Vec<(i64, String)> = db
        .fetch_all(select::<User>().columns((User::id, User::name)))
        .await?;
    let n: i64 = db
        .fetch_one(select::<Order>().filter(Order::total.gt(100)).count())
        .await?;
    assert_eq!(n, 3);
    let any: bool = db
        .fetch_one(select::<User>().filter(User::email.is_null()).exists())
        .await?;
    assert!(any);

    // Joins, subqueries
    let rows: Vec<(String, Option<i32>)> = db
        .fetch_all(
            select::<User>()
                .left_join::<Order>(Order::user_id.eq(User::id))
                .columns((User::name, Order::total)),
        )
        .await?;
    assert_eq!(rows.len(), 4);
    let pairs: Vec<(User, Option<Order>)> = db
        .fetch_all(
            select::<User>()
                .left_join_fk::<Order>()
                .columns((User::star(), Order::star())),
        )
        .await?;
    assert_eq!(pairs.len(), 4);
    alias!(Manager = Employee);
    let _reports: Vec<(String, String)> = db
        .fetch_all(
            select::<Employee>()
                .join::<Manager>(Manager::col(Employee::id).eq(Employee::manager_id))
                .columns((Employee::name, Manager::col(Employee::name))),
        )
        .await?;
    let (big_orders, (user_id, total)) = select::<Order>()
        .filter(Order::total.ge(100))
        .columns((Order::user_id, Order::total))
        .subquery("big");
    let joined: Vec<(String, i32)> = db
        .fetch_all(
            select::<User>()
                .join_derived(&big_orders, user_id.eq(User::id))
                .columns((User::name, total)),
        )
        .await?;
    assert_eq!(joined.len(), 3);
    orm_postgres::derived!(Spend = "spend");
    let (spend, (spend_user, orders)) = select::<Order>()
        .group_by(Order::user_id)
        .columns((Order::user_id, func::count_star()))
        .cte(Spend);
    let rows: Vec<(String, Option<i64>)> = db
        .fetch_all(
            select::<User>()
                .left_join_derived(&spend, spend_user.eq(User::id))
                .columns((User::name, orders)),
        )
        .await?;
    assert!(rows.iter().any(|(_, n)| n.is_none()), "{rows:?}");
    let cursor = ("A".to_string(), 0_i64);
    let _page: Vec<User> = db
        .fetch_all(
            select::<User>()
                .after((User::name, User::id), cursor)
                .limit(20),
        )
        .await?;
    let _p3: Vec<User> = db
        .fetch_all(select::<User>().order_by(User::name).page(3, 20))
        .await?;
    let _: Vec<User> = db
        .fetch_all(
            select::<User>().filter(
                text::<bool>("\"users\".\"age\" BETWEEN :lo AND :hi")
                    .bind("lo", 1)
                    .bind("hi", 9),
            ),
        )
        .await?;
    let _: Vec<(i64, String)> = db
        .fetch_all(
            query::<(i64, String)>("SELECT id, name FROM users WHERE name = :name")
                .bind("name", "Jane".to_string()),
        )
        .await?;

    // Functions
    let per_user: Vec<(i64, Option<i64>, i64)> = db
        .fetch_all(
            select::<Order>()
                .group_by(Order::user_id)
                .having(func::count_all().gt(2))
                .columns((
                    Order::user_id,
                    func::sum(Order::total),
                    func::count_all().filter(Order::total.gt(100)),
                )),
        )
        .await?;
    assert_eq!(per_user, [(jane.id, Some(620), 3)]);
    let running: Vec<(i64, Option<i64>, i64)> = db
        .fetch_all(
            select::<Order>().order_by(Order::id).columns((
                Order::id,
                func::sum(Order::total).over(
                    func::window()
                        .partition_by(Order::user_id)
                        .order_by(Order::id)
                        .rows_between(func::unbounded_preceding(), func::current_row()),
                ),
                func::rank().over(func::window().order_by(Order::total.desc())),
            )),
        )
        .await?;
    assert_eq!(
        running.iter().map(|r| r.1).collect::<Vec<_>>(),
        [Some(120), Some(320), Some(620)]
    );

    // Results
    let top: Vec<Spender> = db
        .fetch_all(
            select::<User>()
                .join_fk::<Order>()
                .group_by(User::name)
                .columns((User::name, func::count_star()))
                .into_rows::<Spender>(),
        )
        .await?;
    assert_eq!((top[0].name.as_str(), top[0].orders), ("Jane", 3));

    // Transactions
    let total = db
        .transaction(|tx| {
            async move {
                tx.execute(
                    update::<Order>()
                        .set(Order::total, 0)
                        .filter(Order::user_id.eq(1)),
                )
                .await?;
                let sp = tx.savepoint().await?;
                sp.execute(delete::<Order>().filter(Order::total.eq(0)))
                    .await?;
                sp.rollback().await?;
                tx.fetch_one(select::<Order>().count()).await
            }
            .scoped()
        })
        .await?;
    assert_eq!(total, 3);
    let tx = db
        .begin_with(
            TxOptions::default()
                .isolation(IsolationLevel::Serializable)
                .read_only(),
        )
        .await?;
    assert_eq!(tx.execute(select::<Order>().count()).await?, 1);
    tx.commit().await?;
    Ok(())
}

mod relationships;
mod session;
