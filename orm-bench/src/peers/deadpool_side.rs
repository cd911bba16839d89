//! deadpool-postgres with `prepare_cached`: the hand-written statements on a pool, the raw
//! pooled baseline.

use std::cell::RefCell;
use std::collections::HashMap;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use super::data::{Comment, NewRow, Tree, lookup_digest};
use super::raw_side::{
    BY_KEY_SQL, FLUSH_LOAD_SQL, INSERT_RETURNING_SQL, INSERT_SQL, UPDATE_SQL, columns, comment,
    flush_values, keys_back,
};
use super::{FLUSH_ROWS, POOL_LOOKUPS, POOL_SIZE, POOL_TASKS, next_key_at};
use crate::BoxError;
use crate::association::{RAW_COMMENTS_SQL, RAW_POSTS_SQL, RAW_USERS_SQL};
use crate::session;

/// The pools and the flushes' objects.
pub struct Deadpool {
    db: Pool,
    pool: Pool,
    objects: RefCell<Option<Vec<session::User>>>,
}

fn pool(url: &str, size: usize) -> Result<Pool, BoxError> {
    let config: tokio_postgres::Config = url.parse()?;
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager).max_size(size).build()?)
}

struct DPost {
    id: i32,
    user_id: i32,
    title: String,
    body: Option<String>,
    comments: Vec<Comment>,
}

impl Deadpool {
    /// A pool of one connection and one of [`POOL_SIZE`] (connections open on first use).
    pub fn connect(url: &str) -> Result<Deadpool, BoxError> {
        Ok(Deadpool {
            db: pool(url, 1)?,
            pool: pool(url, POOL_SIZE)?,
            objects: RefCell::new(None),
        })
    }

    /// One row by key.
    pub async fn by_key(&self, id: i32) -> Result<Comment, BoxError> {
        let client = self.db.get().await?;
        let stmt = client.prepare_cached(BY_KEY_SQL).await?;
        let r = client.query_one(&stmt, &[&id]).await?;
        Ok(comment(&r))
    }

    /// The `unnest` insert.
    pub async fn insert_execute(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        let client = self.db.get().await?;
        let stmt = client.prepare_cached(INSERT_SQL).await?;
        let (names, emails, ages, scores) = columns(rows);
        Ok(client
            .execute(&stmt, &[&names, &emails, &ages, &scores])
            .await?)
    }

    /// In a transaction, the `unnest` insert `RETURNING id`, the keys written back.
    pub async fn insert_objects(&self, mut rows: Vec<NewRow>) -> Result<usize, BoxError> {
        let mut client = self.db.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(INSERT_RETURNING_SQL).await?;
        let keys = {
            let (names, emails, ages, scores) = columns(&rows);
            tx.query(&stmt, &[&names, &emails, &ages, &scores]).await?
        };
        tx.commit().await?;
        for (row, key) in rows.iter_mut().zip(&keys) {
            row.id = key.get(0);
        }
        Ok(keys_back(&rows))
    }

    /// The three statements, grouped by key.
    pub async fn nested(&self) -> Result<Tree, BoxError> {
        let client = self.db.get().await?;
        let users = client.prepare_cached(RAW_USERS_SQL).await?;
        let posts = client.prepare_cached(RAW_POSTS_SQL).await?;
        let comments = client.prepare_cached(RAW_COMMENTS_SQL).await?;
        let user_rows = client.query(&users, &[]).await?;
        let user_ids: Vec<i32> = user_rows.iter().map(|r| r.get(0)).collect();
        let post_rows = client.query(&posts, &[&user_ids]).await?;
        let post_ids: Vec<i32> = post_rows.iter().map(|r| r.get(0)).collect();
        let comment_rows = client.query(&comments, &[&post_ids]).await?;
        let mut by_post: HashMap<i32, Vec<Comment>> = HashMap::with_capacity(post_rows.len());
        for r in &comment_rows {
            let c = comment(r);
            by_post.entry(c.post_id).or_default().push(c);
        }
        let mut by_user: HashMap<i32, Vec<DPost>> = HashMap::with_capacity(user_rows.len());
        for r in &post_rows {
            let id: i32 = r.get(0);
            let p = DPost {
                id,
                user_id: r.get(1),
                title: r.get(2),
                body: r.get(3),
                comments: by_post.remove(&id).unwrap_or_default(),
            };
            by_user.entry(p.user_id).or_default().push(p);
        }
        let mut tree = Tree::default();
        for r in &user_rows {
            let id: i32 = r.get(0);
            let name: String = r.get(1);
            tree.user(id, &name);
            for p in by_user.remove(&id).unwrap_or_default() {
                tree.post(id, p.id, &p.title, p.body.as_deref());
                for c in &p.comments {
                    tree.comment(p.id, c.id, &c.text);
                }
            }
        }
        Ok(tree)
    }

    /// The rows copied by binary `COPY` on a pooled connection.
    pub async fn bulk(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        let client = self.db.get().await?;
        super::raw_side::copy_rows(&client, rows).await
    }

    /// (With `load`, or the first time: the 1,000 objects loaded first.) In a transaction, the
    /// 1,000 changes in one `UPDATE … FROM unnest`.
    pub async fn flush(&self, v: i32, load: bool) -> Result<u64, BoxError> {
        let mut client = self.db.get().await?;
        let taken = self.objects.borrow_mut().take();
        let mut objects = match taken {
            Some(o) if !load => o,
            _ => {
                let stmt = client.prepare_cached(FLUSH_LOAD_SQL).await?;
                let rows = client.query(&stmt, &[&FLUSH_ROWS]).await?;
                rows.iter().map(session::user_from_row).collect()
            }
        };
        for (i, u) in objects.iter_mut().enumerate() {
            (u.age, u.score) = flush_values(i, v);
        }
        let ages: Vec<i32> = objects.iter().map(|u| u.age).collect();
        let scores: Vec<i64> = objects.iter().map(|u| u.score).collect();
        let ids: Vec<i64> = objects.iter().map(|u| u.id).collect();
        *self.objects.borrow_mut() = Some(objects);
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(UPDATE_SQL).await?;
        let n = tx.execute(&stmt, &[&ages, &scores, &ids]).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// [`POOL_TASKS`] concurrent tasks, each [`POOL_LOOKUPS`] lookups on the pool.
    pub async fn pool_lookups(&self) -> Result<(usize, i64), BoxError> {
        let tasks = (0..POOL_TASKS).map(|t| async move {
            let mut sum = 0i64;
            for i in 0..POOL_LOOKUPS {
                let client = self.pool.get().await?;
                let stmt = client.prepare_cached(BY_KEY_SQL).await?;
                let r = client.query_one(&stmt, &[&next_key_at(t, i)]).await?;
                // The whole row decoded, as every other side does.
                let c = comment(&r);
                sum += lookup_digest(c.post_id, &c.text);
            }
            Ok::<i64, BoxError>(sum)
        });
        super::orm_side::sum_tasks(futures_util::future::join_all(tasks).await)
    }
}
