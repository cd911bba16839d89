//! What goes wrong on a sharded database: [`ShardError`], the [`ErrorKind::Shard`] kind.
//!
//! [`ErrorKind::Shard`]: super::ErrorKind::Shard

/// Why a statement or session on a sharded database (`orm_postgres::Sharded`) failed. Every
/// kind but [`Unavailable`](ShardError::Unavailable) and [`OnShard`](ShardError::OnShard) is
/// raised before any SQL is sent.
///
/// ```
/// use orm_core::{Error, ErrorKind, ShardError};
///
/// let err = Error::from(ShardError::KeyMissing { table: "orders", column: "tenant_id" });
/// assert!(matches!(err.kind(), ErrorKind::Shard(ShardError::KeyMissing { .. })));
/// assert!(err.to_string().starts_with("`orders` is sharded by `tenant_id`"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// The statement reads or writes a sharded table without fixing its shard key: no
    /// `key = value` / `key = ANY(values)` in its filter (alone or `AND`ed), or an inserted row
    /// without it. Nothing was sent.
    #[error(
        "`{table}` is sharded by `{column}`, and the statement does not fix it: filter on `{column}` (`eq`, `is_in`, `AND`ed with the rest), insert rows that carry it, run it in a transaction or session on one shard (`transaction_on(name)`, `session_on(name)`), or on every shard with `fan_out()`"
    )]
    KeyMissing {
        /// The sharded table.
        table: &'static str,
        /// Its shard key column.
        column: &'static str,
    },
    /// The statement names no sharded table (raw SQL, a query of constants, an unsharded
    /// table), so nothing tells its shard. Nothing was sent.
    #[error(
        "the statement cannot be routed to a shard: {reason}; run it in a transaction or session on one shard (`transaction_on(name)`, `transaction_for(key)`, `session_on(name)`), or on every shard with `fan_out()`"
    )]
    NotRoutable {
        /// Why.
        reason: String,
    },
    /// The shard map covers no shard for a key value (a range or list map without it), or the
    /// value is `NULL`. Nothing was sent.
    #[error("no shard holds `{table}`.`{column}` = {value}: the shard map covers no such value")]
    Unmapped {
        /// The sharded table.
        table: &'static str,
        /// Its shard key column.
        column: &'static str,
        /// The value, as text.
        value: String,
    },
    /// One statement, flush or transaction would write (or, for a single-shard call, read)
    /// rows on several shards: refused, since no transaction spans servers. Nothing was sent.
    #[error(
        "`{table}` rows span shards {shards:?}: one statement or flush runs on one shard; split it per shard (group the rows by `locate`), or read with `fan_out()`"
    )]
    CrossShard {
        /// The sharded table.
        table: &'static str,
        /// The shards the rows belong to, by name.
        shards: Vec<String>,
    },
    /// A shard's server could not be reached (connect refused, pool timeout, connection lost,
    /// also inside a transaction or during its commit, no answer in time). The source is the
    /// error from its server or pool, whose kind [`Error::root`](super::Error::root) reaches
    /// (a commit whose outcome is unknown stays `CommitUnknown` there). On the other shards
    /// nothing was written by this call.
    #[error("shard `{shard}` is unavailable: {source}")]
    Unavailable {
        /// The shard's name.
        shard: String,
        /// The error from its server or pool.
        #[source]
        source: super::Error,
    },
    /// A statement failed on a shard with any other error (a constraint, a decode error, a
    /// row count): its name and the error, whose kind [`Error::root`](super::Error::root)
    /// reaches (the predicates such as `is_unique_violation` look through).
    #[error("on shard `{shard}`: {source}")]
    OnShard {
        /// The shard's name.
        shard: String,
        /// The error.
        #[source]
        source: super::Error,
    },
    /// A shard was named that the database does not have. Nothing was sent.
    #[error("no shard is named `{0}`")]
    UnknownShard(String),
    /// A write run on every shard (`FanOut::execute`) failed on some of them and committed on
    /// the others: a write on several shards is not atomic. Lists both, so the caller knows
    /// what to retry (make such writes idempotent).
    #[error(
        "the write failed on {} and committed on {:?} (a write on every shard is not atomic across shards): {}",
        failed_shards(failed),
        done_shards(done),
        first_error(failed)
    )]
    PartialWrite {
        /// Each shard that failed, with its error (naming it).
        failed: Vec<(String, super::Error)>,
        /// Each shard that committed, with its count of rows changed.
        done: Vec<(String, u64)>,
    },
    /// A session or transaction on one shard (`Sharded::session_for`, `session_on`,
    /// `transaction_for`, `transaction_on`) ran a statement whose shard key is on another
    /// shard (or several): it would have read or changed nothing there, or written a row
    /// where the map does not look for it, so it is refused. A statement that does not fix the
    /// key runs on the session's shard. Nothing was sent.
    #[error(
        "the session or transaction runs on shard `{session}`, and the statement's `{table}` rows are on {shards:?}: open one there (`session_for`, `transaction_for`), or run it with `Sharded::fetch_*` / `fan_out()`"
    )]
    WrongShard {
        /// The sharded table the statement reads or writes.
        table: &'static str,
        /// The shard of the session or transaction.
        session: String,
        /// The shards the statement's key values are on.
        shards: Vec<String>,
    },
}

