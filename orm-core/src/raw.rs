//! Raw SQL with named bound parameters: `text("price * :factor").bind("factor", 2)`.
//!
//! The fragment's text is written into the statement as given, except that every `:name`
//! becomes a `$n` placeholder bound to the value given for `name`. `::` casts, string literals,
//! quoted identifiers and comments are left alone. Values are never spliced into the text.

use std::marker::PhantomData;

pub use crate::ast::RawSql;
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::{Expr, Node};
use crate::row::Decode;
use crate::stmt::Statement;
use crate::types::SqlType;

/// A raw SQL expression of type `T` with `:name` parameters: stands anywhere an expression can.
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::raw::text;
/// # use orm_core::__doc_fixture::User;
///
/// let q = select::<User>().filter(text::<bool>("length(\"users\".\"name\") > :n").bind("n", 3));
/// assert!(q.compile().unwrap().sql.ends_with(r#"WHERE length("users"."name") > $1"#));
/// ```
pub fn text<T>(sql: &'static str) -> RawExpr<T> {
    RawExpr {
        raw: RawSql::new(sql),
        _type: PhantomData,
    }
}

/// A raw SQL expression being built; see [`text`].
pub struct RawExpr<T> {
    raw: RawSql,
    _type: PhantomData<fn() -> T>,
}

impl<T> RawExpr<T> {
    /// Binds `:name` to `value`.
    pub fn bind<V: SqlType>(mut self, name: &'static str, value: V) -> Self {
        self.raw = self.raw.bind(name, value);
        self
    }
}

impl<T> From<RawExpr<T>> for Expr<T> {
    fn from(r: RawExpr<T>) -> Expr<T> {
        Expr::new(Node::Raw(Box::new(r.raw)))
    }
}

impl<T: SqlType> crate::expr::Expression for RawExpr<T> {
    type Value = T;
    fn into_node(self) -> Node {
        Node::Raw(Box::new(self.raw))
    }
}

impl<T: SqlType> crate::expr::IntoExpr<T::Base> for RawExpr<T> {
    fn into_expr_node(self) -> Node {
        Node::Raw(Box::new(self.raw))
    }
}

/// A whole raw SQL statement whose rows decode into `O` (a model, a value, a tuple, or a
/// `#[derive(FromRow)]` struct), with `:name` parameters.
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::raw::query;
///
/// let q = query::<(i64, String)>("SELECT id, name FROM users WHERE name = :name AND id > :id")
///     .bind("name", "Jane".to_string())
///     .bind("id", 10_i64);
/// assert_eq!(q.compile().unwrap().sql, "SELECT id, name FROM users WHERE name = $1 AND id > $2");
/// ```
pub fn query<O: Decode>(sql: &'static str) -> RawQuery<O> {
    RawQuery {
        raw: RawSql::new(sql),
        _out: PhantomData,
    }
}

/// A raw SQL statement; see [`query`].
pub struct RawQuery<O> {
    raw: RawSql,
    _out: PhantomData<fn() -> O>,
}

impl<O> RawQuery<O> {
    /// This query, cached (see [`Select::cached`](crate::stmt::Select::cached)); raw SQL is
    /// cached only when the policy declares the tables it reads
    /// ([`CachePolicy::reads`](crate::stmt::CachePolicy::reads)).
    pub fn cached(self, policy: impl Into<crate::stmt::CachePolicy>) -> crate::stmt::Cached<Self> {
        crate::stmt::Cached::new(self, policy)
    }

    /// Binds `:name` to `value`.
    pub fn bind<V: SqlType>(mut self, name: &'static str, value: V) -> Self {
        self.raw = self.raw.bind(name, value);
        self
    }
}

impl<O: Decode> Statement for RawQuery<O> {
    type Row = O;
    fn compile(&self) -> Result<CompiledQuery> {
        compile::raw_statement(&self.raw)
    }
}
