use orm_postgres::prelude::*;

// `index(...)` reads a misspelled option as a field: the message names the option.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(email, usign = "gin"), index(email, tags, uniqe))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
