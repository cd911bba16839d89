use orm_postgres::prelude::*;

// Every row must name its shard.
#[derive(Model, Debug, Clone)]
pub struct Invoice {
    #[model(primary_key)]
    pub id: i64,
    #[model(shard_key)]
    pub tenant_id: Option<i64>,
}

fn main() {}
