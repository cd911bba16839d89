use orm_postgres::prelude::*;

fn positive(value: &i64) -> Result<(), String> {
    if *value > 0 {
        Ok(())
    } else {
        Err(format!("{value} is not positive"))
    }
}

#[derive(Model, Debug, Clone)]
pub struct Product {
    #[model(primary_key)]
    pub id: i64,
    /// The validator takes an `&i64`, the field is an `i32`.
    #[model(validate = positive)]
    pub stock: i32,
}

fn main() {}
