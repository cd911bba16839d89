//! `/authors` and `/books` over HTTP: the many-to-many, its `selectin` loading (counted), and
//! both kinds of pages.

use orm_postgres::assert_queries;
use orm_postgres::prelude::*;
use serde_json::{Value, json};

use crate::support::{Server, count, ids, start};

async fn author(server: &Server, name: &str) -> i64 {
    let (status, body) = server.post("/authors", json!({"name": name})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], name);
    body["id"].as_i64().expect("id")
}

async fn book(server: &Server, title: &str, isbn: &str, authors: &[i64]) -> Value {
    let (status, body) = server
        .post(
            "/books",
            json!({"title": title, "isbn": isbn, "year": 1990, "author_ids": authors}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

fn names(authors: &Value) -> Vec<&str> {
    authors
        .as_array()
        .expect("authors")
        .iter()
        .map(|a| a["name"].as_str().expect("name"))
        .collect()
}

#[orm_postgres::test(migrations)]
async fn books_and_authors_over_http(db: Database) {
    let server = start(&db).await;
    let pratchett = author(&server, "Terry Pratchett").await;
    let gaiman = author(&server, "Neil Gaiman").await;
    let omens = book(
        &server,
        "Good Omens",
        "9780060853983",
        &[pratchett, gaiman, gaiman],
    )
    .await;
    let id = omens["id"].as_i64().expect("id");
    assert_eq!(omens["isbn"], "9780060853983");
    assert_eq!(
        names(&omens["authors"]),
        ["Neil Gaiman", "Terry Pratchett"],
        "by name, once each"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM book_authors").await, 2);

    let (status, same) = server.get(&format!("/books/{id}")).await;
    assert_eq!((status, same), (200, omens.clone()));
    let (status, with_books) = server.get(&format!("/authors/{gaiman}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        with_books["books"],
        json!([{"id": id, "title": "Good Omens"}])
    );

    // Replace the authors: Pratchett stays, Gaiman goes, one link deleted.
    let (status, changed) = server
        .patch(
            &format!("/books/{id}"),
            json!({"author_ids": [pratchett], "year": 1991}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(names(&changed["authors"]), ["Terry Pratchett"]);
    assert_eq!(changed["year"], 1991);
    assert_eq!(count(&db, "SELECT count(*) FROM book_authors").await, 1);
    let (status, body) = server
        .patch(&format!("/books/{id}"), json!({"author_ids": [999999]}))
        .await;
    assert_eq!((status, body["field"].clone()), (422, json!("author_ids")));
    let (status, body) = server
        .patch(&format!("/books/{id}"), json!({"year": 1200}))
        .await;
    assert_eq!((status, body["field"].clone()), (422, json!("year")));
    let (status, body) = server
        .post(
            "/books",
            json!({"title": "Again", "isbn": "9780060853983", "year": 2000, "author_ids": [gaiman]}),
        )
        .await;
    assert_eq!((status, body["field"].clone()), (409, json!("isbn")));
    let (status, body) = server
        .post(
            "/books",
            json!({"title": "Nobody's", "isbn": "9780000000001", "year": 2000, "author_ids": []}),
        )
        .await;
    assert_eq!((status, body["field"].clone()), (422, json!("author_ids")));

    let (_, authors) = server.get("/authors?page=1&per_page=10").await;
    assert_eq!(ids(&authors), [pratchett, gaiman]);
    assert_eq!(authors["total"], 2);
    assert_eq!(server.delete(&format!("/authors/{gaiman}")).await.0, 204);
    assert_eq!(server.get(&format!("/authors/{gaiman}")).await.0, 404);
    assert_eq!(server.delete(&format!("/books/{id}")).await.0, 204);
    assert_eq!(server.get(&format!("/books/{id}")).await.0, 404);
    assert_eq!(server.delete(&format!("/books/{id}")).await.0, 404);
    assert_eq!(count(&db, "SELECT count(*) FROM book_authors").await, 0);
    assert_eq!(
        count(&db, "SELECT count(*) FROM authors").await,
        1,
        "authors stay"
    );
}

#[orm_postgres::test(migrations)]
async fn book_pages_load_their_authors_in_one_query(db: Database) {
    let server = start(&db).await;
    let a = author(&server, "A").await;
    let b = author(&server, "B").await;
    let mut books = Vec::new();
    for i in 0..12 {
        let authors = if i % 2 == 0 { vec![a] } else { vec![a, b] };
        let body = book(
            &server,
            &format!("Book {i}"),
            &format!("{:013}", i),
            &authors,
        )
        .await;
        books.push(body["id"].as_i64().expect("id"));
    }
    // BEGIN, the page, its authors (selectin: one query for the whole page), the count, COMMIT.
    let (status, page) = assert_queries!(db, 5, async {
        Ok::<_, orm_postgres::Error>(server.get("/books?page=2&per_page=5").await)
    })
    .expect("the page");
    assert_eq!(status, 200);
    assert_eq!(ids(&page), &books[5..10]);
    assert_eq!(page["total"], 12);
    for item in page["items"].as_array().expect("items") {
        let n = names(&item["authors"]).len();
        assert!(n == 1 || n == 2, "{item}");
    }
    assert_eq!(names(&page["items"][0]["authors"]), ["A", "B"], "Book 5");
    // Keyset: no count.
    let (_, page) = assert_queries!(db, 4, async {
        Ok::<_, orm_postgres::Error>(
            server
                .get(&format!("/books?after={}&limit=5", books[9]))
                .await,
        )
    })
    .expect("the page");
    assert_eq!(ids(&page), &books[10..12]);
    assert_eq!(page["next_after"], Value::Null);
    assert_eq!(names(&page["items"][1]["authors"]), ["A", "B"]);
}
