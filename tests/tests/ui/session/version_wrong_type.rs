use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Document {
    #[model(primary_key)]
    pub id: i64,
    #[model(version)]
    pub revision: String,
}

fn main() {}
