//! New objects of one table written with binary `COPY` instead of `INSERT` (see
//! [`CopyPolicy`](crate::session::job::CopyPolicy)): [`CopyGroup`], the [`CopyRows`] the driver
//! sends, each object read-locked while its row is encoded.
//!
//! Objects whose only server-written column is an integer key with a sequence (an identity or
//! `serial` key) go by `COPY` too: a first statement takes their keys from the sequence
//! ([`allocate_keys`]: `nextval` once per object, the keys as one array in one round trip), then
//! the `COPY` writes each key into its object as it encodes the object's row, and carries it
//! ([`CopyGroup::keyed`]): one pass over the objects, not one to set the keys and one to copy.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use bytes::BytesMut;
use postgres_types::{ToSql, Type};

use super::{FLUSH, Shared};
use crate::compile::{CompiledQuery, SqlWriter};
use crate::copy::{CopyRows, reuse, write_keyed_row};
use crate::error::{Error, Result};
use crate::load::{RowAccess, RowSink};
use crate::meta::{ColumnDef, Table};
use crate::row::Row;
use crate::session::job::{ExpectedRows, FlushJob};
use crate::session::persist::Persist;
use crate::session::state::Entry;
use crate::types::{ColumnType, param};

/// The new objects of model `T` of one flush step, as the rows of a `COPY`.
pub(crate) struct CopyGroup<T: Persist> {
    entries: Shared<T>,
    /// The key column whose values the rows carry, and the keys [`allocate_keys`] took for
    /// them (see [`CopyGroup::keyed`]).
    key: Option<(usize, Keys)>,
    next: usize,
}

/// The keys taken from a sequence for a `COPY`'s objects, in order: set by the statement that
/// takes them, read by the `COPY` that runs after it.
pub(crate) type Keys = Arc<OnceLock<Vec<i64>>>;

impl<T: Persist> CopyGroup<T> {
    /// The objects' insert columns.
    pub(crate) fn new(entries: Shared<T>) -> Self {
        CopyGroup {
            entries,
            key: None,
            next: 0,
        }
    }

    /// The objects' key column `key`, then their insert columns; each object's key, from
    /// `keys` (taken by [`allocate_keys`] before the `COPY` runs), is written into it as its row
    /// is encoded.
    pub(crate) fn keyed(entries: Shared<T>, key: usize, keys: Keys) -> Self {
        CopyGroup {
            entries,
            key: Some((key, keys)),
            next: 0,
        }
    }
}

impl<T: Persist> CopyRows for CopyGroup<T> {
    fn table(&self) -> &'static Table {
        T::TABLE
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn key(&self) -> Option<&'static ColumnDef> {
        self.key.as_ref().map(|(k, _)| &T::TABLE.columns[*k])
    }

    fn write_rows(&mut self, types: &[Type], buf: &mut BytesMut, chunk: usize) -> Result<bool> {
        let key = self.key();
        let keyed = match &self.key {
            Some((k, keys)) => Some((*k, keys.get().ok_or_else(keys_not_taken::<T>)?)),
            None => None,
        };
        let mut values: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(types.len());
        while buf.len() < chunk {
            let Some(entry) = self.entries.get(self.next) else {
                return Ok(false);
            };
            let i = self.next;
            self.next += 1;
            values = match keyed {
                Some((k, keys)) => {
                    // The key goes into the object first, then the row carries it.
                    let mut inner = entry.write_for(FLUSH)?;
                    let taken = keys.get(i).copied().ok_or_else(keys_not_taken::<T>)?;
                    set_integer_key(&mut inner.value, k, taken)?;
                    encode_row(buf, types, key, &inner.value, Some(k), values)?
                }
                None => {
                    let guard = entry.read_for(FLUSH)?;
                    encode_row(buf, types, key, &guard.value, None, values)?
                }
            };
        }
        Ok(self.next < self.entries.len())
    }
}

/// Encodes `value`'s row (its key column `k` first, if given) into `buf`, with `values` (empty)
/// as the buffer of its values; the buffer back, empty.
fn encode_row<'v, T: Persist>(
    buf: &mut BytesMut,
    types: &[Type],
    key: Option<&'static ColumnDef>,
    value: &T,
    k: Option<usize>,
    values: Vec<&(dyn ToSql + Sync)>,
) -> Result<Vec<&'v (dyn ToSql + Sync)>> {
    let mut row = reuse(values);
    if let Some(k) = k {
        row.push(integer_key(value, k).ok_or_else(|| no_integer_key::<T>(k))?);
    }
    value.insert_values(&mut row);
    write_keyed_row(buf, T::TABLE, key, types, &row)?;
    Ok(reuse(row))
}

/// Column `k` of `value` when it is an `i16`, `i32` or `i64` field.
fn integer_key<T: Persist>(value: &T, k: usize) -> Option<&(dyn ToSql + Sync)> {
    let v: &(dyn Any + Send + Sync) = value.column_value(k)?;
    if let Some(v) = v.downcast_ref::<i64>() {
        Some(v)
    } else if let Some(v) = v.downcast_ref::<i32>() {
        Some(v)
    } else {
        v.downcast_ref::<i16>().map(|v| v as &(dyn ToSql + Sync))
    }
}

fn no_integer_key<T: Persist>(k: usize) -> Error {
    Error::object_state(format!(
        "the key `{}.{}` of a COPY is not an integer field",
        T::TABLE.model,
        T::TABLE.columns[k].field
    ))
}

