use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Document {
    #[model(primary_key, version)]
    pub id: i64,
    #[model(version, generated)]
    pub revision: i64,
}

fn main() {}
