use std::fmt;
use std::marker::PhantomData;

use super::{Selection, Statement, model_columns};
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::{Node, Param};
use crate::meta::TableRef;
use crate::model::Model;
use crate::row::FromRow;
use crate::types::ColumnType;

/// An `INSERT` whose `RETURNING` rows decode into `O`.
///
/// [`insert`] and [`insert_many`] return the inserted rows as models (with server-generated
/// keys and defaults filled in); [`returning`](Insert::returning) picks other columns and
/// [`no_returning`](Insert::no_returning) drops the clause.
pub struct Insert<O> {
    pub(crate) table: TableRef,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) source: InsertSource,
    pub(crate) returning: Vec<Node>,
    _out: PhantomData<fn() -> O>,
}

/// Where the inserted rows come from.
#[derive(Clone, Debug)]
pub(crate) enum InsertSource {
    /// `VALUES (...), (...)`: one list per row.
    Values(Vec<Vec<Node>>),
    /// `SELECT * FROM unnest($1::t1[], $2::t2[], ...)`: one array parameter per column, so the SQL
    /// does not change with the number of rows.
    Unnest(Vec<(Param, ColumnType)>),
}

impl<O> Clone for Insert<O> {
    fn clone(&self) -> Self {
        Insert {
            table: self.table,
            columns: self.columns.clone(),
            source: self.source.clone(),
            returning: self.returning.clone(),
            _out: PhantomData,
        }
    }
}

impl<O> fmt::Debug for Insert<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Insert")
            .field("table", &self.table)
            .field("columns", &self.columns)
            .field("source", &self.source)
            .field("returning", &self.returning)
            .finish()
    }
}

fn insert_column_names<M: Model>() -> Vec<&'static str> {
    M::TABLE.insert_columns().map(|c| c.name).collect()
}

/// `INSERT INTO table (...) VALUES (...) RETURNING *` for one object. Server-generated columns
/// are left out and come back in the returned row.
pub fn insert<M: Model>(row: &M) -> Insert<M> {
    let values = row.insert_params().into_iter().map(Node::Param).collect();
    Insert {
        table: M::TABLE.as_ref(),
        columns: insert_column_names::<M>(),
        source: InsertSource::Values(vec![values]),
        returning: model_columns(M::TABLE),
        _out: PhantomData,
    }
}

/// Inserts many objects in one statement, returning them in the same order.
///
/// The rows travel as one array parameter per column
/// (`INSERT ... SELECT * FROM unnest($1::int8[], $2::text[])`), so the SQL text is the same for
/// any number of rows and the prepared statement is reused. Tables with array columns fall back
/// to a `VALUES` list (PostgreSQL arrays cannot nest).
pub fn insert_many<M: Model>(rows: &[M]) -> Insert<M> {
    let table = M::TABLE;
    let has_array = table.insert_columns().any(|c| c.ty.is_array());
    let source = if has_array {
        InsertSource::Values(
            rows.iter()
                .map(|r| r.insert_params().into_iter().map(Node::Param).collect())
                .collect(),
        )
    } else {
        InsertSource::Unnest(
            M::insert_arrays(rows)
                .into_iter()
                .zip(table.insert_columns().map(|c| c.ty))
                .collect(),
        )
    };
    Insert {
        table: table.as_ref(),
        columns: insert_column_names::<M>(),
        source,
        returning: model_columns(table),
        _out: PhantomData,
    }
}

impl<O> Insert<O> {
    /// `RETURNING` the given columns or expressions instead.
    pub fn returning<S: Selection>(self, selection: S) -> Insert<S::Output> {
        let mut returning = Vec::new();
        selection.push_nodes(&mut returning);
        Insert {
            table: self.table,
            columns: self.columns,
            source: self.source,
            returning,
            _out: PhantomData,
        }
    }

    /// No `RETURNING` clause.
    pub fn no_returning(self) -> Insert<()> {
        Insert {
            table: self.table,
            columns: self.columns,
            source: self.source,
            returning: Vec::new(),
            _out: PhantomData,
        }
    }
}

impl<O: FromRow> Statement for Insert<O> {
    type Output = O;
    fn compile(&self) -> Result<CompiledQuery> {
        compile::insert(self)
    }
}
