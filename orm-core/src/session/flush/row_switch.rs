//! The row switch (SQLAlchemy's name): a new object whose primary key a deleted object of the
//! same flush holds takes over that object's row. Its `INSERT` would meet the row the `DELETE`
//! has not removed yet (inserts come before deletes); instead the flush `UPDATE`s the row to
//! the new object's values, and the deleted object leaves the session. The rows pointing at it
//! keep pointing at the same key, as they would have after a `DELETE` and an `INSERT` in this
//! order, without the database's `ON DELETE` actions firing in between.

use std::sync::Arc;

use super::FLUSH;
use crate::error::Result;
use crate::relation::RelationKind;
use crate::session::persist::Persist;
use crate::session::state::Entry;
use crate::session::status::Status;
use crate::session::tracked::save_undo;
use crate::session::unit::{ErasedEntry, UnitOfWork};

impl UnitOfWork {
    /// Switches the new object `entry` onto the row of the deleted object holding its key, if
    /// there is one (`false`: none, or its key comes from the server and is not known yet).
    /// Both objects' states are saved first, so a failed flush puts them back: the deleted
    /// object deleted again, the new one new.
    ///
    /// After it, `entry` is persistent, in the identity map under the key, with the deleted
    /// object's values as what the database holds (so the flush's `UPDATE` writes the columns
    /// that differ); the deleted object is detached and no longer among the deleted.
    pub(crate) fn row_switch_entry<T: Persist>(&mut self, entry: &Arc<Entry<T>>) -> Result<bool> {
        // A versioned model is left out: the new object's version would restart the row's,
        // and a version that goes back can match a stale object's again (its INSERT fails on
        // the key, as without the switch).
        // Nor a model with many-to-many relationships (the old object's association rows would
        // pass to the new one) or deferred columns (the old object's unloaded values would
        // hide what the row holds from the UPDATE): their INSERT fails on the key.
        if entry.status() != Status::Pending
            || T::VERSION.is_some()
            || T::TABLE.primary_key().any(|c| c.server_written())
            || T::TABLE.columns.iter().any(|c| c.deferred)
            || T::RELATIONS
                .iter()
                .any(|r| r.meta().kind == RelationKind::ManyToMany)
        {
            return Ok(false);
        }
        let pk = entry.read_for(FLUSH)?.value.pk();
        let Some(old) = self.map::<T>().and_then(|m| m.by_pk.get(&pk)).cloned() else {
            return Ok(false);
        };
        // An expired object's values are not what the row holds: the UPDATE would leave the
        // columns it shares with them unwritten.
        if old.status() != Status::Deleted
            || Arc::ptr_eq(&old, entry)
            || old.is_expired_flag()
            || old.loaded_before(self.link.expire_epoch())
        {
            return Ok(false);
        }
        // The deleted object: saved, then detached (a failed flush restores it, deleted and
        // back among the deleted).
        let in_database = {
            let mut inner = old.write_for(FLUSH)?;
            save_undo(&old, &mut inner, &self.link);
            let db = match &inner.snapshot {
                Some(s) => s.clone(),
                None => Arc::new(inner.value.copy_columns()),
            };
            inner.session = None;
            inner.snapshot = None;
            db
        };
        self.map_remove(&old);
        old.set_status(Status::Detached);
        old.set_queued(false);
        old.set_key(None);
        let gone: Arc<dyn ErasedEntry> = old;
        self.deleted.retain(|e| !Arc::ptr_eq(e, &gone));
        // The new object: saved, then persistent on the row, what the row holds as its
        // snapshot.
        {
            let mut inner = entry.write_for(FLUSH)?;
            save_undo(entry, &mut inner, &self.link);
            inner.snapshot = Some(in_database);
        }
        entry.set_status(Status::Persistent);
        self.map_insert(entry.clone(), pk);
        Ok(true)
    }
}
