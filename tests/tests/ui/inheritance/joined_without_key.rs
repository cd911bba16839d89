use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "employees", discriminator = "kind")]
enum Employee {
    #[model(value = "manager")]
    Manager(Manager),
}

// A variant's table shares the base table's key: it must declare it.
#[derive(Model)]
#[model(inherits = Employee, table = "managers")]
struct Manager {
    #[model(shared)]
    name: String,
    budget: i32,
}

fn main() {}
