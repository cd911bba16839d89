use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "people")]
pub struct Person {
    #[model(primary_key, generated)]
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    #[model(computed = "first_name || ' ' || last_name")]
    pub full_name: String,
}

fn main() {
    // PostgreSQL computes `full_name`: a `SET` list cannot name it.
    let _ = update::<Person>()
        .set(Person::full_name, "Ada Lovelace")
        .filter(Person::id.eq(1));
}
