//! The option slot of a `SELECT`: what a statement carries for whoever runs it, without the
//! statement layer knowing what it is (SQLAlchemy's `ExecutableOption`). The ORM's relationship
//! loads plug in here (`select::<User>().load(User::orders.selectin())`); an option that changes
//! the SQL itself (a joined load) says so through [`SelectOption::joined_width`].

use std::any::Any;
use std::sync::Arc;

use crate::ast::{Join, Node, OrderBy, Query};
use crate::error::Result;

/// An option attached to a select whose rows decode into `R`.
pub trait SelectOption<R>: Send + Sync + 'static {
    /// For an option that adds to the query (a joined load): how many columns it adds.
    /// `None` (the default) leaves the SQL alone.
    fn joined_width(&self) -> Option<usize> {
        None
    }

    /// For an option that adds to the query: the `LEFT JOIN`s (from the parent rows qualified
    /// by `parent`), the columns and the ordering it adds; `slot` numbers its own aliases.
    /// Called only when [`joined_width`](SelectOption::joined_width) is `Some`.
    fn joined_parts(&self, parent: &'static str, slot: usize) -> Result<JoinedParts> {
        let _ = (parent, slot);
        Ok(JoinedParts::default())
    }

    /// The option itself, for the code that knows its type.
    fn as_any(&self) -> &(dyn Any + Send + Sync);
}

/// What a joined option adds to its parent query.
#[derive(Debug, Default)]
pub struct JoinedParts {
    /// The `LEFT JOIN`s.
    pub joins: Vec<Join>,
    /// The added columns.
    pub columns: Vec<Node>,
    /// The added ordering (after the parent query's own).
    pub order_by: Vec<OrderBy>,
}

/// The options of a statement, and the statement's own query (which an option may reuse, e.g.
/// as a subquery).
pub struct OptionSet<R> {
    /// The options, in the order they were added.
    pub options: Vec<Arc<dyn SelectOption<R>>>,
    /// The statement's query, without the options' additions.
    pub query: Query,
}
