//! Diesel 2 + diesel-async: the `table!` schema, derived `Queryable`/`Insertable`/
//! `Associations`, `belonging_to` + `grouped_by` for the nested load.

use std::cell::RefCell;

use diesel::prelude::*;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::data::{Comment, NewRow, Tree, lookup_digest};
use super::raw_side::{flush_values, keys_back};
use super::{FLUSH_ROWS, POOL_LOOKUPS, POOL_SIZE, POOL_TASKS, next_key_at};
use crate::BoxError;

/// The schema, as `diesel print-schema` writes it.
#[allow(missing_docs)]
pub mod schema {
    diesel::table! {
        users (id) {
            id -> Int4,
            name -> Text,
        }
    }
    diesel::table! {
        posts (id) {
            id -> Int4,
            user_id -> Int4,
            title -> Text,
            body -> Nullable<Text>,
        }
    }
    diesel::table! {
        comments (id) {
            id -> Int4,
            post_id -> Int4,
            text -> Text,
        }
    }
    diesel::table! {
        session_users (id) {
            id -> Int8,
            name -> Text,
            email -> Nullable<Text>,
            age -> Int4,
            score -> Int8,
        }
    }
    diesel::table! {
        session_new_users (id) {
            id -> Int8,
            name -> Text,
            email -> Nullable<Text>,
            age -> Int4,
            score -> Int8,
        }
    }
    diesel::joinable!(posts -> users (user_id));
    diesel::joinable!(comments -> posts (post_id));
    diesel::allow_tables_to_appear_in_same_query!(users, posts, comments);
}

use schema::{comments, posts, session_new_users, session_users, users};

#[derive(Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
struct DUser {
    id: i32,
    name: String,
}

#[derive(Queryable, Selectable, Identifiable, Associations)]
#[diesel(belongs_to(DUser, foreign_key = user_id), table_name = posts)]
struct DPost {
    id: i32,
    user_id: i32,
    title: String,
    body: Option<String>,
}

#[derive(Queryable, Selectable, Identifiable, Associations)]
#[diesel(belongs_to(DPost, foreign_key = post_id), table_name = comments)]
struct DComment {
    id: i32,
    post_id: i32,
    text: String,
}

/// A post and its comments, as `grouped_by` nests them.
type PostWithComments = (DPost, Vec<DComment>);

#[derive(Insertable)]
#[diesel(table_name = session_new_users)]
struct DNewUser<'a> {
    name: &'a str,
    email: Option<&'a str>,
    age: i32,
    score: i64,
}

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = session_users)]
struct DFlushUser {
    id: i64,
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    email: Option<String>,
    age: i32,
    score: i64,
}

/// The flushes' 1,000 objects.
async fn load_objects(conn: &mut AsyncPgConnection) -> QueryResult<Vec<DFlushUser>> {
    session_users::table
        .filter(session_users::id.le(FLUSH_ROWS))
        .order(session_users::id)
        .select(DFlushUser::as_select())
        .load(conn)
        .await
}

/// Rows per multi-row insert: as many as PostgreSQL's 65,535 parameters allow (4 a row).
const ROWS_PER_INSERT: usize = 65_535 / 4;

/// diesel-async's connection, pool and the flushes' objects.
pub struct Diesel {
    conn: RefCell<Option<AsyncPgConnection>>,
    pool: Pool<AsyncPgConnection>,
    objects: RefCell<Vec<DFlushUser>>,
}

fn insertable(rows: &[NewRow]) -> Vec<DNewUser<'_>> {
    rows.iter()
        .map(|r| DNewUser {
            name: &r.name,
            email: r.email.as_deref(),
            age: r.age,
            score: r.score,
        })
        .collect()
}

impl Diesel {
    /// Connects: one connection, and a deadpool of [`POOL_SIZE`].
    pub async fn connect(url: &str) -> Result<Diesel, BoxError> {
        let mut conn = AsyncPgConnection::establish(url).await?;
        let objects = load_objects(&mut conn).await?;
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
        let pool = Pool::builder(manager).max_size(POOL_SIZE).build()?;
        Ok(Diesel {
            conn: RefCell::new(Some(conn)),
            pool,
            objects: RefCell::new(objects),
        })
    }

    async fn with_conn<T>(
        &self,
        f: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, BoxError>,
    ) -> Result<T, BoxError> {
        let taken = self.conn.borrow_mut().take();
        let mut conn = taken.ok_or("the diesel connection is in use")?;
        let r = f(&mut conn).await;
        *self.conn.borrow_mut() = Some(conn);
        r
    }

    /// `comments::table.find(id).first(conn)`.
    pub async fn by_key(&self, id: i32) -> Result<Comment, BoxError> {
        self.with_conn(async |conn| {
            let c: DComment = comments::table
                .find(id)
                .select(DComment::as_select())
                .first(conn)
                .await?;
            Ok(Comment {
                id: c.id,
                post_id: c.post_id,
                text: c.text,
            })
        })
        .await
    }

