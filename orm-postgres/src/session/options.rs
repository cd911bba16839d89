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
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            autoflush: true,
            expire_on_commit: true,
            tx: TxOptions::default(),
        }
    }
}

impl SessionOptions {
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
