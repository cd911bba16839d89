use orm_postgres::prelude::*;

// An expression key is a function call or parenthesized, as `CREATE INDEX` takes it.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(expr = "email || name", name = "users_email_name"))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub tags: Vec<String>,
}

fn main() {}
