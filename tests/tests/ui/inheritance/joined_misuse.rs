use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "employees", discriminator = "kind", polymorphic = "lazy")]
enum Employee {
    #[model(value = "manager")]
    Manager(Manager),
}

// The key is in both tables: `shared` on it is a mistake.
#[derive(Model)]
#[model(inherits = Employee, table = "managers")]
struct Manager {
    #[model(primary_key, generated, shared)]
    id: i64,
    budget: i32,
}

// `shared` means something only on a joined-table variant.
#[derive(Model)]
#[model(table = "people")]
struct Person {
    #[model(primary_key)]
    id: i64,
    #[model(shared)]
    name: String,
}

fn main() {}
