use orm_postgres::prelude::*;

// A composite type is a struct with named fields: an enum is refused (an ENUM type is DbEnum).
#[derive(SqlType, Debug, Clone, PartialEq)]
#[sql_type(composite = "shape")]
pub enum Shape {
    Circle,
    Square,
}

fn main() {}
