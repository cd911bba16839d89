//! PostgreSQL's table-level lock modes, as the lint names the lock a statement takes.

use std::fmt;

use crate::schema::QualifiedName;

/// A table-level lock mode, weakest first (the order of PostgreSQL's conflict table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    /// `ACCESS SHARE`: plain reads.
    AccessShare,
    /// `ROW SHARE`: `SELECT ... FOR UPDATE`.
    RowShare,
    /// `ROW EXCLUSIVE`: `INSERT`, `UPDATE`, `DELETE`.
    RowExclusive,
    /// `SHARE UPDATE EXCLUSIVE`: `CREATE INDEX CONCURRENTLY`, `VALIDATE CONSTRAINT`; reads and
    /// writes go on.
    ShareUpdateExclusive,
    /// `SHARE`: `CREATE INDEX`; reads go on, writes wait.
    Share,
    /// `SHARE ROW EXCLUSIVE`: `ADD FOREIGN KEY`, `CREATE TRIGGER`; reads go on, writes wait.
    ShareRowExclusive,
    /// `EXCLUSIVE`: `REFRESH MATERIALIZED VIEW CONCURRENTLY`.
    Exclusive,
    /// `ACCESS EXCLUSIVE`: most `ALTER TABLE` forms, `DROP`; reads and writes wait.
    AccessExclusive,
}

impl LockMode {
    /// The name in `LOCK TABLE ... IN <mode> MODE` and PostgreSQL's documentation:
    /// `ACCESS EXCLUSIVE`.
    pub fn sql_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// The name in `pg_locks.mode`: `AccessExclusiveLock`.
    pub fn pg_locks_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "AccessShareLock",
            LockMode::RowShare => "RowShareLock",
            LockMode::RowExclusive => "RowExclusiveLock",
            LockMode::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            LockMode::Share => "ShareLock",
            LockMode::ShareRowExclusive => "ShareRowExclusiveLock",
            LockMode::Exclusive => "ExclusiveLock",
            LockMode::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// The mode `pg_locks.mode` names, if it is one.
    pub fn from_pg_locks_name(name: &str) -> Option<LockMode> {
        ALL.into_iter().find(|m| m.pg_locks_name() == name)
    }

    /// What the lock keeps other sessions from doing while it is held.
    pub fn blocks(self) -> &'static str {
        match self {
            LockMode::AccessShare | LockMode::RowShare | LockMode::RowExclusive => {
                "blocks only DDL"
            }
            LockMode::ShareUpdateExclusive => "blocks other DDL and VACUUM, not reads or writes",
            LockMode::Share | LockMode::ShareRowExclusive | LockMode::Exclusive => {
                "blocks every write (reads go on)"
            }
            LockMode::AccessExclusive => "blocks every read and write",
        }
    }
}

const ALL: [LockMode; 8] = [
    LockMode::AccessShare,
    LockMode::RowShare,
    LockMode::RowExclusive,
    LockMode::ShareUpdateExclusive,
    LockMode::Share,
    LockMode::ShareRowExclusive,
    LockMode::Exclusive,
    LockMode::AccessExclusive,
];

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql_name())
    }
}

/// The lock a statement takes: a mode on a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// The mode.
    pub mode: LockMode,
    /// The table it is taken on.
    pub table: QualifiedName,
}

impl fmt::Display for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} ({})",
            self.mode,
            self.table,
            self.mode.blocks()
        )
    }
}
