//! Running statements: the [`Executor`] trait, implemented by [`Database`](crate::Database)
//! (each call checks a connection out of the pool), [`Transaction`](crate::Transaction)
//! (every call runs on the transaction's connection) and [`Connection`](crate::Connection)
//! (every call runs on the held connection).

use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use deadpool_postgres::tokio_postgres;
use futures_util::Stream;

use crate::classify::is_plain_read;
use crate::conn::{Conn, StreamState};
use crate::copy::CopyOutStream;
use crate::load::{IntoLoader, Strategy};
use crate::pg_row::PgRow;
use crate::{Decode, Result, RowOf, Statement};
use orm_core::driver::{JoinedFold, LoadPlan, QueryRunner, load_plan, run_loads};
use orm_core::load::fetch_selectin;
use orm_core::stmt::Criteria;

pub(crate) use crate::acquire::sealed;

/// Runs `$run` on `$conn`, a connection from `$acquire` (a future, built again for a second
/// try), and evaluates to `$finish` with `$out`, the result (and `$conn` still in scope, for a
/// caller that keeps the connection, as a stream does). The one failover mechanism of reads:
/// a read that lost a replica's connection (the replica broke the connection or stopped
/// answering, see `Conn::lost_replica`) takes the replica out of rotation and runs once more,
/// on a connection `$acquire` gives anew (another replica or the primary): it changed nothing,
/// and it has returned nothing to the caller yet.
///
/// The second try is boxed: inline, the caller's future would hold a second connection and a
/// second `$run` beside the first (rustc does not overlap them), and every statement's future
/// is moved whole several times (callgrind, issue 17).
macro_rules! read_retrying {
    ($acquire:expr, |$conn:ident| $run:expr, |$out:ident| $finish:expr) => {{
        let $conn = $acquire.await?;
        let $out = $run;
        match $out {
            Err(e) if $conn.lost_replica(&e) => {
                tracing::warn!(error = %e, "a replica was lost mid-read; reading elsewhere");
                drop($conn);
                Box::pin(async {
                    let $conn = $acquire.await?;
                    let $out = $run;
                    Ok::<_, crate::Error>($finish)
                })
                .await?
            }
            $out => $finish,
        }
    }};
}
pub(crate) use read_retrying;

/// [`read_retrying`] of a statement `$q` sent from `$site` through `$exec`, which runs it on a
/// replica when it is a plain read (asked only of a database with replicas); evaluates to the
/// result, or with `keep:`, to the connection with the result (for a call that keeps using
/// it). The call-site tag is added on each try's connection.
macro_rules! on_conn {
    ($exec:expr, $q:ident, $site:expr, |$conn:ident| $run:expr) => {
        on_conn!(@ $exec, $q, $site, |$conn| $run, |out| out)
    };
    (keep: $exec:expr, $q:ident, $site:expr, |$conn:ident| $run:expr) => {
        on_conn!(@ $exec, $q, $site, |$conn| $run, |out| ($conn, out))
    };
    (@ $exec:expr, $q:ident, $site:expr, |$conn:ident| $run:expr, |$out:ident| $finish:expr) => {{
        let untagged = $q.sql.len();
        read_retrying!(
            {
                if $q.sql.len() != untagged {
                    $q.sql.to_mut().truncate(untagged);
                }
                $exec.acquire_for(|| is_plain_read(&$q.sql))
            },
            |$conn| {
                $conn.tag(&mut $q, $site);
                $run
            },
            |$out| $finish
        )
    }};
}

use sealed::{Acquire, ConnRef};

/// Something statements run on: a [`Database`](crate::Database), a
/// [`Transaction`](crate::Transaction) or a held [`Connection`](crate::Connection).
///
/// Every method compiles the statement, runs it as a prepared statement (cached, in the
/// default [statement mode](crate::StatementMode)), and decodes the rows by position into the
/// statement's output type (a model, a value, or a tuple).
///
/// # Behavior
/// Nothing is sent until the returned future is polled. If the future is dropped before it
/// completes, the connection it used is closed instead of going back to the pool, so a
/// cancelled call never leaves a statement running or a transaction open for the next user.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run statements",
    label = "expected a `Database` or a `Transaction`"
)]
pub trait Executor: Acquire + Sync {
    /// Runs the statement and returns every row.
    #[track_caller]
    #[inline(always)]
    fn fetch_all<S: Statement>(
        &self,
        statement: S,
    ) -> impl Future<Output = Result<Vec<RowOf<S>>>> + Send {
        fetch_all_at(self, statement, Location::caller())
    }

