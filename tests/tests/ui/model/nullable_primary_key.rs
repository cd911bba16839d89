use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: Option<i64>,
    pub name: String,
}

fn main() {}
