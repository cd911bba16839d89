use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Wrapper<T> {
    #[model(primary_key)]
    pub id: i64,
    pub value: T,
}

fn main() {}
