//! Errors mapped to HTTP (status and JSON body), the per-request transaction (committed on
//! success, rolled back on failure), retries after serialization failures, and concurrency.

use std::collections::BTreeSet;

use orm_example_axum::api::Transactional;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use serde_json::{Value, json};

use crate::support::{Server, count, likes, start, start_with};

async fn create_user(server: &Server, name: &str, email: &str) -> i64 {
    let (status, body) = server
        .post("/users", json!({"name": name, "email": email}))
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("id")
}

#[orm_postgres::test(migrations)]
async fn a_unique_violation_is_a_409_naming_the_field(db: Database) {
    let server = start(&db).await;
    let ada = create_user(&server, "Ada", "ada@example.com").await;
    let conflict = json!({
        "error": "conflict",
        "message": "email is already taken",
        "field": "email",
    });
    let (status, body) = server
        .post(
            "/users",
            json!({"name": "Ada 2", "email": "ADA@example.com"}),
        )
        .await;
    assert_eq!((status, body), (409, conflict.clone()));
    let bob = create_user(&server, "Bob", "bob@example.com").await;
    let (status, body) = server
        .patch(
            &format!("/users/{bob}"),
            json!({"email": "ada@example.com"}),
        )
        .await;
    assert_eq!((status, body), (409, conflict));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM users WHERE email = 'ada@example.com'"
        )
        .await,
        1
    );
    let (_, bob_now) = server.get(&format!("/users/{bob}")).await;
    assert_eq!(
        bob_now["email"], "bob@example.com",
        "the failed change rolled back"
    );
    assert!(ada < bob);

    let (status, _) = server.post("/authors", json!({"name": "Le Guin"})).await;
    assert_eq!(status, 201);
    let (status, body) = server.post("/authors", json!({"name": "Le Guin"})).await;
    assert_eq!((status, body["field"].clone()), (409, json!("name")));
}

#[orm_postgres::test(migrations)]
async fn bad_input_is_a_422_naming_the_field(db: Database) {
    let server = start(&db).await;
    let cases = [
        (
            json!({"name": "  ", "email": "a@example.com"}),
            "name",
            "must not be empty",
        ),
        (
            json!({"name": "Ann", "email": "not-an-email"}),
            "email",
            "is not an email address",
        ),
        (
            json!({"name": "Ann", "email": "a@b"}),
            "email",
            "is not an email address",
        ),
    ];
    for (input, field, message) in cases {
        let (status, body) = server.post("/users", input.clone()).await;
        assert_eq!(status, 422, "{input}: {body}");
        assert_eq!(
            body,
            json!({"error": "invalid", "message": message, "field": field}),
            "{input}"
        );
    }
    // Bodies that do not parse: not JSON, a missing field, an unknown one, a wrong type.
    let malformed = [
        "{\"name\": ",
        "{\"name\": \"Ann\"}",
        "{\"name\": \"Ann\", \"email\": \"a@example.com\", \"admin\": true}",
        "{\"name\": 7, \"email\": \"a@example.com\"}",
    ];
    for text in malformed {
        let response = server
            .client
            .post(format!("{}/users", server.base))
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status().as_u16(), 422, "{text}");
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(body["error"], "invalid", "{text}");
    }
    let huge = "x".repeat(2 << 20);
    let (status, body) = server
        .post("/users", json!({"name": huge, "email": "a@example.com"}))
        .await;
    assert_eq!((status, body["error"].clone()), (413, json!("bad_body")));
    let (status, body) = server.get("/users/abc").await;
    assert_eq!((status, body["field"].clone()), (422, json!("id")));
    for (query, field) in [
        ("page=0", json!("page")),
        ("per_page=0", json!("per_page")),
        ("per_page=101", json!("per_page")),
        ("after=1&limit=1000", json!("limit")),
        ("page=1&after=3", Value::Null),
        ("page=x", Value::Null),
        ("sort=name", Value::Null),
    ] {
        let (status, body) = server.get(&format!("/users?{query}")).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(
            body.get("field").cloned().unwrap_or(Value::Null),
            field,
            "{query}"
        );
    }
    let (status, body) = server
        .post(
            "/books",
            json!({"title": "T", "isbn": "12345", "year": 2000, "author_ids": [1]}),
        )
        .await;
    assert_eq!((status, body["field"].clone()), (422, json!("isbn")));
    assert_eq!(
        count(&db, "SELECT count(*) FROM users").await,
        0,
        "nothing written"
    );
}

