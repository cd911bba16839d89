use orm_postgres::prelude::*;

#[derive(Debug, Default)]
pub struct Address {
    pub street: String,
}

#[derive(FromRow)]
pub struct Customer {
    pub name: String,
    pub address: Address,
    #[from_row(flatten)]
    pub billing: Address,
}

fn main() {}
