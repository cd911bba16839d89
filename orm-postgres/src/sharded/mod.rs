//! [`Sharded`]: one database spread over several servers by a shard key.
//!
//! - `mod.rs`: the type, its builder, naming shards, and single-shard statements;
//! - `fan_out/`: [`FanOut`], reads run on every shard and merged, writes run on every shard;
//! - `session.rs`: sessions on one shard, whose flushes stay on it;
//! - `transaction.rs`: [`ShardTransaction`], a transaction on one shard whose statements are
//!   checked like a session's.
//!
//! Routing itself (where a statement fixes its key, which shard a key is on) has no IO and
//! lives in `orm_core::shard`.

mod fan_out;
mod session;
mod transaction;

pub use fan_out::{FanOut, FanOutRows, FanOutStream, ShardCounts};
pub use transaction::ShardTransaction;

use std::panic::Location;
use std::sync::Arc;

use deadpool_postgres::tokio_postgres::types::ToSql;
use orm_core::ShardError;
use orm_core::ast::Tree;
use orm_core::shard::{self, KeyType, KeyValue, ShardMap};

use crate::executor::{execute_at, fetch_all_at, fetch_one_at, fetch_optional_at};
use crate::{Database, Error, ErrorKind, Model, Result, RowOf, Statement};

/// A database spread over several servers ("shards"), each a normal [`Database`] (its own
/// pool, and its own replicas if it has some), by the shard key of its models
/// (`#[model(shard_key)]`) and a [`ShardMap`].
///
/// Statements go to the one shard their filter or rows fix (see [`orm_core::shard`] for the
/// rules); one that fixes no key is a [`KeyMissing`](ShardError::KeyMissing) error, sent
/// nowhere, unless it is run on every shard with [`fan_out`](Sharded::fan_out). Nothing ever
/// spans shards in one transaction: a statement or flush whose rows are on several shards is
/// a [`CrossShard`](ShardError::CrossShard) error, raised before anything is sent; a
/// transaction ([`transaction_for`](Sharded::transaction_for), a [`ShardTransaction`]) or a
/// session ([`session_for`](Sharded::session_for)) runs on one shard and refuses a statement
/// of another with [`WrongShard`](ShardError::WrongShard). Errors
/// from a shard name it: [`Unavailable`](ShardError::Unavailable) when its server cannot be
/// reached, [`OnShard`](ShardError::OnShard) otherwise (see [`Error::on_shard`]; the
/// predicates such as `is_unique_violation` look through, and [`Error::root`] is the error's
/// own kind).
///
/// ```no_run
/// use orm_postgres::prelude::*;
/// use orm_postgres::{Sharded, shard::ShardMap};
///
/// #[derive(Model, Debug, Clone)]
/// #[model(table = "orders")]
/// pub struct Order {
///     #[model(primary_key)]
///     pub id: i64,
///     #[model(shard_key)]
///     pub tenant_id: i64,
///     pub total: i32,
/// }
///
/// # async fn run() -> orm_postgres::Result<()> {
/// let sharded = Sharded::builder()
///     .shard("eu", Database::connect("postgres://eu-db/app").await?)
///     .shard("us", Database::connect("postgres://us-db/app").await?)
///     .map(ShardMap::hash())
///     .build()?;
/// let mine = sharded.fetch_all(select::<Order>().filter(Order::tenant_id.eq(7))).await?;
/// let top = sharded.fan_out().fetch_all(select::<Order>().order_by(Order::total.desc()).limit(10)).await?;
/// let tx = sharded.transaction_for::<Order>(&7_i64)?;
/// tx.execute(insert(&Order { id: 1, tenant_id: 7, total: 10 })).await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Sharded {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    names: Vec<String>,
    dbs: Vec<Database>,
    map: ShardMap,
}

/// Builds a [`Sharded`] database: [`Sharded::builder`].
#[derive(Debug, Default)]
#[must_use]
pub struct ShardedBuilder {
    shards: Vec<(String, Database)>,
    map: Option<ShardMap>,
}

impl ShardedBuilder {
    /// Adds a shard: its name (in errors, [`Sharded::transaction_on`], [`Sharded::session_on`], range and list maps) and its
    /// database. A hash map numbers the shards in the order they are added.
    pub fn shard(mut self, name: impl Into<String>, database: Database) -> Self {
        self.shards.push((name.into(), database));
        self
    }