    /// Runs a keyset page ([`Select::keyset`](orm_core::Select::keyset)) and returns its rows
    /// with the cursor of the next page (`None` on the last page):
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::stmt::Desc;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn f(db: &Database) -> orm_postgres::Result<()> {
    /// let mut cursor = None;
    /// loop {
    ///     let page = db
    ///         .fetch_page(select::<User>().keyset((Desc(User::name), User::id)).after(cursor).limit(100))
    ///         .await?;
    ///     // ... use page.rows ...
    ///     match page.next {
    ///         Some(next) => cursor = Some(next),
    ///         None => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    fn fetch_page<O, S, K>(
        &self,
        keyset: orm_core::stmt::Keyset<O, S, K>,
    ) -> impl Future<Output = Result<orm_core::stmt::Page<O::Output, K::Values>>> + Send
    where
        O: orm_core::Decode,
        K: orm_core::stmt::KeysetKeys,
        orm_core::stmt::Keyset<O, S, K>: Send,
    {
        let limit = keyset.page_size();
        let fetch = self.fetch_all(keyset);
        async move { Ok(orm_core::stmt::Page::from_rows(fetch.await?, limit)) }
    }

    /// Runs the statement and returns its only row; a [row-count
    /// error](crate::ErrorKind::RowCount) unless there is exactly one.
    #[track_caller]
    #[inline(always)]
    fn fetch_one<S: Statement>(
        &self,
        statement: S,
    ) -> impl Future<Output = Result<RowOf<S>>> + Send {
        fetch_one_at(self, statement, Location::caller())
    }

    /// Runs the statement and returns its row, or `None` without one; a row-count error when
    /// there are several.
    #[track_caller]
    #[inline(always)]
    fn fetch_optional<S: Statement>(
        &self,
        statement: S,
    ) -> impl Future<Output = Result<Option<RowOf<S>>>> + Send {
        fetch_optional_at(self, statement, Location::caller())
    }

    /// Runs the statement and returns the number of rows it affected (inserted, updated,
    /// deleted or selected).
    ///
    /// The rows are thrown away, so an insert made by [`insert`](crate::stmt::insert) or
    /// [`insert_many`](crate::stmt::insert_many) is sent without the `RETURNING` of every
    /// column they add for `fetch_*` (see
    /// [`Statement::compile_discarding_rows`]).
    #[track_caller]
    #[inline(always)]
    fn execute<S: Statement>(&self, statement: S) -> impl Future<Output = Result<u64>> + Send {
        execute_at(self, statement, Location::caller())
    }

