use std::fmt;
use std::marker::PhantomData;

use super::source::{Cons, Inner, Nil};
use super::{Selection, Statement, and_filter, model_columns};
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::{Column, Expr, IntoExpr, Node};
use crate::meta::TableRef;
use crate::model::{Model, pk_filter};
use crate::row::Decode;
use crate::types::SqlType;

/// An `UPDATE` of model `M`'s table whose `RETURNING` rows decode into `O`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = update::<User>()
///     .set(User::email, None::<String>)
///     .filter(User::id.eq(7));
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"UPDATE "users" SET "email" = $1 WHERE "users"."id" = $2"#
/// );
/// ```
pub struct Update<M, O = ()> {
    pub(crate) table: TableRef,
    pub(crate) sets: Vec<(&'static str, Node)>,
    pub(crate) filter: Option<Node>,
    pub(crate) returning: Vec<Node>,
    _out: PhantomData<fn() -> (M, O)>,
}

impl<M, O> Clone for Update<M, O> {
    fn clone(&self) -> Self {
        Update {
            table: self.table,
            sets: self.sets.clone(),
            filter: self.filter.clone(),
            returning: self.returning.clone(),
            _out: PhantomData,
        }
    }
}

impl<M, O> fmt::Debug for Update<M, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Update")
            .field("table", &self.table)
            .field("sets", &self.sets)
            .field("filter", &self.filter)
            .field("returning", &self.returning)
            .finish()
    }
}

/// `UPDATE` rows of `M`'s table; add [`set`](Update::set) and [`filter`](Update::filter).
/// Without a filter every row is updated, as in SQL.
pub fn update<M: Model>() -> Update<M> {
    Update {
        table: M::TABLE.as_ref(),
        sets: Vec::new(),
        filter: None,
        returning: Vec::new(),
        _out: PhantomData,
    }
}

/// `UPDATE table SET <every non-key column> WHERE <key> RETURNING *`: saves one object.
pub fn update_model<M: Model>(row: &M) -> Update<M, M> {
    let sets = M::TABLE
        .update_columns()
        .map(|c| c.name)
        .zip(row.update_params().into_iter().map(Node::Param))
        .collect();
    Update {
        table: M::TABLE.as_ref(),
        sets,
        filter: pk_filter::<M>(row.pk()).into_node().into(),
        returning: model_columns(M::TABLE),
        _out: PhantomData,
    }
}

impl<M: Model, O> Update<M, O> {
    /// `SET column = value`. The value is anything comparable with the column: a value, `None`
    /// for `NULL` on a nullable column, another column or an expression (`User::n.add(1)`).
    pub fn set<T: SqlType, V: IntoExpr<T::Base>>(mut self, column: Column<M, T>, value: V) -> Self {
        self.sets.push((column.name(), value.into_expr_node()));
        self
    }

    /// Adds a `WHERE` condition, `AND`ed with any earlier one.
    pub fn filter(mut self, condition: impl Into<Expr<bool>>) -> Self {
        self.filter = and_filter(self.filter.take(), condition.into());
        self
    }

    /// `RETURNING` the given columns or expressions.
    pub fn returning<Sel: Selection<Cons<Inner<M>, Nil>, I>, I>(
        self,
        selection: Sel,
    ) -> Update<M, Sel::Output> {
        let mut returning = Vec::new();
        selection.push_nodes(&mut returning);
        Update {
            table: self.table,
            sets: self.sets,
            filter: self.filter,
            returning,
            _out: PhantomData,
        }
    }

    /// `RETURNING` every column of the model.
    pub fn returning_model(self) -> Update<M, M> {
        Update {
            table: self.table,
            sets: self.sets,
            filter: self.filter,
            returning: model_columns(M::TABLE),
            _out: PhantomData,
        }
    }
}

impl<M, O: Decode> Statement for Update<M, O> {
    type Row = O;
    fn compile(&self) -> Result<CompiledQuery> {
        compile::update(self)
    }
}
