use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "vehicles", discriminator = "kind")]
enum Vehicle {
    #[model(value = "truck")]
    Truck(Truck),
}

// The version is the truck table's own column: it must be the base table's (`shared`).
#[derive(Model)]
#[model(inherits = Vehicle, table = "trucks")]
struct Truck {
    #[model(primary_key)]
    id: i64,
    #[model(version)]
    version: i32,
}

fn main() {}
