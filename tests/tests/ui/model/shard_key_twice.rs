use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    #[model(shard_key)]
    pub tenant_id: i64,
    #[model(shard_key)]
    pub region_id: i64,
}

fn main() {}