impl ShardError {
    /// The shard the error happened on, for [`Unavailable`](ShardError::Unavailable) and
    /// [`OnShard`](ShardError::OnShard) (the first that failed, for
    /// [`PartialWrite`](ShardError::PartialWrite)).
    pub fn shard(&self) -> Option<&str> {
        match self {
            ShardError::Unavailable { shard, .. } | ShardError::OnShard { shard, .. } => {
                Some(shard)
            }
            ShardError::PartialWrite { failed, .. } => failed.first().map(|(s, _)| s.as_str()),
            _ => None,
        }
    }
}

fn failed_shards(failed: &[(String, super::Error)]) -> String {
    let names: Vec<&str> = failed.iter().map(|(s, _)| s.as_str()).collect();
    format!("{names:?}")
}

fn done_shards(done: &[(String, u64)]) -> Vec<&str> {
    done.iter().map(|(s, _)| s.as_str()).collect()
}

fn first_error(failed: &[(String, super::Error)]) -> String {
    failed
        .first()
        .map(|(_, e)| e.to_string())
        .unwrap_or_default()
}

impl super::Error {
    /// `self` as it happened on shard `shard`: [`Unavailable`](ShardError::Unavailable) when
    /// its server could not be reached (connect, pool timeout, connection lost, also inside a
    /// transaction or during its commit, no answer in time), [`OnShard`](ShardError::OnShard)
    /// for any other error; a [`ShardError`] already
    /// names its shards and stays as it is.
    ///
    /// ```
    /// use orm_core::{DbError, Error, ErrorKind, ShardError};
    ///
    /// let err = Error::from_db(DbError::new("23505", "duplicate key value")).on_shard("eu");
    /// assert!(matches!(err.kind(), ErrorKind::Shard(ShardError::OnShard { .. })));
    /// assert_eq!(err.shard(), Some("eu"));
    /// assert!(err.is_unique_violation()); // the predicates look through
    /// assert!(matches!(err.root().kind(), ErrorKind::UniqueViolation(_)));
    /// ```
    pub fn on_shard(self, shard: &str) -> super::Error {
        use super::ErrorKind;
        let shard = shard.to_owned();
        match self.kind() {
            ErrorKind::Shard(_) => self,
            ErrorKind::Connect { .. }
            | ErrorKind::PoolTimeout(_)
            | ErrorKind::ConnectionLost(_)
            | ErrorKind::TransactionLost(_)
            | ErrorKind::CommitUnknown(_)
            | ErrorKind::ReconnectFailed { .. }
            | ErrorKind::QueryTimeout { .. } => ShardError::Unavailable {
                shard,
                source: self,
            }
            .into(),
            _ => ShardError::OnShard {
                shard,
                source: self,
            }
            .into(),
        }
    }

    /// The error beneath the wrappers that only say which shard it happened on
    /// ([`OnShard`](ShardError::OnShard), [`Unavailable`](ShardError::Unavailable)); `self`
    /// for any other. The predicates (`is_unique_violation`, `is_not_found`, `is_retryable`,
    /// ...), [`db_error`](Self::db_error) and [`sqlstate`](Self::sqlstate) look through
    /// them already; match on `err.root().kind()` for the precise kind.
    pub fn root(&self) -> &super::Error {
        match self.kind() {
            super::ErrorKind::Shard(
                ShardError::Unavailable { source, .. } | ShardError::OnShard { source, .. },
            ) => source.root(),
            _ => self,
        }
    }

    /// The shard the error happened on, when a sharded database's call or session failed
    /// there (see [`ShardError::shard`]).
    pub fn shard(&self) -> Option<&str> {
        match self.kind() {
            super::ErrorKind::Shard(e) => e.shard(),
            _ => None,
        }
    }
}

impl From<ShardError> for super::Error {
    fn from(e: ShardError) -> Self {
        super::ErrorKind::Shard(e).into()
    }
}
