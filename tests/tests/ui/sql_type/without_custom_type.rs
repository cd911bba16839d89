use orm_postgres::prelude::*;

// `#[derive(SqlType)]` builds on `impl CustomType`, which is missing.
#[derive(SqlType, Debug, Clone, PartialEq)]
pub struct Email(String);

fn main() {}
