use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "people")]
pub struct Person {
    #[model(primary_key, computed = "lower(name)")]
    pub key: String,
    pub name: String,
    #[model(computed = "length(name)", default = "0")]
    pub name_length: i32,
    #[model(computed = "  ")]
    pub blank: String,
}

fn main() {}
