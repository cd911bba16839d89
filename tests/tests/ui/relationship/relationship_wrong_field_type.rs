use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    // A user has many orders: the field holds a `Vec`.
    #[relationship(has_many = Order, foreign_key = "user_id")]
    pub orders: Related<Order>,
}

#[derive(Model, Debug, Clone)]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    pub user_id: i64,
}

fn main() {}