    /// Runs the statement and returns its rows as a stream, decoded one at a time as they arrive,
    /// so memory stays bounded whatever the result's size.
    ///
    /// The connection is busy until the stream ends; dropping the stream before its end
    /// discards the connection (the server stops sending when it is closed; in a transaction
    /// or on a held connection, that happens when it is released).
    ///
    /// A joined-table inheritance enum loaded the *selectin* way (`polymorphic = "selectin"`,
    /// or `.polymorphic(PolymorphicLoad::SelectIn)`) streams as it loads: the keys and
    /// discriminators of the whole result first (one query, held in memory), then the rows
    /// 1,000 at a time, one query per variant present in each batch.
    #[track_caller]
    fn stream<S: Statement>(
        &self,
        statement: S,
    ) -> impl Future<Output = Result<RowStream<'_, S::Row>>> + Send {
        // Relationship loads make a stream refuse (not the other options, such as
        // `polymorphic`); a joined-table enum read the selectin way streams in batches.
        let (has_loads, selectin) = match load_plan(&statement) {
            Some((loaders, query, selectin)) => (!loaders.is_empty(), selectin.then_some(query)),
            None => (false, None),
        };
        let (criteria, compiled) = compile_in(self, statement);
        let site = Location::caller();
        async move {
            let mut q = compiled?;
            if has_loads {
                return Err(crate::Error::invalid_statement(
                    "relationship loads need the whole result: use fetch_all, or load each batch of streamed rows with `load`",
                ));
            }
            if let Some(query) = selectin {
                // Boxed: the common stream's future does not carry the selectin start.
                return Box::pin(async move {
                    let conn = self.acquire_for(|| is_plain_read(&q.sql)).await?;
                    let runner = Through {
                        conn: &conn,
                        criteria,
                    };
                    let plan = orm_core::load::SelectinPlan::start(&runner, query).await?;
                    Ok(RowStream {
                        rows: Rows::Batches(selectin_batches::<S::Row>(conn, plan, criteria)),
                    })
                })
                .await;
            }
            // Nothing has reached the caller before the first row: a start that lost a
            // replica runs again elsewhere. A stream that fails later fails.
            let (conn, started) = on_conn!(keep: self, q, site, |conn| conn.start_stream(&q).await);
            let (rows, state) = started?;
            Ok(RowStream {
                rows: Rows::Sent {
                    conn,
                    rows: Box::pin(rows),
                    state,
                    _out: PhantomData,
                },
            })
        }
    }

    /// Loads a relationship into objects already in hand, in one query per level (pipelined
    /// for several), e.g. `db.load(&mut users, User::orders.selectin()).await?`.
    fn load<P, L>(&self, parents: &mut [P], load: L) -> impl Future<Output = Result<()>> + Send
    where
        P: crate::Model + Send,
        L: IntoLoader<P>,
    {
        let loader = load.into_loader();
        async move {
            let loaders = [loader];
            // Loads only fill the parents' relationships: run again, they fill them again.
            read_retrying!(
                self.acquire_for(|| true),
                |conn| {
                    let parents = parents.iter_mut().collect();
                    let runner = Through {
                        conn: &conn,
                        criteria: self.criteria(),
                    };
                    run_loads(&runner, parents, &loaders, None, false).await
                },
                |out| out
            )
        }
    }

    /// Loads a deferred column (`#[model(deferred)]`) that the object's query left out, in one
    /// query: `db.load_deferred(&mut article, Article::body).await?`. A column already loaded is
    /// kept as it is. An error when the object's row no longer exists.
    fn load_deferred<M, N, T>(
        &self,
        object: &mut M,
        column: orm_core::Column<N, T, orm_core::expr::access::Deferrable>,
    ) -> impl Future<Output = Result<()>> + Send
    where
        M: orm_core::session::Persist + Send,
        N: orm_core::model::PartOf<M>,
    {
        let query = orm_core::stmt::select::<M>()
            .load_only(column)
            .by_pk(object.pk());
        async move {
            match self.fetch_optional(query).await? {
                Some(row) => {
                    object.fill_unloaded(&row);
                    Ok(())
                }
                None => Err(crate::Error::object_state(format!(
                    "cannot load `{}.{}`: the object's row no longer exists",
                    M::TABLE.model,
                    column.name()
                ))),
            }
        }
    }

    /// Inserts `rows` with binary `COPY … FROM STDIN`, the fastest way to load many rows, and
    /// returns how many were copied. The columns written are those of an insert (generated
    /// keys and generated columns are left to the server); nothing is returned, so use
    /// [`insert_many`](crate::stmt::insert_many) when you need the generated keys back. All or
    /// nothing: a failing row (a constraint violation) fails the whole copy, and inside a
    /// transaction fails the transaction.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let users: Vec<User> = (0..100_000)
    ///     .map(|i| User { id: 0, name: format!("user{i}"), email: None })
    ///     .collect();
    /// assert_eq!(db.copy_in(&users).await?, 100_000);
    /// # Ok(()) }
    /// ```
    fn copy_in<M: crate::Model>(&self, rows: &[M]) -> impl Future<Output = Result<u64>> + Send {
        async move {
            let conn = self.acquire().await?;
            conn.copy_in(&mut orm_core::copy::SliceRows::new(rows))
                .await
        }
    }

    /// [`copy_in`](Executor::copy_in) of rows produced as they are sent (from a file, another
    /// database, a generator), so memory stays bounded whatever the count.
    ///
    /// The [query timeout](crate::DatabaseBuilder::query_timeout) bounds each wait on the
    /// server (the copy's start, each 64 KB chunk sent, its end), not the copy as a whole nor
    /// the waits on `rows`: a slow source never times the copy out, while a server that stops
    /// reading ends it with [`QueryTimeout`](crate::ErrorKind::QueryTimeout), its connection
    /// abandoned, as for any statement. [`copy_in`](Executor::copy_in) is bounded the same way.
    fn copy_in_stream<M, S>(&self, rows: S) -> impl Future<Output = Result<u64>> + Send
    where
        M: crate::Model + Send,
        S: futures_util::Stream<Item = M> + Send,
    {
        async move {
            let conn = self.acquire().await?;
            conn.copy_in_stream(rows).await
        }
    }

    /// Every row of `M`'s table, read with binary `COPY … TO STDOUT` and decoded as they arrive:
    /// the fastest way to read a whole table. Filtered reads go through
    /// [`stream`](Executor::stream) (`COPY` takes no parameters).
    fn copy_out<M: crate::Model>(
        &self,
    ) -> impl Future<Output = Result<CopyOutStream<'_, M>>> + Send {
        async move {
            let (conn, started) = read_retrying!(
                self.acquire_for(|| true),
                |conn| conn.copy_out_start::<M>().await,
                |out| (conn, out)
            );
            Ok(CopyOutStream::new(conn, started?))
        }
    }

    /// Runs raw SQL through the simple-query protocol: no parameters, several `;`-separated
    /// statements allowed. Meant for scripts and DDL; never put user input in `sql`.
    fn batch_execute(&self, sql: &str) -> impl Future<Output = Result<()>> + Send {
        async move {
            read_retrying!(
                self.acquire_for(|| is_plain_read(sql)),
                |conn| match conn.settle().await {
                    Ok(()) => conn.simple(sql).await,
                    Err(e) => Err(e),
                },
                |out| out
            )
        }
    }
}

