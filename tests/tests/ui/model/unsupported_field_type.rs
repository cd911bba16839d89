use orm_postgres::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct Address {
    pub street: String,
}

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub address: Address,
}

fn main() {}
