use orm_postgres::prelude::*;

// `nulls_not_distinct` is about unique indexes and constraints only.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(email, nulls_not_distinct))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
