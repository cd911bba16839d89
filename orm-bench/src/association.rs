//! The association workload (Diesel's "loading associations" benchmark): [`USERS`] users, each
//! with [`POSTS_PER_USER`] posts, each with [`COMMENTS_PER_POST`] comments, loaded into nested
//! structs.
//!
//! - Tables: `users (id, name)`, `posts (id, user_id -> users, title, body)`,
//!   `comments (id, post_id -> posts, text)`, with an index on each foreign key; created fresh by
//!   [`setup`] (**which drops `comments`, `posts` and `users`**).
//! - ORM ([`orm_load`]): `select::<User>().order_by(User::id)` loading `User::posts` and, under
//!   it, `Post::comments`, both `selectin` (three statements); [`orm_load_joined`] loads the
//!   posts with `joined` instead (two statements).
//! - Hand-written ([`raw_load`]): three statements prepared once ([`RAW_USERS_SQL`],
//!   [`RAW_POSTS_SQL`], [`RAW_COMMENTS_SQL`]), the keys of one level passed as an array to the
//!   next, and the rows grouped into the same structs through `HashMap`s.
//!
//! The relationships are implemented by hand ([`UserPosts`], [`PostComments`], and the handles
//! [`User::posts`] and [`Post::comments`]), exactly as `#[relationship(has_many = Post,
//! foreign_key = "user_id")]` on the field will generate them.

use std::collections::HashMap;

use orm_postgres::expr::{Param, param};
use orm_postgres::prelude::*;
use orm_postgres::relation::{Relation, RelationKind, RelationMeta, Relationship};
use orm_postgres::{Database, Error as OrmError};

use crate::{BoxError, Connections};

/// Users.
pub const USERS: usize = 100;
/// Posts of each user.
pub const POSTS_PER_USER: usize = 10;
/// Comments on each post.
pub const COMMENTS_PER_POST: usize = 10;

/// The hand-written side's first statement: the same columns and order as the ORM's.
pub const RAW_USERS_SQL: &str = "SELECT id, name FROM users ORDER BY id";
/// The hand-written side's second statement: the posts of the users in `$1` (an `int4[]`).
pub const RAW_POSTS_SQL: &str =
    "SELECT id, user_id, title, body FROM posts WHERE user_id = ANY($1)";
/// The hand-written side's third statement: the comments on the posts in `$1`.
pub const RAW_COMMENTS_SQL: &str = "SELECT id, post_id, text FROM comments WHERE post_id = ANY($1)";

/// A row of `users`, with its posts once loaded.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "users")]
pub struct User {
    /// Key (`serial`).
    #[model(primary_key, generated)]
    pub id: i32,
    /// `text not null`.
    pub name: String,
    /// The user's posts ([`User::posts`]).
    #[model(skip)]
    pub posts: Related<Vec<Post>>,
}

/// A row of `posts`, with its comments once loaded.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "posts")]
pub struct Post {
    /// Key (`serial`).
    #[model(primary_key, generated)]
    pub id: i32,
    /// The author.
    #[model(references = "users.id")]
    pub user_id: i32,
    /// `text not null`.
    pub title: String,
    /// `text`.
    pub body: Option<String>,
    /// The post's comments ([`Post::comments`]).
    #[model(skip)]
    pub comments: Related<Vec<Comment>>,
}

/// A row of `comments`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "comments")]
pub struct Comment {
    /// Key (`serial`).
    #[model(primary_key, generated)]
    pub id: i32,
    /// The post commented on.
    #[model(references = "posts.id")]
    pub post_id: i32,
    /// `text not null`.
    pub text: String,
}

/// `User.posts`: has many `Post` through `posts.user_id`.
pub struct UserPosts;

impl Relation for UserPosts {
    type Parent = User;
    type Target = Post;
    type Key = i32;
    type Value = Vec<Post>;
    const META: &'static RelationMeta = &RelationMeta::new(
        "User",
        "posts",
        RelationKind::HasMany,
        User::TABLE,
        Post::TABLE,
    )
    .foreign_key(&["user_id"]);
    fn parent_key(parent: &User) -> Option<i32> {
        Some(parent.id)
    }
    fn key_params(keys: Vec<i32>) -> Vec<Param> {
        vec![param(keys)]
    }
    fn slot(parent: &mut User) -> Option<&mut Related<Vec<Post>>> {
        Some(&mut parent.posts)
    }
}

/// `Post.comments`: has many `Comment` through `comments.post_id`.
pub struct PostComments;

