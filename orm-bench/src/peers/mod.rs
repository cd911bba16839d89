//! The comparison with the peers (`benches/peers.rs`, feature `peers`): the seven workloads of
//! issue 17, each done by the ORM, SQLx, Diesel + diesel-async, SeaORM and deadpool-postgres
//! with `prepare_cached`, on the same data in the same run, each reported as a ratio to
//! hand-written tokio-postgres with statements prepared once (the 64-task workload: to
//! deadpool-postgres, the raw pooled baseline).
//!
//! Every side does exactly the same work and returns what it did (the rows it read, the keys it
//! got back), checked equal across the sides before anything is timed ([`check`]), with what
//! it left in the database (the rows the inserts wrote, the values the flushes wrote). Where a
//! peer has no API for what the ORM does in one statement, it does what its users write:
//! - **insert 100 objects, keys back:** SQLx, Diesel and SeaORM send one multi-row insert
//!   with `RETURNING id` in a transaction (SQLx: the hand-written `unnest` statement);
//! - **flush 1,000 changed objects:** the peers have no unit of work: each updates the rows it
//!   changed one `UPDATE` per row in a transaction (SeaORM through `ActiveModel::update`),
//!   while the ORM and the hand-written side send one `UPDATE … FROM unnest`. SQLx sends the
//!   SQL you write, so SQLx with the hand-written `unnest` statement *is* the baseline (1.00x);
//!   the row shows the per-row loop its users write without it;
//! - **nested loading:** SQLx and deadpool run the hand-written three queries (`= ANY($1)`)
//!   and group by key; Diesel uses `belonging_to` + `grouped_by`; SeaORM `load_many`;
//! - **100,000 rows bulk:** against hand-written binary `COPY`; the ORM's `copy_in` and
//!   deadpool copy too, SQLx sends the `unnest` insert (its documented way for many rows),
//!   Diesel and SeaORM multi-row inserts of 16,383 rows (65,535 parameters) in a transaction.
//!   The session's `add_all` + `commit` of 100,000 new objects (keys back) is its own row;
//! - **load + flush:** each side loads the 1,000 objects with its own query first.

pub mod data;
pub mod deadpool_side;
pub mod diesel_side;
pub mod orm_side;
pub mod raw_side;
pub mod report;
pub mod sea_side;
pub mod sqlx_side;

use std::cell::Cell;
use std::fmt;

use crate::BoxError;
pub use data::{Comment, NewRow, Tree};

/// Who does the work.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// This ORM.
    Orm,
    /// SQLx.
    Sqlx,
    /// Diesel + diesel-async.
    Diesel,
    /// SeaORM.
    SeaOrm,
    /// deadpool-postgres with `prepare_cached`.
    Deadpool,
}

impl Side {
    /// Every side, in the table's order.
    pub const ALL: [Side; 5] = [
        Side::Orm,
        Side::Sqlx,
        Side::Diesel,
        Side::SeaOrm,
        Side::Deadpool,
    ];

