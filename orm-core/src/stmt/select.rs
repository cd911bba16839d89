use std::fmt;
use std::marker::PhantomData;

use super::{Selection, Statement, and_filter, model_columns};
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::{Expr, Node, OrderBy, param};
use crate::meta::TableRef;
use crate::model::{Model, pk_filter};
use crate::row::FromRow;

/// The untyped body of a `SELECT`, shared by [`Select`] and subqueries such as [`exists`].
#[derive(Clone, Debug)]
pub struct SelectCore {
    pub(crate) distinct: bool,
    pub(crate) columns: Vec<Node>,
    pub(crate) from: Option<FromItem>,
    pub(crate) filter: Option<Node>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<Node>,
    pub(crate) offset: Option<Node>,
}

/// What a `SELECT` reads from.
#[derive(Clone, Debug)]
pub(crate) enum FromItem {
    /// A table.
    Table(TableRef),
    /// `(subquery) AS alias`.
    Subquery(Box<SelectCore>, &'static str),
}

/// A `SELECT` whose rows decode into `O`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>()
///     .filter(User::name.starts_with("J"))
///     .order_by(User::id.desc())
///     .limit(10);
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."name" LIKE $1 ORDER BY "users"."id" DESC LIMIT $2"#
/// );
/// ```
pub struct Select<O> {
    core: SelectCore,
    _out: PhantomData<fn() -> O>,
}

impl<O> Clone for Select<O> {
    fn clone(&self) -> Self {
        Select::from_core(self.core.clone())
    }
}

impl<O> fmt::Debug for Select<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}

/// `SELECT` every column of model `M` from its table.
pub fn select<M: Model>() -> Select<M> {
    Select::from_core(SelectCore {
        distinct: false,
        columns: model_columns(M::TABLE),
        from: Some(FromItem::Table(M::TABLE.as_ref())),
        filter: None,
        order_by: Vec::new(),
        limit: None,
        offset: None,
    })
}

/// `SELECT expr, ...` without a `FROM`: values, functions and expressions.
///
/// ```
/// use orm_core::prelude::*;
///
/// let q = select_values((value(41_i64).add(1), value("x".to_string())));
/// assert_eq!(q.compile().unwrap().sql, "SELECT $1 + $2, $3");
/// ```
pub fn select_values<S: Selection>(selection: S) -> Select<S::Output> {
    let mut columns = Vec::new();
    selection.push_nodes(&mut columns);
    Select::from_core(SelectCore {
        distinct: false,
        columns,
        from: None,
        filter: None,
        order_by: Vec::new(),
        limit: None,
        offset: None,
    })
}

/// `EXISTS (subquery)` as a condition.
pub fn exists<O>(subquery: Select<O>) -> Expr<bool> {
    Expr::new(Node::Exists(Box::new(subquery.core)))
}

impl<O> Select<O> {
    fn from_core(core: SelectCore) -> Self {
        Select {
            core,
            _out: PhantomData,
        }
    }

    /// The untyped body.
    pub fn core(&self) -> &SelectCore {
        &self.core
    }

    /// Replaces the selected columns; rows then decode into the selection's output (a value or a
    /// tuple).
    pub fn columns<S: Selection>(self, selection: S) -> Select<S::Output> {
        let mut columns = Vec::new();
        selection.push_nodes(&mut columns);
        Select::from_core(SelectCore {
            columns,
            ..self.core
        })
    }

    /// Adds a `WHERE` condition, `AND`ed with any earlier one.
    pub fn filter(mut self, condition: Expr<bool>) -> Self {
        self.core.filter = and_filter(self.core.filter.take(), condition);
        self
    }

    /// Adds `WHERE` conditions only when `condition` is `Some`: for optional user input.
    pub fn filter_opt(self, condition: Option<Expr<bool>>) -> Self {
        match condition {
            Some(c) => self.filter(c),
            None => self,
        }
    }

    /// Appends an `ORDER BY` item (a column or expression sorts ascending).
    pub fn order_by(mut self, order: impl Into<OrderBy>) -> Self {
        self.core.order_by.push(order.into());
        self
    }

    /// `LIMIT n` (sent as a parameter, so the SQL does not change with `n`).
    pub fn limit(mut self, n: i64) -> Self {
        self.core.limit = Some(Node::Param(param(n)));
        self
    }

    /// `OFFSET n` (sent as a parameter).
    pub fn offset(mut self, n: i64) -> Self {
        self.core.offset = Some(Node::Param(param(n)));
        self
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.core.distinct = true;
        self
    }

    /// Counts the rows this query would return: `SELECT count(*) FROM ... WHERE ...`, or over a
    /// subquery when the query has `DISTINCT`, `LIMIT` or `OFFSET`. Ordering is dropped.
    pub fn count(self) -> Select<i64> {
        let core = self.core;
        if core.distinct || core.limit.is_some() || core.offset.is_some() {
            return Select::from_core(SelectCore {
                distinct: false,
                columns: vec![Node::CountStar],
                from: Some(FromItem::Subquery(Box::new(core), "sub")),
                filter: None,
                order_by: Vec::new(),
                limit: None,
                offset: None,
            });
        }
        Select::from_core(SelectCore {
            columns: vec![Node::CountStar],
            order_by: Vec::new(),
            ..core
        })
    }

    /// Whether this query returns any row: `SELECT EXISTS (SELECT 1 FROM ... WHERE ...)`.
    pub fn exists(self) -> Select<bool> {
        let inner = SelectCore {
            columns: vec![Node::Keyword("1")],
            order_by: Vec::new(),
            ..self.core
        };
        Select::from_core(SelectCore {
            distinct: false,
            columns: vec![Node::Exists(Box::new(inner))],
            from: None,
            filter: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
        })
    }
}

impl<M: Model> Select<M> {
    /// Filters on the model's primary key.
    pub fn by_pk(self, pk: M::Pk) -> Self {
        self.filter(pk_filter::<M>(pk))
    }
}

impl<O: FromRow> Statement for Select<O> {
    type Output = O;
    fn compile(&self) -> Result<CompiledQuery> {
        compile::select(&self.core)
    }
}
