use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    #[model(on_delete = "cascade")]
    pub user_id: i64,
}

fn main() {}
