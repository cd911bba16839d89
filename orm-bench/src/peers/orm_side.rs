//! This ORM.

use std::cell::RefCell;

use orm_postgres::prelude::*;
use orm_postgres::{Database, Session};

use super::data::{Comment, NewRow, Tree, lookup_digest};
use super::raw_side::{flush_values, orm_tree};
use super::{FLUSH_ROWS, POOL_LOOKUPS, POOL_SIZE, POOL_TASKS, next_key_at};
use crate::association;
use crate::session::{self, no_expire};
use crate::{BoxError, ORM_APPLICATION_NAME};

/// A row of `comments`, the ORM's way.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "comments")]
pub struct OrmComment {
    /// Key.
    #[model(primary_key, generated)]
    pub id: i32,
    /// The post commented.
    pub post_id: i32,
    /// `text not null`.
    pub text: String,
}

/// The ORM's pools and the session holding the flushes' objects.
pub struct Orm {
    /// A pool of one connection.
    pub db: Database,
    /// A pool of [`POOL_SIZE`].
    pub pool: Database,
    /// The session tracking the 1,000 objects of the flushes (no transaction open between
    /// flushes), taken while a flush runs.
    tracking: RefCell<Option<(Session, Vec<Tracked<session::User>>)>>,
}

impl Orm {
    /// Connects.
    pub async fn connect(url: &str) -> Result<Orm, BoxError> {
        let db = Database::builder(url)
            .max_connections(1)
            .application_name(ORM_APPLICATION_NAME)
            .connect()
            .await?;
        let pool = Database::builder(url)
            .max_connections(POOL_SIZE)
            .application_name(ORM_APPLICATION_NAME)
            .connect()
            .await?;
        let mut s = db.session_with(no_expire());
        let objects = s.all(flush_query()).await?;
        s.commit().await?;
        Ok(Orm {
            db,
            pool,
            tracking: RefCell::new(Some((s, objects))),
        })
    }

    /// `db.fetch_one(select::<Comment>().by_pk(id))`.
    pub async fn by_key(&self, id: i32) -> Result<Comment, BoxError> {
        let c = self.db.fetch_one(select::<OrmComment>().by_pk(id)).await?;
        Ok(Comment {
            id: c.id,
            post_id: c.post_id,
            text: c.text,
        })
    }

    /// `db.execute(insert_many(rows))`.
    pub async fn insert_execute(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        Ok(self.db.execute(insert_many(rows)).await?)
    }

    /// A session: `add_all`, `commit` (which writes the generated keys into the objects).
    pub async fn insert_objects(&self, rows: Vec<NewRow>) -> Result<usize, BoxError> {
        let mut s = self.db.session_with(no_expire());
        let handles = s.add_all(rows);
        s.commit().await?;
        Ok(handles.iter().filter(|h| h.read().id > 0).count())
    }

    /// Users with their posts and the posts' comments, `selectin` (or the posts `joined`).
    pub async fn nested(&self, joined: bool) -> Result<Tree, BoxError> {
        let users = if joined {
            association::orm_load_joined(&self.db).await?
        } else {
            association::orm_load(&self.db).await?
        };
        Ok(orm_tree(&users))
    }

    /// `db.copy_in(&rows)` (binary `COPY`).
    pub async fn bulk(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        Ok(self.db.copy_in(rows).await?)
    }

    /// (With `load`: a new session, the 1,000 objects loaded into it.) Both columns of the
    /// 1,000 tracked objects set through `write()`, `commit` (a flush in a transaction of its
    /// own); the objects flushed.
    pub async fn flush(&self, v: i32, load: bool) -> Result<u64, BoxError> {
        let taken = self.tracking.borrow_mut().take();
        let (s, objects) = taken.ok_or("the flush session is in use")?;
        let (mut s, objects) = if load {
            drop((s, objects));
            let mut s = self.db.session_with(no_expire());
            let objects = s.all(flush_query()).await?;
            (s, objects)
        } else {
            (s, objects)
        };
        for (i, t) in objects.iter().enumerate() {
            let mut u = t.write();
            (u.age, u.score) = flush_values(i, v);
        }
        let result = s.commit().await;
        let n = objects.len() as u64;
        *self.tracking.borrow_mut() = Some((s, objects));
        result?;
        Ok(n)
    }

    /// [`POOL_TASKS`] concurrent tasks, each [`POOL_LOOKUPS`] lookups on the pool.
    pub async fn pool_lookups(&self) -> Result<(usize, i64), BoxError> {
        let tasks = (0..POOL_TASKS).map(|t| async move {
            let mut sum = 0i64;
            for i in 0..POOL_LOOKUPS {
                let c = self
                    .pool
                    .fetch_one(select::<OrmComment>().by_pk(next_key_at(t, i)))
                    .await?;
                sum += lookup_digest(c.post_id, &c.text);
            }
            Ok::<i64, BoxError>(sum)
        });
        sum_tasks(futures_util::future::join_all(tasks).await)
    }
}

/// The flushes' 1,000 objects, in key order.
fn flush_query() -> orm_postgres::Select<session::User> {
    select::<session::User>()
        .filter(session::User::id.le(FLUSH_ROWS))
        .order_by(session::User::id)
}

/// The rows read and the sum of the tasks' sums.
pub fn sum_tasks<E: Into<BoxError>>(
    results: Vec<Result<i64, E>>,
) -> Result<(usize, i64), BoxError> {
    let mut sum = 0;
    for r in results {
        sum += r.map_err(Into::into)?;
    }
    Ok((POOL_TASKS * POOL_LOOKUPS, sum))
}
