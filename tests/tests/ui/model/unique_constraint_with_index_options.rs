use orm_postgres::prelude::*;

// A unique constraint takes only `name` and `nulls_not_distinct`: the rest needs a unique index.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(unique(email, where = "deleted_at IS NULL"), unique(email = "text_pattern_ops", tags))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
