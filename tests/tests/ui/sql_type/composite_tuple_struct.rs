use orm_postgres::prelude::*;

// A composite type's attributes are named after the fields: a tuple struct is refused.
#[derive(SqlType, Debug, Clone, PartialEq)]
#[sql_type(composite = "point2")]
pub struct Point2(f64, f64);

fn main() {}
