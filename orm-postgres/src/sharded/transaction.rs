//! Transactions on one shard of a [`Sharded`] database: [`ShardTransaction`], whose typed
//! statements are checked like a sharded session's before anything is sent.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use deadpool_postgres::tokio_postgres::types::ToSql;
use futures_util::{Stream, StreamExt};
use orm_core::stmt::{Criteria, Keyset, KeysetKeys, Page};
use tokio::sync::OnceCell;

use super::{Inner, Sharded};
#[cfg(feature = "cache")]
use crate::conn::Conn;
use crate::executor::sealed::{Acquire, ConnRef};
use crate::executor::{Executor, execute_at, fetch_all_at, fetch_one_at, fetch_optional_at};
use crate::load::IntoLoader;
use crate::{Database, Error, Model, Result, RowOf, Statement, Transaction, TxOptions};

impl Sharded {
    /// A transaction on the shard holding `M`'s rows whose shard key is `key` (`&7_i64`):
    /// see [`ShardTransaction`]. Sends nothing: `BEGIN` goes out with its first statement.
    /// A config error when `M` has no shard key, [`Unmapped`](orm_core::ShardError::Unmapped)
    /// when the map covers no shard for `key`.
    pub fn transaction_for<M: Model>(
        &self,
        key: &(dyn ToSql + Sync),
    ) -> Result<ShardTransaction<'static>> {
        Ok(self.transaction_at(self.index_for::<M>(key)?))
    }

    /// A transaction on the shard named `name`: see [`ShardTransaction`];
    /// [`UnknownShard`](orm_core::ShardError::UnknownShard) for a name the database does not
    /// have.
    pub fn transaction_on(&self, name: &str) -> Result<ShardTransaction<'static>> {
        Ok(self.transaction_at(self.index_of(name)?))
    }

    fn transaction_at(&self, i: usize) -> ShardTransaction<'static> {
        let inner = self.inner.clone();
        let check = Criteria::check_only(move |tree| inner.check_statement(tree, i));
        ShardTransaction {
            inner: self.inner.clone(),
            index: i,
            run: Checked {
                db: self.inner.dbs[i].clone(),
                options: TxOptions::default(),
                tx: OnceCell::new(),
                criteria: check,
            },
        }
    }
}

/// A transaction on one shard of a [`Sharded`] database
/// ([`transaction_for`](Sharded::transaction_for), [`transaction_on`](Sharded::transaction_on)),
/// which no statement of another shard can enter.
///
/// - Every typed statement (`fetch_*`, `execute`, and the relationship loads of a query) is
///   routed first, with the check of a [sharded session](Sharded::session_for): one whose
///   shard key is on another shard (an insert's rows, an update's or delete's filter, a
///   query's filter) is refused with a [`WrongShard`](orm_core::ShardError::WrongShard) error
///   before anything is sent; one that fixes no key runs on this shard. So are the rows of
///   [`copy_in`](Self::copy_in). A refusal sends nothing, leaves the transaction as it was,
///   and does not fail it.
/// - `BEGIN` is sent with the first statement that passes: a transaction whose statements were
///   all refused never reached its server.
/// - Errors name the shard ([`Error::on_shard`]): [`Unavailable`](orm_core::ShardError::Unavailable)
///   when its server is gone (also mid-transaction; nothing is committed then), `OnShard`
///   otherwise.
/// - Raw SQL names no shard key and cannot be checked: run it on
///   [`unchecked`](Self::unchecked), the explicit escape hatch.
/// - [`commit`](Self::commit) or [`rollback`](Self::rollback) ends it; dropped without either,
///   it is rolled back (its connection is closed).
/// - [`savepoint`](Self::savepoint) nests one, checked the same way: its commit releases it
///   into this transaction, its rollback (or drop) undoes only what ran inside it.
///
/// ```no_run
/// # use orm_postgres::prelude::*;
/// # use orm_postgres::Sharded;
/// # #[derive(Model, Debug, Clone)]
/// # pub struct Order { #[model(primary_key)] pub id: i64, #[model(shard_key)] pub tenant_id: i64, pub total: i32 }
/// # async fn run(sharded: Sharded) -> orm_postgres::Result<()> {
/// let tx = sharded.transaction_for::<Order>(&7_i64)?;
/// tx.execute(insert(&Order { id: 1, tenant_id: 7, total: 10 })).await?;
/// tx.execute(update::<Order>().set(Order::total, 20).filter(Order::tenant_id.eq(7))).await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub struct ShardTransaction<'t> {
    inner: Arc<Inner>,
    index: usize,
    run: Checked<'t>,
}

