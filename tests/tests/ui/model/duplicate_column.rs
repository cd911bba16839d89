use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub name: String,
    #[model(column = "name")]
    pub full_name: String,
}

fn main() {}
