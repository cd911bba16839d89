//! The untyped shape of queries: `SELECT` bodies, set operations, `FROM` items and CTEs. Typed
//! builders (`Select`, `Compound`) wrap these.

use std::sync::Arc;

use super::{Node, OrderBy, Over};
use crate::meta::Table;

/// A complete query: a `SELECT`, or a set operation of queries. What subqueries, CTEs and
/// `INSERT ... SELECT` hold.
#[derive(Clone, Debug)]
pub enum Query {
    /// A single `SELECT`.
    Select(Box<SelectCore>),
    /// `left UNION/INTERSECT/EXCEPT [ALL] right`, with its own ordering and limits.
    Compound(Box<CompoundCore>),
}

/// A set operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// `UNION`
    Union,
    /// `UNION ALL`
    UnionAll,
    /// `INTERSECT`
    Intersect,
    /// `INTERSECT ALL`
    IntersectAll,
    /// `EXCEPT`
    Except,
    /// `EXCEPT ALL`
    ExceptAll,
}

impl SetOp {
    /// The keywords.
    pub fn as_sql(self) -> &'static str {
        match self {
            SetOp::Union => "UNION",
            SetOp::UnionAll => "UNION ALL",
            SetOp::Intersect => "INTERSECT",
            SetOp::IntersectAll => "INTERSECT ALL",
            SetOp::Except => "EXCEPT",
            SetOp::ExceptAll => "EXCEPT ALL",
        }
    }
}

/// The body of a set operation.
#[derive(Clone, Debug)]
pub struct CompoundCore {
    pub(crate) op: SetOp,
    pub(crate) left: Query,
    pub(crate) right: Query,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<Node>,
    pub(crate) offset: Option<Node>,
}

/// The untyped body of a `SELECT`.
#[derive(Clone, Debug, Default)]
pub struct SelectCore {
    pub(crate) distinct: Distinct,
    pub(crate) columns: Vec<Node>,
    pub(crate) from: Vec<FromItem>,
    pub(crate) joins: Vec<Join>,
    pub(crate) filter: Option<Node>,
    pub(crate) group_by: Vec<Node>,
    pub(crate) having: Option<Node>,
    pub(crate) windows: Vec<(&'static str, Over)>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<Node>,
    pub(crate) offset: Option<Node>,
    pub(crate) lock: Option<Lock>,
}

/// `DISTINCT` modes.
#[derive(Clone, Debug, Default)]
pub enum Distinct {
    /// No `DISTINCT`.
    #[default]
    None,
    /// `DISTINCT`
    All,
    /// `DISTINCT ON (...)`
    On(Vec<Node>),
}

/// Something a query reads from.
#[derive(Clone, Debug)]
pub enum FromItem {
    /// A table, possibly under an alias.
    Table {
        /// The table.
        table: &'static Table,
        /// `AS alias`.
        alias: Option<&'static str>,
    },
    /// `[LATERAL] (subquery) AS alias`.
    Subquery {
        /// The subquery.
        query: Box<Query>,
        /// Its alias.
        alias: &'static str,
        /// `LATERAL`.
        lateral: bool,
    },
    /// A CTE, defined in the statement's `WITH` clause (collected automatically).
    Cte(Arc<Cte>),
    /// A reference by name to the CTE being defined (inside a recursive CTE).
    CteRef(&'static str),
    /// A set-returning function call: `unnest(...) AS alias`.
    Function(Node, &'static str),
}

impl FromItem {
    /// The name this item's columns are qualified by.
    pub fn qualifier(&self) -> &'static str {
        match self {
            FromItem::Table { table, alias } => alias.unwrap_or(table.name),
            FromItem::Subquery { alias, .. } => alias,
            FromItem::Cte(c) => c.name,
            FromItem::CteRef(name) => name,
            FromItem::Function(_, alias) => alias,
        }
    }
}

/// A common table expression: `name (columns) AS (query)`.
#[derive(Debug)]
pub struct Cte {
    pub(crate) name: &'static str,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) query: Query,
    pub(crate) recursive: bool,
}

/// Join kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// `JOIN`
    Inner,
    /// `LEFT JOIN`
    Left,
    /// `RIGHT JOIN`
    Right,
    /// `FULL JOIN`
    Full,
    /// `CROSS JOIN`
    Cross,
}

impl JoinKind {
    pub(crate) fn as_sql(self) -> &'static str {
        match self {
            JoinKind::Inner => " JOIN ",
            JoinKind::Left => " LEFT JOIN ",
            JoinKind::Right => " RIGHT JOIN ",
            JoinKind::Full => " FULL JOIN ",
            JoinKind::Cross => " CROSS JOIN ",
        }
    }
}

