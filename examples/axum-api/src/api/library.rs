//! The library: `/authors` and `/books`. A book has one or more authors (many-to-many through
//! `book_authors`); books are always shown with their authors, loaded with `selectin` (one more
//! query for a whole page, whatever its size).

use std::collections::BTreeSet;

use axum::Json;
use axum::http::StatusCode;
use orm_postgres::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::input::{Body, Id, Params};
use super::models::{Author, Book, BookAuthor};
use super::paging::{Page, PageParams};
use super::session::DbSession;

/// `POST /authors`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAuthor {
    /// Unique, 1 to 120 characters.
    pub name: String,
}

/// An author as the API shows it; `books` only for `GET /authors/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorOut {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its books by title, when asked for one author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub books: Option<Vec<BookRef>>,
}

/// A book in an author's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookRef {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: String,
}

/// `POST /books`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBook {
    /// 1 to 200 characters.
    pub title: String,
    /// 13 digits, unique.
    pub isbn: String,
    /// 1450 to 2100.
    pub year: i32,
    /// One or more existing authors.
    pub author_ids: Vec<i64>,
}

/// `PATCH /books/{id}`: the fields to change; `author_ids` replaces the authors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookPatch {
    /// A new title.
    pub title: Option<String>,
    /// A new ISBN.
    pub isbn: Option<String>,
    /// A new year.
    pub year: Option<i32>,
    /// The new authors.
    pub author_ids: Option<Vec<i64>>,
}

/// A book with its authors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookOut {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its ISBN.
    pub isbn: String,
    /// Its year.
    pub year: i32,
    /// Its authors, by name.
    pub authors: Vec<AuthorOut>,
}

impl AuthorOut {
    fn plain(a: &Author) -> AuthorOut {
        AuthorOut {
            id: a.id,
            name: a.name.clone(),
            books: None,
        }
    }
}

impl BookOut {
    /// A book whose authors were loaded.
    fn of(b: &Book) -> Result<BookOut, ApiError> {
        Ok(BookOut {
            id: b.id,
            title: b.title.clone(),
            isbn: b.isbn.clone(),
            year: b.year,
            authors: b.authors.get()?.iter().map(AuthorOut::plain).collect(),
        })
    }
}

/// `POST /authors` → 201; 409 when the name is taken.
pub async fn create_author(
    mut s: DbSession,
    Body(new): Body<NewAuthor>,
) -> Result<(StatusCode, Json<AuthorOut>), ApiError> {
    let author = s.add(Author {
        name: new.name.trim().to_owned(),
        ..Default::default()
    });
    s.flush().await?;
    let out = AuthorOut::plain(&author.read());
    Ok((StatusCode::CREATED, Json(out)))
}

/// `GET /authors/{id}` → the author with their books.
pub async fn get_author(mut s: DbSession, Id(id): Id) -> Result<Json<AuthorOut>, ApiError> {
    let author = s
        .fetch_optional(
            select::<Author>()
                .filter(Author::id.eq(id))
                .load(Author::books.selectin()),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("author", id))?;
    let books = author.books.get()?;
    Ok(Json(AuthorOut {
        books: Some(
            books
                .iter()
                .map(|b| BookRef {
                    id: b.id,
                    title: b.title.clone(),
                })
                .collect(),
        ),
        ..AuthorOut::plain(&author)
    }))
}

/// `GET /authors?...` → a page of authors by id.
pub async fn list_authors(
    mut s: DbSession,
    Params(params): Params<PageParams>,
) -> Result<Json<Page<AuthorOut>>, ApiError> {
    let page = params
        .paging()?
        .fetch(&mut s, select::<Author>(), (Author::id, |a| a.id), |a| {
            Ok(AuthorOut::plain(&a))
        })
        .await?;
    Ok(Json(page))
}

