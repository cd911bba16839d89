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
    /// This query, cached: see [`Select::cached`](super::Select::cached).
    pub fn cached(self, policy: impl Into<super::CachePolicy>) -> super::Cached<Self> {
        super::Cached::new(self, policy)
    }

    /// This query, never cached: see [`Select::no_cache`](super::Select::no_cache).
    pub fn no_cache(self) -> super::Cached<Self> {
        super::Cached::new(self, super::CachePolicy::never())
    }

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
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let a = select::<User>().filter(User::id.lt(10)).columns(User::name);
    /// let q = a.clone().union(a.clone()).union(select::<User>().columns(User::name));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name" FROM "users" WHERE "users"."id" < $1 UNION SELECT "users"."name" FROM "users" WHERE "users"."id" < $1 UNION SELECT "users"."name" FROM "users""#);
    /// ```
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
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::name).union(select::<Post>().columns(Post::title)).order_by(User::name);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name" FROM "users" UNION SELECT "posts"."title" FROM "posts" ORDER BY "name""#);
    /// ```
    pub fn order_by(mut self, order: impl Into<OrderBy>) -> Self {
        self.core.order_by.push(order.into());
        self
    }

    /// `LIMIT n` on the combined result.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::name).union(select::<Post>().columns(Post::title)).limit(5);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name" FROM "users" UNION SELECT "posts"."title" FROM "posts" LIMIT $1"#);
    /// ```
    pub fn limit(mut self, n: i64) -> Self {
        self.core.limit = Some(Node::Param(param(n)));
        self
    }

    /// `OFFSET n` on the combined result.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::name).union(select::<Post>().columns(Post::title)).offset(5);
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name" FROM "users" UNION SELECT "posts"."title" FROM "posts" OFFSET $1"#);
    /// ```
    pub fn offset(mut self, n: i64) -> Self {
        self.core.offset = Some(Node::Param(param(n)));
        self
    }

    /// The result as a subquery in `FROM`, with typed handles to its columns (named after the
    /// first query's: labels and column names, else `c1`, `c2`, ... given as labels, as
    /// [`Select::subquery`] names them).
    pub fn subquery(mut self, alias: &'static str) -> (Derived, O::Handles<super::Anonymous>)
    where
        O: Handles,
    {
        let names = name_first(&mut self.core.left);
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

/// Names the output columns of a set operation: its first select's, which the server takes
/// them from, labelled where they have no name of their own (PostgreSQL would call
/// `lower(x)` "lower", `count(*)` "count", and two of them alike).
fn name_first(q: &mut Query) -> Vec<&'static str> {
    match q {
        Query::Select(core) => super::select::name_columns(&mut core.columns),
        Query::Compound(c) => name_first(&mut c.left),
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

    fn compile_with(&self, criteria: &super::Criteria) -> Result<CompiledQuery> {
        let mut query = Query::Compound(Box::new(self.core.clone()));
        criteria.apply_query(&mut query);
        compile::query_statement(&query, compile::Output::of::<O>(O::WIDTH))
    }

    fn tree(&self) -> Option<crate::ast::Tree<'_>> {
        Some(crate::ast::Tree::Compound(&self.core))
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
        // Its rows are no longer either select's: their relationship loads (and options)
        // would be dropped, so the statement is refused when compiled.
        let left = match self.has_options() || other.has_options() {
            true => self.filter(crate::expr::Expr::<bool>::new(Node::Raw(Box::new(
                crate::ast::RawSql::failing(crate::error::Error::invalid_statement(
                    "a set operation (UNION, INTERSECT, EXCEPT) runs no relationship loads: load them into its rows with `load`",
                )),
            )))),
            false => self,
        };
        Compound::new(op, left.into_query(), other.into_query())
    }

    /// `self UNION other` (duplicates removed).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::name).union(select::<Post>().columns(Post::title));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name" FROM "users" UNION SELECT "posts"."title" FROM "posts""#);
    /// ```
    pub fn union<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::Union, other)
    }

    /// `self UNION ALL other`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::name).union_all(select::<Post>().columns(Post::title));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."name" FROM "users" UNION ALL SELECT "posts"."title" FROM "posts""#);
    /// ```
    pub fn union_all<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::UnionAll, other)
    }

    /// `self INTERSECT other`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id).intersect(select::<Post>().columns(Post::user_id));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" FROM "users" INTERSECT SELECT "posts"."user_id" FROM "posts""#);
    /// ```
    pub fn intersect<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::Intersect, other)
    }

    /// `self INTERSECT ALL other`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id).intersect_all(select::<Post>().columns(Post::user_id));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" FROM "users" INTERSECT ALL SELECT "posts"."user_id" FROM "posts""#);
    /// ```
    pub fn intersect_all<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::IntersectAll, other)
    }

    /// `self EXCEPT other`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id).except(select::<Post>().columns(Post::user_id));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" FROM "users" EXCEPT SELECT "posts"."user_id" FROM "posts""#);
    /// ```
    pub fn except<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::Except, other)
    }

    /// `self EXCEPT ALL other`.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().columns(User::id).except_all(select::<Post>().columns(Post::user_id));
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id" FROM "users" EXCEPT ALL SELECT "posts"."user_id" FROM "posts""#);
    /// ```
    pub fn except_all<S2>(self, other: Select<O, S2>) -> Compound<O> {
        self.set_op(SetOp::ExceptAll, other)
    }
}
