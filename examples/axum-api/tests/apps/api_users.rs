//! `/users` and `/posts` over HTTP: every endpoint, and both kinds of pages, exactly.

use orm_example_axum::api::models::User;
use orm_postgres::prelude::*;
use serde_json::{Value, json};

use crate::support::{count, ids, likes, start};

/// `n` users named `user01`.. inserted straight into the database, returned by id.
async fn seed_users(db: &Database, n: usize) -> Vec<i64> {
    let users: Vec<User> = (1..=n)
        .map(|i| User {
            name: format!("user{i:02}"),
            email: format!("user{i:02}@example.com"),
            ..Default::default()
        })
        .collect();
    let users: Vec<User> = db.fetch_all(insert_many(&users)).await.expect("seed");
    users.iter().map(|u| u.id).collect()
}

#[orm_postgres::test(migrations)]
async fn users_are_created_read_updated_and_deleted(db: Database) {
    let server = start(&db).await;
    let (status, ada) = server
        .post(
            "/users",
            json!({"name": "  Ada ", "email": "Ada@Example.com"}),
        )
        .await;
    assert_eq!(status, 201, "{ada}");
    let id = ada["id"].as_i64().expect("id");
    assert_eq!(
        ada,
        json!({"id": id, "name": "Ada", "email": "ada@example.com"})
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM users WHERE email = 'ada@example.com'"
        )
        .await,
        1,
        "committed"
    );

    assert_eq!(
        server.get(&format!("/users/{id}")).await,
        (200, ada.clone())
    );

    let (status, changed) = server
        .patch(&format!("/users/{id}"), json!({"name": "Ada Lovelace"}))
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Ada Lovelace");
    assert_eq!(changed["email"], "ada@example.com", "untouched");
    let stored: String = db
        .fetch_one(select::<User>().filter(User::id.eq(id)).columns(User::name))
        .await
        .expect("name");
    assert_eq!(stored, "Ada Lovelace");

    assert_eq!(
        server.delete(&format!("/users/{id}")).await,
        (204, Value::Null)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM users").await, 0);
    let (status, body) = server.get(&format!("/users/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "not_found", "message": format!("user {id} not found")})
    );
    assert_eq!(server.delete(&format!("/users/{id}")).await.0, 404);
    assert_eq!(
        server.patch(&format!("/users/{id}"), json!({})).await.0,
        404
    );
}

#[orm_postgres::test(migrations)]
async fn users_come_in_exact_offset_pages(db: Database) {
    let all = seed_users(&db, 25).await;
    let server = start(&db).await;
    for (page, expected) in [(1, &all[0..10]), (2, &all[10..20]), (3, &all[20..25])] {
        let (status, body) = server.get(&format!("/users?page={page}&per_page=10")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(ids(&body), expected, "page {page}");
        assert_eq!(body["page"], page);
        assert_eq!(body["per_page"], 10);
        assert_eq!(body["total"], 25);
        assert!(body.get("next_after").is_none());
    }
    let (_, past_the_end) = server.get("/users?page=4&per_page=10").await;
    assert_eq!(ids(&past_the_end), Vec::<i64>::new());
    assert_eq!(past_the_end["total"], 25);
    let (_, default) = server.get("/users").await;
    assert_eq!(ids(&default), &all[0..20], "page 1 of 20 by default");
    let (_, first) = server.get("/users?page=2&per_page=7").await;
    assert_eq!(first["items"][0]["name"], "user08");
}

#[orm_postgres::test(migrations)]
async fn users_come_in_exact_keyset_pages(db: Database) {
    let all = seed_users(&db, 25).await;
    let server = start(&db).await;
    let mut seen: Vec<i64> = Vec::new();
    let mut after = 0;
    let mut sizes = Vec::new();
    loop {
        let (status, body) = server.get(&format!("/users?after={after}&limit=10")).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("total").is_none(), "no count for keyset pages");
        let page = ids(&body);
        sizes.push(page.len());
        seen.extend(&page);
        match body["next_after"].as_i64() {
            Some(next) => {
                assert_eq!(Some(&next), page.last(), "the cursor is the last id shown");
                after = next;
            }
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(seen, all, "every row once, in order");

    // A row deleted behind the cursor shifts no page: the next page starts where it should.
    db.execute(delete::<User>().filter(User::id.eq(all[3])))
        .await
        .expect("delete");
    let (_, second) = server
        .get(&format!("/users?after={}&limit=10", all[9]))
        .await;
    assert_eq!(ids(&second), &all[10..20]);
    // ... while the offset page 2 now starts one row later.
    let (_, offset) = server.get("/users?page=2&per_page=10").await;
    assert_eq!(ids(&offset), &all[11..21]);
}

#[orm_postgres::test(migrations)]
async fn posts_are_created_listed_read_updated_liked_and_deleted(db: Database) {
    let server = start(&db).await;
    let (_, ada) = server
        .post("/users", json!({"name": "Ada", "email": "ada@example.com"}))
        .await;
    let ada = ada["id"].as_i64().expect("id");
    let mut posts = Vec::new();
    for i in 1..=5 {
        let (status, post) = server
            .post(
                &format!("/users/{ada}/posts"),
                json!({"title": format!("Note {i}"), "body": "..."}),
            )
            .await;
        assert_eq!(status, 201, "{post}");
        assert_eq!(post["user_id"], ada);
        assert_eq!(post["likes"], 0);
        posts.push(post["id"].as_i64().expect("id"));
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM posts WHERE user_id IS NOT NULL").await,
        5
    );

    let (status, page2) = server
        .get(&format!("/users/{ada}/posts?page=2&per_page=2"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&page2), &posts[2..4]);
    assert_eq!(page2["total"], 5);
    let (_, keyset) = server
        .get(&format!("/users/{ada}/posts?after={}&limit=2", posts[2]))
        .await;
    assert_eq!(ids(&keyset), &posts[3..5]);
    assert_eq!(keyset["next_after"], Value::Null, "the last page");
    let (status, _) = server.get("/users/999999/posts").await;
    assert_eq!(status, 404, "no such user");

    let id = posts[0];
    let (status, post) = server.get(&format!("/posts/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(post["title"], "Note 1");
    let (status, post) = server
        .patch(&format!("/posts/{id}"), json!({"title": "Note one"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (post["title"].clone(), post["body"].clone()),
        (json!("Note one"), json!("..."))
    );
    for expected in 1..=3 {
        let (status, likes) = server.post(&format!("/posts/{id}/like"), json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(likes, json!({"id": id, "likes": expected}));
    }
    assert_eq!(likes(&db, id).await, 3);
    assert_eq!(server.delete(&format!("/posts/{id}")).await.0, 204);
    assert_eq!(server.get(&format!("/posts/{id}")).await.0, 404);
    assert_eq!(server.delete(&format!("/posts/{id}")).await.0, 404);
    assert_eq!(
        server
            .post("/users/999999/posts", json!({"title": "x"}))
            .await
            .0,
        404
    );

    // Deleting the user deletes the rest of the posts (ON DELETE CASCADE).
    assert_eq!(server.delete(&format!("/users/{ada}")).await.0, 204);
    assert_eq!(count(&db, "SELECT count(*) FROM posts").await, 0);
}

#[orm_postgres::test(migrations)]
async fn health_answers_without_a_session(db: Database) {
    let server = start(&db).await;
    assert_eq!(server.get("/health").await, (200, json!("ok")));
    let (status, body) = server.get("/nowhere").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
}
