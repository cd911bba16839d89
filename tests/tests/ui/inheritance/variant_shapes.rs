use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "employees", discriminator = "kind")]
enum Employee {
    #[model(value = "manager")]
    Manager { id: i64 },
    #[model(value = "intern")]
    Intern,
    #[model(value = "pair")]
    Pair(Engineer, Engineer),
}

#[derive(Model)]
#[model(inherits = Employee)]
struct Engineer {
    #[model(primary_key)]
    id: i64,
}

fn main() {}
