use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    pub id: i64,
    pub name: String,
}

fn main() {}
