//! Binary `COPY` for a model's table: the SQL `copy_in` and `copy_out` send, and the rows of a
//! `COPY … FROM STDIN` in PostgreSQL's binary copy format ([`write_row`], [`CopyRows`]),
//! encoded here without IO; the driver sends the bytes and reads `COPY … TO STDOUT`.
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

use bytes::{BufMut, BytesMut};
use postgres_types::{IsNull, ToSql, Type};

use crate::compile::SqlWriter;
use crate::error::{Error, ErrorKind, Result};
use crate::meta::{ColumnDef, Discriminator, Table};
use crate::model::Model;
use crate::types::encode::panicked;

/// `COPY table (insert columns) FROM STDIN (FORMAT binary)`: the columns an `INSERT` of the model
/// writes (generated keys and generated columns are left to the server), in
/// [`Model::insert_values`] order.
pub fn copy_in_sql(table: &Table) -> Result<String> {
    copy_in_sql_keyed(table, None)
}

/// [`copy_in_sql`] with `key`, a generated key column whose values the rows carry (the
/// session's flush takes them from the key's sequence first), written before the insert
/// columns.
pub fn copy_in_sql_keyed(table: &Table, key: Option<&'static ColumnDef>) -> Result<String> {
    single_table(table)?;
    let mut w = SqlWriter::new();
    w.push("COPY ");
    w.push_qualified(table.schema, table.name);
    write_columns(&mut w, copied_columns(table, key));
    w.push(" FROM STDIN (FORMAT binary)");
    Ok(w.finish()?.0)
}

/// The columns a `COPY … FROM STDIN` writes: `key` (see [`copy_in_sql_keyed`]), then the insert
/// columns.
fn copied_columns<'t>(
    table: &'t Table,
    key: Option<&'static ColumnDef>,
) -> impl Iterator<Item = &'static ColumnDef> + 't {
    key.into_iter().chain(table.insert_columns())
}

/// `COPY table (every column) TO STDOUT (FORMAT binary)`: whole rows, in the model's column
/// order, so they decode as the model does. An error for a model with column properties
/// (`#[model(column_property = ...)]`), whose expressions `COPY` cannot compute.
///
/// The table of a variant of single-table inheritance holds other variants' rows too: its
/// `COPY` reads `(SELECT ... WHERE discriminator = 'value')` (a literal, as `COPY` takes no
/// parameters; the value is the model's own, from its derive, with quotes doubled).
pub fn copy_out_sql(table: &Table) -> Result<String> {
    single_table(table)?;
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

/// An error for a model of joined-table inheritance, whose rows span several tables (one
/// `COPY` reads or writes one table).
fn single_table(table: &Table) -> Result<()> {
    match table.joined {
        Some(_) => Err(Error::invalid_statement(format!(
            "`{}` is stored in several tables (joined-table inheritance): COPY reads and writes one table; use a session (`add_all`) or a select",
            table.model
        ))),
        None => Ok(()),
    }
}

/// `SELECT (insert columns) FROM table LIMIT 0`: prepared (never run) for the types of the
/// columns [`copy_in_sql`] writes, which the binary format needs (a user-defined enum's type
/// exists only on the server).
pub fn insert_types_sql(table: &Table) -> Result<String> {
    insert_types_sql_keyed(table, None)
}

/// [`insert_types_sql`] for [`copy_in_sql_keyed`]'s columns.
pub fn insert_types_sql_keyed(table: &Table, key: Option<&'static ColumnDef>) -> Result<String> {
    select_none(table, copied_columns(table, key))
}

/// `SELECT (every column) FROM table LIMIT 0`: the types of the columns [`copy_out_sql`] reads.
pub fn column_types_sql(table: &Table) -> Result<String> {
    select_none(table, table.columns.iter())
}

fn select_none<'a>(table: &Table, columns: impl Iterator<Item = &'a ColumnDef>) -> Result<String> {
    single_table(table)?;
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

/// The start of binary copy data: the signature, no flags, no header extension.
pub const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The end of binary copy data: a field count of -1.
pub const BINARY_TRAILER: &[u8] = &[0xff, 0xff];

/// Appends one row to binary copy data: the field count, then each value's length (-1 for
/// `NULL`) and bytes, encoded for the server's type of its column (`types`, in
/// [`Table::insert_columns`] order, as [`insert_types_sql`] reports them).
///
/// A value its column's type does not accept is a
/// [`CopyEncode`](ErrorKind::CopyEncode) error naming the column; `buf` then holds part of
/// the row, and the copy must be abandoned.
///
/// ```
/// use bytes::BytesMut;
/// use postgres_types::{ToSql, Type};
/// use orm_core::__doc_fixture::User;
/// use orm_core::{Model, copy};
///
/// let mut buf = BytesMut::new();
/// let values: [&(dyn ToSql + Sync); 2] = [&"Jane", &None::<String>];
/// copy::write_row(&mut buf, User::TABLE, &[Type::TEXT, Type::TEXT], &values).unwrap();
/// assert_eq!(&buf[..], b"\0\x02\0\0\0\x04Jane\xff\xff\xff\xff");
/// ```
pub fn write_row(
    buf: &mut BytesMut,
    table: &Table,
    types: &[Type],
    values: &[&(dyn ToSql + Sync)],
) -> Result<()> {
    write_keyed_row(buf, table, None, types, values)
}

/// [`write_row`] of a row of [`copy_in_sql_keyed`]: `values` (and `types`) start with `key`'s.
pub fn write_keyed_row(
    buf: &mut BytesMut,
    table: &Table,
    key: Option<&'static ColumnDef>,
    types: &[Type],
    values: &[&(dyn ToSql + Sync)],
) -> Result<()> {
    if values.len() != types.len() {
        return Err(Error::invalid_statement(format!(
            "a COPY row of `{}` has {} values for {} columns",
            table.model,
            values.len(),
            types.len()
        )));
    }
    // Both fit: a table has at most 1,600 columns.
    buf.put_i16(values.len() as i16);
    // One guard for the row, not one per value (a COPY encodes millions of values): an
    // encoder that panics is an error naming its column (see `encode_value`).
    let mut column = 0;
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        write_values(buf, table, key, types, values, &mut column)
    }));
    written.unwrap_or_else(|panic| {
        Err(ErrorKind::CopyEncode {
            model: table.model,
            column: copied_columns(table, key)
                .nth(column)
                .map_or("?", |c| c.name),
            source: panicked(types.get(column).unwrap_or(&Type::UNKNOWN), panic.as_ref()),
        }
        .into())
    })
}

