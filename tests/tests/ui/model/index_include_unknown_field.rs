use orm_postgres::prelude::*;

// An index's `include(...)` names column fields, like its keys.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(email, include(nmae)))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub tags: Vec<String>,
}

fn main() {}
