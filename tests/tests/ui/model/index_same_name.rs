use orm_postgres::prelude::*;

// Two indexes on the same columns get the same default name: each needs its own `name`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(email, unique, where = "deleted_at IS NULL"), index(email, where = "deleted_at IS NOT NULL"))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
