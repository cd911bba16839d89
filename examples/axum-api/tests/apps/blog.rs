//! The blog: passwords hashed by the session's hooks (checked in the raw column), logins, and
//! the feed's statement count.

use orm_example_axum::blog::{self, BlogPost, BlogUser, password};
use orm_postgres::assert_queries;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;

async fn stored_password(db: &Database, username: &'static str) -> String {
    db.fetch_one(
        query::<String>("SELECT password FROM blog_users WHERE username = :u")
            .bind("u", username.to_owned()),
    )
    .await
    .expect("the raw column")
}

fn assert_phc(stored: &str, plain: &str) {
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(!stored.contains(plain), "the clear password is in {stored}");
    assert!(
        argon2::PasswordHash::new(stored).is_ok(),
        "not a PHC string: {stored}"
    );
}

#[orm_postgres::test(migrations)]
async fn passwords_are_stored_only_as_argon2_phc_strings(db: Database) {
    let mut s = db.session();
    let ada = s.add(blog::new_user("ada", "analytical engine"));
    let grace = s.add(blog::new_user("grace", "analytical engine"));
    s.commit().await.expect("commit");
    let ada_hash = stored_password(&db, "ada").await;
    let grace_hash = stored_password(&db, "grace").await;
    assert_phc(&ada_hash, "analytical engine");
    assert_ne!(ada_hash, grace_hash, "each hash has its own salt");
    assert_eq!(
        ada.read().password,
        ada_hash,
        "the object holds the hash too"
    );
    assert!(password::verify(&ada_hash, "analytical engine"));
    assert!(!password::verify(&ada_hash, "analytical engin"));
    assert!(!password::verify("not a phc string", "analytical engine"));

    let logged_in = blog::login(&db, "ada", "analytical engine")
        .await
        .expect("login");
    assert_eq!(logged_in.map(|u| u.username), Some("ada".to_owned()));
    assert!(
        blog::login(&db, "ada", "wrong")
            .await
            .expect("login")
            .is_none()
    );
    assert!(
        blog::login(&db, "nobody", "x")
            .await
            .expect("login")
            .is_none()
    );

    // Changing another column keeps the hash; changing the password hashes the new one.
    ada.write().username = "ada.l".into();
    s.commit().await.expect("commit");
    assert_eq!(stored_password(&db, "ada.l").await, ada_hash);
    grace.write().password = "cobol".into();
    s.commit().await.expect("commit");
    let new_hash = stored_password(&db, "grace").await;
    assert_phc(&new_hash, "cobol");
    assert!(
        blog::login(&db, "grace", "cobol")
            .await
            .expect("login")
            .is_some()
    );
    assert!(
        blog::login(&db, "grace", "analytical engine")
            .await
            .expect("login")
            .is_none()
    );

    // An empty password is refused before any SQL.
    let mut s = db.session();
    s.add(blog::new_user("empty", ""));
    let err = s.commit().await.expect_err("an empty password");
    assert!(err.is_validation(), "{err}");
    assert_eq!(
        db.fetch_one(select::<BlogUser>().count())
            .await
            .expect("count"),
        2
    );
}

#[orm_postgres::test(migrations)]
async fn the_feed_loads_everything_in_five_queries(db: Database) {
    blog::seed(&db, 9).await.expect("seed");
    // The posts, their authors, their tags, their comments, the comments' authors.
    let posts = assert_queries!(db, 5, async { blog::feed(&db, 5).await }).expect("feed");
    let titles: Vec<&str> = posts.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Post 7", "Post 6", "Post 5", "Post 4", "Post 3"],
        "newest first; post 8 is a draft"
    );
    let post6: &BlogPost = &posts[1];
    assert_eq!(post6.author.get().expect("author").username, "ada");
    let tags: Vec<&str> = post6
        .tags
        .get()
        .expect("tags")
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(tags, ["postgres", "rust"], "by name");
    let comments: Vec<(&str, &str)> = post6
        .comments
        .get()
        .expect("comments")
        .iter()
        .map(|c| {
            (
                c.author.get().expect("author").username.as_str(),
                c.body.as_str(),
            )
        })
        .collect();
    assert_eq!(
        comments,
        [
            ("grace", "Comment 1 on post 6"),
            ("linus", "Comment 2 on post 6")
        ]
    );
    assert!(
        posts[0].comments.get().expect("comments").is_empty(),
        "odd posts have none"
    );
    // The whole feed costs the same five statements.
    let all = assert_queries!(db, 5, async { blog::feed(&db, 100).await }).expect("feed");
    assert_eq!(all.len(), 8);
    let text = blog::render(&all[..1]).expect("render");
    assert_eq!(text, "Post 7 by grace [history, postgres]\n");

    // Comments go with their post (delete-orphan cascade through the session).
    let mut s = db.session();
    let post = s
        .one(
            select::<BlogPost>()
                .filter(BlogPost::title.eq("Post 6"))
                .load(BlogPost::comments.selectin()),
        )
        .await
        .expect("post 6");
    s.delete(&post).expect("delete");
    s.commit().await.expect("commit");
    let left: i64 = db
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM blog_comments WHERE body LIKE '% on post 6'",
        ))
        .await
        .expect("count");
    assert_eq!(left, 0);
}
