use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[model(unique, len = 80)]
    #[model(unique)]
    pub name: String,
}

fn main() {}
