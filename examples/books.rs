//! The books app: create the table, add a book, find it by title, print it.
//!
//! ```text
//! cargo run --example books
//! ```

use orm_postgres::prelude::*;

/// A book on the shelf.
#[derive(Model, Debug, Clone)]
#[model(table = "books")]
pub struct Book {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The title.
    #[model(len = 200, index)]
    pub title: String,
    /// The author.
    pub author: String,
    /// Publication year.
    #[model(check = "year > 0")]
    pub year: i32,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> orm_postgres::Result<()> {
    let db = orm_testing::dev_database().await?;
    db.create_all(&[Book::TABLE]).await?;

    let book = db
        .fetch_one(insert(&Book {
            id: 0,
            title: "The Rust Programming Language".into(),
            author: "Steve Klabnik and Carol Nichols".into(),
            year: 2018,
        }))
        .await?;
    println!("added book #{}", book.id);

    let found: Option<Book> = db
        .fetch_optional(
            select::<Book>()
                .filter(Book::title.eq("The Rust Programming Language"))
                .order_by(Book::id.desc())
                .limit(1),
        )
        .await?;
    match found {
        Some(b) => println!("found: {} by {} ({})", b.title, b.author, b.year),
        None => println!("not found"),
    }
    Ok(())
}
