//! The baseline: hand-written tokio-postgres, each statement prepared once.

use std::cell::RefCell;

use super::FLUSH_ROWS;
use super::data::{Comment, NewRow, Tree};
use crate::association::{self, RAW_COMMENTS_SQL, RAW_POSTS_SQL, RAW_USERS_SQL};
use crate::session;
use crate::{BoxError, RAW_APPLICATION_NAME};

/// The lookup by key (also deadpool's).
pub const BY_KEY_SQL: &str = "SELECT id, post_id, text FROM comments WHERE id = $1";
/// The insert of rows given as one array per column (also SQLx's and deadpool's).
pub const INSERT_SQL: &str = "INSERT INTO session_new_users (name, email, age, score) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::int8[])";
/// [`INSERT_SQL`] with the generated keys back (also SQLx's and deadpool's).
pub const INSERT_RETURNING_SQL: &str = "INSERT INTO session_new_users (name, email, age, score) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::int8[]) RETURNING id";
/// The change of 1,000 rows in one statement (also deadpool's).
pub const UPDATE_SQL: &str = "UPDATE session_users SET age = v.age, score = v.score \
     FROM unnest($1::int4[], $2::int8[], $3::int8[]) AS v(age, score, id) \
     WHERE session_users.id = v.id";

/// The load of the flushes' 1,000 objects (also deadpool's).
pub const FLUSH_LOAD_SQL: &str =
    "SELECT id, name, email, age, score FROM session_users WHERE id <= $1 ORDER BY id";
/// The bulk insert by binary `COPY` (also deadpool's).
pub const COPY_SQL: &str =
    "COPY session_new_users (name, email, age, score) FROM STDIN (FORMAT binary)";

/// The baseline's connections and statements.
pub struct Raw {
    /// Reads (its connection task runs on the bench's runtime).
    pub client: tokio_postgres::Client,
    /// The nested load's three statements, on their own connection.
    pub assoc: association::Raw,
    by_key: tokio_postgres::Statement,
    insert: tokio_postgres::Statement,
    insert_returning: tokio_postgres::Statement,
    update: tokio_postgres::Statement,
    load: tokio_postgres::Statement,
    /// The 1,000 objects the flushes change.
    objects: RefCell<Vec<session::User>>,
}

/// A row of `comments` (`id, post_id, text`: [`BY_KEY_SQL`]'s, or the nested load's) as a
/// [`Comment`], every column decoded (as every side does).
pub fn comment(r: &tokio_postgres::Row) -> Comment {
    Comment {
        id: r.get(0),
        post_id: r.get(1),
        text: r.get(2),
    }
}

/// A client on `url` named `application_name`, its connection task spawned.
pub async fn client(url: &str, name: &str) -> Result<tokio_postgres::Client, BoxError> {
    let mut config: tokio_postgres::Config = url.parse()?;
    config.application_name(name);
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("orm-bench: connection error: {e}");
        }
    });
    Ok(client)
}

/// The objects of the flushes, as every side holds them: keys `1..=FLUSH_ROWS`.
pub async fn flush_objects(
    client: &tokio_postgres::Client,
) -> Result<Vec<session::User>, BoxError> {
    let rows = client.query(FLUSH_LOAD_SQL, &[&FLUSH_ROWS]).await?;
    Ok(rows.iter().map(session::user_from_row).collect())
}

/// `rows` copied into `session_new_users` by hand-written binary `COPY` on `client`; the count.
pub async fn copy_rows(client: &tokio_postgres::Client, rows: &[NewRow]) -> Result<u64, BoxError> {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::Type;
    let sink = client.copy_in(COPY_SQL).await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::INT4, Type::INT8]);
    let mut writer = std::pin::pin!(writer);
    for r in rows {
        writer
            .as_mut()
            .write(&[&r.name, &r.email, &r.age, &r.score])
            .await?;
    }
    Ok(writer.finish().await?)
}

/// The flush's new values of object `i`.
pub fn flush_values(i: usize, v: i32) -> (i32, i64) {
    (v, i64::from(v) * 1000 + i as i64)
}

impl Raw {
    /// Connects and prepares.
    pub async fn connect(url: &str) -> Result<Raw, BoxError> {
        let c = client(url, RAW_APPLICATION_NAME).await?;
        let a = client(url, RAW_APPLICATION_NAME).await?;
        let assoc = association::Raw {
            users: a.prepare(RAW_USERS_SQL).await?,
            posts: a.prepare(RAW_POSTS_SQL).await?,
            comments: a.prepare(RAW_COMMENTS_SQL).await?,
            client: a,
        };
        Ok(Raw {
            by_key: c.prepare(BY_KEY_SQL).await?,
            insert: c.prepare(INSERT_SQL).await?,
            insert_returning: c.prepare(INSERT_RETURNING_SQL).await?,
            update: c.prepare(UPDATE_SQL).await?,
            load: c.prepare(FLUSH_LOAD_SQL).await?,
            objects: RefCell::new(flush_objects(&c).await?),
            client: c,
            assoc,
        })
    }

