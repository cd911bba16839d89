use orm_postgres::prelude::*;

// A unique constraint takes no `include`: a unique index does.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(unique(email, include(name)))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub tags: Vec<String>,
}

fn main() {}
