//! Sessions on a [`Sharded`] database: each runs on one shard, and its flushes stay there.

use deadpool_postgres::tokio_postgres::types::ToSql;
use orm_core::ShardError;
use orm_core::ast::Tree;
use orm_core::session::UnitOfWork;
use orm_core::shard::{self, Routed};

use super::{Inner, Sharded};
use crate::{Model, Result, Session};

impl Sharded {
    /// A session on the shard holding `M`'s rows whose shard key is `key` (`&7_i64`): its
    /// queries and its transaction run there.
    ///
    /// - Every statement it sends (`get`, `all`, `fetch_*`, `execute`, relationship loads,
    ///   `refresh`) is routed first: one whose shard key is on another shard is refused with
    ///   a [`WrongShard`](ShardError::WrongShard) error, nothing sent (it would find nothing
    ///   here); one that fixes no key runs here. Raw SQL and statements run on
    ///   [`Session::connection`] are not checked.
    /// - Every flush first checks that each object it would write (new, changed, deleted) of
    ///   a sharded model belongs to this shard, and refuses the whole flush with a
    ///   [`CrossShard`](ShardError::CrossShard) error naming the shards otherwise: nothing is
    ///   sent, and the objects stay pending (expunge or fix them).
    /// - Its errors name the shard ([`Error::on_shard`](crate::Error::on_shard)).
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::Sharded;
    /// # #[derive(Model, Debug, Clone)]
    /// # pub struct Order { #[model(primary_key)] pub id: i64, #[model(shard_key)] pub tenant_id: i64 }
    /// # async fn run(sharded: Sharded) -> orm_postgres::Result<()> {
    /// let mut s = sharded.session_for::<Order>(&7_i64)?;
    /// s.add(Order { id: 1, tenant_id: 7 });
    /// s.commit().await?;
    /// # Ok(()) }
    /// ```
    pub fn session_for<M: Model>(&self, key: &(dyn ToSql + Sync)) -> Result<Session> {
        Ok(self.session_at(self.index_for::<M>(key)?))
    }

    /// A session on the shard named `name`, with the same check as
    /// [`session_for`](Sharded::session_for).
    pub fn session_on(&self, name: &str) -> Result<Session> {
        Ok(self.session_at(self.index_of(name)?))
    }

    fn session_at(&self, i: usize) -> Session {
        let mut session = self.inner.dbs[i].session();
        let inner = self.inner.clone();
        session.on_before_flush(move |uow| inner.check_flush(uow, i));
        let inner = self.inner.clone();
        session.pin_to_shard(&self.inner.names[i], move |tree| {
            inner.check_statement(tree, i)
        });
        session
    }
}

impl Inner {
    /// Refuses a statement of a session or transaction on shard `i` whose shard key is on
    /// another shard. One that fixes no key (or reads no sharded table) runs on shard `i`.
    pub(super) fn check_statement(&self, tree: Tree<'_>, i: usize) -> Result<()> {
        self.on_shard_only(shard::route(tree), i)
    }

    /// Refuses rows written as they are (`COPY`) on shard `i` whose shard key is on another
    /// shard, as [`check_statement`](Inner::check_statement) refuses an insert of them.
    pub(super) fn check_rows<M: Model>(&self, rows: &[M], i: usize) -> Result<()> {
        self.on_shard_only(shard::route_rows(rows), i)
    }

    /// Refuses a statement or rows routed as `routed` unless their keys are all on shard `i`
    /// (or fix none).
    fn on_shard_only(&self, routed: Result<Routed>, i: usize) -> Result<()> {
        match self.key_shards(routed)? {
            Some((table, shards)) if shards != [i] => Err(ShardError::WrongShard {
                table,
                session: self.names[i].clone(),
                shards: shards.iter().map(|j| self.names[*j].clone()).collect(),
            }
            .into()),
            _ => Ok(()),
        }
    }

    /// Refuses a flush on shard `i` that would write an object of another shard.
    fn check_flush(&self, uow: &mut UnitOfWork, i: usize) -> Result<()> {
        let names = self.name_refs();
        let mut shards = vec![self.names[i].clone()];
        let mut table = None;
        for (t, key) in uow.pending_shard_keys()? {
            let j = self
                .map
                .shard_of(&key, &names)
                .ok_or_else(|| ShardError::Unmapped {
                    table: t.name,
                    column: t.shard_key.unwrap_or_default(),
                    value: key.to_string(),
                })?;
            if j != i && !shards.contains(&self.names[j]) {
                shards.push(self.names[j].clone());
                table.get_or_insert(t.name);
            }
        }
        match table {
            None => Ok(()),
            Some(table) => Err(ShardError::CrossShard { table, shards }.into()),
        }
    }
}
