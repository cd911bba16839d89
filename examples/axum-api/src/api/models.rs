//! The service's tables: users and their posts, and a library of books and their authors.
//!
//! Validators run in the session's flush, before any SQL: a rejected value becomes an
//! [`ErrorKind::Validation`] naming the field, which the
//! service answers with 422.

use orm_postgres::prelude::*;

/// A user of the service.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "users")]
pub struct User {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// Display name: 1 to 80 characters.
    #[model(len = 80, validate = non_blank)]
    pub name: String,
    /// Unique (`users_email_key`), checked for a plausible shape.
    #[model(unique, len = 254, validate = plausible_email)]
    pub email: String,
    /// The user's posts, oldest first.
    #[relationship(has_many = Post, foreign_key = "user_id", order_by = "id", passive_deletes)]
    pub posts: Related<Vec<Post>>,
}

/// A post written by a user.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "posts")]
pub struct Post {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The author; posts go when their user does (`ON DELETE CASCADE`).
    #[model(references = "users.id", on_delete = "cascade", index)]
    pub user_id: i64,
    /// 1 to 200 characters.
    #[model(len = 200, validate = non_blank)]
    pub title: String,
    /// The text.
    pub body: String,
    /// How many times it was liked.
    #[model(default = "0")]
    pub likes: i32,
}

/// An author of books.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "authors")]
pub struct Author {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// Unique (`authors_name_key`).
    #[model(unique, len = 120, validate = non_blank)]
    pub name: String,
    /// Their books, by title, through `book_authors`.
    #[relationship(many_to_many = Book, secondary = BookAuthor, order_by = "title")]
    pub books: Related<Vec<Book>>,
}

/// A book, written by one or more authors.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "books")]
pub struct Book {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// 1 to 200 characters.
    #[model(len = 200, validate = non_blank)]
    pub title: String,
    /// ISBN-13: 13 digits, unique (`books_isbn_key`).
    #[model(unique, len = 13, validate = isbn13)]
    pub isbn: String,
    /// Year of publication, 1450 to 2100.
    #[model(validate = plausible_year)]
    pub year: i32,
    /// Its authors, by name, through `book_authors`.
    #[relationship(many_to_many = Author, secondary = BookAuthor, order_by = "name")]
    pub authors: Related<Vec<Author>>,
}

/// The association of books and authors.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "book_authors")]
pub struct BookAuthor {
    /// The book.
    #[model(primary_key, references = "books.id", on_delete = "cascade")]
    pub book_id: i64,
    /// The author.
    #[model(primary_key, references = "authors.id", on_delete = "cascade", index)]
    pub author_id: i64,
}

/// Every table of the service, for `create_all`-free checks (the migrations create them).
pub const TABLES: &[&orm_postgres::Table] = &[
    User::TABLE,
    Post::TABLE,
    Author::TABLE,
    Book::TABLE,
    BookAuthor::TABLE,
];

/// Not empty and not only whitespace.
// `&String`, not `&str`: a validator takes a reference to the field's own type.
#[allow(clippy::ptr_arg)]
pub fn non_blank(value: &String) -> Result<(), &'static str> {
    if value.trim().is_empty() {
        Err("must not be empty")
    } else {
        Ok(())
    }
}

/// `local@domain.tld`: one `@`, something before it, a dot in the domain, no whitespace.
// `&String`, not `&str`: a validator takes a reference to the field's own type.
#[allow(clippy::ptr_arg)]
pub fn plausible_email(value: &String) -> Result<(), &'static str> {
    let ok = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.split('.').count() >= 2
            && domain.split('.').all(|part| !part.is_empty())
    }) && !value.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err("is not an email address")
    }
}

/// 13 digits.
// `&String`, not `&str`: a validator takes a reference to the field's own type.
#[allow(clippy::ptr_arg)]
pub fn isbn13(value: &String) -> Result<(), &'static str> {
    if value.len() == 13 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("must be 13 digits")
    }
}

/// Printed books: from Gutenberg's time to not too far ahead.
pub fn plausible_year(value: &i32) -> Result<(), &'static str> {
    if (1450..=2100).contains(value) {
        Ok(())
    } else {
        Err("must be between 1450 and 2100")
    }
}
