//! The README's relationship section, run against a real server.

use orm_postgres::prelude::*;
use orm_testing::test_database;

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
    // Users, their orders, and each order's user again: 3 queries whatever the row counts.
    let mut users = db
        .fetch_all(select::<User>().load(User::orders.selectin().load(Order::user.selectin())))
        .await?;
    assert_eq!(db.statement_count() - before, 3);
    for order in users[0].orders.get()? {
        assert_eq!(order.user_id, jane.id);
    }
    let totals: Vec<i32> = users[0].orders.get()?.iter().map(|o| o.total).collect();
    assert_eq!(totals, [30, 10]);
    assert_eq!(users[0].orders.get()?[0].user.get()?.name, "Jane");
    let mut plain = db.fetch_all(select::<User>()).await?;
    let before = db.statement_count();
    let unloaded = plain[0].orders.get().unwrap_err(); // Err(NotLoaded): nothing is queried
    assert!(
        matches!(unloaded.kind(), ErrorKind::NotLoaded { .. }),
        "{unloaded}"
    );
    assert_eq!(db.statement_count(), before);
    db.load(&mut users, User::orders.selectin()).await?; // load later, explicitly
    assert_eq!(db.statement_count() - before, 1);
    assert_eq!(users[0].orders.get()?.len(), 2);
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
