use orm_postgres::prelude::*;

fn not_empty(value: &String) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("must not be empty")
    } else {
        Ok(())
    }
}

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[model(validate = not_empty)]
    pub name: String,
    #[model(skip, validate = not_empty)]
    pub nickname: String,
    #[model(validate = "not_empty")]
    pub email: String,
}

fn main() {}
