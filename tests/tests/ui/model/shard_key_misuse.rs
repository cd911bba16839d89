use orm_postgres::prelude::*;

// A shard key must be known before the row is written, and every row must have one.
#[derive(Model, Debug, Clone)]
pub struct Order {
    #[model(primary_key, generated, shard_key)]
    pub id: i64,
    pub total: i32,
}

#[derive(Model, Debug, Clone)]
pub struct Invoice {
    #[model(primary_key)]
    pub id: i64,
    #[model(shard_key)]
    pub tenant_id: Option<i64>,
}

fn main() {}