    /// The column header.
    pub fn label(self) -> &'static str {
        match self {
            Side::Orm => "orm",
            Side::Sqlx => "sqlx",
            Side::Diesel => "diesel-async",
            Side::SeaOrm => "sea-orm",
            Side::Deadpool => "deadpool raw",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The workloads of the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Work {
    /// One row of `comments` (10,000 rows) by primary key, the keys cycling.
    ByKey,
    /// 100 rows into `session_new_users`, the count only (`execute`).
    InsertExecute,
    /// 100 new objects, in a transaction, their generated keys written back (the ORM: a
    /// session's `add_all` + `commit`).
    InsertObjects,
    /// 100 users, their 1,000 posts and the posts' 10,000 comments into nested structs (the
    /// ORM: `selectin` at both levels).
    NestedSelectin,
    /// The same with the posts `joined` to the users (the ORM; the peers as in
    /// [`Work::NestedSelectin`]).
    NestedJoined,
    /// 100,000 rows into `session_new_users`, the count only: binary `COPY` where the side has
    /// it (the ORM's `copy_in`, the baseline's and deadpool's `BinaryCopyInWriter`), else what
    /// its users write for many rows (SQLx: the `unnest` insert; Diesel and SeaORM: multi-row
    /// inserts of as many rows as the 65,535 parameters allow, in a transaction).
    BulkCopy,
    /// 100,000 new objects through the ORM's session (`add_all` + `commit`, the generated keys
    /// written back), against the baseline's binary `COPY` (the ORM only).
    BulkSession,
    /// Two columns of 1,000 objects in hand changed and saved in one transaction.
    Flush,
    /// The same, the 1,000 objects loaded first (each side's query, timed with the flush).
    FlushLoaded,
    /// 64 concurrent tasks each looking up 200 rows by key on a pool of 8 connections.
    Pool,
}

impl Work {
    /// Every workload, in the table's order.
    pub const ALL: [Work; 10] = [
        Work::ByKey,
        Work::InsertExecute,
        Work::InsertObjects,
        Work::NestedSelectin,
        Work::NestedJoined,
        Work::BulkCopy,
        Work::BulkSession,
        Work::Flush,
        Work::FlushLoaded,
        Work::Pool,
    ];

    /// The 100,000-row inserts, whose table is emptied after every timed chunk.
    pub fn is_bulk(self) -> bool {
        matches!(self, Work::BulkCopy | Work::BulkSession)
    }

    /// The row label.
    pub fn label(self) -> &'static str {
        match self {
            Work::ByKey => "select one row by key",
            Work::InsertExecute => "insert 100 rows (execute)",
            Work::InsertObjects => "insert 100 objects, keys back",
            Work::NestedSelectin => "nested load 100/1k/10k, selectin",
            Work::NestedJoined => "nested load 100/1k/10k, joined",
            Work::BulkCopy => "bulk 100,000 rows (COPY)",
            Work::BulkSession => "bulk 100,000 objects, session",
            Work::Flush => "flush 1,000 changed objects",
            Work::FlushLoaded => "load + flush 1,000 changed objects",
            Work::Pool => "64 tasks x 200 lookups, pool of 8",
        }
    }

    /// The sides that take part (the joined load and the session's bulk insert are the
    /// ORM's only).
    pub fn sides(self) -> &'static [Side] {
        match self {
            Work::NestedJoined | Work::BulkSession => &[Side::Orm],
            _ => &Side::ALL,
        }
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Tasks and lookups per task of [`Work::Pool`].
pub const POOL_TASKS: usize = 64;
/// Lookups per task of [`Work::Pool`].
pub const POOL_LOOKUPS: usize = 200;
/// Connections of the pools of [`Work::Pool`].
pub const POOL_SIZE: usize = 8;
/// Rows per insert.
pub const INSERT_ROWS: usize = 100;
/// Rows per bulk insert.
pub const BULK_ROWS: usize = 100_000;
/// Objects changed per flush (`session_users` keys `1..=FLUSH_ROWS`).
pub const FLUSH_ROWS: i64 = 1_000;
/// Rows of `comments`: the keys of the lookups cycle through them.
pub const COMMENTS: i32 = 10_000;

/// The next key of a cycle through `1..=COMMENTS`.
pub fn next_key(counter: &Cell<i32>) -> i32 {
    let k = counter.get() % COMMENTS + 1;
    counter.set(k);
    k
}

/// The key of lookup `i` of task `t` of [`Work::Pool`]: spread over the table, the same for
/// every side.
pub fn next_key_at(t: usize, i: usize) -> i32 {
    ((t * POOL_LOOKUPS + i) * 37 % COMMENTS as usize) as i32 + 1
}

/// What one operation produced, compared across the sides by [`check`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A row.
    Row(Comment),
    /// A count of rows affected.
    Count(u64),
    /// Generated keys, in the objects' order.
    Keys(usize),
    /// Users, posts, comments loaded, and the checksum of their keys and texts ([`Tree`]).
    Tree(Tree),
    /// Rows read by all the lookups, and the sum of their digests (`data::lookup_digest`).
    Lookups(usize, i64),
}

/// Everything the sides need, opened by [`Peers::open`].
pub struct Peers {
    /// The hand-written baseline.
    pub raw: raw_side::Raw,
    /// This ORM.
    pub orm: orm_side::Orm,
    /// SQLx.
    pub sqlx: sqlx_side::Sqlx,
    /// Diesel + diesel-async.
    pub diesel: diesel_side::Diesel,
    /// SeaORM.
    pub sea: sea_side::Sea,
    /// deadpool-postgres with `prepare_cached`.
    pub deadpool: deadpool_side::Deadpool,
    /// `SHOW server_version`.
    pub server_version: String,
    /// Where the server is.
    pub server: &'static str,
    /// Whether the server is this process's local cluster.
    pub local: bool,
    /// The key of the next lookup.
    pub key: Cell<i32>,
    /// The value of the next flush (every flush changes the values, or the ORM sends nothing).
    pub version: Cell<i32>,
}

impl Peers {
    /// Creates the tables fresh (the `association` bench's `users`, `posts`, `comments` and
    /// the `session` bench's `session_users`, `session_new_users`) and opens every side.
    pub async fn open() -> Result<Peers, BoxError> {
        crate::association::setup().await?;
        crate::session::setup().await?;
        let (url, server) = crate::server_url()?;
        let raw = raw_side::Raw::connect(&url).await?;
        let server_version: String = raw
            .client
            .query_one("SHOW server_version", &[])
            .await?
            .get(0);
        Ok(Peers {
            orm: orm_side::Orm::connect(&url).await?,
            sqlx: sqlx_side::Sqlx::connect(&url).await?,
            diesel: diesel_side::Diesel::connect(&url).await?,
            sea: sea_side::Sea::connect(&url).await?,
            deadpool: deadpool_side::Deadpool::connect(&url)?,
            raw,
            server_version,
            server,
            local: server != "DATABASE_URL",
            key: Cell::new(0),
            version: Cell::new(0),
        })
    }

