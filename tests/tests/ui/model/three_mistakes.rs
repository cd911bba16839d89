use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "users", tabel = "people")]
pub struct User {
    #[model(primary_key, primary_key)]
    pub id: i64,
    #[model(len = 0)]
    pub name: String,
}

fn main() {
    // The fallback keeps the columns: these lines add no errors of their own.
    let _ = select::<User>().filter(User::name.eq("Jane"));
}
