//! [`FanOut`]: statements run on several shards at once.
//!
//! - `mod.rs`: reads, their rows merged ([`fetch_all`](FanOut::fetch_all),
//!   [`fetch_all_partial`](FanOut::fetch_all_partial), [`fetch_page`](FanOut::fetch_page)),
//!   and their relationship loads, run on each row's own shard;
//! - `stream.rs`: [`stream`](FanOut::stream), the rows merged as they arrive;
//! - `write.rs`: [`execute`](FanOut::execute), an `UPDATE` or `DELETE` on every shard.

mod stream;
mod write;

pub use stream::FanOutStream;
pub use write::ShardCounts;

use futures_util::future::join_all;
use orm_core::Row;
use orm_core::ast::{Query, Tree};
use orm_core::compile::Output;
use orm_core::driver::{LoadPlan, load_plan, run_loads};
use orm_core::shard::{self, FanOutQuery, SortValue};
use orm_core::stmt::{Keyset, KeysetKeys, Page};

use super::Sharded;
use crate::executor::read_retrying;
use crate::{Decode, Error, Result, Select, Statement};

/// Statements run on every shard concurrently (or only on those their filter fixes, when
/// `is_in` names keys of several): from [`Sharded::fan_out`].
///
/// Reads ([`fetch_all`](FanOut::fetch_all), [`fetch_page`](FanOut::fetch_page),
/// [`stream`](FanOut::stream)) merge the shards' rows:
/// - **Order and limits** apply to the merged rows: each shard is sent the query with its
///   `ORDER BY` expressions as hidden trailing columns, `LIMIT limit + offset` and no
///   `OFFSET`; the rows are sorted by those values in Rust and cut. Exact for integers,
///   floats, booleans, dates, times, timestamps and UUIDs; text is compared by its bytes (the
///   `"C"` collation), so under another collation order by text whose order is the same in
///   both, or by another column. Ordering by a `NUMERIC`, `JSONB` or other type is an error,
///   never a wrong order. A deep `OFFSET` costs every shard `limit + offset` rows: page with
///   [`fetch_page`](FanOut::fetch_page) (keyset) instead.
/// - **Aggregates and `GROUP BY`** are per shard: the result is the concatenation of each
///   shard's rows, so `select(func::count_star())` gives one count per shard (sum them), and
///   a `GROUP BY` gives a group per shard and key. `DISTINCT` is per shard too.
/// - **Relationship loads** (`selectin`, `subquery`, `joined`) run after the merge, on the
///   shard each parent row came from (related rows live with their parent: shard the tables
///   by the same key), one query per shard and level for the rows that made the page; joined
///   loads run the selectin way.
/// - **Errors:** by default a failure on any shard fails the call, naming the shard
///   ([`Unavailable`](crate::ShardError::Unavailable) when its server cannot be reached,
///   [`OnShard`](crate::ShardError::OnShard) otherwise); [`fetch_all_partial`](FanOut::fetch_all_partial)
///   returns the other shards' rows with the failures listed.
///
/// Writes ([`execute`](FanOut::execute)) run an `UPDATE` or `DELETE` on each shard in its own
/// transaction: **not atomic across shards**.
#[derive(Debug, Clone, Copy)]
pub struct FanOut<'a> {
    sharded: &'a Sharded,
}

/// The rows of [`FanOut::fetch_all_partial`]: merged from the shards that answered, with the
/// shards that failed and why.
#[derive(Debug)]
pub struct FanOutRows<T> {
    /// The merged rows (ordered and cut as the query says, over the shards that answered).
    pub rows: Vec<T>,
    /// Each failed shard's name and error.
    pub failed: Vec<(String, Error)>,
}

impl<T> FanOutRows<T> {
    /// The rows, or the first failure.
    fn all(self) -> Result<Vec<T>> {
        match self.failed.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(self.rows),
        }
    }
}

impl<'a> FanOut<'a> {
    pub(super) fn new(sharded: &'a Sharded) -> Self {
        FanOut { sharded }
    }

    /// Runs the query on the shards and returns the merged rows (with their relationship
    /// loads); a failure on any shard fails the call with its name.
    pub async fn fetch_all<O: Decode, S>(&self, query: Select<O, S>) -> Result<Vec<O::Output>> {
        self.fetch_all_partial(query).await?.all()
    }

    /// Runs the query on the shards and returns the rows of those that answered, merged, with
    /// the failures listed: for reads that may be partial (a dashboard while a shard is down).
    /// A shard whose relationship loads fail is listed too, and its rows left out. Errors
    /// raised before anything is sent (an invalid query) still fail the call.
    pub async fn fetch_all_partial<O: Decode, S>(
        &self,
        query: Select<O, S>,
    ) -> Result<FanOutRows<O::Output>> {
        let loads = loads_of(&query)?;
        let targets = self.targets(query.tree())?;
        let plan = shard::fan_out_plan(&query)?;
        self.run::<O>(&targets, &plan, loads).await
    }

