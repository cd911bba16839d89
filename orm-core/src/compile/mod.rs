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

mod expr;
mod select;
mod write;
mod writer;

pub use writer::{MAX_IDENTIFIER_BYTES, SqlWriter, check_identifier};

pub(crate) use expr::write_type;
pub(crate) use select::write_query;
pub use write::{delete, insert, update};

use std::fmt;

use crate::error::{Error, Result};
use crate::expr::Param;
use crate::row::Decode;
use crate::stmt::{Query, SelectCore};

/// A compiled statement: SQL text and its parameters, in `$n` order.
///
/// Its `Display` prints the SQL and then the parameters as a comment, which is what the snapshot
/// tests record.
#[derive(Clone)]
pub struct CompiledQuery {
    /// The SQL text.
    pub sql: String,
    /// The parameters; `params[0]` is `$1`.
    pub params: Vec<Param>,
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
    let (sql, params) = w.finish()?;
    Ok(CompiledQuery { sql, params })
}

/// Checks that a query selects as many columns as its output type reads.
fn check_width<O: Decode>(columns: usize) -> Result<()> {
    if columns == 0 {
        return Err(Error::invalid_statement(
            "the query selects no columns; choose them with .columns(...)",
        ));
    }
    if columns != O::WIDTH {
        return Err(Error::invalid_statement(format!(
            "the query selects {columns} column(s) but its rows decode into {} ({} column(s))",
            std::any::type_name::<O>(),
            O::WIDTH
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

/// Compiles a `SELECT` whose rows decode into `O`.
pub fn select_statement<O: Decode>(core: &SelectCore) -> Result<CompiledQuery> {
    check_width::<O>(core.columns.len())?;
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

/// Compiles any query whose rows decode into `O`.
pub fn query_statement<O: Decode>(q: &Query) -> Result<CompiledQuery> {
    check_width::<O>(query_width(q))?;
    let mut w = SqlWriter::new();
    select::write_query(&mut w, q);
    finish(w)
}
