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
    pub author_id: i32,
    pub title: String,
}

fn main() {
    // The outer side of a LEFT JOIN may be missing: its columns are `Option`, not `String`.
    let _: Select<(String, String), _> = select::<Author>()
        .left_join::<Book>(Book::author_id.eq(Author::id))
        .columns((Author::name, Book::title));
}
