use orm_postgres::prelude::*;

// Only a btree index keeps an order, and only a btree index can be unique.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(tags = "desc", using = "gin"), index(email, unique, using = "hash"))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