    /// Which shard holds each key value; [`ShardMap::hash`] by default.
    pub fn map(mut self, map: ShardMap) -> Self {
        self.map = Some(map);
        self
    }

    /// The sharded database; a [`Config`](ErrorKind::Config) error without shards, for two
    /// shards of one name, or a map naming an unknown shard or with overlapping ranges.
    /// Connects nothing (each database already has its pool).
    pub fn build(self) -> Result<Sharded> {
        let (names, dbs): (Vec<String>, Vec<Database>) = self.shards.into_iter().unzip();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(Error::config(format!("two shards are named `{n}`"), None));
            }
        }
        let map = self.map.unwrap_or_else(ShardMap::hash);
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        map.check(&refs)?;
        Ok(Sharded {
            inner: Arc::new(Inner { names, dbs, map }),
        })
    }
}

impl Sharded {
    /// A builder: add shards with [`shard`](ShardedBuilder::shard), choose the
    /// [`map`](ShardedBuilder::map), then [`build`](ShardedBuilder::build).
    pub fn builder() -> ShardedBuilder {
        ShardedBuilder::default()
    }

    /// The shards' names, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.inner.names.iter().map(String::as_str)
    }

    /// The shard named `name`, as the plain [`Database`] it is, **unchecked**: nothing run
    /// there is routed, so a transaction on it would write a row whose shard key belongs to
    /// another shard without a word. For what runs on one shard on purpose and names no key:
    /// migrations, DDL, raw SQL, maintenance. Transactions go through
    /// [`transaction_on`](Sharded::transaction_on), sessions through
    /// [`session_on`](Sharded::session_on), which check every statement.
    pub fn shard_unchecked(&self, name: &str) -> Result<Database> {
        Ok(self.inner.dbs[self.index_of(name)?].clone())
    }

    /// The name of the shard holding `M`'s rows whose shard key is `key` (a value of the key
    /// field's Rust type: `&7_i64` for an `i64` key). A config error when `M` has no shard
    /// key or `key` is not of its type; [`Unmapped`](ShardError::Unmapped) when the map
    /// covers no shard for it.
    pub fn locate<M: Model>(&self, key: &(dyn ToSql + Sync)) -> Result<&str> {
        Ok(&self.inner.names[self.index_for::<M>(key)?])
    }

    /// The shard holding `M`'s rows whose shard key is `key`, as the plain [`Database`] it
    /// is, **unchecked** (see [`shard_unchecked`](Sharded::shard_unchecked)): run a
    /// transaction there with [`transaction_for`](Sharded::transaction_for) instead, which
    /// refuses a statement of another shard.
    pub fn shard_for_unchecked<M: Model>(&self, key: &(dyn ToSql + Sync)) -> Result<Database> {
        Ok(self.inner.dbs[self.index_for::<M>(key)?].clone())
    }

    /// Runs the statement on the shard its filter or rows fix and returns every row (see
    /// [`Executor::fetch_all`](crate::Executor::fetch_all)).
    #[track_caller]
    pub fn fetch_all<'a, S: Statement + 'a>(
        &'a self,
        statement: S,
    ) -> impl Future<Output = Result<Vec<RowOf<S>>>> + Send + 'a {
        let (site, at) = (Location::caller(), self.route_one(statement.tree()));
        self.routed(at, move |db| fetch_all_at(db, statement, site))
    }

    /// Runs the statement on its shard and returns its only row (see
    /// [`Executor::fetch_one`](crate::Executor::fetch_one)).
    #[track_caller]
    pub fn fetch_one<'a, S: Statement + 'a>(
        &'a self,
        statement: S,
    ) -> impl Future<Output = Result<RowOf<S>>> + Send + 'a {
        let (site, at) = (Location::caller(), self.route_one(statement.tree()));
        self.routed(at, move |db| fetch_one_at(db, statement, site))
    }

    /// Runs the statement on its shard and returns its row, if any (see
    /// [`Executor::fetch_optional`](crate::Executor::fetch_optional)).
    #[track_caller]
    pub fn fetch_optional<'a, S: Statement + 'a>(
        &'a self,
        statement: S,
    ) -> impl Future<Output = Result<Option<RowOf<S>>>> + Send + 'a {
        let (site, at) = (Location::caller(), self.route_one(statement.tree()));
        self.routed(at, move |db| fetch_optional_at(db, statement, site))
    }

    /// Runs the statement on its shard and returns the number of rows it affected (see
    /// [`Executor::execute`](crate::Executor::execute)). A write fixes one shard or is
    /// refused: rows of several shards in one `insert_many` are a
    /// [`CrossShard`](ShardError::CrossShard) error, sent nowhere; group them per shard with
    /// [`locate`](Sharded::locate).
    #[track_caller]
    pub fn execute<'a, S: Statement + 'a>(
        &'a self,
        statement: S,
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        let (site, at) = (Location::caller(), self.route_one(statement.tree()));
        self.routed(at, move |db| execute_at(db, statement, site))
    }

    /// Runs queries on every shard (or those their filter fixes) and merges the rows: see
    /// [`FanOut`].
    pub fn fan_out(&self) -> FanOut<'_> {
        FanOut::new(self)
    }

    /// The shards' names, borrowed, for the Core's functions.
    fn name_refs(&self) -> Vec<&str> {
        self.inner.name_refs()
    }

    fn index_of(&self, name: &str) -> Result<usize> {
        self.inner
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| ShardError::UnknownShard(name.into()).into())
    }

    fn index_for<M: Model>(&self, key: &(dyn ToSql + Sync)) -> Result<usize> {
        let table = M::TABLE;
        let column = M::shard_key().ok_or_else(|| {
            Error::config(
                format!("`{}` has no shard key (`#[model(shard_key)]`)", table.model),
                None,
            )
        })?;
        let unmapped = |value: String| ShardError::Unmapped {
            table: table.name,
            column: column.name,
            value,
        };
        let value = KeyValue::encode(KeyType::of(table.name, column)?, key)?
            .ok_or_else(|| unmapped("NULL".into()))?;
        self.inner
            .map
            .shard_of(&value, &self.name_refs())
            .ok_or_else(|| unmapped(value.to_string()).into())
    }

    /// `run` on shard `at` (the statement is compiled now), its errors naming the shard.
    fn routed<'a, T, F>(
        &'a self,
        at: Result<usize>,
        run: impl FnOnce(&'a Database) -> F,
    ) -> impl Future<Output = Result<T>> + Send + 'a
    where
        F: Future<Output = Result<T>> + Send + 'a,
    {
        let run = at.map(|i| (i, run(&self.inner.dbs[i])));
        async move {
            let (i, run) = run?;
            run.await.map_err(|e| self.on_shard(i, e))
        }
    }

    /// The one shard a statement's tree fixes.
    fn route_one(&self, tree: Option<Tree<'_>>) -> Result<usize> {
        let tree = tree.ok_or_else(|| ShardError::NotRoutable {
            reason: "raw SQL names no shard key".into(),
        })?;
        let routed = shard::route(tree)?;
        let shards = routed.shards(&self.inner.map, &self.name_refs())?;
        match shards[..] {
            [one] => Ok(one),
            _ => Err(ShardError::CrossShard {
                table: routed.table.name,
                shards: shards
                    .iter()
                    .map(|i| self.inner.names[*i].clone())
                    .collect(),
            }
            .into()),
        }
    }

    /// `e`, from shard `i`, naming it (see [`Error::on_shard`]).
    fn on_shard(&self, i: usize, e: Error) -> Error {
        e.on_shard(&self.inner.names[i])
    }
}

impl Inner {
    /// The shards' names, borrowed, for the Core's functions.
    fn name_refs(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }

    /// The shards (ascending) a statement's key values are on, with its sharded table, from
    /// where it was routed (`shard::route` of its tree); `None` when it fixes no key or reads
    /// no sharded table.
    fn key_shards(
        &self,
        routed: Result<shard::Routed>,
    ) -> Result<Option<(&'static str, Vec<usize>)>> {
        let routed = match routed {
            Ok(r) => r,
            Err(e) if matches!(e.kind(), ErrorKind::Shard(ShardError::NotRoutable { .. })) => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if routed.keys.is_none() {
            return Ok(None);
        }
        let shards = routed.shards(&self.map, &self.name_refs())?;
        Ok(Some((routed.table.name, shards)))
    }
}
