use orm_postgres::prelude::*;

// Each modifier is for the types that have it: checked against the field's type.
#[derive(Model, Debug, Clone)]
pub struct Reading {
    #[model(primary_key)]
    id: i64,
    #[model(precision = 10, scale = 2)]
    label: String,
    #[model(precision = 9)]
    taken_at: chrono::DateTime<chrono::Utc>,
    #[model(precision = 3, scale = 1)]
    elapsed: chrono::NaiveTime,
    #[model(len = 10)]
    count: i32,
    #[model(collation = "C")]
    weight: f64,
    #[model(collation = "C")]
    tags: Vec<String>,
}

fn main() {}
