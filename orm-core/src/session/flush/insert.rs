//! The insert of a group of new objects of one model: their foreign keys set and their flight
//! marked ([`insert`]), the statements that write them (`INSERT … RETURNING`, or binary `COPY`
//! with or without keys taken from a sequence first), and what the flush does with them once
//! the statements are done ([`inserted`]: persistent, in the identity map).
//!
//! A group is turned into typed handles once, by moving them (no reference count changed), and
//! those handles are shared by the statements and what runs after them, which takes them back
//! when the statements are done and moves them into the identity map. A flush of 100,000 new
//! objects reads each object a few times, not once per bookkeeping step: its objects do not fit
//! in a cache, and every pass over them costs milliseconds.

use std::any::TypeId;
use std::sync::Arc;

use super::copy::{CopyGroup, Keys, allocate_keys, sequence_key};
use super::fk_sync::{needs_fk_sync, sync_entry_fks};
use super::flight::{patch_columns, requeue};
use super::joined;
use super::read_back::read_back_in_order;
use super::sql::{cached_query, insert_sql, row_arrays, write_returning};
use super::typed::{read_all, typed_entries, wrong_type};
use super::{FLUSH, Shared};
use crate::compile::{self, SqlWriter};
use crate::error::Result;
use crate::session::columns::ColumnSet;
use crate::session::job::{CopyPolicy, FlushJob, InsertStep};
use crate::session::persist::Persist;
use crate::session::state::Entry;
use crate::session::status::Status;
use crate::session::unit::{AfterStep, ErasedEntry, HookContext, UnitOfWork};

/// The statements inserting `group` (new objects of model `T`, in order) and what runs once
/// they are done. Each object's foreign keys are set from its parents first, and it is marked
/// with the flush's number before a statement reads it.
pub(crate) fn insert<T: Persist>(
    group: Vec<Arc<dyn ErasedEntry>>,
    step: &InsertStep<'_>,
) -> Result<(Vec<FlushJob>, AfterStep)> {
    let mut entries = Vec::with_capacity(group.len());
    for e in group {
        let t = e
            .into_any()
            .downcast::<Entry<T>>()
            .map_err(|_| wrong_type())?;
        if needs_fk_sync(&t) {
            let deferred = match step.deferred.get(&t.id) {
                Some(links) => links.as_slice(),
                None => &[],
            };
            sync_entry_fks(&t, &mut *t.write_for(FLUSH)?, deferred)?;
        }
        t.set_flight(step.flight);
        entries.push(t);
    }
    let entries = Arc::new(entries);
    let jobs = if T::TABLE.joined.is_some() {
        // Joined-table inheritance: the base rows first, the subtype rows next step.
        vec![joined::insert_base(entries.to_vec())?]
    } else if T::TABLE.columns.iter().all(|c| c.server_written()) {
        default_values(&entries)?
    } else {
        copy_or_insert(&entries, step.copy)?
    };
    let after: AfterStep = Box::new(move |uow: &mut UnitOfWork| {
        // The statements are dropped by now: the handles come back without a copy.
        let entries = Arc::try_unwrap(entries).unwrap_or_else(|shared| shared.to_vec());
        let mut ctx = HookContext::new();
        inserted(uow, entries, &mut ctx)?;
        for d in ctx.deferred {
            d(uow);
        }
        Ok(())
    });
    Ok((jobs, after))
}

/// Every column is written by the server: one `INSERT … DEFAULT VALUES` per object (the same
/// text for each).
fn default_values<T: Persist>(entries: &Shared<T>) -> Result<Vec<FlushJob>> {
    let table = T::TABLE;
    let returning = returning_columns::<T>();
    let mut w = SqlWriter::new();
    w.push("INSERT INTO ");
    w.push_qualified(table.schema, table.name);
    w.push(" DEFAULT VALUES");
    write_returning(&mut w, &column_names::<T>(&returning));
    let query = compile::finish(w)?;
    Ok(entries
        .iter()
        .map(|entry| {
            let sink = read_back_in_order(Arc::new(vec![entry.clone()]), returning.clone());
            FlushJob::rows(query.clone(), sink)
        })
        .collect())
}