    /// One row by key.
    pub async fn by_key(&self, id: i32) -> Result<Comment, BoxError> {
        let r = self.client.query_one(&self.by_key, &[&id]).await?;
        Ok(comment(&r))
    }

    /// The rows as arrays, inserted; the count.
    pub async fn insert_execute(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        let (names, emails, ages, scores) = columns(rows);
        Ok(self
            .client
            .execute(&self.insert, &[&names, &emails, &ages, &scores])
            .await?)
    }

    /// `BEGIN`, the rows inserted with their keys back into the structs, `COMMIT`; the keys.
    pub async fn insert_objects(&self, mut rows: Vec<NewRow>) -> Result<usize, BoxError> {
        self.client.batch_execute("BEGIN").await?;
        let keys = {
            let (names, emails, ages, scores) = columns(&rows);
            self.client
                .query(&self.insert_returning, &[&names, &emails, &ages, &scores])
                .await?
        };
        for (row, key) in rows.iter_mut().zip(&keys) {
            row.id = key.get(0);
        }
        self.client.batch_execute("COMMIT").await?;
        Ok(keys_back(&rows))
    }

    /// The three statements, grouped into nested structs (the `association` bench's raw side).
    pub async fn nested(&self) -> Result<Tree, BoxError> {
        let users = association::raw_load(&self.assoc).await?;
        Ok(orm_tree(&users))
    }

    /// The rows copied by binary `COPY`.
    pub async fn bulk(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        copy_rows(&self.client, rows).await
    }

    /// (With `load`: the 1,000 objects loaded first, by the prepared statement.) `BEGIN`, both
    /// columns of the 1,000 objects changed and sent in one `UPDATE … FROM unnest`, `COMMIT`;
    /// the rows updated.
    pub async fn flush(&self, v: i32, load: bool) -> Result<u64, BoxError> {
        if load {
            let rows = self.client.query(&self.load, &[&FLUSH_ROWS]).await?;
            *self.objects.borrow_mut() = rows.iter().map(session::user_from_row).collect();
        }
        let (ages, scores, ids) = {
            let mut objects = self.objects.borrow_mut();
            for (i, u) in objects.iter_mut().enumerate() {
                (u.age, u.score) = flush_values(i, v);
            }
            let ages: Vec<i32> = objects.iter().map(|u| u.age).collect();
            let scores: Vec<i64> = objects.iter().map(|u| u.score).collect();
            let ids: Vec<i64> = objects.iter().map(|u| u.id).collect();
            (ages, scores, ids)
        };
        self.client.batch_execute("BEGIN").await?;
        let n = self
            .client
            .execute(&self.update, &[&ages, &scores, &ids])
            .await?;
        self.client.batch_execute("COMMIT").await?;
        Ok(n)
    }

    /// What the inserts left in `session_new_users`: the number of rows and an MD5 of every
    /// row's columns but the key (which the sequence gives each side differently), in order
    /// of those columns.
    pub async fn inserted_digest(&self) -> Result<(i64, String), BoxError> {
        let row = self
            .client
            .query_one(
                "SELECT count(*), md5(coalesce(string_agg( \
                     format('%s|%s|%s|%s', name, coalesce(email, '(null)'), age, score), \
                     ',' ORDER BY name, email, age, score), '')) \
                 FROM session_new_users",
                &[],
            )
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Checks that the table holds the values of flush `v`.
    pub async fn check_flushed(&self, v: i32) -> Result<(), BoxError> {
        let objects = flush_objects(&self.client).await?;
        for (i, u) in objects.iter().enumerate() {
            if (u.age, u.score) != flush_values(i, v) {
                return Err(format!("row {} does not hold flush {v}'s values", u.id).into());
            }
        }
        Ok(())
    }
}

/// The columns of `rows` as arrays borrowed from them.
#[allow(clippy::type_complexity)]
pub fn columns(rows: &[NewRow]) -> (Vec<&str>, Vec<Option<&str>>, Vec<i32>, Vec<i64>) {
    (
        rows.iter().map(|u| u.name.as_str()).collect(),
        rows.iter().map(|u| u.email.as_deref()).collect(),
        rows.iter().map(|u| u.age).collect(),
        rows.iter().map(|u| u.score).collect(),
    )
}

/// How many rows got a key (all of them, or the check fails).
pub fn keys_back(rows: &[NewRow]) -> usize {
    rows.iter().filter(|r| r.id > 0).count()
}

/// The tree of the ORM's and the baseline's structs.
pub fn orm_tree(users: &[association::User]) -> Tree {
    let mut tree = Tree::default();
    for u in users {
        tree.user(u.id, &u.name);
        for p in u.posts.as_option().into_iter().flatten() {
            tree.post(u.id, p.id, &p.title, p.body.as_deref());
            for c in p.comments.as_option().into_iter().flatten() {
                tree.comment(p.id, c.id, &c.text);
            }
        }
    }
    tree
}
