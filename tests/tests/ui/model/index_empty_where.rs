use orm_postgres::prelude::*;

// A partial index needs a predicate.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(email, unique, where = "  "))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
