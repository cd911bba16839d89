use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "employees", discriminator = "kind")]
enum Employee {
    #[model(value = "manager")]
    Manager(Manager),
}

#[derive(Model)]
#[model(inherits = Employee)]
struct Manager {
    #[model(primary_key)]
    id: i64,
}

fn add(s: &mut Session) {
    s.add(Manager { id: 1 });
}

fn main() {}
