use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "customers")]
pub struct Customer {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    // `length` is an integer (`i32`), the field an `i64`.
    #[model(column_property = Customer::name_length)]
    pub name_length: i64,
}

impl Customer {
    fn name_length() -> Expr<i32> {
        func::length(Customer::name)
    }
}

fn main() {}
