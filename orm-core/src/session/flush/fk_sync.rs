//! What the flush writes into an object before its statement: its parents' keys copied into
//! its foreign keys (`NULL` for a link deferred to break a cycle), and a new versioned
//! object's first version.

use std::sync::Arc;

use super::FLUSH;
use crate::error::{Error, Result};
use crate::session::persist::Persist;
use crate::session::state::{Entry, ObjectState};
use crate::session::status::Status;
use crate::session::unit::ErasedEntry;

/// Whether the flush may have something to write into the object before its statement:
/// parents' keys to copy into its foreign keys, or (new, versioned) its first version.
#[inline]
pub(super) fn needs_fk_sync<T: Persist>(t: &Entry<T>) -> bool {
    !t.fk().is_empty() || T::VERSION.is_some() && t.status() == Status::Pending
}

/// Copies `from`'s column `from_col` into `inner`'s column `to_col`.
fn copy_key<T: Persist>(
    inner: &mut ObjectState<T>,
    to_col: usize,
    from: &Arc<dyn ErasedEntry>,
    from_col: usize,
) -> Result<()> {
    let mut result = Ok(());
    from.with_column(from_col, FLUSH, &mut |v| {
        result = match v {
            Some(v) => inner.value.set_column_value(to_col, v),
            None => Err(Error::object_state(format!(
                "no key column #{from_col} in {}",
                from.table().model
            ))),
        };
    })?;
    result
}

/// Copies parents' keys into `inner`'s foreign keys (`NULL` for the `deferred` links), and
/// starts a new object's version. Only the links a change made since the last flush (see
/// [`FkLink::sync`](crate::session::state::FkLink)) are copied, and each once: a foreign key
/// the user set by hand on a loaded object is written as set.
pub(super) fn sync_entry_fks<T: Persist>(
    t: &Entry<T>,
    inner: &mut ObjectState<T>,
    deferred: &[usize],
) -> Result<()> {
    if t.status() == Status::Pending && T::VERSION.is_some() {
        // A new row starts at the next version of what it holds (1 for 0).
        inner.value.bump_version();
    }
    if t.fk().is_empty() {
        return Ok(());
    }
    let links = t.fk().to_sync();
    if links.is_empty() {
        return Ok(());
    }
    let mut done = Vec::with_capacity(links.len());
    for (i, link) in &links {
        let deferred = deferred.contains(i);
        if !deferred {
            done.push(*i);
        }
        match (&link.parent, deferred) {
            (Some(parent), false) => {
                if parent.status() == Status::Pending {
                    return Err(Error::object_state(format!(
                        "`{}` points at a `{}` that is not inserted yet",
                        T::TABLE.model,
                        parent.table().model
                    )));
                }
                for (to, from) in link.fk_cols.iter().zip(link.parent_cols.iter()) {
                    copy_key(inner, *to, parent, *from)?;
                }
            }
            _ => {
                for &to in link.fk_cols.iter() {
                    inner.value.set_column_null(to)?;
                }
            }
        }
    }
    // A deferred link is copied by the update that follows the insert.
    t.fk().synced(&done);
    Ok(())
}
