//! The untyped shape of `INSERT`, `UPDATE` and `DELETE`. Typed builders (`Insert`, `Update`,
//! `Delete`) wrap these.

use super::{FromItem, Node, Query};
use crate::meta::TableRef;
use crate::types::ColumnType;

/// An `INSERT`.
#[derive(Clone, Debug)]
pub struct InsertCore {
    /// Joined-table inheritance: the model whose rows are written, when they span several
    /// tables (its [`Table::joined`](crate::meta::Table::joined) is set); compiling handles it.
    pub joined: Option<&'static crate::meta::Table>,
    /// The target table.
    pub table: TableRef,
    /// The inserted columns.
    pub columns: Vec<&'static str>,
    /// Where the rows come from.
    pub source: InsertSource,
    /// `ON CONFLICT ...`.
    pub on_conflict: Option<OnConflict>,
    /// `RETURNING ...`.
    pub returning: Vec<Node>,
}

/// An `UPDATE`.
#[derive(Clone, Debug)]
pub struct UpdateCore {
    /// Joined-table inheritance: the model whose rows are written, when they span several
    /// tables (its [`Table::joined`](crate::meta::Table::joined) is set); compiling handles it.
    pub joined: Option<&'static crate::meta::Table>,
    /// The target table.
    pub table: TableRef,
    /// `SET column = value` pairs.
    pub sets: Vec<(&'static str, Node)>,
    /// `FROM ...`.
    pub from: Vec<FromItem>,
    /// `WHERE ...`.
    pub filter: Option<Node>,
    /// `RETURNING ...`.
    pub returning: Vec<Node>,
}

/// A `DELETE`.
#[derive(Clone, Debug)]
pub struct DeleteCore {
    /// Joined-table inheritance: the model whose rows are written, when they span several
    /// tables (its [`Table::joined`](crate::meta::Table::joined) is set); compiling handles it.
    pub joined: Option<&'static crate::meta::Table>,
    /// The target table.
    pub table: TableRef,
    /// `USING ...`.
    pub using: Vec<FromItem>,
    /// `WHERE ...`.
    pub filter: Option<Node>,
    /// `RETURNING ...`.
    pub returning: Vec<Node>,
}

/// Where the inserted rows come from.
#[derive(Clone, Debug)]
pub enum InsertSource {
    /// `VALUES (...), (...)`: one list per row.
    Values(Vec<Vec<Node>>),
    /// `SELECT * FROM unnest($1::t1[], $2::t2[], ...)`: one array parameter per column, so the SQL
    /// does not change with the number of rows. Array columns travel flattened and are put back
    /// together per row (see [`ColumnArray`](crate::types::ColumnArray)).
    Unnest(Vec<(crate::types::ColumnArray, ColumnType)>),
    /// `INSERT ... SELECT ...`.
    Query(Box<Query>),
}

/// The `ON CONFLICT` clause of an upsert.
#[derive(Clone, Debug)]
pub struct OnConflict {
    /// What conflicts.
    pub target: ConflictTarget,
    /// `ON CONFLICT (columns) WHERE predicate`: infers a partial unique index.
    pub target_filter: Option<Node>,
    /// What happens then.
    pub action: ConflictAction,
}

/// What an `ON CONFLICT` clause matches.
#[derive(Clone, Debug)]
pub enum ConflictTarget {
    /// No target: any unique or exclusion constraint (`DO NOTHING` only).
    Any,
    /// `(col, ...)`: the unique index on these columns.
    Columns(Vec<&'static str>),
    /// `ON CONSTRAINT name`.
    Constraint(&'static str),
}

/// What happens on a conflict.
#[derive(Clone, Debug)]
pub enum ConflictAction {
    /// `DO NOTHING`
    Nothing,
    /// `DO UPDATE SET ... [WHERE ...]`
    Update {
        /// `SET column = value` pairs.
        sets: Vec<(&'static str, Node)>,
        /// `WHERE` of the update.
        filter: Option<Node>,
    },
}