#[orm_postgres::test(migrations)]
async fn a_failing_handler_rolls_its_writes_back(db: Database) {
    let server = start(&db).await;
    let (_, author) = server.post("/authors", json!({"name": "Borges"})).await;
    let author = author["id"].as_i64().expect("id");
    // The handler inserts the book, then its links fail on the missing author: 422, and the
    // book's row is gone with the transaction.
    let (status, body) = server
        .post(
            "/books",
            json!({
                "title": "Ficciones",
                "isbn": "9780802130303",
                "year": 1944,
                "author_ids": [author, 999999],
            }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body,
        json!({
            "error": "invalid",
            "message": "names an author that does not exist",
            "field": "author_ids",
        })
    );
    assert_eq!(count(&db, "SELECT count(*) FROM books").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM book_authors").await, 0);
    // The same book with its real author commits.
    let (status, _) = server
        .post(
            "/books",
            json!({"title": "Ficciones", "isbn": "9780802130303", "year": 1944, "author_ids": [author]}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(count(&db, "SELECT count(*) FROM books").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM book_authors").await, 1);
}

#[orm_postgres::test(migrations)]
async fn an_unexpected_error_is_a_500_that_leaks_nothing(db: Database) {
    let server = start(&db).await;
    let ada = create_user(&server, "Ada", "ada@example.com").await;
    let (status, post) = server
        .post(&format!("/users/{ada}/posts"), json!({"title": "Hi"}))
        .await;
    assert_eq!(status, 201);
    // An operator breaks the schema under the running service.
    db.batch_execute("ALTER TABLE posts RENAME TO posts_gone")
        .await
        .expect("rename");
    let (status, body) = server.get(&format!("/posts/{}", post["id"])).await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        json!({"error": "internal", "message": "internal server error"})
    );
    let text = body.to_string();
    for secret in ["posts", "relation", "SELECT", "42P01", "does not exist"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    // The rest of the service is fine.
    assert_eq!(server.get(&format!("/users/{ada}")).await.0, 200);
}

/// Likes `post` while this test holds a concurrent, uncommitted update of its row: the
/// request's `REPEATABLE READ` transaction reads the old row, waits for the row lock, and fails
/// with a serialization failure (40001) once the test commits. Returns the request's answer.
async fn like_against_a_concurrent_update(
    db: &Database,
    server: &Server,
    post: i64,
) -> (u16, Value) {
    let tx = db.begin().await.expect("begin");
    tx.execute(query::<()>("UPDATE posts SET likes = likes + 100 WHERE id = :id").bind("id", post))
        .await
        .expect("update");
    let client = server.client.clone();
    let url = format!("{}/posts/{post}/like", server.base);
    let request = tokio::spawn(async move {
        let response = client.post(url).send().await.expect("answer");
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.expect("json"))
    });
    // Wait (bounded) until the request's transaction waits for the row lock.
    let waiting = || {
        query::<i64>(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
    };
    let mut seen = false;
    for _ in 0..1000 {
        if db.fetch_one(waiting()).await.expect("pg_stat_activity") > 0 {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(seen, "the request never waited for the row lock");
    tx.commit().await.expect("commit");
    request.await.expect("the request task")
}

#[orm_postgres::test(migrations, multi_thread)]
async fn a_serialization_failure_is_retried(db: Database) {
    let server = start(&db).await;
    let ada = create_user(&server, "Ada", "ada@example.com").await;
    let (_, post) = server
        .post(&format!("/users/{ada}/posts"), json!({"title": "Hi"}))
        .await;
    let post = post["id"].as_i64().expect("id");
    assert_eq!(server.reruns(), 0);
    let (status, body) = like_against_a_concurrent_update(&db, &server, post).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"id": post, "likes": 101}),
        "ran again on the new row"
    );
    assert_eq!(server.reruns(), 1);
    assert_eq!(likes(&db, post).await, 101);
}

#[orm_postgres::test(migrations, multi_thread)]
async fn a_serialization_failure_without_retries_left_is_a_503(db: Database) {
    let mut config = Transactional::new(db.clone());
    config.attempts = 1;
    let server = start_with(config).await;
    let ada = create_user(&server, "Ada", "ada@example.com").await;
    let (_, post) = server
        .post(&format!("/users/{ada}/posts"), json!({"title": "Hi"}))
        .await;
    let post = post["id"].as_i64().expect("id");
    let (status, body) = like_against_a_concurrent_update(&db, &server, post).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "busy");
    assert_eq!(server.reruns(), 0);
    assert_eq!(likes(&db, post).await, 100, "the failed like wrote nothing");
}

#[orm_postgres::test(migrations, multi_thread)]
async fn a_hundred_parallel_creates_lose_and_duplicate_nothing(db: Database) {
    let server = std::sync::Arc::new(start(&db).await);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"name": format!("u{i}"), "email": format!("u{i}@example.com")});
            server.post("/users", body).await
        }));
    }
    let mut ids = BTreeSet::new();
    for task in tasks {
        let (status, body) = task.await.expect("task");
        assert_eq!(status, 201, "{body}");
        assert!(
            ids.insert(body["id"].as_i64().expect("id")),
            "a duplicate id"
        );
    }
    assert_eq!(ids.len(), 100);
    let stored: Vec<(i64, String)> = db
        .fetch_all(query::<(i64, String)>(
            "SELECT id, email::text FROM users ORDER BY id",
        ))
        .await
        .expect("users");
    assert_eq!(stored.len(), 100);
    assert_eq!(stored.iter().map(|r| r.0).collect::<BTreeSet<_>>(), ids);
    let emails: BTreeSet<String> = stored.into_iter().map(|r| r.1).collect();
    let expected: BTreeSet<String> = (0..100).map(|i| format!("u{i}@example.com")).collect();
    assert_eq!(emails, expected);

    // Twenty racing for one email: exactly one wins, the others get 409.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"name": format!("racer{i}"), "email": "race@example.com"});
            server.post("/users", body).await.0
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses[0], 201);
    assert!(statuses[1..].iter().all(|&s| s == 409), "{statuses:?}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM users WHERE email = 'race@example.com'"
        )
        .await,
        1
    );
}

#[orm_postgres::test(migrations, multi_thread)]
async fn parallel_likes_of_one_post_are_all_counted(db: Database) {
    let server = std::sync::Arc::new(start(&db).await);
    let ada = create_user(&server, "Ada", "ada@example.com").await;
    let (_, post) = server
        .post(&format!("/users/{ada}/posts"), json!({"title": "Hi"}))
        .await;
    let post = post["id"].as_i64().expect("id");
    // At most 10 requests at once, 10 attempts each: each failure of a request is caused by
    // another one's commit, so 10 attempts always suffice.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            server
                .post(&format!("/posts/{post}/like"), json!({}))
                .await
                .0
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), 200);
    }
    assert_eq!(likes(&db, post).await, 10, "no lost update");
}
