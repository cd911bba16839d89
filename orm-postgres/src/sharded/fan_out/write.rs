//! [`FanOut::execute`]: an `UPDATE` or `DELETE` run on every shard, each in its own
//! transaction.

use std::panic::Location;

use futures_util::future::join_all;
use orm_core::ShardError;
use orm_core::ast::Tree;

use super::FanOut;
use crate::executor::execute_at;
use crate::{Error, Result, Statement};

/// The rows a [`FanOut::execute`] changed, per shard (in the order the shards were added).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardCounts {
    /// Each shard's name and its count of rows changed.
    pub per_shard: Vec<(String, u64)>,
}

impl ShardCounts {
    /// The rows changed on all the shards together.
    pub fn total(&self) -> u64 {
        self.per_shard.iter().map(|(_, n)| n).sum()
    }

    /// The count of the shard named `name` (`None` when it was not asked).
    pub fn on(&self, name: &str) -> Option<u64> {
        self.per_shard
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| *c)
    }
}

impl FanOut<'_> {
    /// Runs an `UPDATE` or `DELETE` on every shard (or only on those its filter fixes, when
    /// `is_in` names keys of several), concurrently, and returns the rows each one changed.
    /// For writes that need no key: a retention `DELETE`, a flag flipped everywhere.
    ///
    /// **Not atomic across shards:** each shard runs the statement in its own transaction
    /// (there is no two-phase commit). When some shards fail, the others have committed:
    /// the error is a [`PartialWrite`](ShardError::PartialWrite) listing the failed shards
    /// with their errors and the shards that committed with their counts. Make such writes
    /// idempotent (run it again: the shards done match nothing more) and retry. An
    /// `INSERT` (whose rows have keys: use [`Sharded::execute`](super::Sharded::execute)),
    /// a `SELECT` or raw SQL is an `InvalidStatement` error, sent nowhere.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::Sharded;
    /// # #[derive(Model, Debug, Clone)]
    /// # pub struct Order { #[model(primary_key)] pub id: i64, #[model(shard_key)] pub tenant_id: i64, pub total: i32 }
    /// # async fn run(sharded: Sharded) -> orm_postgres::Result<()> {
    /// let counts = sharded.fan_out().execute(delete::<Order>().filter(Order::total.eq(0))).await?;
    /// println!("{} rows deleted, {:?}", counts.total(), counts.per_shard);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn execute<'s, S: Statement + Send + Sync + 's>(
        &'s self,
        statement: S,
    ) -> impl Future<Output = Result<ShardCounts>> + Send + 's {
        let site = Location::caller();
        async move {
            match statement.tree() {
                Some(Tree::Update(..) | Tree::Delete(..)) => {}
                _ => {
                    return Err(Error::invalid_statement(
                        "a write run on every shard is an UPDATE or a DELETE: insert rows with `Sharded::execute` (each on its key's shard)",
                    ));
                }
            }
            let targets = self.targets(statement.tree())?;
            let inner = &self.sharded.inner;
            let statement = &statement;
            let runs = targets
                .iter()
                .map(|&i| async move { (i, execute_at(&inner.dbs[i], statement, site).await) });
            let mut done = Vec::new();
            let mut failed = Vec::new();
            for (i, outcome) in join_all(runs).await {
                let name = inner.names[i].clone();
                match outcome {
                    Ok(n) => done.push((name, n)),
                    Err(e) => failed.push((name, e.on_shard(&inner.names[i]))),
                }
            }
            if failed.is_empty() {
                Ok(ShardCounts { per_shard: done })
            } else {
                Err(ShardError::PartialWrite { failed, done }.into())
            }
        }
    }
}
