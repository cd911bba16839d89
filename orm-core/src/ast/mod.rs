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
