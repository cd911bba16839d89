use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Person {
    #[model(primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {
    let _ = select::<Person>().columns(func::sum(Person::name));
}