    /// `insert_into(...).values(&rows).execute(conn)` (one multi-row `VALUES`).
    pub async fn insert_execute(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        let values = insertable(rows);
        self.with_conn(async |conn| {
            let n = diesel::insert_into(session_new_users::table)
                .values(&values)
                .execute(conn)
                .await?;
            Ok(n as u64)
        })
        .await
    }

    /// In a transaction, the insert `RETURNING id`, the keys written back.
    pub async fn insert_objects(&self, mut rows: Vec<NewRow>) -> Result<usize, BoxError> {
        let keys: Vec<i64> = {
            let values = insertable(&rows);
            self.with_conn(async |conn| {
                let keys = conn
                    .transaction::<_, diesel::result::Error, _>(async |conn| {
                        diesel::insert_into(session_new_users::table)
                            .values(&values)
                            .returning(session_new_users::id)
                            .get_results(conn)
                            .await
                    })
                    .await?;
                Ok(keys)
            })
            .await?
        };
        for (row, key) in rows.iter_mut().zip(keys) {
            row.id = key;
        }
        Ok(keys_back(&rows))
    }

    /// Users, then `DPost::belonging_to(&users)` and `DComment::belonging_to(&posts)`, each
    /// level `grouped_by` its parents.
    pub async fn nested(&self) -> Result<Tree, BoxError> {
        self.with_conn(async |conn| {
            let users: Vec<DUser> = users::table
                .order(users::id)
                .select(DUser::as_select())
                .load(conn)
                .await?;
            let posts: Vec<DPost> = DPost::belonging_to(&users)
                .select(DPost::as_select())
                .load(conn)
                .await?;
            let comments: Vec<DComment> = DComment::belonging_to(&posts)
                .select(DComment::as_select())
                .load(conn)
                .await?;
            let comments = comments.grouped_by(&posts);
            let posts: Vec<Vec<(DPost, Vec<DComment>)>> =
                posts.into_iter().zip(comments).grouped_by(&users);
            let tree_users: Vec<(DUser, Vec<PostWithComments>)> =
                users.into_iter().zip(posts).collect();
            let mut tree = Tree::default();
            for (u, posts) in &tree_users {
                tree.user(u.id, &u.name);
                for (p, comments) in posts {
                    tree.post(u.id, p.id, &p.title, p.body.as_deref());
                    debug_assert_eq!(p.user_id, u.id);
                    for c in comments {
                        tree.comment(p.id, c.id, &c.text);
                    }
                }
            }
            Ok(tree)
        })
        .await
    }

    /// In a transaction, `insert_into(...).values(&chunk).execute(conn)` per
    /// [`ROWS_PER_INSERT`] rows.
    pub async fn bulk(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        let values = insertable(rows);
        self.with_conn(async |conn| {
            let n = conn
                .transaction::<_, diesel::result::Error, _>(async |conn| {
                    let mut n = 0;
                    for chunk in values.chunks(ROWS_PER_INSERT) {
                        n += diesel::insert_into(session_new_users::table)
                            .values(chunk)
                            .execute(conn)
                            .await?;
                    }
                    Ok(n)
                })
                .await?;
            Ok(n as u64)
        })
        .await
    }

    /// (With `load`: the 1,000 objects loaded first.) In a transaction, one
    /// `update(...).set(...)` per changed object.
    pub async fn flush(&self, v: i32, load: bool) -> Result<u64, BoxError> {
        if load {
            let loaded = self
                .with_conn(async |conn| Ok(load_objects(conn).await?))
                .await?;
            *self.objects.borrow_mut() = loaded;
        }
        let objects = {
            let mut objects = self.objects.borrow_mut();
            for (i, u) in objects.iter_mut().enumerate() {
                (u.age, u.score) = flush_values(i, v);
            }
            objects.clone()
        };
        self.with_conn(async |conn| {
            let n = conn
                .transaction::<_, diesel::result::Error, _>(async |conn| {
                    let mut n = 0;
                    for u in &objects {
                        n += diesel::update(session_users::table.find(u.id))
                            .set((
                                session_users::age.eq(u.age),
                                session_users::score.eq(u.score),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    Ok(n)
                })
                .await?;
            Ok(n as u64)
        })
        .await
    }

    /// [`POOL_TASKS`] concurrent tasks, each [`POOL_LOOKUPS`] lookups on the pool.
    pub async fn pool_lookups(&self) -> Result<(usize, i64), BoxError> {
        let tasks = (0..POOL_TASKS).map(|t| async move {
            let mut sum = 0i64;
            for i in 0..POOL_LOOKUPS {
                let mut conn = self.pool.get().await?;
                let c: DComment = comments::table
                    .find(next_key_at(t, i))
                    .select(DComment::as_select())
                    .first(&mut conn)
                    .await?;
                sum += lookup_digest(c.post_id, &c.text);
            }
            Ok::<i64, BoxError>(sum)
        });
        super::orm_side::sum_tasks(futures_util::future::join_all(tasks).await)
    }
}
