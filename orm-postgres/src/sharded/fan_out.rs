//! [`FanOut`]: a query run on several shards at once, its rows merged.

use futures_util::future::join_all;
use orm_core::shard::{self, FanOutQuery, SortValue};

use super::Sharded;
use crate::{Decode, Error, Result, Select, Statement};
use orm_core::Row;

/// A `SELECT` run on every shard concurrently (or only on those its filter fixes, when
/// `is_in` names keys of several), read-only, its rows merged: from
/// [`Sharded::fan_out`].
///
/// - **Order and limits** apply to the merged rows: each shard is sent the query with its
///   `ORDER BY` expressions as hidden trailing columns, `LIMIT limit + offset` and no
///   `OFFSET`; the rows are sorted by those values in Rust and cut. Exact for integers,
///   floats, booleans, dates, times, timestamps and UUIDs; text is compared by its bytes (the
///   `"C"` collation), so under another collation order by text whose order is the same in
///   both, or by another column. Ordering by a `NUMERIC`, `JSONB` or other type is an error,
///   never a wrong order.
/// - **Aggregates and `GROUP BY`** are per shard: the result is the concatenation of each
///   shard's rows, so `select(func::count_star())` gives one count per shard (sum them), and
///   a `GROUP BY` gives a group per shard and key. `DISTINCT` is per shard too.
/// - **Errors:** by default a failure on any shard fails the call, naming the shard
///   ([`Unavailable`](crate::ShardError::Unavailable) when its server cannot be reached,
///   [`OnShard`](crate::ShardError::OnShard) otherwise); [`fetch_all_partial`](FanOut::fetch_all_partial)
///   returns the other shards' rows with the failures listed.
/// - Relationship loads are refused (run them per shard, where related rows live with
///   their parent).
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

impl<'a> FanOut<'a> {
    pub(super) fn new(sharded: &'a Sharded) -> Self {
        FanOut { sharded }
    }

    /// Runs the query on the shards and returns the merged rows; a failure on any shard fails
    /// the call with its name.
    pub async fn fetch_all<O: Decode, S>(&self, query: Select<O, S>) -> Result<Vec<O::Output>> {
        let out = self.run(&query).await?;
        match out.failed.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(out.rows),
        }
    }

    /// Runs the query on the shards and returns the rows of those that answered, merged, with
    /// the failures listed: for reads that may be partial (a dashboard while a shard is down).
    /// Errors raised before anything is sent (an invalid query) still fail the call.
    pub async fn fetch_all_partial<O: Decode, S>(
        &self,
        query: Select<O, S>,
    ) -> Result<FanOutRows<O::Output>> {
        self.run(&query).await
    }

    async fn run<O: Decode, S>(&self, query: &Select<O, S>) -> Result<FanOutRows<O::Output>> {
        if query.options().is_some() {
            return Err(Error::invalid_statement(
                "a query run on every shard runs no relationship loads: load them per shard",
            ));
        }
        let targets = self.targets(query)?;
        let plan = shard::fan_out_plan(query)?;
        let inner = &self.sharded.inner;
        let runs = targets.iter().map(|&i| {
            let plan = &plan;
            async move { (i, rows_of::<O>(&inner.dbs[i], plan).await) }
        });
        let mut merged = Vec::new();
        let mut failed = Vec::new();
        for (i, outcome) in join_all(runs).await {
            match outcome {
                Ok(rows) => merged.extend(rows),
                Err(e) => failed.push((inner.names[i].clone(), self.sharded.on_shard(i, e))),
            }
        }
        Ok(FanOutRows {
            rows: plan.merge(merged),
            failed,
        })
    }

    /// The shards to ask: those the filter fixes, else all.
    fn targets<O: Decode, S>(&self, query: &Select<O, S>) -> Result<Vec<usize>> {
        let inner = &self.sharded.inner;
        let fixed = match query.tree() {
            Some(tree) => inner.key_shards(tree)?,
            None => None,
        };
        Ok(match fixed {
            Some((_, shards)) => shards,
            None => (0..inner.names.len()).collect(),
        })
    }
}

/// One shard's rows of the plan, each with its sort values.
async fn rows_of<O: Decode>(
    db: &crate::Database,
    plan: &FanOutQuery,
) -> Result<Vec<(O::Output, Vec<SortValue>)>> {
    let conn = db.checkout_read().await?;
    let mut out = Vec::new();
    conn.for_each_row(&plan.query, &mut |row| {
        let value = O::decode(row, 0)?;
        let keys = (plan.width..plan.width + plan.order.len())
            .map(|at| {
                row.get_at::<SortValue>(at).map_err(|e| {
                    Error::decode("fan-out ORDER BY", format!("#{}", at - plan.width + 1), e)
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.push((value, keys));
        Ok(())
    })
    .await?;
    Ok(out)
}
