//! Reading server-computed columns back: after an `UPDATE`, its `RETURNING key..., columns...`
//! rows come in any order, so each row's key finds its object; after an `INSERT`, its rows come
//! in the objects' order. Shared by the plain statements (`ops.rs`, `insert.rs`) and the
//! per-table ones of a joined-table model (`joined.rs`).

use std::sync::Arc;

use super::{FLUSH, Shared};
use crate::error::Error;
use crate::load::{RowAccess, RowSink};
use crate::session::fxhash::FxHashMap;
use crate::session::persist::Persist;
use crate::session::state::Entry;

/// A sink for `RETURNING key..., columns...` of an `UPDATE`, whose rows come in any order:
/// each row's key finds its object, whose `columns` take the row's values.
///
/// The objects are indexed by key at the first row, so a statement of `n` rows costs `n`
/// look-ups, not `n²` comparisons.
pub(super) fn read_back_by_key<T: Persist>(
    entries: Vec<Arc<Entry<T>>>,
    pk: Vec<usize>,
    columns: Vec<usize>,
) -> RowSink<'static> {
    // Each object's position by key, and a copy of an object's columns that each row's key is
    // decoded into: both made at the first row.
    let mut index: Option<(FxHashMap<T::Pk, usize>, T)> = None;
    Box::new(move |row: &dyn RowAccess| {
        let (by_key, probe) = match &mut index {
            Some(built) => built,
            None => {
                let mut by_key = FxHashMap::default();
                by_key.reserve(entries.len());
                let mut probe = None;
                for (i, entry) in entries.iter().enumerate() {
                    let inner = entry.read_for(FLUSH)?;
                    // The first object of a key, as a scan in order would find it.
                    by_key.entry(inner.value.pk()).or_insert(i);
                    if probe.is_none() {
                        probe = Some(inner.value.copy_columns());
                    }
                }
                let probe = probe.ok_or_else(no_object)?;
                index.insert((by_key, probe))
            }
        };
        // The key as the row has it.
        for (at, &c) in pk.iter().enumerate() {
            probe.decode_column(c, row, at)?;
        }
        let entry = by_key
            .get(&probe.pk())
            .and_then(|&i| entries.get(i))
            .ok_or_else(no_object)?;
        let mut inner = entry.write_for(FLUSH)?;
        for (at, &c) in columns.iter().enumerate() {
            inner.value.decode_column(c, row, pk.len() + at)?;
        }
        Ok(())
    })
}

/// An `UPDATE` returned a row whose key is no updated object's.
fn no_object() -> Error {
    Error::invalid_statement("UPDATE returned a row of no object it updated")
}

/// A sink for `RETURNING columns...` of an `INSERT`, whose rows come in the objects' order:
/// each row's values go into the next object.
pub(super) fn read_back_in_order<T: Persist>(
    entries: Shared<T>,
    returning: Vec<usize>,
) -> RowSink<'static> {
    let mut next = 0usize;
    Box::new(move |row: &dyn RowAccess| {
        let entry = entries
            .get(next)
            .ok_or_else(|| Error::invalid_statement("INSERT returned more rows than objects"))?;
        next += 1;
        let mut inner = entry.write_for(FLUSH)?;
        for (at, &c) in returning.iter().enumerate() {
            inner.value.decode_column(c, row, at)?;
        }
        Ok(())
    })
}
