//! The flush of a joined-table model (an inheritance enum whose variants have their own
//! tables, see [`Joined`](crate::meta::Joined)): each object's row is split over the base
//! table and its variant's table, so each write is one statement per table it touches.
//!
//! - insert: `INSERT INTO base ... RETURNING <generated key>` in the object's insert step;
//!   the next step (once the keys are known) `INSERT INTO part (key, own columns...)`, one
//!   statement per subtype table present ([`UnitOfWork`](crate::session::UnitOfWork)'s
//!   insert step runs it before the next level);
//! - update: one `UPDATE` per table whose columns changed (a change of a chief's budget
//!   updates `chiefs` only), returning that table's stored generated columns, if any;
//! - delete: `DELETE FROM part` for each subtype table present, then `DELETE FROM base`, in
//!   that order in one step (the subtype key's `ON DELETE CASCADE` would remove the part rows
//!   anyway; the session says what it means).

use std::any::TypeId;
use std::sync::Arc;

use super::read_back::{read_back_by_key, read_back_in_order};
use super::sql::{cached_query, delete_using, insert_sql, row_arrays, update_sql, write_returning};
use super::typed::stored_key_arrays;
use crate::error::{Error, Result};
use crate::meta::Table;
use crate::session::columns::ColumnSet;
use crate::session::job::{ExpectedRows, FlushJob};
use crate::session::persist::Persist;
use crate::session::state::Entry;

use super::FLUSH;

/// Kinds of the statement cache's keys (beside 0, 1, 2 of plain inserts, updates, deletes).
const PART_INSERT: u8 = 3;
const PART_UPDATE: u8 = 4;
const PART_DELETE: u8 = 5;

/// Whether column `c` of `T::TABLE` is stored in `table` (`None`: the base table).
fn stored_in(c: &crate::meta::ColumnDef, part: Option<&'static Table>) -> bool {
    match (c.home, part) {
        (None, None) => true,
        (Some(h), Some(p)) => h == p.name,
        _ => false,
    }
}

/// The positions of `T::TABLE.columns` that are the primary key.
fn key_positions<T: Persist>() -> Vec<usize> {
    (0..T::TABLE.columns.len())
        .filter(|&i| T::TABLE.columns[i].primary_key)
        .collect()
}

/// The insert columns and the read-back columns of the base table.
pub(crate) fn base_insert_columns<T: Persist>() -> (Vec<usize>, Vec<usize>) {
    let cols = T::TABLE.columns;
    let base = (0..cols.len()).filter(|&i| cols[i].home.is_none());
    let insert = base
        .clone()
        .filter(|&i| !cols[i].server_written())
        .collect();
    let returning = base.filter(|&i| cols[i].server_written()).collect();
    (insert, returning)
}

/// Objects of one subtype table.
type PartGroup<T> = (&'static Table, Vec<Arc<Entry<T>>>);

/// The entries of `entries` grouped by their subtype table, in order of first appearance.
fn by_part<T: Persist>(entries: &[Arc<Entry<T>>]) -> Result<Vec<PartGroup<T>>> {
    let mut out: Vec<PartGroup<T>> = Vec::new();
    for e in entries {
        let Some(part) = e.read_for(FLUSH)?.value.joined_part() else {
            continue;
        };
        // By name: a `const` table has no single address.
        match out.iter_mut().find(|(p, _)| p.name == part.name) {
            Some((_, g)) => g.push(e.clone()),
            None => out.push((part, vec![e.clone()])),
        }
    }
    Ok(out)
}

/// The subtype rows of inserted objects (their keys read back from the base insert): one
/// `INSERT INTO part (key..., own columns...)` per subtype table present.
pub(crate) fn insert_parts<T: Persist>(entries: &[Arc<Entry<T>>]) -> Result<Vec<FlushJob>> {
    let cols = T::TABLE.columns;
    let mut jobs = Vec::new();
    for (part, group) in by_part(entries)? {
        let insert: Vec<usize> = (0..cols.len())
            .filter(|&i| {
                cols[i].primary_key
                    || (stored_in(&cols[i], Some(part)) && !cols[i].server_written())
            })
            .collect();
        let returning: Vec<usize> = (0..cols.len())
            .filter(|&i| stored_in(&cols[i], Some(part)) && cols[i].server_written())
            .collect();
        let arrays = {
            let guards = group
                .iter()
                .map(|e| e.read_for(FLUSH))
                .collect::<Result<Vec<_>>>()?;
            let rows: Vec<&T> = guards.iter().map(|g| &g.value).collect();
            row_arrays(&rows, &rows, &insert, insert.len())?
        };
        let set: ColumnSet = insert.iter().copied().collect();
        let names: Vec<&str> = returning.iter().map(|&c| cols[c].name).collect();
        let query = cached_query((TypeId::of::<T>(), PART_INSERT, set), arrays, |params| {
            insert_sql::<T>(part, &insert, params, &|w| write_returning(w, &names))
        })?;
        jobs.push(if returning.is_empty() {
            FlushJob::execute(
                query,
                Some(ExpectedRows {
                    rows: group.len() as u64,
                    model: T::TABLE.model,
                    operation: "INSERT",
                }),
            )
        } else {
            FlushJob::rows(query, read_back_in_order(Arc::new(group), returning))
        });
    }
    Ok(jobs)
}

/// One `UPDATE` per table whose columns of `columns` changed, the base table's first.
pub(crate) fn update<T: Persist>(
    entries: &[Arc<Entry<T>>],
    columns: ColumnSet,
) -> Result<Vec<FlushJob>> {
    let table = T::TABLE;
    let Some(joined) = table.joined else {
        return Ok(Vec::new());
    };
    let pk = key_positions::<T>();
    let targets =
        std::iter::once((joined.base, None)).chain(joined.parts.iter().map(|p| (*p, Some(*p))));
    let mut jobs = Vec::new();
    for (target, part) in targets {
        let set: Vec<usize> = columns
            .iter()
            .filter(|&c| stored_in(&table.columns[c], part))
            .collect();
        if set.is_empty() {
            continue;
        }
        // The version column (bumped with every update, so in the base table's `set`) is
        // checked where it is stored: the base table.
        let version = T::VERSION.filter(|&v| stored_in(&table.columns[v], part));
        let mut cols = set.clone();
        cols.extend(&pk);
        cols.extend(version);
        let arrays = {
            let guards = entries
                .iter()
                .map(|e| e.read_for(FLUSH))
                .collect::<Result<Vec<_>>>()?;
            let current: Vec<&T> = guards.iter().map(|g| &g.value).collect();
            let old: Vec<&T> = guards
                .iter()
                .map(|g| g.snapshot.as_deref().unwrap_or(&g.value))
                .collect();
            row_arrays(&current, &old, &cols, set.len())?
        };
        // The stored generated columns of this table change with the columns they read: read
        // back with the key.
        let computed: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].computed.is_some() && stored_in(&table.columns[i], part))
            .collect();
        let returning: Vec<usize> = if computed.is_empty() {
            Vec::new()
        } else {
            pk.iter().chain(&computed).copied().collect()
        };
        let kind = if part.is_some() { PART_UPDATE } else { 1 };
        let key = (TypeId::of::<T>(), kind, set.iter().copied().collect());
        let query = cached_query(key, arrays, |params| {
            update_sql::<T>(target, &set, &pk, version, params, &returning)
        })?;
        let expect = ExpectedRows {
            rows: entries.len() as u64,
            model: table.model,
            operation: "UPDATE",
        };
        jobs.push(if computed.is_empty() {
            FlushJob::execute(query, Some(expect))
        } else {
            FlushJob::rows(
                query,
                read_back_by_key(entries.to_vec(), pk.clone(), computed),
            )
            .expect(expect)
        });
    }
    Ok(jobs)
}