    /// Runs a keyset page ([`Select::keyset`](orm_core::Select::keyset)) on the shards and
    /// returns the merged page with the cursor of the next one, as
    /// [`Executor::fetch_page`](crate::Executor::fetch_page) does on one server: each shard
    /// sends at most `limit + 1` rows after the cursor, the merge keeps the first `limit + 1`
    /// in the keys' order (so the keys must be comparable by the merge: see [`FanOut`]; end
    /// them with a unique column). A failure on any shard fails the call with its name.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::Sharded;
    /// # #[derive(Model, Debug, Clone)]
    /// # pub struct Order { #[model(primary_key)] pub id: i64, #[model(shard_key)] pub tenant_id: i64, pub total: i32 }
    /// # async fn run(sharded: Sharded) -> orm_postgres::Result<()> {
    /// let mut cursor = None;
    /// loop {
    ///     let page = sharded
    ///         .fan_out()
    ///         .fetch_page(select::<Order>().keyset(Order::id).after(cursor).limit(100))
    ///         .await?;
    ///     // ... use page.rows ...
    ///     match page.next {
    ///         Some(next) => cursor = Some(next),
    ///         None => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn fetch_page<O: Decode, S, K: KeysetKeys>(
        &self,
        keyset: Keyset<O, S, K>,
    ) -> Result<Page<O::Output, K::Values>> {
        let limit = keyset.page_size();
        let targets = self.targets(keyset.tree())?;
        // The checks (and errors) of a page on one server: keys, no loads.
        keyset.compile()?;
        let Query::Select(core) = Query::from(keyset) else {
            return Err(Error::invalid_statement("a keyset page is a SELECT"));
        };
        type Keyed<O, K> = (O, <K as KeysetKeys>::Values);
        let width = <Keyed<O, K> as Decode>::WIDTH;
        let plan = shard::fan_out_select(&core, Output::of::<Keyed<O, K>>(width))?;
        let rows = self.run::<Keyed<O, K>>(&targets, &plan, None).await?;
        Ok(Page::from_rows(rows.all()?, limit))
    }

    /// Runs `plan` on the `targets`, merges the rows, then runs `loads` on each row's shard.
    async fn run<D: Decode>(
        &self,
        targets: &[usize],
        plan: &FanOutQuery,
        loads: Option<LoadPlan<D::Output>>,
    ) -> Result<FanOutRows<D::Output>> {
        let inner = &self.sharded.inner;
        let runs = targets
            .iter()
            .map(|&i| async move { (i, rows_of::<D>(&inner.dbs[i], plan).await) });
        let mut merged = Vec::new();
        let mut failed = Vec::new();
        for (i, outcome) in join_all(runs).await {
            match outcome {
                Ok(rows) => merged.extend(rows.into_iter().map(|(r, keys)| ((r, i), keys))),
                Err(e) => failed.push((i, self.sharded.on_shard(i, e))),
            }
        }
        let mut rows = plan.merge(merged);
        if let Some((loaders, _, _)) = loads {
            // Each shard's rows load their relationships there, all shards at once.
            let mut groups: Vec<Vec<&mut D::Output>> = targets.iter().map(|_| Vec::new()).collect();
            for (row, i) in rows.iter_mut() {
                if let Some(at) = targets.iter().position(|t| t == i) {
                    groups[at].push(row);
                }
            }
            let loaders = &loaders;
            let runs = targets.iter().zip(groups).map(|(&i, parents)| async move {
                if parents.is_empty() {
                    return (i, Ok(()));
                }
                let outcome = match inner.dbs[i].checkout_read().await {
                    Ok(conn) => run_loads(&conn, parents, loaders, None, false).await,
                    Err(e) => Err(e),
                };
                (i, outcome)
            });
            for (i, outcome) in join_all(runs).await {
                if let Err(e) = outcome {
                    failed.push((i, self.sharded.on_shard(i, e)));
                }
            }
            rows.retain(|(_, i)| !failed.iter().any(|(f, _)| f == i));
        }
        Ok(FanOutRows {
            rows: rows.into_iter().map(|(r, _)| r).collect(),
            failed: failed
                .into_iter()
                .map(|(i, e)| (inner.names[i].clone(), e))
                .collect(),
        })
    }

    /// The shards to ask: those the filter fixes, else all.
    fn targets(&self, tree: Option<Tree<'_>>) -> Result<Vec<usize>> {
        let inner = &self.sharded.inner;
        let fixed = match tree {
            Some(tree) => inner.key_shards(shard::route(tree))?,
            None => None,
        };
        Ok(match fixed {
            Some((_, shards)) => shards,
            None => (0..inner.names.len()).collect(),
        })
    }
}

/// The relationship loads of a fan-out query; an error for a joined-table enum read the
/// selectin way (its own queries per variant, not merged across shards).
fn loads_of<O: Decode, S>(query: &Select<O, S>) -> Result<Option<LoadPlan<O::Output>>> {
    match load_plan(query) {
        Some((_, _, true)) => Err(Error::invalid_statement(
            "a query run on every shard cannot read a joined-table enum the selectin way: use `polymorphic(PolymorphicLoad::Joined)`",
        )),
        Some(plan) if plan.0.is_empty() => Ok(None),
        plan => Ok(plan),
    }
}

/// One shard's rows of the plan, each with its sort values.
async fn rows_of<D: Decode>(
    db: &crate::Database,
    plan: &FanOutQuery,
) -> Result<Vec<(D::Output, Vec<SortValue>)>> {
    let (_, out) = read_retrying!(
        db.checkout_read(),
        |conn| {
            let mut out = Vec::new();
            match conn
                .for_each_row(&plan.query, &mut |row| {
                    let value = D::decode(row, 0)?;
                    let keys = (plan.width..plan.width + plan.order.len())
                        .map(|at| {
                            row.get_at::<SortValue>(at).map_err(|e| {
                                Error::decode(
                                    "fan-out ORDER BY",
                                    format!("#{}", at - plan.width + 1),
                                    e,
                                )
                            })
                        })
                        .collect::<Result<Vec<_>>>()?;
                    out.push((value, keys));
                    Ok(())
                })
                .await
            {
                Ok(_) => Ok(out),
                Err(e) => Err(e),
            }
        },
        |out| (conn, out)
    );
    out
}
