//! An object changed while a statement carrying its values was at the server: it stays dirty,
//! against what the statement wrote.

use std::sync::Arc;

use crate::session::persist::Persist;
use crate::session::state::{Entry, ObjectState, unshare};
use crate::session::unit::ErasedEntry;

/// `into` with columns `cols` copied from `from`: a copy taken in flight gets the values the
/// server wrote since. Best effort: a column that cannot be copied (none the derive makes)
/// is left as it was, and the next flush writes it again.
pub(super) fn patch_columns<T: Persist>(
    from: &T,
    into: Arc<T>,
    cols: impl Iterator<Item = usize>,
) -> Arc<T> {
    let mut cols = cols.peekable();
    if cols.peek().is_none() {
        return into;
    }
    // The flight's own copy: nothing else holds it, so it is taken back without copying.
    let mut copy = unshare(into);
    for c in cols {
        if let Some(v) = from.column_value(c) {
            let _ = copy.set_column_value(c, v);
        }
    }
    Arc::new(copy)
}

/// Keeps an object changed while its statement was at the server dirty: queued again.
pub(super) fn requeue<T: Persist>(t: &Entry<T>, e: &Arc<dyn ErasedEntry>, inner: &ObjectState<T>) {
    t.set_queued(true);
    if let Some(link) = &inner.session {
        link.queue_dirty(e.clone());
    }
}