impl Relation for PostComments {
    type Parent = Post;
    type Target = Comment;
    type Key = i32;
    type Value = Vec<Comment>;
    const META: &'static RelationMeta = &RelationMeta::new(
        "Post",
        "comments",
        RelationKind::HasMany,
        Post::TABLE,
        Comment::TABLE,
    )
    .foreign_key(&["post_id"]);
    fn parent_key(parent: &Post) -> Option<i32> {
        Some(parent.id)
    }
    fn key_params(keys: Vec<i32>) -> Vec<Param> {
        vec![param(keys)]
    }
    fn slot(parent: &mut Post) -> Option<&mut Related<Vec<Comment>>> {
        Some(&mut parent.comments)
    }
}

#[allow(non_upper_case_globals)]
impl User {
    /// The relationship handle of [`User::posts`](struct@User#structfield.posts).
    pub const posts: Relationship<UserPosts> = Relationship::new();
}

#[allow(non_upper_case_globals)]
impl Post {
    /// The relationship handle of [`Post::comments`](struct@Post#structfield.comments).
    pub const comments: Relationship<PostComments> = Relationship::new();
}

/// The hand-written side: its own connection and the three statements, prepared once.
pub struct Raw {
    /// The client (its connection task runs on the bench's runtime).
    pub client: tokio_postgres::Client,
    /// [`RAW_USERS_SQL`], prepared.
    pub users: tokio_postgres::Statement,
    /// [`RAW_POSTS_SQL`], prepared.
    pub posts: tokio_postgres::Statement,
    /// [`RAW_COMMENTS_SQL`], prepared.
    pub comments: tokio_postgres::Statement,
}

/// Everything a run needs.
pub struct Env {
    /// The ORM side: a pool of one connection.
    pub db: Database,
    /// The hand-written side.
    pub raw: Raw,
    /// `SHOW server_version`.
    pub server_version: String,
    /// Where the server is: `DATABASE_URL` or the local cluster.
    pub server: &'static str,
    /// Whether the server is this process's local cluster.
    pub local: bool,
}

/// Creates the three tables fresh and fills them, and opens both clients.
///
/// Must run inside a tokio runtime with IO and time enabled.
pub async fn setup() -> Result<Env, BoxError> {
    crate::create_tables(&format!(
        "DROP TABLE IF EXISTS comments, posts, users CASCADE;
         CREATE TABLE users (
             id serial PRIMARY KEY,
             name text NOT NULL
         );
         CREATE TABLE posts (
             id serial PRIMARY KEY,
             user_id integer NOT NULL REFERENCES users (id),
             title text NOT NULL,
             body text
         );
         CREATE TABLE comments (
             id serial PRIMARY KEY,
             post_id integer NOT NULL REFERENCES posts (id),
             text text NOT NULL
         );
         CREATE INDEX posts_user_id_idx ON posts (user_id);
         CREATE INDEX comments_post_id_idx ON comments (post_id);
         INSERT INTO users (name)
         SELECT 'User ' || u FROM generate_series(1, {USERS}) AS u;
         INSERT INTO posts (user_id, title, body)
         SELECT u, 'Post ' || p || ' by user ' || u,
                'Body of post ' || p || ' by user ' || u || ': some text about nothing much'
         FROM generate_series(1, {USERS}) AS u, generate_series(1, {POSTS_PER_USER}) AS p
         ORDER BY u, p;
         INSERT INTO comments (post_id, text)
         SELECT p.id, 'Comment ' || c || ' on post ' || p.id
         FROM posts AS p, generate_series(1, {COMMENTS_PER_POST}) AS c
         ORDER BY p.id, c;
         ANALYZE users, posts, comments;"
    ))
    .await?;
    let Connections {
        db,
        client,
        server_version,
        server,
        local,
    } = crate::connect().await?;
    let users = client.prepare(RAW_USERS_SQL).await?;
    let posts = client.prepare(RAW_POSTS_SQL).await?;
    let comments = client.prepare(RAW_COMMENTS_SQL).await?;
    Ok(Env {
        db,
        raw: Raw {
            client,
            users,
            posts,
            comments,
        },
        server_version,
        server,
        local,
    })
}

/// The ORM side: every user with its posts and their comments, both levels `selectin`.
#[inline(never)]
pub async fn orm_load(db: &Database) -> Result<Vec<User>, OrmError> {
    db.fetch_all(
        select::<User>()
            .order_by(User::id)
            .load(User::posts.selectin().load(Post::comments.selectin())),
    )
    .await
}

/// The ORM side with the posts `joined` to the users (the comments still `selectin`).
#[inline(never)]
pub async fn orm_load_joined(db: &Database) -> Result<Vec<User>, OrmError> {
    db.fetch_all(
        select::<User>()
            .order_by(User::id)
            .load(User::posts.joined().load(Post::comments.selectin())),
    )
    .await
}