/// The values of one row, each with its length; `column` follows the one being encoded.
fn write_values(
    buf: &mut BytesMut,
    table: &Table,
    key: Option<&'static ColumnDef>,
    types: &[Type],
    values: &[&(dyn ToSql + Sync)],
    column: &mut usize,
) -> Result<()> {
    for (i, (value, ty)) in values.iter().zip(types).enumerate() {
        *column = i;
        let at = buf.len();
        buf.put_i32(0);
        let encoded = value.to_sql_checked(ty, buf).map_err(|source| {
            let column = copied_columns(table, key).nth(i).map_or("?", |c| c.name);
            Error::from(ErrorKind::CopyEncode {
                model: table.model,
                column,
                source,
            })
        })?;
        let len = match encoded {
            IsNull::Yes => -1,
            IsNull::No => {
                let len = buf.len() - at - 4;
                i32::try_from(len).map_err(|_| {
                    Error::from(ErrorKind::CopyEncode {
                        model: table.model,
                        column: copied_columns(table, key).nth(i).map_or("?", |c| c.name),
                        source: "value larger than 2 GiB".into(),
                    })
                })?
            }
        };
        buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

/// The rows of a `COPY … FROM STDIN`, written a chunk at a time: what the driver asks of rows
/// whose model it does not know (the session's flush hands it its new objects this way).
pub trait CopyRows: Send {
    /// The table the rows go into, through its [`insert_columns`](Table::insert_columns).
    fn table(&self) -> &'static Table;

    /// The number of rows.
    fn len(&self) -> usize;

    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A generated key column the rows carry a value of, written before the insert columns
    /// (see [`copy_in_sql_keyed`]); `None` (the default): the insert columns only.
    fn key(&self) -> Option<&'static ColumnDef> {
        None
    }

    /// Appends the next rows with [`write_row`] until `buf` holds at least `chunk` bytes or
    /// every row is written; returns whether rows are left.
    fn write_rows(&mut self, types: &[Type], buf: &mut BytesMut, chunk: usize) -> Result<bool>;
}

/// The rows of a slice of models, as [`CopyRows`].
#[derive(Debug)]
pub struct SliceRows<'a, M> {
    rows: &'a [M],
    next: usize,
}

impl<'a, M: Model> SliceRows<'a, M> {
    /// Every row of `rows`, in order.
    pub fn new(rows: &'a [M]) -> Self {
        SliceRows { rows, next: 0 }
    }
}

impl<M: Model + Sync> CopyRows for SliceRows<'_, M> {
    fn table(&self) -> &'static Table {
        M::TABLE
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn write_rows(&mut self, types: &[Type], buf: &mut BytesMut, chunk: usize) -> Result<bool> {
        let mut values = Vec::with_capacity(types.len());
        while buf.len() < chunk {
            let Some(row) = self.rows.get(self.next) else {
                return Ok(false);
            };
            self.next += 1;
            values = reuse(values);
            row.insert_values(&mut values);
            write_row(buf, M::TABLE, types, &values)?;
        }
        Ok(self.next < self.rows.len())
    }
}

/// An empty vector of references, in the allocation of `v` (whose references' lifetime ends
/// here): one buffer of values serves every row, whatever each row borrows from.
pub(crate) fn reuse<'b>(v: Vec<&(dyn ToSql + Sync)>) -> Vec<&'b (dyn ToSql + Sync)> {
    // Same size and alignment: the standard library collects in place. (`filter` would keep
    // the old lifetime: `filter_map` to `None` is what changes it.)
    #[allow(clippy::unnecessary_filter_map)]
    v.into_iter().filter_map(|_| None).collect()
}

/// The server-written columns of `table` ([`ColumnDef::server_written`]): what an `INSERT` reads
/// back with `RETURNING` and a `COPY` cannot. Empty when a `COPY` can insert the table's
/// objects.
pub fn returned_columns(table: &Table) -> Vec<&'static str> {
    table
        .columns
        .iter()
        .filter(|c| c.server_written())
        .map(|c| c.name)
        .collect()
}

/// Fails with [`CopyNeedsReturning`](ErrorKind::CopyNeedsReturning) when `table` has
/// server-generated columns.
pub fn check_copyable(table: &Table) -> Result<()> {
    let columns = returned_columns(table);
    if columns.is_empty() {
        Ok(())
    } else {
        Err(ErrorKind::CopyNeedsReturning {
            model: table.model,
            columns,
        }
        .into())
    }
}
