use orm_postgres::prelude::*;

// A scale needs a precision, and fits inside it.
#[derive(Model, Debug, Clone)]
pub struct Price {
    #[model(primary_key)]
    id: i64,
    #[model(scale = 2)]
    net: rust_decimal::Decimal,
    #[model(precision = 4, scale = 6)]
    gross: rust_decimal::Decimal,
    #[model(precision = 1001)]
    huge: rust_decimal::Decimal,
}

fn main() {}
