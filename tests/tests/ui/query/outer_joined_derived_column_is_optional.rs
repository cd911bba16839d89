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

orm_postgres::derived!(Counts = "counts");

fn main() {
    // An author without books has no row in `counts`: its count is `Option<i64>`, not `i64`.
    let (counts, (author_id, n)) = select::<Book>()
        .group_by(Book::author_id)
        .columns((Book::author_id, func::count_star()))
        .subquery(Counts);
    let _: Select<(String, i64), _> = select::<Author>()
        .left_join_derived(&counts, author_id.eq(Author::id))
        .columns((Author::name, n));
}
