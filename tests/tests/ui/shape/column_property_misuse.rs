use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "customers")]
pub struct Customer {
    #[model(primary_key, generated)]
    pub id: i64,
    // A property is not a column: no column options.
    #[model(column_property = Customer::name_length, index)]
    pub indexed: i32,
    #[model(column_property = "length(name)")]
    pub as_text: i32,
    pub name: String,
}

impl Customer {
    fn name_length() -> Expr<i32> {
        func::length(Customer::name)
    }
}

fn main() {}
