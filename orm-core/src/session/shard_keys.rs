//! The shard keys of what a flush would write, for a sharded database's check that a flush
//! stays on one shard (`orm_postgres::Sharded::session_for`).

use std::any::Any;

use super::UnitOfWork;
use super::status::Status;
use crate::error::Result;
use crate::meta::Table;
use crate::shard::{KeyType, KeyValue};

impl UnitOfWork {
    /// The shard key of every object the next flush would write (new, changed or deleted)
    /// whose model has one (`#[model(shard_key)]`), with its table. Reads each object's key
    /// under its read lock; a `write()` guard held on it is an
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) error.
    pub fn pending_shard_keys(&self) -> Result<Vec<(&'static Table, KeyValue)>> {
        let dirty = self.link.dirty_entries();
        let entries = self.new.iter().chain(&self.deleted).chain(
            dirty
                .iter()
                .filter(|e| e.is_queued() && e.status() != Status::Detached),
        );
        let mut out = Vec::new();
        for entry in entries {
            let table = entry.table();
            let Some(column) = table.shard_key_column() else {
                continue;
            };
            let ty = KeyType::of(table.name, column)?;
            let Some(idx) = table.columns.iter().position(|c| c.name == column.name) else {
                continue;
            };
            let mut found = Ok(None);
            entry.with_column(idx, "flush", &mut |v| {
                found = v.map_or(Ok(None), |v| encode_any(ty, v));
            })?;
            if let Some(key) = found? {
                out.push((table, key));
            }
        }
        Ok(out)
    }
}

/// A key field's value (`i16`, `i32`, `i64`, `String`, `Uuid`) as a key of type `ty`.
fn encode_any(ty: KeyType, v: &dyn Any) -> Result<Option<KeyValue>> {
    if let Some(n) = v.downcast_ref::<i64>() {
        return KeyValue::encode(ty, n);
    }
    if let Some(n) = v.downcast_ref::<i32>() {
        return KeyValue::encode(ty, n);
    }
    if let Some(n) = v.downcast_ref::<i16>() {
        return KeyValue::encode(ty, n);
    }
    if let Some(s) = v.downcast_ref::<String>() {
        return KeyValue::encode(ty, s);
    }
    #[cfg(feature = "uuid")]
    if let Some(u) = v.downcast_ref::<uuid::Uuid>() {
        return KeyValue::encode(ty, u);
    }
    Err(crate::error::Error::config(
        format!(
            "a shard key field must be an i16, i32, i64, String or Uuid to route it (the column is {:?})",
            ty.pg_type()
        ),
        None,
    ))
}
