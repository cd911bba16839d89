use orm_postgres::prelude::*;

#[derive(DbEnum, Debug, Clone)]
pub enum Shape {
    Circle(f64),
    Square { side: f64 },
    Point,
}

fn main() {}
