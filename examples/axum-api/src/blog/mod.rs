//! A blog engine: users whose passwords are hashed with argon2 by a session hook (never stored
//! in clear), posts, comments and tags (many-to-many), and a feed that loads posts with their
//! author, tags, and comments with their authors in five queries, however many posts it shows.
//!
//! `cargo run -p orm-example-axum --bin blog` seeds a blog, checks a login and prints the feed.

pub mod models;
pub mod password;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use orm_postgres::prelude::*;
use orm_postgres::{Select, Session};

pub use models::{BlogComment, BlogPost, BlogPostTag, BlogTag, BlogUser};

/// A new user with a plain password: the flush that inserts it stores the hash.
pub fn new_user(username: &str, password: &str) -> BlogUser {
    BlogUser {
        username: username.to_owned(),
        password: password.to_owned(),
        ..Default::default()
    }
}

/// The user `username`, when `password` is theirs.
pub async fn login(
    db: &Database,
    username: &str,
    password: &str,
) -> orm_postgres::Result<Option<BlogUser>> {
    let user = db
        .fetch_optional(select::<BlogUser>().filter(BlogUser::username.eq(username.to_owned())))
        .await?;
    Ok(user.filter(|u| password::verify(&u.password, password)))
}

/// The tags named `names` in the session: the existing ones, and new ones for the others.
pub async fn tags(s: &mut Session, names: &[&str]) -> orm_postgres::Result<Vec<Tracked<BlogTag>>> {
    let wanted: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let existing = s
        .all(select::<BlogTag>().filter(BlogTag::name.is_in(wanted.clone())))
        .await?;
    let mut by_name: BTreeMap<String, Tracked<BlogTag>> = existing
        .into_iter()
        .map(|t| {
            let name = t.read().name.clone();
            (name, t)
        })
        .collect();
    let mut out = Vec::new();
    for name in wanted {
        let tag = match by_name.remove(&name) {
            Some(tag) => tag,
            None => s.add(BlogTag {
                name: name.clone(),
                ..Default::default()
            }),
        };
        out.push(tag);
    }
    Ok(out)
}

/// A published post by `author` with `tags`; written at the session's next flush (after its
/// author and new tags, whose keys it gets).
pub fn write_post(
    s: &mut Session,
    author: &Tracked<BlogUser>,
    title: &str,
    body: &str,
    tags: Vec<Tracked<BlogTag>>,
) -> orm_postgres::Result<Tracked<BlogPost>> {
    let post = s.add(BlogPost {
        title: title.to_owned(),
        body: body.to_owned(),
        published: true,
        ..Default::default()
    });
    s.set_related(&post, BlogPost::author, vec![author.clone()])?;
    s.set_related(&post, BlogPost::tags, tags)?;
    Ok(post)
}

/// A comment by `author` on `post`, written at the next flush.
pub fn comment(
    s: &mut Session,
    post: &Tracked<BlogPost>,
    author: &Tracked<BlogUser>,
    body: &str,
) -> orm_postgres::Result<Tracked<BlogComment>> {
    let comment = s.add(BlogComment {
        body: body.to_owned(),
        ..Default::default()
    });
    s.set_related(&comment, BlogComment::author, vec![author.clone()])?;
    s.append(post, BlogPost::comments, &comment)?;
    Ok(comment)
}

/// A small blog: three users, `posts` posts (each tagged, every other one commented on by the
/// two others, the last one a draft), in one session and one commit.
pub async fn seed(db: &Database, posts: usize) -> orm_postgres::Result<()> {
    let mut s = db.session();
    let users = s.add_all([
        new_user("ada", "analytical engine"),
        new_user("grace", "nanoseconds"),
        new_user("linus", "just for fun"),
    ]);
    let all_tags = tags(&mut s, &["rust", "postgres", "history"]).await?;
    for i in 0..posts {
        let author = &users[i % users.len()];
        let tagged = vec![all_tags[i % 3].clone(), all_tags[(i + 1) % 3].clone()];
        let post = write_post(
            &mut s,
            author,
            &format!("Post {i}"),
            &format!("The text of post {i}."),
            tagged,
        )?;
        if i % 2 == 0 {
            for (j, reader) in users.iter().enumerate().filter(|(j, _)| *j != i % 3) {
                comment(&mut s, &post, reader, &format!("Comment {j} on post {i}"))?;
            }
        }
        if i + 1 == posts {
            post.write().published = false;
        }
    }
    s.commit().await
}

/// The feed's query: the newest `limit` published posts, with their author, their tags, and
/// their comments with each comment's author. Five statements: the posts, then one per
/// relationship level (`selectin`), whatever the number of posts.
pub fn feed_query(limit: i64) -> Select<BlogPost> {
    select::<BlogPost>()
        .filter(BlogPost::published.eq(true))
        .order_by(BlogPost::id.desc())
        .limit(limit)
        .load(BlogPost::author.selectin())
        .load(BlogPost::tags.selectin())
        .load(
            BlogPost::comments
                .selectin()
                .load(BlogComment::author.selectin()),
        )
}

/// The newest `limit` published posts, loaded by [`feed_query`].
pub async fn feed(db: &Database, limit: i64) -> orm_postgres::Result<Vec<BlogPost>> {
    db.fetch_all(feed_query(limit)).await
}

/// The feed as text: each post with its author and tags, then its comments.
pub fn render(posts: &[BlogPost]) -> orm_postgres::Result<String> {
    let mut out = String::new();
    for post in posts {
        let tags: Vec<&str> = post.tags.get()?.iter().map(|t| t.name.as_str()).collect();
        let _ = writeln!(
            out,
            "{} by {} [{}]",
            post.title,
            post.author.get()?.username,
            tags.join(", ")
        );
        for c in post.comments.get()? {
            let _ = writeln!(out, "    {}: {}", c.author.get()?.username, c.body);
        }
    }
    Ok(out)
}