/// Compiles a statement with the criteria of the executor it runs on (a session's), unless it
/// opted out; returns the criteria its relationship loads take. The criteria's
/// [check](Criteria::check) runs first either way.
///
/// Takes the statement: it may move its values into the compiled query
/// ([`Statement::into_compiled`]).
fn compile_in<E: Acquire + ?Sized, S: Statement>(
    executor: &E,
    statement: S,
) -> (Option<&Criteria>, Result<crate::CompiledQuery>) {
    let checked = checked(executor.criteria(), &statement);
    // Check-only criteria are not compiled in, but still go to the relationship loads, which
    // they check.
    let kept = executor.criteria().filter(|_| statement.uses_criteria());
    let added = kept.filter(|c| c.adds_conditions());
    (kept, checked.and_then(|()| statement.into_compiled(added)))
}

/// The [check](Criteria::check) of the executor's criteria, if it has some.
fn checked<S: Statement>(criteria: Option<&Criteria>, statement: &S) -> Result<()> {
    criteria.map_or(Ok(()), |c| c.check(statement.tree()))
}

pub(crate) use crate::call_site::Site;

/// The rows of `q` through the executor's result cache, if it has one and `q` is cached there
/// (see `cache_lookup::cached_rows`). Boxed, and only with a cache: the common future stays
/// as small as without one.
#[cfg(feature = "cache")]
async fn cached<E: Executor + ?Sized>(
    ex: &E,
    q: &crate::CompiledQuery,
    policy: Option<&orm_core::stmt::CachePolicy>,
    has_loads: bool,
    site: Site,
) -> Result<Option<crate::cache_lookup::CachedRows>> {
    if ex.result_cache().is_none() {
        return Ok(None);
    }
    Box::pin(crate::cache_lookup::cached_rows(
        ex, q, policy, has_loads, site,
    ))
    .await
}

/// [`Executor::fetch_all`], sent from `site`.
#[inline(always)]
pub(crate) fn fetch_all_at<E: Executor + ?Sized, S: Statement>(
    ex: &E,
    statement: S,
    site: Site,
) -> impl Future<Output = Result<Vec<RowOf<S>>>> + Send {
    let plan = load_plan(&statement);
    #[cfg(feature = "cache")]
    let policy = statement.cache_policy().cloned();
    let (criteria, compiled) = compile_in(ex, statement);
    async move {
        let mut q = compiled?;
        #[cfg(feature = "cache")]
        if let Some(rows) = cached(ex, &q, policy.as_ref(), plan.is_some(), site).await? {
            return crate::cache_lookup::decode_all::<S::Row>(&rows.rows);
        }
        match plan {
            None => on_conn!(ex, q, site, |conn| conn.fetch_all::<S::Row>(&q).await),
            // Boxed: keeps the common future small (it is moved on every poll setup).
            Some(plan) => Box::pin(fetch_loaded_at::<E, S::Row>(ex, q, plan, criteria, site)).await,
        }
    }
}

