use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Post {
    #[model(primary_key)]
    pub id: i64,
}

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many)]
    pub posts: Vec<Post>,
}

fn main() {}
