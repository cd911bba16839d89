use orm_postgres::prelude::*;

// A key's options are an operator class (`..._ops`) and an ordering, in `CREATE INDEX`'s words and order.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(created_at = "descending"), index(email = "desc nulls lst"), index(tags = "nulls first desc"))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
