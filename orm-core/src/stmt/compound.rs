use std::fmt;
use std::marker::PhantomData;

use super::Handles;
use super::derived::Derived;
use super::{Statement, select::Select};
use crate::ast::{CompoundCore, FromItem, Query, SetOp};
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::{Node, OrderBy, param};
use crate::row::Decode;

/// A set operation (`UNION`, `INTERSECT`, `EXCEPT`, with or without `ALL`) whose rows decode
/// into `O`. Made by [`Select::union`] & co; chain more, order and limit the whole result.
///
/// `order_by` on the result names output columns: pass the columns of the first query (they
/// are written unqualified) or derived-table handles.
pub struct Compound<O> {
    core: CompoundCore,
    _out: PhantomData<fn() -> O>,
}

impl<O> Clone for Compound<O> {
    fn clone(&self) -> Self {
        Compound {
            core: self.core.clone(),
            _out: PhantomData,
        }
    }
}

impl<O> fmt::Debug for Compound<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}

impl<O> Compound<O> {
    pub(crate) fn new(op: SetOp, left: Query, right: Query) -> Self {
        Compound {
            core: CompoundCore {
                op,
                left,
                right,
                order_by: Vec::new(),
                limit: None,
                offset: None,
            },
            _out: PhantomData,
        }
    }

    /// The untyped query.
    pub fn into_query(self) -> Query {
        Query::Compound(Box::new(self.core))
    }

    fn chain<S>(self, op: SetOp, other: Select<O, S>) -> Compound<O> {
        Compound::new(op, self.into_query(), other.into_query())
    }

    /// `... UNION other`
    pub fn union<S>(self, other: Select<O, S>) -> Compound<O> {
        self.chain(SetOp::Union, other)
    }

    /// `... UNION ALL other`
    pub fn union_all<S>(self, other: Select<O, S>) -> Compound<O> {
        self.chain(SetOp::UnionAll, other)
    }

    /// `... INTERSECT other`
    pub fn intersect<S>(self, other: Select<O, S>) -> Compound<O> {
        self.chain(SetOp::Intersect, other)
    }

    /// `... EXCEPT other`
    pub fn except<S>(self, other: Select<O, S>) -> Compound<O> {
        self.chain(SetOp::Except, other)
    }

    /// Orders the combined result by an output column.
    pub fn order_by(mut self, order: impl Into<OrderBy>) -> Self {
        self.core.order_by.push(order.into());
        self
    }

    /// `LIMIT n` on the combined result.
    pub fn limit(mut self, n: i64) -> Self {
        self.core.limit = Some(Node::Param(param(n)));
        self
    }

    /// `OFFSET n` on the combined result.
    pub fn offset(mut self, n: i64) -> Self {
        self.core.offset = Some(Node::Param(param(n)));
        self
    }

    /// The result as a subquery in `FROM`, with typed handles to its columns (named after the
    /// first query's).
    pub fn subquery(self, alias: &'static str) -> (Derived, O::Handles)
    where
        O: Handles,
    {
        let names = output_names(&self.core.left);
        let handles = O::handles(alias, &mut names.iter());
        (
            Derived::from_item(FromItem::Subquery {
                query: Box::new(self.into_query()),
                alias,
                lateral: false,
            }),
            handles,
        )
    }
}

/// The output column names of a query: labels or column names, else `?`.
fn output_names(q: &Query) -> Vec<&'static str> {
    match q {
        Query::Select(core) => core
            .columns
            .iter()
            .map(|n| match n {
                Node::Label(_, l) => *l,
                Node::Column(c) => c.name,
                _ => "?column?",
            })
            .collect(),
        Query::Compound(c) => output_names(&c.left),
    }
}

impl<O: Decode> Statement for Compound<O> {
    type Row = O;
    fn compile(&self) -> Result<CompiledQuery> {
        compile::query_statement(
            &Query::Compound(Box::new(self.core.clone())),
            compile::Output::of::<O>(O::WIDTH),
        )
    }
}

impl<O> From<Compound<O>> for Query {
    fn from(c: Compound<O>) -> Query {
        c.into_query()
    }
}

/// Set operations of selects: each makes a [`Compound`].
impl<O, S> Select<O, S> {
    fn set_op<S2>(self, op: SetOp, other: Select<O, S2>) -> Compound<O> {
        Compound::new(op, self.into_query(), other.into_query())
    }

    /// `self UNION other` (duplicates removed).
    pub fn union<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::Union, other)
    }

    /// `self UNION ALL other`.
    pub fn union_all<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::UnionAll, other)
    }

    /// `self INTERSECT other`.
    pub fn intersect<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::Intersect, other)
    }

    /// `self INTERSECT ALL other`.
    pub fn intersect_all<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::IntersectAll, other)
    }

    /// `self EXCEPT other`.
    pub fn except<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::Except, other)
    }

    /// `self EXCEPT ALL other`.
    pub fn except_all<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::ExceptAll, other)
    }
}
