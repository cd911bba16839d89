use orm_postgres::prelude::*;

// A covering index's `include(...)` adds columns that are not keys.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(email, name, include(name)))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub tags: Vec<String>,
}

fn main() {}
