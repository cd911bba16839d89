use orm_postgres::prelude::*;

// One column type per Rust type: generic parameters are refused.
#[derive(SqlType, Debug, Clone, PartialEq)]
pub struct Tagged<T>(T);

fn main() {}