    /// One operation of `work` by `side`, or by the baseline when `side` is `None` (for
    /// [`Work::Pool`] the baseline is deadpool-postgres). `rows` are the inserts' new rows
    /// (built untimed by the caller; empty for the other workloads).
    pub async fn run(
        &self,
        work: Work,
        side: Option<Side>,
        rows: Vec<NewRow>,
    ) -> Result<Output, BoxError> {
        let side = match (work, side) {
            (Work::Pool, None) => Some(Side::Deadpool),
            _ => side,
        };
        match work {
            Work::ByKey => {
                let id = next_key(&self.key);
                let row = match side {
                    None => self.raw.by_key(id).await?,
                    Some(Side::Orm) => self.orm.by_key(id).await?,
                    Some(Side::Sqlx) => self.sqlx.by_key(id).await?,
                    Some(Side::Diesel) => self.diesel.by_key(id).await?,
                    Some(Side::SeaOrm) => self.sea.by_key(id).await?,
                    Some(Side::Deadpool) => self.deadpool.by_key(id).await?,
                };
                Ok(Output::Row(row))
            }
            Work::InsertExecute => {
                let n = match side {
                    None => self.raw.insert_execute(&rows).await?,
                    Some(Side::Orm) => self.orm.insert_execute(&rows).await?,
                    Some(Side::Sqlx) => self.sqlx.insert_execute(&rows).await?,
                    Some(Side::Diesel) => self.diesel.insert_execute(&rows).await?,
                    Some(Side::SeaOrm) => self.sea.insert_execute(&rows).await?,
                    Some(Side::Deadpool) => self.deadpool.insert_execute(&rows).await?,
                };
                Ok(Output::Count(n))
            }
            Work::InsertObjects => {
                let keys = match side {
                    None => self.raw.insert_objects(rows).await?,
                    Some(Side::Orm) => self.orm.insert_objects(rows).await?,
                    Some(Side::Sqlx) => self.sqlx.insert_objects(rows).await?,
                    Some(Side::Diesel) => self.diesel.insert_objects(rows).await?,
                    Some(Side::SeaOrm) => self.sea.insert_objects(rows).await?,
                    Some(Side::Deadpool) => self.deadpool.insert_objects(rows).await?,
                };
                Ok(Output::Keys(keys))
            }
            Work::NestedSelectin | Work::NestedJoined => {
                let tree = match side {
                    None => self.raw.nested().await?,
                    Some(Side::Orm) => self.orm.nested(work == Work::NestedJoined).await?,
                    Some(Side::Sqlx) => self.sqlx.nested().await?,
                    Some(Side::Diesel) => self.diesel.nested().await?,
                    Some(Side::SeaOrm) => self.sea.nested().await?,
                    Some(Side::Deadpool) => self.deadpool.nested().await?,
                };
                Ok(Output::Tree(tree))
            }
            Work::BulkCopy => {
                let n = match side {
                    None => self.raw.bulk(&rows).await?,
                    Some(Side::Orm) => self.orm.bulk(&rows).await?,
                    Some(Side::Sqlx) => self.sqlx.insert_execute(&rows).await?,
                    Some(Side::Diesel) => self.diesel.bulk(&rows).await?,
                    Some(Side::SeaOrm) => self.sea.bulk(&rows).await?,
                    Some(Side::Deadpool) => self.deadpool.bulk(&rows).await?,
                };
                Ok(Output::Count(n))
            }
            Work::BulkSession => {
                let n = match side {
                    None => self.raw.bulk(&rows).await?,
                    Some(Side::Orm) => self.orm.insert_objects(rows).await? as u64,
                    Some(other) => return Err(format!("{other} has no session").into()),
                };
                Ok(Output::Count(n))
            }
            Work::Flush | Work::FlushLoaded => {
                let v = self.version.get() + 1;
                self.version.set(v);
                let load = work == Work::FlushLoaded;
                let n = match side {
                    None => self.raw.flush(v, load).await?,
                    Some(Side::Orm) => self.orm.flush(v, load).await?,
                    Some(Side::Sqlx) => self.sqlx.flush(v, load).await?,
                    Some(Side::Diesel) => self.diesel.flush(v, load).await?,
                    Some(Side::SeaOrm) => self.sea.flush(v, load).await?,
                    Some(Side::Deadpool) => self.deadpool.flush(v, load).await?,
                };
                Ok(Output::Count(n))
            }
            Work::Pool => {
                let (n, sum) = match side {
                    None | Some(Side::Deadpool) => self.deadpool.pool_lookups().await?,
                    Some(Side::Orm) => self.orm.pool_lookups().await?,
                    Some(Side::Sqlx) => self.sqlx.pool_lookups().await?,
                    Some(Side::Diesel) => self.diesel.pool_lookups().await?,
                    Some(Side::SeaOrm) => self.sea.pool_lookups().await?,
                };
                Ok(Output::Lookups(n, sum))
            }
        }
    }

