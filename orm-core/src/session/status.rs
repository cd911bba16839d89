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

impl Status {
    /// As stored in an object's atomic status.
    pub(crate) const fn to_u8(self) -> u8 {
        match self {
            Status::Pending => 0,
            Status::Persistent => 1,
            Status::Deleted => 2,
            Status::Detached => 3,
        }
    }

    /// Back from [`to_u8`](Status::to_u8).
    pub(crate) const fn from_u8(v: u8) -> Status {
        match v {
            0 => Status::Pending,
            1 => Status::Persistent,
            2 => Status::Deleted,
            _ => Status::Detached,
        }
    }
}