/// The hand-written side: the three prepared statements, each level's keys as the next one's
/// array parameter, then the rows grouped by foreign key (comments into posts, posts into
/// users) with `HashMap`s.
#[inline(never)]
pub async fn raw_load(raw: &Raw) -> Result<Vec<User>, tokio_postgres::Error> {
    let user_rows = raw.client.query(&raw.users, &[]).await?;
    let mut users: Vec<User> = user_rows
        .iter()
        .map(|r| User {
            id: r.get(0),
            name: r.get(1),
            posts: Related::not_loaded(),
        })
        .collect();
    let user_ids: Vec<i32> = users.iter().map(|u| u.id).collect();

    let post_rows = raw.client.query(&raw.posts, &[&user_ids]).await?;
    let post_ids: Vec<i32> = post_rows.iter().map(|r| r.get(0)).collect();

    let comment_rows = raw.client.query(&raw.comments, &[&post_ids]).await?;
    let mut comments_by_post: HashMap<i32, Vec<Comment>> = HashMap::with_capacity(post_rows.len());
    for r in &comment_rows {
        let comment = Comment {
            id: r.get(0),
            post_id: r.get(1),
            text: r.get(2),
        };
        comments_by_post
            .entry(comment.post_id)
            .or_default()
            .push(comment);
    }

    let mut posts_by_user: HashMap<i32, Vec<Post>> = HashMap::with_capacity(users.len());
    for r in &post_rows {
        let id: i32 = r.get(0);
        let post = Post {
            id,
            user_id: r.get(1),
            title: r.get(2),
            body: r.get(3),
            comments: Related::loaded(comments_by_post.remove(&id).unwrap_or_default()),
        };
        posts_by_user.entry(post.user_id).or_default().push(post);
    }
    for user in &mut users {
        user.posts = Related::loaded(posts_by_user.remove(&user.id).unwrap_or_default());
    }
    Ok(users)
}

/// Statements sent by one ORM load of each strategy.
#[derive(Debug, Clone, Copy)]
pub struct StatementCounts {
    /// [`orm_load`]: both levels `selectin`.
    pub selectin: u64,
    /// [`orm_load_joined`]: posts `joined`, comments `selectin`.
    pub joined: u64,
}

/// Checks that both ORM loads return exactly what the hand-written side returns, with every
/// user, post and comment, and that they take one statement per level (3 with `selectin`, 2
/// with the posts `joined`); returns the statement counts.
pub async fn check(env: &Env) -> Result<StatementCounts, BoxError> {
    let raw = raw_load(&env.raw).await?;
    check_shape(&raw).map_err(|e| format!("hand-written side: {e}"))?;

    let before = env.db.statement_count();
    let selectin = orm_load(&env.db).await?;
    let selectin_statements = env.db.statement_count() - before;
    if selectin != raw {
        return Err("the ORM's selectin load differs from the hand-written side's".into());
    }

    let before = env.db.statement_count();
    let joined = orm_load_joined(&env.db).await?;
    let joined_statements = env.db.statement_count() - before;
    if joined != raw {
        return Err("the ORM's joined load differs from the hand-written side's".into());
    }

    if selectin_statements != 3 || joined_statements != 2 {
        return Err(format!(
            "the ORM sent {selectin_statements} statements for the selectin load (expected 3) \
             and {joined_statements} for the joined load (expected 2)"
        )
        .into());
    }
    Ok(StatementCounts {
        selectin: selectin_statements,
        joined: joined_statements,
    })
}

/// Every user, post and comment is there, once, under its parent.
fn check_shape(users: &[User]) -> Result<(), String> {
    if users.len() != USERS {
        return Err(format!("{} users instead of {USERS}", users.len()));
    }
    for u in users {
        let posts = u.posts.get().map_err(|e| e.to_string())?;
        if posts.len() != POSTS_PER_USER || posts.iter().any(|p| p.user_id != u.id) {
            return Err(format!("wrong posts for user {}", u.id));
        }
        for p in posts {
            let comments = p.comments.get().map_err(|e| e.to_string())?;
            if comments.len() != COMMENTS_PER_POST || comments.iter().any(|c| c.post_id != p.id) {
                return Err(format!("wrong comments for post {}", p.id));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_match_the_tables() {
        let cols = |t: &orm_postgres::meta::Table| -> Vec<&str> {
            t.columns.iter().map(|c| c.name).collect()
        };
        assert_eq!(cols(User::TABLE), ["id", "name"]);
        assert_eq!(cols(Post::TABLE), ["id", "user_id", "title", "body"]);
        assert_eq!(cols(Comment::TABLE), ["id", "post_id", "text"]);
    }

    #[test]
    fn the_orm_selects_what_the_raw_side_selects() {
        let q = select::<User>()
            .order_by(User::id)
            .compile()
            .expect("compiles");
        assert_eq!(
            q.sql,
            r#"SELECT "users"."id", "users"."name" FROM "users" ORDER BY "users"."id""#
        );
    }
}