/// One `JOIN`.
#[derive(Clone, Debug)]
pub struct Join {
    pub(crate) kind: JoinKind,
    pub(crate) item: FromItem,
    pub(crate) on: JoinOn,
}

/// How a join matches rows.
#[derive(Clone, Debug)]
pub enum JoinOn {
    /// `ON condition`.
    On(Node),
    /// `ON` built from the declared foreign key between the joined table and one already in
    /// the query (resolved when the statement is compiled).
    ForeignKey,
    /// No condition (`CROSS JOIN`, or `ON TRUE` for lateral joins).
    None,
}

/// Row-locking clause.
#[derive(Clone, Debug)]
pub struct Lock {
    /// `None` while only `of`/`nowait`/`skip_locked` were given: refused when compiled (they
    /// modify a lock, and none was asked for).
    pub(crate) strength: Option<LockStrength>,
    pub(crate) of: Vec<&'static str>,
    pub(crate) wait: LockWait,
}

/// Lock strengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockStrength {
    /// `FOR UPDATE`
    Update,
    /// `FOR NO KEY UPDATE`
    NoKeyUpdate,
    /// `FOR SHARE`
    Share,
    /// `FOR KEY SHARE`
    KeyShare,
}

/// What a lock does when a row is locked by someone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockWait {
    /// Wait (the default).
    Wait,
    /// `NOWAIT`: fail at once.
    NoWait,
    /// `SKIP LOCKED`: leave such rows out.
    SkipLocked,
}

impl Query {
    /// The query as a [`Tree`](super::Tree), for routing it (a sharded database finds its
    /// shard key there).
    pub fn tree(&self) -> super::Tree<'_> {
        match self {
            Query::Select(core) => super::Tree::Select(core),
            Query::Compound(c) => super::Tree::Compound(c),
        }
    }

    /// See [`Node::requalify`].
    pub fn requalify(&mut self, from: &str, to: &'static str) {
        match self {
            Query::Select(core) => core.requalify(from, to),
            Query::Compound(c) => {
                c.left.requalify(from, to);
                c.right.requalify(from, to);
            }
        }
    }

    /// See [`Node::count_aliases`].
    pub fn count_aliases(&self, prefix: &str) -> usize {
        match self {
            Query::Select(core) => {
                let own = core
                    .from
                    .iter()
                    .chain(core.joins.iter().map(|j| &j.item))
                    .filter(|i| i.qualifier().starts_with(prefix))
                    .count();
                own + core.filter.as_ref().map_or(0, |f| f.count_aliases(prefix))
            }
            Query::Compound(c) => c.left.count_aliases(prefix) + c.right.count_aliases(prefix),
        }
    }
}

impl SelectCore {
    /// See [`Node::requalify`]: a query whose own tables include `from` is left alone.
    pub fn requalify(&mut self, from: &str, to: &'static str) {
        let shadows = self
            .from
            .iter()
            .chain(self.joins.iter().map(|j| &j.item))
            .any(|i| i.qualifier() == from);
        if shadows {
            return;
        }
        let go = |n: &mut Node| n.requalify(from, to);
        self.columns.iter_mut().for_each(go);
        for j in &mut self.joins {
            if let JoinOn::On(n) = &mut j.on {
                n.requalify(from, to);
            }
        }
        for n in [&mut self.filter, &mut self.having].into_iter().flatten() {
            n.requalify(from, to);
        }
        self.group_by.iter_mut().for_each(go);
        self.order_by
            .iter_mut()
            .for_each(|o| o.node.requalify(from, to));
    }
}

impl From<Box<SelectCore>> for Query {
    fn from(core: Box<SelectCore>) -> Self {
        Query::Select(core)
    }
}

impl From<SelectCore> for Query {
    fn from(core: SelectCore) -> Self {
        Query::Select(Box::new(core))
    }
}
