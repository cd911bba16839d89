//! Raw SQL with named bound parameters: `text("price * :factor").bind("factor", 2)`.
//!
//! The fragment's text is written into the statement as given, except that every `:name`
//! becomes a `$n` placeholder bound to the value given for `name`. `::` casts, string literals,
//! quoted identifiers and comments are left alone. Values are never spliced into the text.

use std::fmt;
use std::marker::PhantomData;

use crate::compile::{self, CompiledQuery, SqlWriter};
use crate::error::{Error, Result};
use crate::expr::{Expr, Node, Param, param};
use crate::row::Decode;
use crate::stmt::Statement;
use crate::types::SqlType;

/// A raw SQL fragment and the values of its `:name` parameters.
#[derive(Clone)]
pub struct RawSql {
    sql: &'static str,
    binds: Vec<(&'static str, Param)>,
    /// An error to report when the fragment is compiled (for expressions that could not be
    /// built, e.g. a relationship whose foreign key does not resolve).
    error: Option<String>,
}

impl fmt::Debug for RawSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSql")
            .field("sql", &self.sql)
            .field(
                "binds",
                &self.binds.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl RawSql {
    /// A fragment with no values bound yet.
    pub fn new(sql: &'static str) -> Self {
        RawSql {
            sql,
            binds: Vec::new(),
            error: None,
        }
    }

    /// A fragment that fails with `error` when the statement is compiled.
    pub fn failing(error: Error) -> Self {
        RawSql {
            sql: "",
            binds: Vec::new(),
            error: Some(error.to_string()),
        }
    }

    /// Binds `:name` to `value`.
    pub fn bind<T: SqlType>(mut self, name: &'static str, value: T) -> Self {
        self.binds.push((name, param(value)));
        self
    }

    /// Writes the fragment, turning each `:name` into a `$n` bound to the name's value (a name
    /// used twice gets two placeholders with the same value).
    pub(crate) fn write(&self, w: &mut SqlWriter) {
        if let Some(e) = &self.error {
            w.fail(Error::invalid_statement(e.clone()));
            return;
        }
        let bytes = self.sql.as_bytes();
        let mut i = 0;
        let mut start = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'\'' | b'"' => {
                    // Skip a quoted literal or identifier (doubled quotes stay inside).
                    let quote = b;
                    i += 1;
                    while i < bytes.len() {
                        if bytes[i] == quote {
                            if i + 1 < bytes.len() && bytes[i + 1] == quote {
                                i += 2;
                                continue;
                            }
                            break;
                        }
                        i += 1;
                    }
                    i += 1;
                }
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
                b':' if bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
                {
                    let name_start = i + 1;
                    let mut end = name_start;
                    while end < bytes.len()
                        && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                    {
                        end += 1;
                    }
                    let name = &self.sql[name_start..end];
                    w.push(&self.sql[start..i]);
                    match self.binds.iter().find(|(n, _)| *n == name) {
                        Some((_, value)) => w.push_param(value.clone()),
                        None => w.fail(Error::invalid_statement(format!(
                            "raw SQL parameter :{name} has no value; call .bind(\"{name}\", value)"
                        ))),
                    }
                    i = end;
                    start = end;
                }
                _ => i += 1,
            }
        }
        w.push(&self.sql[start..]);
    }
}

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
    /// Binds `:name` to `value`.
    pub fn bind<V: SqlType>(mut self, name: &'static str, value: V) -> Self {
        self.raw = self.raw.bind(name, value);
        self
    }
}

impl<O: Decode> Statement for RawQuery<O> {
    type Row = O;
    fn compile(&self) -> Result<CompiledQuery> {
        let mut w = SqlWriter::new();
        self.raw.write(&mut w);
        compile::finish(w)
    }
}
