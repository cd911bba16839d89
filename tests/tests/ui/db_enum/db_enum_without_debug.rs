use orm_postgres::prelude::*;

// The driver's `ToSql` requires `Debug`: reported once, at the enum's name.
#[derive(DbEnum, Clone, Copy)]
pub enum Mood {
    Happy,
    Sad,
}

fn main() {}
