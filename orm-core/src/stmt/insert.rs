use std::fmt;
use std::marker::PhantomData;

use super::source::{Cons, Inner, Nil};
use super::{Query, Selection, Statement, model_columns};
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::{Node, Param};
use crate::meta::TableRef;
use crate::model::Model;
use crate::row::Decode;
use crate::types::ColumnType;

/// An `INSERT` into model `M`'s table whose `RETURNING` rows decode into `O`.
///
/// [`insert`] and [`insert_many`] return the inserted rows as models (with server-generated
/// keys and defaults filled in); [`returning`](Insert::returning) picks other columns and
/// [`no_returning`](Insert::no_returning) drops the clause.
pub struct Insert<M, O = M> {
    pub(crate) table: TableRef,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) source: InsertSource,
    pub(crate) returning: Vec<Node>,
    _out: PhantomData<fn() -> (M, O)>,
}

/// Where the inserted rows come from.
#[derive(Clone, Debug)]
pub(crate) enum InsertSource {
    /// `VALUES (...), (...)`: one list per row.
    Values(Vec<Vec<Node>>),
    /// `SELECT * FROM unnest($1::t1[], $2::t2[], ...)`: one array parameter per column, so the SQL
    /// does not change with the number of rows.
    Unnest(Vec<(Param, ColumnType)>),
    /// `INSERT ... SELECT ...`.
    Query(Box<Query>),
}

impl<M, O> Clone for Insert<M, O> {
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

impl<M, O> fmt::Debug for Insert<M, O> {
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

/// `INSERT INTO table (columns) SELECT ...`: the query's columns fill `columns`, in order.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = insert_select::<User, _, _>(
///     (User::name, User::email),
///     select::<User>().columns((User::name.concat(" (copy)"), User::email)),
/// );
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"INSERT INTO "users" ("name", "email") SELECT "users"."name" || $1, "users"."email" FROM "users""#
/// );
/// ```
pub fn insert_select<M: Model, C: ColumnList<M>, Q: Into<Query>>(
    columns: C,
    query: Q,
) -> Insert<M, ()> {
    Insert {
        table: M::TABLE.as_ref(),
        columns: columns.names(),
        source: InsertSource::Query(Box::new(query.into())),
        returning: Vec::new(),
        _out: PhantomData,
    }
}

/// One column of model `M`, or a tuple of them: the target columns of `insert_select`.
pub trait ColumnList<M> {
    /// The column names, in order.
    fn names(self) -> Vec<&'static str>;
}

impl<M, T> ColumnList<M> for crate::expr::Column<M, T> {
    fn names(self) -> Vec<&'static str> {
        vec![self.name()]
    }
}

macro_rules! tuple_columns {
    ($($name:ident $idx:tt)+) => {
        impl<M, $($name),+> ColumnList<M> for ($(crate::expr::Column<M, $name>,)+) {
            fn names(self) -> Vec<&'static str> {
                vec![$(self.$idx.name()),+]
            }
        }
    };
}

tuple_columns!(A 0);
tuple_columns!(A 0 B 1);
tuple_columns!(A 0 B 1 C 2);
tuple_columns!(A 0 B 1 C 2 D 3);
tuple_columns!(A 0 B 1 C 2 D 3 E 4);
tuple_columns!(A 0 B 1 C 2 D 3 E 4 F 5);
tuple_columns!(A 0 B 1 C 2 D 3 E 4 F 5 G 6);
tuple_columns!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7);

impl<M: Model, O> Insert<M, O> {
    /// `RETURNING` the given columns or expressions instead.
    pub fn returning<Sel: Selection<Cons<Inner<M>, Nil>, I>, I>(
        self,
        selection: Sel,
    ) -> Insert<M, Sel::Output> {
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
    pub fn no_returning(self) -> Insert<M, ()> {
        Insert {
            table: self.table,
            columns: self.columns,
            source: self.source,
            returning: Vec::new(),
            _out: PhantomData,
        }
    }
}

impl<M, O: Decode> Statement for Insert<M, O> {
    type Row = O;
    fn compile(&self) -> Result<CompiledQuery> {
        compile::insert(self)
    }
}
