//! [`Status`]: where an object stands in its session.

/// Where an object stands in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Added, not inserted yet: the next flush `INSERT`s it.
    Pending,
    /// In the database and in the session's identity map.
    Persistent,
    /// Marked for deletion: the next flush `DELETE`s it.
    Deleted,
    /// Not (or no longer) in a session: expunged, deleted and flushed, or added and rolled back.
    Detached,
}