/// The columns the server writes, read back into the objects.
fn returning_columns<T: Persist>() -> Vec<usize> {
    let cols = T::TABLE.columns;
    (0..cols.len())
        .filter(|&i| cols[i].server_written())
        .collect()
}

/// The names of columns `cols` of `T`'s table.
fn column_names<T: Persist>(cols: &[usize]) -> Vec<&'static str> {
    cols.iter().map(|&c| T::TABLE.columns[c].name).collect()
}

/// The objects as binary `COPY` rows when the policy asks for it and nothing (or only a key a
/// sequence gives) comes back; otherwise one `INSERT … SELECT FROM unnest(…)`, `RETURNING` what
/// the server writes.
fn copy_or_insert<T: Persist>(entries: &Shared<T>, copy: &CopyPolicy) -> Result<Vec<FlushJob>> {
    let table = T::TABLE;
    let returning = returning_columns::<T>();
    if copy.wants(TypeId::of::<T>(), entries.len()) {
        if returning.is_empty() {
            // Nothing to read back: the objects' rows can travel as binary COPY data.
            return Ok(vec![FlushJob::copy(Box::new(CopyGroup::new(
                entries.clone(),
            )))?]);
        }
        if let Some(k) = entries.first().and_then(|e| sequence_key(e)) {
            // Only the key to read back: taken from its sequence first, then copied.
            let taken = Keys::default();
            let keys = allocate_keys::<T>(entries.len(), k, taken.clone())?;
            let rows = CopyGroup::keyed(entries.clone(), k, taken);
            return Ok(vec![FlushJob::copy(Box::new(rows))?.after(keys)]);
        }
    }
    let insert_cols: Vec<usize> = (0..table.columns.len())
        .filter(|&i| !table.columns[i].server_written())
        .collect();
    let arrays = {
        let guards = read_all(typed_entries(entries))?;
        let rows: Vec<&T> = guards.iter().map(|g| &g.value).collect();
        row_arrays(&rows, &rows, &insert_cols, insert_cols.len())?
    };
    let key = (TypeId::of::<T>(), 0u8, ColumnSet::empty());
    let query = cached_query(key, arrays, |params| {
        let names = column_names::<T>(&returning);
        insert_sql::<T>(table, &insert_cols, params, &|w: &mut SqlWriter| {
            write_returning(w, &names)
        })
    })?;
    Ok(vec![if returning.is_empty() {
        FlushJob::execute(query, None)
    } else {
        FlushJob::rows(query, read_back_in_order(entries.clone(), returning))
    }])
}

/// After the statements: the objects are persistent, clean (or dirty again when changed while
/// a statement carried them), their `after_insert` hooks run, and they move into the identity
/// map.
fn inserted<T: Persist>(
    uow: &mut UnitOfWork,
    entries: Vec<Arc<Entry<T>>>,
    ctx: &mut HookContext,
) -> Result<()> {
    // One look-up of the model's map, sized once for the whole group.
    let map = &mut uow.map_mut::<T>().by_pk;
    map.reserve(entries.len());
    for t in entries {
        let pk = {
            let mut inner = t.write_for(FLUSH)?;
            t.set_status(Status::Persistent);
            match t.land(&mut inner) {
                // Changed while the INSERT was at the server: dirty against what it
                // inserted, with the columns the server wrote (read back since).
                Some(flown) => {
                    let written = (0..T::TABLE.columns.len())
                        .filter(|&c| T::TABLE.columns[c].server_written());
                    inner.snapshot = Some(patch_columns(&inner.value, flown, written));
                    let erased: Arc<dyn ErasedEntry> = t.clone();
                    requeue(&t, &erased, &inner);
                }
                None => {
                    inner.snapshot = None;
                    t.set_queued(false);
                }
            }
            inner.value.after_insert(ctx)?;
            inner.value.pk()
        };
        t.set_key(Some(pk.clone()));
        map.insert(pk, t);
    }
    Ok(())
}
