use orm_postgres::prelude::*;

// `with` takes `name = value` pairs.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(email, with = "fillfactor"), index(tags, with = "fillfactor = 70; drop table x", name = "ix_t"))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