/// The key column whose values [`allocate_keys`] can take before a `COPY` of `table`'s new
/// objects: the table's only server-written column is its only key column, an identity or
/// `serial` key (generated, no other default) of an integer type.
pub(crate) fn sequence_key_column(table: &Table) -> Option<usize> {
    let mut written = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.server_written());
    let (k, c) = written.next()?;
    if written.next().is_some() {
        return None;
    }
    let integer = matches!(
        c.ty,
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
    );
    let only_key = table.columns.iter().filter(|c| c.primary_key).count() == 1;
    (c.primary_key && c.generated && c.default.is_none() && c.computed.is_none())
        .then_some(k)
        .filter(|_| integer && only_key)
}

/// [`sequence_key_column`], when the objects hold it in an `i16`, `i32` or `i64` field (as
/// `first` does).
pub(crate) fn sequence_key<T: Persist>(first: &Entry<T>) -> Option<usize> {
    let k = sequence_key_column(T::TABLE)?;
    let guard = first.read_for(FLUSH).ok()?;
    integer_key(&guard.value, k).map(|_| k)
}

/// The statement that takes `n` values from the sequence of key column `k` (the one
/// `pg_get_serial_sequence` names: an identity or `serial` column's) into `keys`, for the
/// `COPY` of the objects ([`CopyGroup::keyed`]) that runs after it. A column without such a
/// sequence is an error naming it, before anything is written.
pub(crate) fn allocate_keys<T: Persist>(n: usize, k: usize, keys: Keys) -> Result<FlushJob> {
    let table = T::TABLE;
    let column = &table.columns[k];
    let mut qualified = SqlWriter::new();
    qualified.push_qualified(table.schema, table.name);
    let (qualified, _) = qualified.finish()?;
    // The sequence is looked up once (a materialized CTE), not once per key; the keys come
    // back as one array in one row (100,000 rows of one key each cost the client far more).
    // The series is a set-returning function in a select list, which streams its rows; in
    // `FROM` it would be stored in a tuplestore first (EXPLAIN ANALYZE, PostgreSQL 15: 8 ms of
    // the 36 ms 100,000 keys took, issue 17).
    let sql = "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence($1, $2)::regclass AS seq) \
               SELECT s.seq IS NOT NULL, \
               ARRAY(SELECT nextval(s.seq) FROM (SELECT generate_series(1, $3)) AS n) FROM s";
    let query = CompiledQuery::new(
        sql.to_owned(),
        vec![
            param(qualified),
            param(column.name.to_owned()),
            param(i32::try_from(n).map_err(|_| too_many::<T>(n))?),
        ],
    );
    let expect = ExpectedRows {
        rows: 1,
        model: table.model,
        operation: "nextval",
    };
    Ok(FlushJob::rows(query, key_sink::<T>(n, k, keys)).expect(expect))
}

fn too_many<T: Persist>(n: usize) -> Error {
    Error::invalid_statement(format!(
        "{n} new objects of `{}` in one COPY: more keys than one statement takes",
        T::TABLE.model
    ))
}

/// Keeps the keys of the row (`n` of them) for the `COPY`.
fn key_sink<T: Persist>(n: usize, k: usize, keys: Keys) -> RowSink<'static> {
    Box::new(move |row: &dyn RowAccess| {
        let decode = |e| Error::decode(T::TABLE.model, T::TABLE.columns[k].field, e);
        let found: bool = row.get_at(0).map_err(decode)?;
        if !found {
            let table = T::TABLE;
            return Err(Error::invalid_statement(format!(
                "no sequence owns the generated key `{}` of table `{}` (model `{}`), so the keys of \
                 its new objects cannot be taken before a COPY: give the column an identity or \
                 serial default, or turn the session's COPY off (SessionOptions::copy_threshold(None))",
                table.columns[k].name, table.name, table.model
            )));
        }
        let taken: Vec<i64> = row.get_at(1).map_err(decode)?;
        if taken.len() != n {
            return Err(Error::invalid_statement(format!(
                "the sequence gave {} keys for {n} new objects",
                taken.len(),
            )));
        }
        keys.set(taken)
            .map_err(|_| Error::object_state("the keys of a COPY were taken twice"))
    })
}

/// The `COPY` of objects whose keys come from a sequence ran without them.
#[cold]
fn keys_not_taken<T: Persist>() -> Error {
    Error::object_state(format!(
        "the keys of the new `{}` objects of a COPY were not taken from their sequence",
        T::TABLE.model
    ))
}

/// Sets integer key column `k` of `value` to `key`, converted to the field's type.
fn set_integer_key<T: Persist>(value: &mut T, k: usize, key: i64) -> Result<()> {
    let out_of_range = || {
        Error::invalid_statement(format!(
            "the sequence of `{}.{}` gave {key}, which its field does not hold",
            T::TABLE.model,
            T::TABLE.columns[k].field
        ))
    };
    let current = value
        .column_value(k)
        .ok_or_else(|| no_integer_key::<T>(k))?;
    if current.is::<i64>() {
        value.set_column_value(k, &key)
    } else if current.is::<i32>() {
        let v = i32::try_from(key).map_err(|_| out_of_range())?;
        value.set_column_value(k, &v)
    } else if current.is::<i16>() {
        let v = i16::try_from(key).map_err(|_| out_of_range())?;
        value.set_column_value(k, &v)
    } else {
        Err(no_integer_key::<T>(k))
    }
}
