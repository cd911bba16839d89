//! The SQL of binary `COPY` for a model's table: what `copy_in` and `copy_out` send. Rows travel
//! in PostgreSQL's binary copy format, written and read by the driver; this module only names
//! the table and its columns.
//!
//! ```
//! use orm_core::__doc_fixture::User;
//! use orm_core::{Model, copy};
//!
//! assert_eq!(
//!     copy::copy_in_sql(User::TABLE).unwrap(),
//!     r#"COPY "users" ("name", "email") FROM STDIN (FORMAT binary)"#
//! );
//! assert_eq!(
//!     copy::copy_out_sql(User::TABLE).unwrap(),
//!     r#"COPY "users" ("id", "name", "email") TO STDOUT (FORMAT binary)"#
//! );
//! ```

use crate::compile::SqlWriter;
use crate::error::Result;
use crate::meta::{ColumnDef, Discriminator, Table};

/// `COPY table (insert columns) FROM STDIN (FORMAT binary)`: the columns an `INSERT` of the model
/// writes (generated keys and generated columns are left to the server), in
/// [`Model::insert_values`](crate::Model::insert_values) order.
pub fn copy_in_sql(table: &Table) -> Result<String> {
    let mut w = SqlWriter::new();
    w.push("COPY ");
    w.push_qualified(table.schema, table.name);
    write_columns(&mut w, table.insert_columns());
    w.push(" FROM STDIN (FORMAT binary)");
    Ok(w.finish()?.0)
}

/// `COPY table (every column) TO STDOUT (FORMAT binary)`: whole rows, in the model's column
/// order, so they decode as the model does. An error for a model with column properties
/// (`#[model(column_property = ...)]`), whose expressions `COPY` cannot compute.
///
/// The table of a variant of single-table inheritance holds other variants' rows too: its
/// `COPY` reads `(SELECT ... WHERE discriminator = 'value')` (a literal, as `COPY` takes no
/// parameters; the value is the model's own, from its derive, with quotes doubled).
pub fn copy_out_sql(table: &Table) -> Result<String> {
    if let Some(p) = table.properties.first() {
        return Err(crate::error::Error::invalid_statement(format!(
            "COPY reads only the columns of a table: `{}.{}` is a column property, so `{}` cannot be copied out; select it instead",
            table.model, p.field, table.model
        )));
    }
    let mut w = SqlWriter::new();
    w.push("COPY ");
    match table.discriminator {
        Some(Discriminator {
            column,
            value: Some(value),
            ..
        }) => {
            w.push("(SELECT ");
            write_names(&mut w, table.columns.iter());
            w.push(" FROM ");
            w.push_qualified(table.schema, table.name);
            w.push(" WHERE ");
            w.push_ident(column);
            w.push(" = '");
            w.push(&value.replace('\'', "''"));
            w.push("')");
        }
        _ => {
            w.push_qualified(table.schema, table.name);
            write_columns(&mut w, table.columns.iter());
        }
    }
    w.push(" TO STDOUT (FORMAT binary)");
    Ok(w.finish()?.0)
}

/// `SELECT (insert columns) FROM table LIMIT 0`: prepared (never run) for the types of the
/// columns [`copy_in_sql`] writes, which the binary format needs (a user-defined enum's type
/// exists only on the server).
pub fn insert_types_sql(table: &Table) -> Result<String> {
    select_none(table, table.insert_columns())
}

/// `SELECT (every column) FROM table LIMIT 0`: the types of the columns [`copy_out_sql`] reads.
pub fn column_types_sql(table: &Table) -> Result<String> {
    select_none(table, table.columns.iter())
}

fn select_none<'a>(table: &Table, columns: impl Iterator<Item = &'a ColumnDef>) -> Result<String> {
    let mut w = SqlWriter::new();
    w.push("SELECT ");
    write_names(&mut w, columns);
    w.push(" FROM ");
    w.push_qualified(table.schema, table.name);
    w.push(" LIMIT 0");
    Ok(w.finish()?.0)
}

fn write_columns<'a>(w: &mut SqlWriter, columns: impl Iterator<Item = &'a ColumnDef>) {
    w.push(" (");
    write_names(w, columns);
    w.push(")");
}

fn write_names<'a>(w: &mut SqlWriter, columns: impl Iterator<Item = &'a ColumnDef>) {
    for (i, c) in columns.enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_ident(c.name);
    }
}
