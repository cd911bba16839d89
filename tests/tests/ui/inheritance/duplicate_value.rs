use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "employees", discriminator = "kind")]
enum Employee {
    #[model(value = "staff")]
    Manager(Manager),
    #[model(value = "staff")]
    Engineer(Engineer),
}

#[derive(Model)]
#[model(inherits = Employee)]
struct Manager {
    #[model(primary_key)]
    id: i64,
}

#[derive(Model)]
#[model(inherits = Employee)]
struct Engineer {
    #[model(primary_key)]
    id: i64,
}

fn main() {}