impl std::fmt::Debug for ShardTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardTransaction")
            .field("shard", &self.shard())
            .field("options", &self.run.options)
            .field("begun", &self.run.tx.initialized())
            .field(
                "savepoint",
                &self.run.tx.get().is_some_and(Transaction::is_savepoint),
            )
            .finish()
    }
}

impl<'t> ShardTransaction<'t> {
    /// The shard it runs on.
    pub fn shard(&self) -> &str {
        &self.inner.names[self.index]
    }

    /// With an isolation level, read-only or deferrable mode (see [`TxOptions`]), for the
    /// `BEGIN` its first statement sends; a [`TransactionState`](crate::ErrorKind::TransactionState)
    /// error once a statement has begun it.
    pub fn with_options(mut self, options: TxOptions) -> Result<Self> {
        if self.run.tx.initialized() {
            return Err(Error::transaction_state(
                "the transaction has begun: set its options before its first statement",
            ));
        }
        self.run.options = options;
        Ok(self)
    }

    /// Runs the statement, once checked, and returns every row (see
    /// [`Executor::fetch_all`]).
    #[track_caller]
    pub fn fetch_all<'a, S: Statement + 'a>(
        &'a self,
        statement: S,
    ) -> impl Future<Output = Result<Vec<RowOf<S>>>> + Send + 'a {
        self.named(fetch_all_at(&self.run, statement, Location::caller()))
    }

    /// Runs the statement, once checked, and returns its only row (see
    /// [`Executor::fetch_one`]).
    #[track_caller]
    pub fn fetch_one<'a, S: Statement + 'a>(
        &'a self,
        statement: S,
    ) -> impl Future<Output = Result<RowOf<S>>> + Send + 'a {
        self.named(fetch_one_at(&self.run, statement, Location::caller()))
    }

    /// Runs the statement, once checked, and returns its row, if any (see
    /// [`Executor::fetch_optional`]).
    #[track_caller]
    pub fn fetch_optional<'a, S: Statement + 'a>(
        &'a self,
        statement: S,
    ) -> impl Future<Output = Result<Option<RowOf<S>>>> + Send + 'a {
        self.named(fetch_optional_at(&self.run, statement, Location::caller()))
    }

    /// Runs the statement, once checked, and returns the number of rows it affected (see
    /// [`Executor::execute`]).
    #[track_caller]
    pub fn execute<'a, S: Statement + 'a>(
        &'a self,
        statement: S,
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        self.named(execute_at(&self.run, statement, Location::caller()))
    }

    /// Runs the query, once checked, and returns its rows as a stream decoded as they arrive
    /// (see [`Executor::stream`]): the transaction's connection is busy until the stream ends
    /// or is dropped. Its errors, a row's too, name the shard.
    #[track_caller]
    pub fn stream<'a, S: Statement + 'a>(
        &'a self,
        statement: S,
    ) -> impl Future<Output = Result<impl Stream<Item = Result<RowOf<S>>> + Send + 'a>> + Send + 'a
    {
        let start = self.run.stream(statement);
        self.named(async move {
            let rows = start.await?;
            let shard = self.shard();
            Ok(rows.map(move |row| row.map_err(|e| e.on_shard(shard))))
        })
    }

    /// Runs one page of the keyset query, once checked (see [`Executor::fetch_page`]).
    #[track_caller]
    pub fn fetch_page<'a, O, S, K>(
        &'a self,
        keyset: Keyset<O, S, K>,
    ) -> impl Future<Output = Result<Page<O::Output, K::Values>>> + Send + 'a
    where
        O: orm_core::Decode + 'a,
        K: KeysetKeys + 'a,
        S: 'a,
        Keyset<O, S, K>: Send,
    {
        self.named(self.run.fetch_page(keyset))
    }

    /// Fills a relationship of `parents` (see [`Executor::load`]), its query checked like
    /// the transaction's own: one that would read rows of another shard is refused.
    pub fn load<'a, P, L>(
        &'a self,
        parents: &'a mut [P],
        load: L,
    ) -> impl Future<Output = Result<()>> + Send + 'a
    where
        P: Model + Send,
        L: IntoLoader<P> + 'a,
    {
        self.named(self.run.load(parents, load))
    }

    /// Copies `rows` in with binary `COPY` (see [`Executor::copy_in`]) once every row's shard
    /// key is checked to be on this shard: otherwise a
    /// [`WrongShard`](orm_core::ShardError::WrongShard) error, nothing sent.
    pub fn copy_in<'a, M: Model>(
        &'a self,
        rows: &'a [M],
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        let checked = self.inner.check_rows(rows, self.index);
        self.named(async move {
            checked?;
            self.run.copy_in(rows).await
        })
    }

    /// The plain [`Transaction`] beneath (begun now if no statement has begun it), for what
    /// cannot be checked: raw SQL. **Nothing run on it is checked**, and its errors do not
    /// name the shard: it is the explicit escape hatch.
    pub async fn unchecked(&self) -> Result<&Transaction<'t>> {
        let tx = self.run.begun().await;
        tx.map_err(|e| e.on_shard(self.shard()))
    }

    /// A savepoint inside this transaction (`BEGIN` sent first if no statement has begun it):
    /// a transaction on the same shard, checked the same way, until its
    /// [`commit`](Self::commit) releases it into this one or its [`rollback`](Self::rollback)
    /// (or drop) undoes what ran inside it, this transaction going on.
    pub async fn savepoint(&mut self) -> Result<ShardTransaction<'_>> {
        let shard = self.inner.names[self.index].clone();
        let named = |e: Error| e.on_shard(&shard);
        self.run.begun().await.map_err(named)?;
        let Some(tx) = self.run.tx.get_mut() else {
            return Err(named(Error::transaction_state(
                "the transaction did not begin",
            )));
        };
        let savepoint = tx.savepoint().await.map_err(named)?;
        Ok(ShardTransaction {
            inner: self.inner.clone(),
            index: self.index,
            run: Checked {
                db: self.run.db.clone(),
                options: self.run.options,
                tx: OnceCell::new_with(Some(savepoint)),
                criteria: self.run.criteria.clone(),
            },
        })
    }

    /// Commits (a savepoint: releases it into its transaction); nothing to send when no
    /// statement ran. A commit whose outcome is unknown (the connection lost during `COMMIT`)
    /// is an `Unavailable` error whose [root](Error::root) is
    /// [`CommitUnknown`](crate::ErrorKind::CommitUnknown).
    pub async fn commit(self) -> Result<()> {
        let shard = self.inner.names[self.index].clone();
        match self.run.tx.into_inner() {
            None => Ok(()),
            Some(tx) => tx.commit().await.map_err(|e| e.on_shard(&shard)),
        }
    }

    /// Rolls back (a savepoint: to it, this transaction going on); nothing to send when no
    /// statement ran.
    pub async fn rollback(self) -> Result<()> {
        let shard = self.inner.names[self.index].clone();
        match self.run.tx.into_inner() {
            None => Ok(()),
            Some(tx) => tx.rollback().await.map_err(|e| e.on_shard(&shard)),
        }
    }

    /// `run`, its errors naming the shard.
    async fn named<T>(&self, run: impl Future<Output = Result<T>>) -> Result<T> {
        run.await.map_err(|e| e.on_shard(self.shard()))
    }
}

/// What the statements of a [`ShardTransaction`] run on: its transaction, begun by the first
/// statement that passes `criteria`'s check (a check-only [`Criteria`]: the Core's statements
/// run as written).
struct Checked<'t> {
    db: Database,
    options: TxOptions,
    tx: OnceCell<Transaction<'t>>,
    criteria: Criteria,
}

impl<'t> Checked<'t> {
    /// The transaction, begun if no statement has begun it (a savepoint's is given).
    async fn begun(&self) -> Result<&Transaction<'t>> {
        self.tx
            .get_or_try_init(|| async {
                // A top-level transaction, `'static`, kept as the cell's `'t`.
                let tx: Transaction<'t> = self.db.begin_with(self.options).await?;
                Ok(tx)
            })
            .await
    }
}

impl Acquire for Checked<'_> {
    async fn acquire(&self) -> Result<ConnRef<'_>> {
        Ok(ConnRef::Borrowed(self.begun().await?.conn()))
    }

    fn criteria(&self) -> Option<&Criteria> {
        Some(&self.criteria)
    }

    #[cfg(feature = "cache")]
    fn held(&self) -> Option<&Conn> {
        self.tx.get().map(Transaction::conn)
    }
}

impl Executor for Checked<'_> {}
