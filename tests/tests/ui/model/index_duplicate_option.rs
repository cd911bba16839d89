use orm_postgres::prelude::*;

// Each option is given once per index.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(email, using = "btree", using = "hash", unique, unique))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
