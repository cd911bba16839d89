//! New objects of one table written with binary `COPY` instead of `INSERT` (see
//! [`CopyPolicy`](crate::session::job::CopyPolicy)): [`CopyGroup`], the [`CopyRows`] the driver
//! sends, each object read-locked while its row is encoded.

use std::sync::Arc;

use bytes::BytesMut;
use postgres_types::{ToSql, Type};

use super::FLUSH;
use crate::copy::{CopyRows, reuse, write_row};
use crate::error::Result;
use crate::meta::Table;
use crate::session::persist::Persist;
use crate::session::state::Entry;

/// The new objects of model `T` of one flush step, as the rows of a `COPY`.
pub(crate) struct CopyGroup<T: Persist> {
    entries: Vec<Arc<Entry<T>>>,
    next: usize,
}

impl<T: Persist> CopyGroup<T> {
    pub(crate) fn new(entries: Vec<Arc<Entry<T>>>) -> Self {
        CopyGroup { entries, next: 0 }
    }
}

impl<T: Persist> CopyRows for CopyGroup<T> {
    fn table(&self) -> &'static Table {
        T::TABLE
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn write_rows(&mut self, types: &[Type], buf: &mut BytesMut, chunk: usize) -> Result<bool> {
        let mut values: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(types.len());
        while buf.len() < chunk {
            let Some(entry) = self.entries.get(self.next) else {
                return Ok(false);
            };
            self.next += 1;
            let guard = entry.read_for(FLUSH)?;
            let mut row = reuse(values);
            guard.value.insert_values(&mut row);
            write_row(buf, T::TABLE, types, &row)?;
            values = reuse(row);
        }
        Ok(self.next < self.entries.len())
    }
}
