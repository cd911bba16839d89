use orm_postgres::prelude::*;

#[derive(Debug, Clone)]
pub struct Order {
    pub id: i64,
    pub user_id: i64,
}

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many = Order, foreign_key = "user_id")]
    pub orders: Related<Vec<Order>>,
}

fn main() {}
