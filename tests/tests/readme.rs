//! The README's tour, compiled and run against a real server, so the README stays true.

use orm_postgres::prelude::*;
use orm_postgres::raw::{query, text};
use orm_postgres::testing::test_database;
use orm_postgres::{IsolationLevel, TxOptions, alias};
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
                .having(count_all().gt(2))
                .columns((
                    Order::user_id,
                    sum(Order::total),
                    count_all().filter(Order::total.gt(100)),
                )),
        )
        .await?;
    assert_eq!(per_user, [(jane.id, Some(620), 3)]);
    let running: Vec<(i64, Option<i64>, i64)> = db
        .fetch_all(
            select::<Order>().order_by(Order::id).columns((
                Order::id,
                sum(Order::total).over(
                    window()
                        .partition_by(Order::user_id)
                        .order_by(Order::id)
                        .rows_between(unbounded_preceding(), current_row()),
                ),
                rank().over(window().order_by(Order::total.desc())),
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
                .columns((User::name, count_star()))
                .into_rows::<Spender>(),
        )
        .await?;
    assert_eq!((top[0].name.as_str(), top[0].orders), ("Jane", 3));

    // Transactions
    let total = db
        .transaction(async |tx| {
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
    tx.rollback().await?;
    Ok(())
}

mod relationships {
    use orm_postgres::prelude::*;
    use orm_postgres::testing::test_database;

    #[derive(Model, Debug, Clone, Default, PartialEq)]
    #[model(table = "users")]
    pub struct User {
        #[model(primary_key, generated)]
        pub id: i64,
        pub name: String,
        #[relationship(has_many = Order, foreign_key = "user_id", order_by = "-total")]
        pub orders: Related<Vec<Order>>,
    }

    #[derive(Model, Debug, Clone, Default, PartialEq)]
    #[model(table = "orders")]
    pub struct Order {
        #[model(primary_key, generated)]
        pub id: i64,
        #[model(references = "users.id")]
        pub user_id: i64,
        pub total: i32,
        #[relationship(belongs_to = User, foreign_key = "user_id")]
        pub user: Related<User>,
    }

    #[tokio::test]
    async fn the_relationship_tour_runs() -> orm_postgres::Result<()> {
        let t = test_database().await?;
        let db = &t.db;
        db.create_all(&[User::TABLE, Order::TABLE]).await?;
        let jane = db
            .fetch_one(insert(&User {
                name: "Jane".into(),
                ..Default::default()
            }))
            .await?;
        db.execute(insert_many(&[
            Order {
                user_id: jane.id,
                total: 10,
                ..Default::default()
            },
            Order {
                user_id: jane.id,
                total: 30,
                ..Default::default()
            },
        ]))
        .await?;
        let before = db.statement_count();
        let users = db
            .fetch_all(select::<User>().load(User::orders.selectin().load(Order::user.selectin())))
            .await?;
        assert_eq!(db.statement_count() - before, 3);
        let totals: Vec<i32> = users[0].orders.get()?.iter().map(|o| o.total).collect();
        assert_eq!(totals, [30, 10]);
        assert_eq!(users[0].orders.get()?[0].user.get()?.name, "Jane");
        let mut plain = db.fetch_all(select::<User>()).await?;
        assert!(plain[0].orders.get().is_err());
        let before = db.statement_count();
        db.load(&mut plain, User::orders.joined()).await?;
        assert_eq!(db.statement_count() - before, 1);
        assert_eq!(plain[0].orders.get()?.len(), 2);
        let totals_again: Vec<i32> = plain[0].orders.get()?.iter().map(|o| o.total).collect();
        assert_eq!(
            totals_again, totals,
            "the relationship's order_by holds for joined loads too"
        );
        let big: Vec<String> = db
            .fetch_all(
                select::<User>()
                    .filter(User::orders.any(Order::total.gt(20)))
                    .columns(User::name),
            )
            .await?;
        assert_eq!(big, ["Jane"]);
        let by_jane: i64 = db
            .fetch_one(
                select::<Order>()
                    .filter(Order::user.has(User::name.eq("Jane")))
                    .count(),
            )
            .await?;
        assert_eq!(by_jane, 2);
        Ok(())
    }
}