/// [`Executor::fetch_one`], sent from `site`.
///
/// Inlined (as are the other `*_at` functions and the [`Executor`] methods that call them):
/// the caller then builds the returned future, about 2.7 KB, in place in its own future.
/// Built here, it was copied twice on its way there (callgrind, issue 17: 590 of the 14,100
/// instructions of a lookup by key).
#[inline(always)]
pub(crate) fn fetch_one_at<E: Executor + ?Sized, S: Statement>(
    ex: &E,
    statement: S,
    site: Site,
) -> impl Future<Output = Result<RowOf<S>>> + Send {
    let plan = load_plan(&statement);
    #[cfg(feature = "cache")]
    let policy = statement.cache_policy().cloned();
    let (criteria, compiled) = compile_in(ex, statement);
    async move {
        let mut q = compiled?;
        #[cfg(feature = "cache")]
        if let Some(rows) = cached(ex, &q, policy.as_ref(), plan.is_some(), site).await? {
            return crate::cache_lookup::decode_opt::<S::Row>(&rows.rows, true)?
                .ok_or_else(|| crate::Error::row_count(1, 0));
        }
        if let Some(plan) = plan {
            let rows = Box::pin(fetch_loaded_at::<E, S::Row>(ex, q, plan, criteria, site)).await?;
            return exactly_one(rows);
        }
        on_conn!(ex, q, site, |conn| conn.fetch_opt::<S::Row>(&q, true).await)?
            .ok_or_else(|| crate::Error::row_count(1, 0))
    }
}

/// [`Executor::fetch_optional`], sent from `site`.
#[inline(always)]
pub(crate) fn fetch_optional_at<E: Executor + ?Sized, S: Statement>(
    ex: &E,
    statement: S,
    site: Site,
) -> impl Future<Output = Result<Option<RowOf<S>>>> + Send {
    let plan = load_plan(&statement);
    #[cfg(feature = "cache")]
    let policy = statement.cache_policy().cloned();
    let (criteria, compiled) = compile_in(ex, statement);
    async move {
        let mut q = compiled?;
        #[cfg(feature = "cache")]
        if let Some(rows) = cached(ex, &q, policy.as_ref(), plan.is_some(), site).await? {
            return crate::cache_lookup::decode_opt::<S::Row>(&rows.rows, false);
        }
        if let Some(plan) = plan {
            let rows = Box::pin(fetch_loaded_at::<E, S::Row>(ex, q, plan, criteria, site)).await?;
            return match rows.len() {
                0 => Ok(None),
                _ => exactly_one(rows).map(Some),
            };
        }
        on_conn!(ex, q, site, |conn| conn
            .fetch_opt::<S::Row>(&q, false)
            .await)
    }
}

/// [`Executor::execute`], sent from `site`.
#[inline(always)]
pub(crate) fn execute_at<E: Executor + ?Sized, S: Statement>(
    ex: &E,
    statement: S,
    site: Site,
) -> impl Future<Output = Result<u64>> + Send {
    let compiled = checked(ex.criteria(), &statement).and_then(|()| match ex.criteria() {
        Some(c) if statement.uses_criteria() && c.adds_conditions() => {
            statement.compile_discarding_rows(Some(c))
        }
        _ => statement.compile_discarding_rows(None),
    });
    async move {
        let mut q = compiled?;
        on_conn!(ex, q, site, |conn| conn.execute(&q).await)
    }
}

/// [`fetch_loaded`] of `q` sent from `site` through `ex`, with the failover of plain reads
/// (the loads run on the query's connection: a lost replica reruns them all elsewhere).
async fn fetch_loaded_at<E: Executor + ?Sized, D: Decode>(
    ex: &E,
    mut q: crate::CompiledQuery,
    plan: LoadPlan<D::Output>,
    criteria: Option<&Criteria>,
    site: Site,
) -> Result<Vec<D::Output>> {
    on_conn!(ex, q, site, |conn| fetch_loaded::<D>(
        &conn, &q, &plan, criteria
    )
    .await)
}

/// Runs a query and its relationship loads: joined loads fold the query's own rows into their
/// parents, the others run afterwards (together) on the same connection, with `criteria`.
async fn fetch_loaded<D: Decode>(
    conn: &Conn,
    q: &crate::CompiledQuery,
    plan: &LoadPlan<D::Output>,
    criteria: Option<&Criteria>,
) -> Result<Vec<D::Output>> {
    fetch_loaded_through::<D>(conn, &Through { conn, criteria }, q, plan).await
}

