use orm_postgres::prelude::*;

// `hooks` says the struct implements `Hooks` itself; it does not.
#[derive(Model, Debug, Clone)]
#[model(hooks)]
pub struct Account {
    #[model(primary_key)]
    pub id: i64,
}

fn main() {}
