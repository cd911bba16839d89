use orm_postgres::prelude::*;

// `exclude(...)` names fields with their operators: a misspelled field and a value that is not
// an operator are both reported.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(exclude(rom = "=", during = "overlaps"))]
pub struct Booking {
    #[model(primary_key)]
    pub id: i64,
    pub room: i32,
    pub during: Range<i32>,
}

fn main() {}
