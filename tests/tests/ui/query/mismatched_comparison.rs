use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {
    let _ = select::<User>().filter(User::id.eq("text"));
}
