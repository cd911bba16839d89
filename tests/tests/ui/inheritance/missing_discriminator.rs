use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "employees")]
enum Employee {
    #[model(value = "manager")]
    Manager(Manager),
}

#[derive(Model)]
#[model(inherits = Employee)]
struct Manager {
    #[model(primary_key)]
    id: i64,
    budget: i32,
}

fn main() {}
