use orm_postgres::prelude::*;

// A new row's shard must be known before it is written: its key cannot come from the server.
#[derive(Model, Debug, Clone)]
pub struct Order {
    #[model(primary_key, generated, shard_key)]
    pub id: i64,
    pub total: i32,
}

fn main() {}