/// [`fetch_loaded`] with the loads' queries sent through `runner` (which may watch them: see
/// `Database::explain_loads`).
pub(crate) async fn fetch_loaded_through<D: Decode>(
    conn: &Conn,
    runner: &dyn QueryRunner,
    q: &crate::CompiledQuery,
    (loaders, query, selectin): &LoadPlan<D::Output>,
) -> Result<Vec<D::Output>> {
    let mut rows = if *selectin {
        // A joined-table enum read the selectin way: its own queries (joined relationship
        // loads then run as selectin).
        fetch_selectin::<D>(runner, query.clone()).await?
    } else if loaders.iter().any(|l| l.strategy() == Strategy::Joined) {
        let mut fold = JoinedFold::<D>::new(loaders);
        conn.for_each_row(q, &mut |row| fold.push(row)).await?;
        fold.finish(runner).await?
    } else {
        conn.fetch_all::<D>(q).await?
    };
    let parents: Vec<&mut D::Output> = rows.iter_mut().collect();
    run_loads(runner, parents, loaders, Some(query), !selectin).await?;
    Ok(rows)
}

fn exactly_one<T>(mut rows: Vec<T>) -> Result<T> {
    match rows.len() {
        1 => rows.pop().ok_or_else(|| crate::Error::row_count(1, 0)),
        n => Err(crate::Error::row_count(1, n)),
    }
}

/// The rows of a statement, decoded as they arrive by `D` (yielding `D::Output`). Returned by
/// [`Executor::stream`].
pub struct RowStream<'a, D: Decode> {
    rows: Rows<'a, D>,
}

/// Where a [`RowStream`]'s rows come from.
// The common variant inline: boxing it would add an allocation to every stream.
#[allow(clippy::large_enum_variant)]
enum Rows<'a, D: Decode> {
    /// One statement's rows, as the server sends them.
    Sent {
        conn: ConnRef<'a>,
        rows: Pin<Box<tokio_postgres::RowStream>>,
        state: StreamState,
        _out: PhantomData<fn() -> D>,
    },
    /// A joined-table enum read the *selectin* way: its keys first, then its rows a batch at a
    /// time (see [`selectin_batches`]).
    Batches(Pin<Box<dyn Stream<Item = Result<D::Output>> + Send + 'a>>),
}

impl<D: Decode> Stream for RowStream<'_, D> {
    type Item = Result<D::Output>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.rows {
            Rows::Sent {
                conn, rows, state, ..
            } => conn.poll_rows(
                state,
                cx,
                |cx| rows.as_mut().poll_next(cx),
                |row| D::decode(&PgRow(row), 0),
            ),
            Rows::Batches(rows) => rows.as_mut().poll_next(cx),
        }
    }
}

/// A connection whose loader queries take the executor's criteria, if it has some.
struct Through<'r> {
    conn: &'r Conn,
    criteria: Option<&'r Criteria>,
}

impl QueryRunner for Through<'_> {
    fn run_all<'a>(
        &'a self,
        jobs: Vec<(crate::CompiledQuery, orm_core::driver::RowSink<'a>)>,
    ) -> orm_core::driver::BoxFuture<'a, Vec<Result<()>>> {
        self.conn.run_all(jobs)
    }

    fn criteria(&self) -> Option<&Criteria> {
        self.criteria
    }
}

/// How many rows of a joined-table enum a *selectin* stream reads per batch (one query per
/// variant present in the batch).
const SELECTIN_BATCH: usize = 1_000;

/// The rows of `plan` on `conn`, read [`SELECTIN_BATCH`] at a time through the executor's
/// `criteria`: memory holds the keys of the whole result and the rows of one batch. An error
/// ends the stream.
fn selectin_batches<'a, D: Decode>(
    conn: ConnRef<'a>,
    plan: orm_core::load::SelectinPlan,
    criteria: Option<&'a Criteria>,
) -> Pin<Box<dyn Stream<Item = Result<D::Output>> + Send + 'a>> {
    use futures_util::{TryStreamExt, stream};
    let batches = stream::unfold((conn, plan, 0usize), move |(conn, plan, next)| async move {
        if next >= plan.len() {
            return None;
        }
        let end = (next + SELECTIN_BATCH).min(plan.len());
        let runner = Through {
            conn: &conn,
            criteria,
        };
        let rows = plan.fetch::<D>(&runner, next..end).await;
        // After an error, nothing more.
        let next = if rows.is_ok() { end } else { plan.len() };
        Some((rows, (conn, plan, next)))
    });
    Box::pin(
        batches
            .map_ok(|rows| stream::iter(rows.into_iter().map(Ok)))
            .try_flatten(),
    )
}
