//! The AST: plain-data expression and statement nodes, the untyped tree that the typed builders
//! ([`expr`](crate::expr), [`stmt`](crate::stmt)) produce and the [compiler](crate::compile)
//! walks.
//!
//! Expressions contain queries (`EXISTS`, scalar subqueries, `IN (SELECT ...)`) and queries
//! contain expressions; that recursion stays inside this module. Nothing here knows about typed
//! builders, rows, models or the session.

mod dml;
mod expr;
mod query;
mod raw;

pub use dml::{
    ConflictAction, ConflictTarget, DeleteCore, InsertCore, InsertSource, OnConflict, UpdateCore,
};
pub use expr::{
    Aggregate, BinOp, Case, CastType, Child, ColumnRef, Frame, FrameBound, FrameUnits, Node,
    OrderBy, Ordering, Over, Param, UnaryOp, param,
};
pub use query::{
    CompoundCore, Cte, Distinct, FromItem, Join, JoinKind, JoinOn, Lock, LockStrength, LockWait,
    Query, SelectCore, SetOp,
};
pub use raw::RawSql;

/// A statement's tree, borrowed, for whoever inspects what a statement reads or writes before
/// it runs (a sharded database finds the shard key in it): see
/// [`Statement::tree`](crate::stmt::Statement::tree).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Tree<'a> {
    /// A `SELECT`.
    Select(&'a SelectCore),
    /// A set operation (`UNION`, ...).
    Compound(&'a CompoundCore),
    /// An `INSERT` into `table`.
    Insert(&'a InsertCore, &'static crate::meta::Table),
    /// An `UPDATE` of `table`.
    Update(&'a UpdateCore, &'static crate::meta::Table),
    /// A `DELETE` from `table`.
    Delete(&'a DeleteCore, &'static crate::meta::Table),
}
