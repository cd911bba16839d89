//! Reading server-computed columns back: after an `UPDATE`, its `RETURNING key..., columns...`
//! rows come in any order, so each row's key finds its object; after an `INSERT`, its rows come
//! in the objects' order. Shared by the plain statements (`ops.rs`, `insert.rs`) and the
//! per-table ones of a joined-table model (`joined.rs`).

use std::sync::Arc;

use super::{FLUSH, Shared};
use crate::error::Error;
use crate::load::{RowAccess, RowSink};
use crate::session::persist::Persist;
use crate::session::state::Entry;

/// A sink for `RETURNING key..., columns...` of an `UPDATE`, whose rows come in any order:
/// each row's key finds its object, whose `columns` take the row's values.
pub(super) fn read_back_by_key<T: Persist>(
    entries: Vec<Arc<Entry<T>>>,
    pk: Vec<usize>,
    columns: Vec<usize>,
) -> RowSink<'static> {
    Box::new(move |row: &dyn RowAccess| {
        let mut target = None;
        for entry in &entries {
            let inner = entry.read_for(FLUSH)?;
            // The key as the row has it, decoded into a copy of this object's columns.
            let mut probe = inner.value.copy_columns();
            for (at, &c) in pk.iter().enumerate() {
                probe.decode_column(c, row, at)?;
            }
            if probe.pk() == inner.value.pk() {
                target = Some(entry);
                break;
            }
        }
        let entry = target.ok_or_else(|| {
            Error::invalid_statement("UPDATE returned a row of no object it updated")
        })?;
        let mut inner = entry.write_for(FLUSH)?;
        for (at, &c) in columns.iter().enumerate() {
            inner.value.decode_column(c, row, pk.len() + at)?;
        }
        Ok(())
    })
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
