use orm_postgres::prelude::*;

// An index on an expression has no column to name it after: it needs a `name`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(expr = "lower(email)", unique))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub tags: Vec<String>,
}

fn main() {}
