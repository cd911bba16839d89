use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "employees", discriminator = "kind")]
enum Employee {
    #[model(value = "manager")]
    Manager(Manager),
}

#[derive(Model)]
#[model(inherits = Employee, table = "managers")]
struct Manager {
    #[model(primary_key)]
    id: i64,
    #[model(version)]
    version: i32,
    #[model(deferred)]
    notes: orm_postgres::deferred::Deferred<String>,
    #[model(column_property = Manager::double_id)]
    double: i64,
}

fn main() {}