/// `DELETE /authors/{id}` → 204; their books stay (with the other authors).
pub async fn delete_author(mut s: DbSession, Id(id): Id) -> Result<StatusCode, ApiError> {
    match s
        .execute(delete::<Author>().filter(Author::id.eq(id)))
        .await?
    {
        0 => Err(ApiError::not_found("author", id)),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// The distinct ids, or a 422 when there are none.
fn author_ids(ids: &[i64]) -> Result<Vec<i64>, ApiError> {
    let ids: BTreeSet<i64> = ids.iter().copied().collect();
    if ids.is_empty() {
        return Err(ApiError::invalid("author_ids", "a book needs an author"));
    }
    Ok(ids.into_iter().collect())
}

/// `POST /books` → 201 with the book and its authors; 409 when the ISBN is taken, 422 when an
/// author does not exist.
///
/// The database checks the authors: the links' foreign keys fail on a missing one. By then the
/// book's row is written, and the error answer rolls the request's transaction back, so no
/// book without its authors remains.
pub async fn create_book(
    mut s: DbSession,
    Body(new): Body<NewBook>,
) -> Result<(StatusCode, Json<BookOut>), ApiError> {
    let ids = author_ids(&new.author_ids)?;
    let book = s.add(Book {
        title: new.title.trim().to_owned(),
        isbn: new.isbn.trim().to_owned(),
        year: new.year,
        ..Default::default()
    });
    s.flush().await?;
    let book_id = book.read().id;
    let links: Vec<BookAuthor> = ids
        .iter()
        .map(|&author_id| BookAuthor { book_id, author_id })
        .collect();
    match s.execute(insert_many(&links)).await {
        Err(e) if e.is_foreign_key_violation() => {
            return Err(ApiError::invalid(
                "author_ids",
                "names an author that does not exist",
            ));
        }
        other => other?,
    };
    let out = load_book(&mut s, book_id).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// `GET /books/{id}` → the book with its authors.
pub async fn get_book(mut s: DbSession, Id(id): Id) -> Result<Json<BookOut>, ApiError> {
    Ok(Json(load_book(&mut s, id).await?))
}

/// `GET /books?...` → a page of books with their authors: two queries (and the count for an
/// offset page).
pub async fn list_books(
    mut s: DbSession,
    Params(params): Params<PageParams>,
) -> Result<Json<Page<BookOut>>, ApiError> {
    let query = select::<Book>().load(Book::authors.selectin());
    let page = params
        .paging()?
        .fetch(&mut s, query, (Book::id, |b| b.id), |b| BookOut::of(&b))
        .await?;
    Ok(Json(page))
}

/// `PATCH /books/{id}` → the changed book. New `author_ids` replace the authors: the flush
/// deletes and inserts only the links that changed.
pub async fn update_book(
    mut s: DbSession,
    Id(id): Id,
    Body(patch): Body<BookPatch>,
) -> Result<Json<BookOut>, ApiError> {
    let book = s
        .optional(
            select::<Book>()
                .filter(Book::id.eq(id))
                .load(Book::authors.selectin()),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("book", id))?;
    if let Some(ids) = &patch.author_ids {
        let ids = author_ids(ids)?;
        let authors = s
            .all(select::<Author>().filter(Author::id.is_in(ids.clone())))
            .await?;
        if authors.len() != ids.len() {
            return Err(ApiError::invalid(
                "author_ids",
                "names an author that does not exist",
            ));
        }
        s.set_related(&book, Book::authors, authors)?;
    }
    {
        let mut b = book.write();
        if let Some(title) = patch.title {
            b.title = title.trim().to_owned();
        }
        if let Some(isbn) = patch.isbn {
            b.isbn = isbn.trim().to_owned();
        }
        if let Some(year) = patch.year {
            b.year = year;
        }
    }
    s.flush().await?;
    Ok(Json(load_book(&mut s, id).await?))
}

/// `DELETE /books/{id}` → 204; its links go with it (`ON DELETE CASCADE`).
pub async fn delete_book(mut s: DbSession, Id(id): Id) -> Result<StatusCode, ApiError> {
    match s.execute(delete::<Book>().filter(Book::id.eq(id))).await? {
        0 => Err(ApiError::not_found("book", id)),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// The book `id` with its authors (no tracking), or a 404.
async fn load_book(s: &mut DbSession, id: i64) -> Result<BookOut, ApiError> {
    let book = s
        .fetch_optional(
            select::<Book>()
                .filter(Book::id.eq(id))
                .load(Book::authors.selectin()),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("book", id))?;
    BookOut::of(&book)
}
