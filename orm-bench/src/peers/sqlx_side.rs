//! SQLx: the SQL written by hand, rows decoded by `#[derive(FromRow)]`.

use std::cell::RefCell;
use std::collections::HashMap;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::data::{Comment, NewRow, Tree, lookup_digest};
use super::raw_side::{BY_KEY_SQL, INSERT_RETURNING_SQL, INSERT_SQL, flush_values, keys_back};
use super::{FLUSH_ROWS, POOL_LOOKUPS, POOL_SIZE, POOL_TASKS, next_key_at};
use crate::BoxError;
use crate::association::{RAW_COMMENTS_SQL, RAW_POSTS_SQL, RAW_USERS_SQL};

#[derive(sqlx::FromRow)]
struct SComment {
    id: i32,
    post_id: i32,
    text: String,
}

#[derive(sqlx::FromRow)]
struct SUser {
    id: i32,
    name: String,
    #[sqlx(skip)]
    posts: Vec<SPost>,
}

#[derive(sqlx::FromRow)]
struct SPost {
    id: i32,
    user_id: i32,
    title: String,
    body: Option<String>,
    #[sqlx(skip)]
    comments: Vec<SComment>,
}

#[derive(sqlx::FromRow, Clone)]
struct SFlushUser {
    id: i64,
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    email: Option<String>,
    age: i32,
    score: i64,
}

/// The flushes' 1,000 objects.
async fn load_objects(db: &PgPool) -> Result<Vec<SFlushUser>, sqlx::Error> {
    sqlx::query_as::<_, SFlushUser>(super::raw_side::FLUSH_LOAD_SQL)
        .bind(FLUSH_ROWS)
        .fetch_all(db)
        .await
}

/// SQLx's pools and the flushes' objects.
pub struct Sqlx {
    db: PgPool,
    pool: PgPool,
    objects: RefCell<Vec<SFlushUser>>,
}

impl Sqlx {
    /// Connects: a pool of one connection, and one of [`POOL_SIZE`].
    pub async fn connect(url: &str) -> Result<Sqlx, BoxError> {
        let db = PgPoolOptions::new().max_connections(1).connect(url).await?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE as u32)
            .connect(url)
            .await?;
        let objects = load_objects(&db).await?;
        Ok(Sqlx {
            db,
            pool,
            objects: RefCell::new(objects),
        })
    }

    /// `query_as(...).bind(id).fetch_one(&pool)`.
    pub async fn by_key(&self, id: i32) -> Result<Comment, BoxError> {
        let c = sqlx::query_as::<_, SComment>(BY_KEY_SQL)
            .bind(id)
            .fetch_one(&self.db)
            .await?;
        Ok(Comment {
            id: c.id,
            post_id: c.post_id,
            text: c.text,
        })
    }

    /// The `unnest` insert, the columns bound as arrays.
    pub async fn insert_execute(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        let (names, emails, ages, scores) = super::raw_side::columns(rows);
        let r = sqlx::query(INSERT_SQL)
            .bind(names)
            .bind(emails)
            .bind(ages)
            .bind(scores)
            .execute(&self.db)
            .await?;
        Ok(r.rows_affected())
    }

    /// In a transaction, the `unnest` insert `RETURNING id`, the keys written back.
    pub async fn insert_objects(&self, mut rows: Vec<NewRow>) -> Result<usize, BoxError> {
        let mut tx = self.db.begin().await?;
        let keys: Vec<(i64,)> = {
            let (names, emails, ages, scores) = super::raw_side::columns(&rows);
            sqlx::query_as(INSERT_RETURNING_SQL)
                .bind(names)
                .bind(emails)
                .bind(ages)
                .bind(scores)
                .fetch_all(&mut *tx)
                .await?
        };
        tx.commit().await?;
        for (row, (key,)) in rows.iter_mut().zip(keys) {
            row.id = key;
        }
        Ok(keys_back(&rows))
    }

    /// The three statements, grouped by key into nested structs.
    pub async fn nested(&self) -> Result<Tree, BoxError> {
        let mut users: Vec<SUser> = sqlx::query_as(RAW_USERS_SQL).fetch_all(&self.db).await?;
        let user_ids: Vec<i32> = users.iter().map(|u| u.id).collect();
        let posts: Vec<SPost> = sqlx::query_as(RAW_POSTS_SQL)
            .bind(&user_ids)
            .fetch_all(&self.db)
            .await?;
        let post_ids: Vec<i32> = posts.iter().map(|p| p.id).collect();
        let comments: Vec<SComment> = sqlx::query_as(RAW_COMMENTS_SQL)
            .bind(&post_ids)
            .fetch_all(&self.db)
            .await?;
        let mut by_post: HashMap<i32, Vec<SComment>> = HashMap::with_capacity(posts.len());
        for c in comments {
            by_post.entry(c.post_id).or_default().push(c);
        }
        let mut by_user: HashMap<i32, Vec<SPost>> = HashMap::with_capacity(users.len());
        for mut p in posts {
            p.comments = by_post.remove(&p.id).unwrap_or_default();
            by_user.entry(p.user_id).or_default().push(p);
        }
        for u in &mut users {
            u.posts = by_user.remove(&u.id).unwrap_or_default();
        }
        let mut tree = Tree::default();
        for u in &users {
            tree.user(u.id, &u.name);
            for p in &u.posts {
                tree.post(u.id, p.id, &p.title, p.body.as_deref());
                for c in &p.comments {
                    tree.comment(p.id, c.id, &c.text);
                }
            }
        }
        Ok(tree)
    }

    /// (With `load`: the 1,000 objects loaded first.) In a transaction, one `UPDATE` per
    /// changed object.
    pub async fn flush(&self, v: i32, load: bool) -> Result<u64, BoxError> {
        if load {
            *self.objects.borrow_mut() = load_objects(&self.db).await?;
        }
        let objects = {
            let mut objects = self.objects.borrow_mut();
            for (i, u) in objects.iter_mut().enumerate() {
                (u.age, u.score) = flush_values(i, v);
            }
            objects.clone()
        };
        let mut tx = self.db.begin().await?;
        let mut n = 0;
        for u in &objects {
            n += sqlx::query("UPDATE session_users SET age = $1, score = $2 WHERE id = $3")
                .bind(u.age)
                .bind(u.score)
                .bind(u.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    /// [`POOL_TASKS`] concurrent tasks, each [`POOL_LOOKUPS`] lookups on the pool.
    pub async fn pool_lookups(&self) -> Result<(usize, i64), BoxError> {
        let tasks = (0..POOL_TASKS).map(|t| async move {
            let mut sum = 0i64;
            for i in 0..POOL_LOOKUPS {
                let c = sqlx::query_as::<_, SComment>(BY_KEY_SQL)
                    .bind(next_key_at(t, i))
                    .fetch_one(&self.pool)
                    .await?;
                sum += lookup_digest(c.post_id, &c.text);
            }
            Ok::<i64, sqlx::Error>(sum)
        });
        super::orm_side::sum_tasks(futures_util::future::join_all(tasks).await)
    }
}