/// `DELETE FROM part` for each subtype table present, then `DELETE FROM base`.
pub(crate) fn delete<T: Persist>(entries: &[Arc<Entry<T>>]) -> Result<Vec<FlushJob>> {
    let table = T::TABLE;
    let Some(joined) = table.joined else {
        return Ok(Vec::new());
    };
    let pk = key_positions::<T>();
    let names: Vec<&'static str> = pk.iter().map(|&c| table.columns[c].name).collect();
    let mut jobs = Vec::new();
    for (part, group) in by_part(entries)? {
        let at = joined
            .parts
            .iter()
            .position(|p| p.name == part.name)
            .unwrap_or(0);
        let key = (
            TypeId::of::<T>(),
            PART_DELETE,
            std::iter::once(at).collect(),
        );
        let query = cached_query(key, stored_key_arrays(&group, &pk)?, |params| {
            delete_using(part, &names, params)
        })?;
        jobs.push(FlushJob::execute(query, None));
    }
    // The base rows go by key and, with a version column (stored in the base table), by the
    // version the session read: a row changed since then fails the flush.
    let mut base_cols = pk.clone();
    base_cols.extend(T::VERSION.filter(|&v| stored_in(&table.columns[v], None)));
    let base_names: Vec<&'static str> = base_cols.iter().map(|&c| table.columns[c].name).collect();
    let query = cached_query(
        (TypeId::of::<T>(), 2, ColumnSet::empty()),
        stored_key_arrays(entries, &base_cols)?,
        |params| delete_using(joined.base, &base_names, params),
    )?;
    let expect = T::VERSION.map(|_| ExpectedRows {
        rows: entries.len() as u64,
        model: table.model,
        operation: "DELETE",
    });
    jobs.push(FlushJob::execute(query, expect));
    Ok(jobs)
}

/// The base-table insert of new objects of a joined-table model: its columns, reading back the
/// generated key (the subtype rows follow in the next step, [`insert_parts`]).
pub(crate) fn insert_base<T: Persist>(entries: Vec<Arc<Entry<T>>>) -> Result<FlushJob> {
    let table = T::TABLE;
    let Some(joined) = table.joined else {
        return Err(Error::object_state(format!(
            "`{}` is not a joined-table model",
            table.model
        )));
    };
    let (insert, returning) = base_insert_columns::<T>();
    let arrays = {
        let guards = entries
            .iter()
            .map(|e| e.read_for(FLUSH))
            .collect::<Result<Vec<_>>>()?;
        let rows: Vec<&T> = guards.iter().map(|g| &g.value).collect();
        row_arrays(&rows, &rows, &insert, insert.len())?
    };
    let names: Vec<&str> = returning.iter().map(|&c| table.columns[c].name).collect();
    let query = cached_query(
        (TypeId::of::<T>(), 0, ColumnSet::empty()),
        arrays,
        |params| {
            insert_sql::<T>(joined.base, &insert, params, &|w| {
                write_returning(w, &names)
            })
        },
    )?;
    Ok(if returning.is_empty() {
        FlushJob::execute(
            query,
            Some(ExpectedRows {
                rows: entries.len() as u64,
                model: table.model,
                operation: "INSERT",
            }),
        )
    } else {
        FlushJob::rows(query, read_back_in_order(Arc::new(entries), returning))
    })
}
