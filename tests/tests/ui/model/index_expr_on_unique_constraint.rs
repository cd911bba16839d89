use orm_postgres::prelude::*;

// A unique constraint's keys are columns: an expression needs a unique index.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(unique(expr = "lower(email)"))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub tags: Vec<String>,
}

fn main() {}
