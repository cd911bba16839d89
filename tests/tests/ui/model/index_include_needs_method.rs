use orm_postgres::prelude::*;

// Only btree, gist and spgist indexes can `include` columns.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(index(tags, using = "gin", include(name)))]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub tags: Vec<String>,
}

fn main() {}
