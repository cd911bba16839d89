use orm_postgres::prelude::*;

// `using` names an index method PostgreSQL (or a common extension) has.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(tags, using = "ginn"), index(email, using = "fulltext", name = "ix_email"))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

fn main() {}
