use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "accounts", discriminator = "kind")]
enum Account {
    #[model(value = "personal")]
    Personal(Personal),
    #[model(value = "business")]
    Business(Business),
}

#[derive(Model)]
#[model(inherits = Account)]
struct Personal {
    #[model(primary_key)]
    id: i64,
    #[model(version)]
    version: i32,
}

// No version column: the enum's rows would be checked only when they are personal.
#[derive(Model)]
#[model(inherits = Account)]
struct Business {
    #[model(primary_key)]
    id: i64,
    version: Option<i32>,
}

fn main() {}
