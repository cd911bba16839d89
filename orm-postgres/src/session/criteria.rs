//! The session's global criteria: conditions on a model's rows that every statement the
//! session runs includes (soft delete, a tenant, row-level access), and the executor that
//! applies them.

use std::sync::Arc;

use orm_core::stmt::Criteria;

use super::Session;
use crate::conn::Conn;
use crate::executor::Executor;
use crate::executor::sealed::{Acquire, ConnRef};
use crate::{Expr, Model, Result};

impl Session {
    /// Adds a criteria on `M`'s rows, `AND`ed with any it has (from the database handle it was
    /// opened on, see [`Database::with_criteria`](crate::Database::with_criteria), or added
    /// before): from now on every statement the session runs includes it wherever it reads
    /// `M`'s table, so no path returns or changes a row it excludes.
    ///
    /// - queries (`all`, `one`, `optional`, the `fetch_*` reads, `count`, `exists`), in
    ///   `WHERE` for the tables they read, in the `ON` clause of a `LEFT JOIN` (so the other
    ///   side's rows still appear), in subqueries, CTEs and `EXISTS` at any depth;
    /// - relationship loads of `M` (selectin, subquery and joined, and
    ///   [`load`](Session::load) of objects in hand): a parent whose children are all
    ///   filtered gets none;
    /// - [`get`](Session::get) always asks the database when `M` has criteria (the identity
    ///   map cannot tell whether an object it holds still passes them), so an object loaded
    ///   before the criteria were set is `None` when they exclude it;
    ///   [`refresh`](Session::refresh) of an excluded object is an error;
    /// - [`execute`](Session::execute) of a bulk `UPDATE` or `DELETE` (target in `WHERE`) and
    ///   of an upsert (a conflicting excluded row is not updated).
    ///
    /// Values in the condition are parameters: the SQL depends only on which models have
    /// criteria, so a per-request tenant id does not defeat the statement cache.
    ///
    /// Not covered: the flush (it writes the objects the session holds, by key: objects it
    /// could only have loaded through the criteria), rows an `INSERT` writes, raw SQL, Core
    /// statements run on [`connection`](Session::connection), and objects already in hand:
    /// criteria set after a load do not take back what it loaded (what
    /// [`related`](Session::related) answers from the session, or objects the caller holds).
    /// Set them before the first query, as a per-request scope does. The escape hatch is
    /// explicit: [`without_criteria`](crate::Select::without_criteria) on one statement, or
    /// [`remove_criteria`](Session::remove_criteria) on the session. A condition naming
    /// another model's columns is an [`InvalidStatement`](crate::ErrorKind::InvalidStatement)
    /// error.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::{Post, User};
    /// # async fn run(db: Database, tenant: i64) -> orm_postgres::Result<()> {
    /// let mut s = db.session();
    /// s.with_criteria::<Post>(Post::user_id.eq(tenant))?;
    /// let posts = s.all(select::<Post>()).await?; // ... WHERE "posts"."user_id" = $1
    /// # Ok(()) }
    /// ```
    pub fn with_criteria<M: Model>(&mut self, condition: impl Into<Expr<bool>>) -> Result<()> {
        Arc::make_mut(&mut self.criteria).add::<M>(condition)
    }

    /// Removes every criteria on `M` from this session (also those it started with): the
    /// session-wide escape hatch. Whether there were any.
    pub fn remove_criteria<M: Model>(&mut self) -> bool {
        Arc::make_mut(&mut self.criteria).remove::<M>()
    }

    /// The criteria the session's statements take.
    pub fn criteria(&self) -> &Criteria {
        &self.criteria
    }

    /// Whether statements reading `M` take a criteria in this session.
    pub(super) fn has_criteria<M: Model>(&self) -> bool {
        self.criteria.covers::<M>()
    }

    /// The session's transaction (begun if needed) as an executor that applies the session's
    /// criteria, which the caller takes (a cheap clone) before borrowing the session for it.
    pub(super) async fn filtered<'s>(&'s mut self, criteria: &'s Criteria) -> Result<Filtered<'s>> {
        let conn = self.tx().await?.conn();
        Ok(Filtered { conn, criteria })
    }
}

/// The session's transaction, running statements with the session's criteria.
pub(super) struct Filtered<'s> {
    pub(super) conn: &'s Conn,
    pub(super) criteria: &'s Criteria,
}

impl Acquire for Filtered<'_> {
    async fn acquire(&self) -> Result<ConnRef<'_>> {
        Ok(ConnRef::Borrowed(self.conn))
    }

    fn criteria(&self) -> Option<&Criteria> {
        Some(self.criteria)
    }

    #[cfg(feature = "cache")]
    fn held(&self) -> Option<&Conn> {
        Some(self.conn)
    }
}

impl Executor for Filtered<'_> {}
