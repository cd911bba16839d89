//! Reading server-computed columns back after an `UPDATE`: its `RETURNING key..., columns...`
//! rows come in any order, so each row's key finds its object. Shared by the plain update
//! (`ops.rs`) and the per-table updates of a joined-table model (`joined.rs`).

use std::sync::Arc;

use super::FLUSH;
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
