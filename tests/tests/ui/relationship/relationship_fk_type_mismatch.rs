use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many = Order, foreign_key = "user_name")]
    pub orders: Related<Vec<Order>>,
}

#[derive(Model, Debug, Clone)]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    // Cannot hold the key of `User` (an `i64`).
    pub user_name: String,
}

fn main() {}
