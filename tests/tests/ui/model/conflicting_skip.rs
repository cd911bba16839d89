use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[model(skip, unique, len = 20)]
    pub nickname: String,
}

fn main() {}
