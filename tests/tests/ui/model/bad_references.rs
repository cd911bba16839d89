use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    #[model(references = "users")]
    pub user_id: i64,
}

fn main() {}
