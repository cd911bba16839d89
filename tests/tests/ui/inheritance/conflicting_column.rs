use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "employees", discriminator = "kind")]
enum Employee {
    #[model(value = "manager")]
    Manager(Manager),
    #[model(value = "engineer")]
    Engineer(Engineer),
}

#[derive(Model)]
#[model(inherits = Employee)]
struct Manager {
    #[model(primary_key)]
    id: i64,
    level: String,
}

#[derive(Model)]
#[model(inherits = Employee)]
struct Engineer {
    #[model(primary_key)]
    id: i64,
    level: i32,
}

fn main() {}
