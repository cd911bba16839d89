//! [`SessionOptions`]: autoflush, expire on commit, the transaction's options.

use crate::transaction::TxOptions;

/// How a session behaves; see [`Database::session_with`](crate::Database::session_with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Flush pending changes before every query of the session, so queries see them (on by
    /// default).
    pub autoflush: bool,
    /// After `commit`, mark every object expired: the next query or `get` that touches it
    /// reloads its values (on by default).
    pub expire_on_commit: bool,
    /// The transactions' isolation level and access mode.
    pub tx: TxOptions,
    /// The smallest batch of new objects of one table that the flush inserts with binary
    /// `COPY … FROM STDIN` instead of `INSERT`, when they need nothing back from the server
    /// (keys set by the application, no server-generated values) or only an integer identity
    /// or `serial` key, which is then taken from its sequence first (one
    /// `SELECT nextval(…) FROM generate_series(1, n)` round trip, the keys written into the
    /// objects, then the `COPY` with the keys). A key column whose sequence the server does not
    /// know (`pg_get_serial_sequence` finds none: a default from a sequence the column does not
    /// own) fails that flush with an error saying so, nothing written: set `None` for such a
    /// table;
    /// `None`: never on its own ([`Session::add_all_copy`](crate::Session::add_all_copy)
    /// still asks for it). Default [`DEFAULT_COPY_THRESHOLD`](Self::DEFAULT_COPY_THRESHOLD).
    /// Identity map, statuses, hooks and errors are those of an `INSERT`.
    pub copy_threshold: Option<usize>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            autoflush: true,
            expire_on_commit: true,
            tx: TxOptions::default(),
            copy_threshold: Some(Self::DEFAULT_COPY_THRESHOLD),
        }
    }
}

impl SessionOptions {
    /// The default [`copy_threshold`](Self::copy_threshold). Measured with orm-bench's `copy`
    /// bench (session `COPY` against the session's `INSERT … FROM unnest(...)`, loopback,
    /// 2 busy CPUs): about even at 10 objects, `COPY` 0.84x at 100-300, 0.87x at 3,000 and
    /// 0.74x at 10,000 (1,000 measured 1.13x in that noisy run). Small batches gain little and
    /// a connection's first `COPY` of a table costs an extra round trip (the column types);
    /// from here on the gain is clear.
    pub const DEFAULT_COPY_THRESHOLD: usize = 1_000;

    /// Sets [`copy_threshold`](Self::copy_threshold): `Some(n)` inserts batches of at least
    /// `n` new objects that need nothing back with `COPY`, `None` never on its own.
    pub fn copy_threshold(mut self, threshold: Option<usize>) -> Self {
        self.copy_threshold = threshold;
        self
    }

    /// Turns autoflush on or off.
    pub fn autoflush(mut self, on: bool) -> Self {
        self.autoflush = on;
        self
    }

    /// Turns expire-on-commit on or off.
    pub fn expire_on_commit(mut self, on: bool) -> Self {
        self.expire_on_commit = on;
        self
    }

    /// Sets the isolation level of the session's transactions.
    pub fn isolation(mut self, level: crate::IsolationLevel) -> Self {
        self.tx = self.tx.isolation(level);
        self
    }

    /// Makes the session's transactions read-only.
    pub fn read_only(mut self) -> Self {
        self.tx = self.tx.read_only();
        self
    }
}
