use orm_postgres::prelude::*;

// One variant has its own table, the other does not: single-table or joined-table, not both.
#[derive(Model)]
#[model(table = "employees", discriminator = "kind")]
enum Employee {
    #[model(value = "manager")]
    Manager(Manager),
    #[model(value = "engineer")]
    Engineer(Engineer),
}

#[derive(Model)]
#[model(inherits = Employee, table = "managers")]
struct Manager {
    #[model(primary_key, generated)]
    id: i64,
    budget: i32,
}

#[derive(Model)]
#[model(inherits = Employee)]
struct Engineer {
    #[model(primary_key, generated)]
    id: i64,
    language: String,
}

fn main() {}
