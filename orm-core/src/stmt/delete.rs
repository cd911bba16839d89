use std::fmt;
use std::marker::PhantomData;

use super::source::{Cons, Inner, Nil};
use super::{Selection, Statement, and_filter, model_columns};
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::{Expr, Node};
use crate::meta::TableRef;
use crate::model::{Model, pk_filter};
use crate::row::Decode;

/// A `DELETE` from model `M`'s table whose `RETURNING` rows decode into `O`.
pub struct Delete<M, O = ()> {
    pub(crate) table: TableRef,
    pub(crate) filter: Option<Node>,
    pub(crate) returning: Vec<Node>,
    _out: PhantomData<fn() -> (M, O)>,
}

impl<M, O> Clone for Delete<M, O> {
    fn clone(&self) -> Self {
        Delete {
            table: self.table,
            filter: self.filter.clone(),
            returning: self.returning.clone(),
            _out: PhantomData,
        }
    }
}

impl<M, O> fmt::Debug for Delete<M, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delete")
            .field("table", &self.table)
            .field("filter", &self.filter)
            .field("returning", &self.returning)
            .finish()
    }
}

/// `DELETE FROM` `M`'s table; add a [`filter`](Delete::filter). Without one every row goes, as in
/// SQL.
pub fn delete<M: Model>() -> Delete<M> {
    Delete {
        table: M::TABLE.as_ref(),
        filter: None,
        returning: Vec::new(),
        _out: PhantomData,
    }
}

/// `DELETE FROM table WHERE <key>`: deletes one object by its primary key.
pub fn delete_model<M: Model>(row: &M) -> Delete<M> {
    delete::<M>().filter(pk_filter::<M>(row.pk()))
}

impl<M: Model, O> Delete<M, O> {
    /// Adds a `WHERE` condition, `AND`ed with any earlier one.
    pub fn filter(mut self, condition: impl Into<Expr<bool>>) -> Self {
        self.filter = and_filter(self.filter.take(), condition.into());
        self
    }

    /// `RETURNING` the given columns or expressions.
    pub fn returning<Sel: Selection<Cons<Inner<M>, Nil>, I>, I>(
        self,
        selection: Sel,
    ) -> Delete<M, Sel::Output> {
        let mut returning = Vec::new();
        selection.push_nodes(&mut returning);
        Delete {
            table: self.table,
            filter: self.filter,
            returning,
            _out: PhantomData,
        }
    }

    /// `RETURNING` every column of the model.
    pub fn returning_model(self) -> Delete<M, M> {
        Delete {
            table: self.table,
            filter: self.filter,
            returning: model_columns(M::TABLE),
            _out: PhantomData,
        }
    }
}

impl<M, O: Decode> Statement for Delete<M, O> {
    type Row = O;
    fn compile(&self) -> Result<CompiledQuery> {
        compile::delete(self)
    }
}
