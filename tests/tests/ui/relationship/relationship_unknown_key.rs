use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many = Order, foriegn_key = "user_id", lazy = "selectin")]
    pub orders: Related<Vec<Order>>,
}

#[derive(Model, Debug, Clone)]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    pub user_id: i64,
}

fn main() {
    // The fallback keeps the relationship's handle: this line adds no error of its own.
    let _ = User::orders.selectin();
}