    /// The new rows one operation of `work` inserts (none for the others).
    pub fn inputs(&self, work: Work) -> Vec<NewRow> {
        match work {
            Work::InsertExecute | Work::InsertObjects => data::new_rows(INSERT_ROWS),
            Work::BulkCopy | Work::BulkSession => data::new_rows(BULK_ROWS),
            _ => Vec::new(),
        }
    }

    /// Empties `session_new_users` (before a workload's rounds; between the checks; and for
    /// the bulk inserts after every timed chunk, [`Work::is_bulk`]). Not between the timed
    /// chunks of the small inserts: `TRUNCATE` gives the table a new file and makes every
    /// connection re-plan its statements on the table, which timed the first statement after
    /// it unevenly (a cost lost in 100,000 rows).
    pub async fn finish(&self, work: Work) -> Result<(), BoxError> {
        if work.is_bulk() || matches!(work, Work::InsertExecute | Work::InsertObjects) {
            self.raw
                .client
                .batch_execute("TRUNCATE session_new_users")
                .await?;
        }
        Ok(())
    }

    /// Runs every workload once per side and checks that every side produced, and wrote,
    /// what the baseline did (the lookups with the key reset so every side reads the same
    /// rows; each flush writes new values, checked in every row). Also opens every pool's
    /// connections.
    pub async fn check(&self) -> Result<(), BoxError> {
        for work in Work::ALL {
            self.check_work(work).await?;
        }
        Ok(())
    }

    /// What the last operation of `work` left in the database, for the checks: the inserts'
    /// rows (their number and digest, [`Raw::inserted_digest`](raw_side::Raw::inserted_digest));
    /// for the flushes, an error unless every row holds the values of the last flush.
    async fn written(&self, work: Work) -> Result<Option<(i64, String)>, BoxError> {
        match work {
            Work::InsertExecute | Work::InsertObjects | Work::BulkCopy | Work::BulkSession => {
                Ok(Some(self.raw.inserted_digest().await?))
            }
            Work::Flush | Work::FlushLoaded => {
                self.raw.check_flushed(self.version.get()).await?;
                Ok(None)
            }
            Work::ByKey | Work::NestedSelectin | Work::NestedJoined | Work::Pool => Ok(None),
        }
    }

    /// [`check`](Peers::check) of one workload.
    pub async fn check_work(&self, work: Work) -> Result<(), BoxError> {
        let start_key = self.key.get();
        // The inserts' digests need an empty table to start from.
        self.finish(work).await?;
        let expected = self.run(work, None, self.inputs(work)).await?;
        let expected_rows = self
            .written(work)
            .await
            .map_err(|e| format!("{work}: the baseline: {e}"))?;
        self.finish(work).await?;
        for &side in work.sides() {
            self.key.set(start_key);
            let got = self.run(work, Some(side), self.inputs(work)).await?;
            let got_rows = self
                .written(work)
                .await
                .map_err(|e| format!("{work}: {side}: {e}"))?;
            self.finish(work).await?;
            if got != expected {
                return Err(
                    format!("{work}: {side} produced {got:?}, the baseline {expected:?}").into(),
                );
            }
            if got_rows != expected_rows {
                return Err(format!(
                    "{work}: {side} wrote {got_rows:?}, the baseline {expected_rows:?}"
                )
                .into());
            }
        }
        Ok(())
    }
}
