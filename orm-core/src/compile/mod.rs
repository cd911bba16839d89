//! The SQL compiler: one walk over a statement, producing SQL text with `$1..$n` placeholders and
//! the parameter list.
//!
//! The text depends only on the statement's shape, never on values: values are always
//! parameters, `IN` lists are one array parameter (`= ANY($n)`), `LIMIT`/`OFFSET` are parameters
//! and multi-row inserts send one array per column. Identifiers are always quoted.
//!
//! Checked here rather than by the type system: that every column belongs to a table of its
//! query (or of an enclosing one, for correlated subqueries), that the selected width matches
//! the output type, and that joins on a foreign key find exactly one.

mod arrays;
mod dml;
mod expr;
mod interned;
mod raw;
mod select;
mod shape;
mod subtype_nulls;
mod writer;

pub use writer::{MAX_IDENTIFIER_BYTES, SqlWriter, check_identifier};

pub(crate) use arrays::{array_params, needs_row_numbers, write_array_column, write_array_rows};
pub use dml::{delete, insert, update};
pub(crate) use expr::{write_node, write_type};
pub(crate) use interned::text as intern_text;
pub(crate) use select::{fk_condition, write_query, write_table_source};
#[cfg(test)]
pub(crate) use shape::testing;
pub(crate) use shape::{
    Shape, ShapedSelect, Step, select_statement_shaped, select_statement_shaped_owned,
};
pub(crate) use subtype_nulls::{guard_subtype_nulls, mentions};

use std::borrow::Cow;
use std::fmt;

use crate::ast::{Param, Query, RawSql, SelectCore};
use crate::error::{Error, Result};

/// A compiled statement: SQL text and its parameters, in `$n` order.
///
/// Its `Display` prints the SQL and then the parameters as a comment, which is what the snapshot
/// tests record.
#[derive(Clone)]
pub struct CompiledQuery {
    /// The SQL text: borrowed when it comes from a shape's template (compiled once, see
    /// `compile/shape.rs`), owned when compiled for this statement.
    pub sql: Cow<'static, str>,
    /// The parameters; `params[0]` is `$1`.
    pub params: Vec<Param>,
    /// The tables the statement reads, as the compiler met them (what a result cache
    /// invalidates by).
    pub reads: Reads,
}

impl CompiledQuery {
    /// A statement written by hand: its tables are unknown ([`Reads::opaque`]).
    pub fn new(sql: impl Into<Cow<'static, str>>, params: Vec<Param>) -> Self {
        CompiledQuery {
            sql: sql.into(),
            params,
            reads: Reads {
                tables: Cow::Borrowed(&[]),
                opaque: true,
            },
        }
    }
}

/// The tables a statement reads: every table of a `FROM` or `JOIN` item at any depth (joins,
/// subqueries, CTEs, set operations), each once.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let q = select::<User>().filter(User::id.in_query(select::<Post>().columns(Post::user_id)));
/// let names: Vec<&str> = q.compile().unwrap().reads.tables.iter().map(|t| t.name).collect();
/// assert_eq!(names, ["users", "posts"]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Reads {
    /// The tables, in the order the compiler met them (borrowed when they come from a
    /// shape's template).
    pub tables: Cow<'static, [&'static crate::meta::Table]>,
    /// The statement holds raw SQL (or was written by hand), which may read tables not listed.
    pub opaque: bool,
}

impl fmt::Debug for CompiledQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for CompiledQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)?;
        f.write_str("\n-- params: [")?;
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{p:?}")?;
        }
        f.write_str("]")
    }
}

/// The finished SQL and parameters of a writer.
pub fn finish(w: SqlWriter) -> Result<CompiledQuery> {
    w.finish_query()
}

/// What a query's rows decode into, as the compiler checks it: the number of columns the decoder
/// reads and its type's name (for the error message).
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// How many columns each row must have.
    pub width: usize,
    /// The decoded type, named in errors.
    pub name: &'static str,
}

impl Output {
    /// The output of a decoder reading `width` columns into a value of type `T`.
    pub fn of<T: ?Sized>(width: usize) -> Self {
        Output {
            width,
            name: std::any::type_name::<T>(),
        }
    }
}

/// Checks that a query selects as many columns as its output reads.
fn check_width(columns: usize, out: Output) -> Result<()> {
    if columns == 0 {
        return Err(Error::invalid_statement(
            "the query selects no columns; choose them with .columns(...)",
        ));
    }
    if columns != out.width {
        return Err(Error::invalid_statement(format!(
            "the query selects {columns} column(s) but its rows decode into {} ({} column(s))",
            out.name, out.width
        )));
    }
    Ok(())
}

/// The number of columns a query selects.
fn query_width(q: &Query) -> usize {
    match q {
        Query::Select(core) => core.columns.len(),
        Query::Compound(c) => query_width(&c.left),
    }
}

/// Compiles a `SELECT` whose rows decode into `out`.
pub fn select_statement(core: &SelectCore, out: Output) -> Result<CompiledQuery> {
    check_width(core.columns.len(), out)?;
    let mut w = SqlWriter::new();
    select::write_select(&mut w, core);
    finish(w)
}

/// Compiles a `SELECT` that must select `width` columns (rows decoded by hand, e.g. with
/// joined relationship loads).
pub fn select_statement_width(core: &SelectCore, width: usize) -> Result<CompiledQuery> {
    if core.columns.len() != width {
        return Err(Error::invalid_statement(format!(
            "the query selects {} column(s) but its rows read {width}",
            core.columns.len()
        )));
    }
    let mut w = SqlWriter::new();
    select::write_select(&mut w, core);
    finish(w)
}

/// Compiles any query whose rows decode into `out`.
pub fn query_statement(q: &Query, out: Output) -> Result<CompiledQuery> {
    check_width(query_width(q), out)?;
    let mut w = SqlWriter::new();
    select::write_query(&mut w, q);
    finish(w)
}

/// Compiles a raw SQL statement.
pub fn raw_statement(raw: &RawSql) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    raw::write_raw(&mut w, raw);
    finish(w)
}
