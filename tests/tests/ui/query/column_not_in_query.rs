use orm_postgres::prelude::*;

#[derive(Model, Debug)]
pub struct Author {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug)]
pub struct Book {
    #[model(primary_key)]
    pub id: i32,
    pub title: String,
}

fn main() {
    // `Book` is not joined: selecting its column does not compile.
    let _ = select::<Author>().columns((Author::name, Book::title));
}
