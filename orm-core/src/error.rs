//! The one error type of the ORM.
//!
//! [`Error`] is opaque and one pointer wide; what went wrong is its [`ErrorKind`], reached through
//! [`Error::kind`]. Errors that come from the server carry a [`DbError`] with the SQLSTATE and the
//! fields the server filled in (constraint, table, column, ...), available through
//! [`Error::db_error`] and [`Error::sqlstate`] whatever the kind.
//!
//! Some kinds describe what only the driver can observe — a bad configuration, connecting, the
//! pool, a lost connection, a commit whose outcome is unknown. They are declared here, in the
//! crate without IO, because there is one error type for the whole library: users match on one
//! [`ErrorKind`], and the session (which has no IO) passes these errors through and decides on
//! them (a lost connection during its commit, a pending rollback after any failure). Only
//! `orm-postgres` constructs them, from typed sources (the driver's and the pool's error types,
//! SQLSTATEs), never from message text. What belongs to one tool and nothing else (the
//! throwaway test cluster's failures) has its own error type in its own crate (`orm-testing`).

use std::fmt;

mod out_of_range;
mod shard;
pub use out_of_range::ValueOutOfRange;
pub use shard::ShardError;

/// A boxed error from a lower layer (the driver, a value's `ToSql`/`FromSql`, the pool).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result<T, orm_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error of every fallible operation of the ORM.
///
/// Match on [`Error::kind`] for the precise case, or use the predicates (`is_unique_violation`,
/// `is_retryable`, ...) for the common questions.
///
/// ```
/// use orm_core::{Error, ErrorKind};
///
/// let err = Error::row_count(1, 0);
/// assert!(err.is_not_found());
/// assert!(matches!(err.kind(), ErrorKind::RowCount { expected: 1, actual: 0 }));
/// assert_eq!(err.to_string(), "expected 1 row, got 0");
/// ```
pub struct Error(Box<ErrorKind>);

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A configuration value was invalid: a malformed connection URL, a bad pool size, ...
    #[error("invalid configuration: {message}")]
    Config {
        /// What was wrong.
        message: String,
        /// The underlying parser error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// The server could not be reached, or refused the connection (authentication, unknown
    /// database, too many connections). [`Error::sqlstate`] tells the server's reason when it gave
    /// one (e.g. `28P01` for a wrong password).
    ///
    /// Opening a connection tries each host of the list and each address of a host name in
    /// turn: the message then names every attempt, one line each, libpq's way (`connection to
    /// server at "db1" (10.0.0.1), port 5432 failed: Connection refused`), and the source is
    /// `orm_postgres::ConnectFailure`, which lists them typed. `db` (and so
    /// [`Error::sqlstate`]) is the last attempt's.
    #[error("cannot connect to the database: {message}")]
    Connect {
        /// What failed: for an opened connection, every attempt's place and reason, one line
        /// each.
        message: String,
        /// The server's error, when the server answered (the last attempt's).
        db: Option<Box<DbError>>,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// No connection became available in time (pool wait or connect timeout).
    #[error("connection pool timed out while {0}")]
    PoolTimeout(PoolStage),
    /// The connection broke while it was in use outside a transaction: the network failed,
    /// or the server ended the session (`pg_terminate_backend`, a fast or immediate shutdown, a
    /// failover: SQLSTATE 57P01, 57P02, 57P03, kept as the source so
    /// [`Error::sqlstate`] tells which). The pool discards the connection. Retryable for reads
    /// and idempotent writes: a write outside a transaction may have been applied before the
    /// connection broke.
    #[error("the connection to the database was lost: {0}")]
    ConnectionLost(#[source] BoxError),
    /// The connection broke inside a transaction: the server rolled the transaction back,
    /// nothing of it was committed. Retryable as a whole (run the transaction again, e.g. with
    /// `Database::retry`); rolling back the lost transaction succeeds without a round trip.
    #[error("the connection was lost inside a transaction, which the server rolled back: {0}")]
    TransactionLost(#[source] BoxError),
    /// The connection was lost while `COMMIT` was in flight: the transaction may or may not have
    /// been committed. Never reported as success or failure.
    #[error("the connection was lost during COMMIT: the outcome of the transaction is unknown")]
    CommitUnknown(#[source] BoxError),
    /// A connection that reconnects by itself (a `Listener`'s) was lost and could not be
    /// opened again within its bounded number of attempts: the server stayed away. The source
    /// is the last attempt's error.
    #[error("the connection was lost and {attempts} attempt(s) to reconnect failed: {source}")]
    ReconnectFailed {
        /// How many times it tried.
        attempts: u32,
        /// Why the last attempt failed.
        #[source]
        source: BoxError,
    },
    /// A query returned a different number of rows than the call requires.
    #[error("expected {expected} row{}, got {actual}", if *expected == 1 { "" } else { "s" })]
    RowCount {
        /// Rows the call expected.
        expected: usize,
        /// Rows the server returned (capped at `expected + 1` for `fetch_one`).
        actual: usize,
    },
    /// A column could not be decoded into the field's Rust type.
    #[error("cannot decode column `{column}` of `{model}`: {source}")]
    Decode {
        /// The model or result type being decoded.
        model: &'static str,
        /// The column (or, for tuples, its position).
        column: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// A parameter could not be encoded for the server (wrong Rust type for the server's column
    /// type, a value out of range for its type).
    #[error("cannot encode parameter ${index}: {source}")]
    Encode {
        /// 1-based parameter number, as in `$n`.
        index: usize,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// A parameter names a type the database does not have (in the unnamed statement mode,
    /// where the client looks each user-named type up by name before sending it): an enum,
    /// domain or composite type not created yet, or an extension not installed.
    #[error(
        "cannot encode parameter ${index}: type {name} does not exist in the database (create it: create_all, a migration, CREATE EXTENSION)"
    )]
    UndefinedType {
        /// 1-based parameter number, as in `$n`.
        index: usize,
        /// The type's name as the statement names it (`"mood"`, `"legacy"."status"`).
        name: String,
    },
    /// A value of a binary `COPY` row could not be encoded for its column's server type.
    #[error("cannot encode column `{column}` of `{model}` for COPY: {source}")]
    CopyEncode {
        /// The model.
        model: &'static str,
        /// The column.
        column: &'static str,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// `COPY` was asked for objects that need values back from the server: `COPY` returns no
    /// rows, so server-generated columns (an identity key, a `#[model(generated)]` column)
    /// could not be filled into the objects. Give them values client-side, or insert without
    /// `COPY`. Raised before anything is sent.
    #[error(
        "cannot insert `{model}` with COPY: its generated column(s) {columns:?} must be read back, and COPY returns nothing; insert it without COPY"
    )]
    CopyNeedsReturning {
        /// The model.
        model: &'static str,
        /// The server-generated columns.
        columns: Vec<&'static str>,
    },
    /// `INSERT`/`UPDATE` violated a unique constraint (SQLSTATE 23505).
    #[error("unique violation: {0}")]
    UniqueViolation(Box<DbError>),
    /// A foreign-key constraint was violated (SQLSTATE 23503).
    #[error("foreign key violation: {0}")]
    ForeignKeyViolation(Box<DbError>),
    /// A `NOT NULL` column was given no value (SQLSTATE 23502).
    #[error("not-null violation: {0}")]
    NotNullViolation(Box<DbError>),
    /// A `CHECK` constraint failed (SQLSTATE 23514).
    #[error("check violation: {0}")]
    CheckViolation(Box<DbError>),
    /// A serializable transaction could not be serialized (SQLSTATE 40001). Retryable.
    #[error("serialization failure: {0}")]
    SerializationFailure(Box<DbError>),
    /// The transaction was chosen as a deadlock victim (SQLSTATE 40P01). Retryable.
    #[error("deadlock detected: {0}")]
    Deadlock(Box<DbError>),
    /// The statement was cancelled by `statement_timeout` or a cancel request (SQLSTATE 57014).
    #[error("statement cancelled: {0}")]
    StatementTimeout(Box<DbError>),
    /// A statement or session on a sharded database could not be routed, or failed on a
    /// shard, which the [`ShardError`] names.
    #[error(transparent)]
    Shard(ShardError),
    /// The server did not answer a statement within the client-side query timeout (which
    /// needs no help from the server: it fires on a frozen server or a network black hole).
    /// The statement was cancelled through the cancel protocol where the server could be
    /// reached, and its connection closed; inside a transaction, the transaction is lost.
    #[error(
        "no answer from the server within {after:?}{}: the statement was cancelled and its connection closed",
        if *in_transaction { " inside a transaction (now rolled back)" } else { "" }
    )]
    QueryTimeout {
        /// The limit that passed.
        after: std::time::Duration,
        /// Whether a transaction was open (it is lost).
        in_transaction: bool,
    },
    /// A session operation needs an object that a [`Tracked`](crate::session::Tracked) guard
    /// (`read()` / `write()`) holds: waiting for the guard could last for ever (the caller
    /// itself may hold it), so the operation fails at once instead. Nothing was changed: drop
    /// the guard and call again.
    ///
    /// ```
    /// use orm_core::{Error, ErrorKind, HeldGuard};
    ///
    /// let err = Error::from(ErrorKind::ObjectInUse {
    ///     operation: "flush",
    ///     model: "User",
    ///     key: "id=7".into(),
    ///     guard: HeldGuard::Write,
    /// });
    /// assert!(err.is_object_in_use());
    /// assert_eq!(
    ///     err.to_string(),
    ///     "cannot flush: User(id=7) is borrowed by a write() guard; drop the guard first"
    /// );
    /// ```
    #[error(
        "cannot {operation}: {model}({key}) is borrowed by a {guard} guard; drop the guard first"
    )]
    ObjectInUse {
        /// The session operation that needed the object: `flush`, `commit`, `autoflush` (the
        /// flush before a query), `load`, `refresh`, `expire`, `expire_all`, `expunge`,
        /// `delete`, `merge`, `rollback`, `rollback_nested`, ...
        operation: &'static str,
        /// The object's model.
        model: &'static str,
        /// Its primary key, as `column=value` pairs (`id=7`), or `new` for an object not
        /// inserted yet.
        key: String,
        /// The guard that holds it.
        guard: HeldGuard,
    },
    /// A lock could not be taken in time: `lock_timeout` expired, or `NOWAIT` found it held
    /// (SQLSTATE 55P03).
    #[error("lock not available: {0}")]
    LockTimeout(Box<DbError>),
    /// The table referenced does not exist (SQLSTATE 42P01).
    #[error("undefined table: {0}")]
    UndefinedTable(Box<DbError>),
    /// A value was out of range or invalid for its type on the server (SQLSTATE class 22).
    #[error("invalid data: {0}")]
    DataException(Box<DbError>),
    /// Any other error reported by the server.
    #[error("database error: {0}")]
    Database(Box<DbError>),
    /// An identifier (table, column, schema, constraint name) cannot be used.
    #[error("invalid identifier {name:?}: {reason}")]
    InvalidIdentifier {
        /// The identifier as given.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A statement was built in a way that cannot be compiled (e.g. an `UPDATE` with no `SET`).
    #[error("invalid statement: {0}")]
    InvalidStatement(String),
    /// A `NOTIFY` payload the server would refuse, caught before sending: PostgreSQL takes
    /// payloads shorter than 8000 bytes, without NUL characters.
    #[error("invalid notification payload ({len} bytes): {reason}")]
    InvalidPayload {
        /// The payload's length in bytes (UTF-8).
        len: usize,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A read-your-writes token (`WriteToken`'s text: `<lsn>@<unix ms>`, e.g.
    /// `0/16B3748@1764880000000`) that does not parse: a cookie or header tampered with or
    /// cut short.
    #[error("invalid write token: {reason}")]
    InvalidWriteToken {
        /// What was wrong with it.
        reason: &'static str,
    },
    /// The transaction or connection is not in a state that allows this call.
    #[error("invalid transaction state: {0}")]
    TransactionState(String),
    /// A relationship, or a deferred column (`#[model(deferred)]`), was read before it was
    /// loaded. Neither loads itself: for a relationship choose a loading strategy in the query
    /// (`.load(User::orders.selectin())`) or load it explicitly (`Executor::load`); for a
    /// deferred column undefer it in the query (`.undefer(User::bio)`) or load it explicitly
    /// (`load_deferred`).
    #[error(
        "`{model}.{relationship}` is not loaded; for a relationship load it in the query (e.g. `.load({model}::{relationship}.selectin())`) or with `Executor::load`, for a deferred column undefer it (`.undefer({model}::{relationship})`) or call `load_deferred`"
    )]
    NotLoaded {
        /// The model owning the field.
        model: &'static str,
        /// The relationship's or deferred column's field.
        relationship: &'static str,
    },
    /// An `UPDATE` or `DELETE` of the session's flush matched fewer rows than objects: another
    /// writer changed or deleted them since they were loaded (the version column no longer
    /// matches), or the rows are gone. Nothing of the flush was kept.
    #[error(
        "stale data: {operation} of {model} expected to match {expected} row(s), matched {actual}; another transaction changed or deleted them"
    )]
    StaleData {
        /// The model.
        model: &'static str,
        /// `UPDATE` or `DELETE`.
        operation: &'static str,
        /// Rows the flush meant to change.
        expected: u64,
        /// Rows the statement matched.
        actual: u64,
    },
    /// An earlier error inside the session's transaction left it unusable: every call but
    /// `rollback` is refused until then, so nothing runs outside the transaction the caller
    /// meant (SQLAlchemy's `PendingRollbackError`).
    #[error(
        "this session's transaction failed and must be rolled back before it is used again; the original error: {message}"
    )]
    PendingRollback {
        /// The original error, as text.
        message: String,
        /// The server's error, when the original error came from the server (so
        /// [`Error::sqlstate`] still tells what happened).
        cause: Option<Box<DbError>>,
    },
    /// A field validator rejected a value, before any SQL ran.
    #[error("invalid value for `{model}.{field}`: {message}")]
    Validation {
        /// The model.
        model: &'static str,
        /// The field.
        field: &'static str,
        /// The validator's message.
        message: String,
    },
    /// An object was used with a session in a way its state does not allow (deleting an object
    /// that is not in the session, reading a relationship the session never loaded, ...).
    #[error("invalid object state: {0}")]
    ObjectState(String),
    /// The driver failed in a way that is neither a server error nor a lost connection (an
    /// unexpected protocol message, a malformed response).
    #[error("database driver error: {0}")]
    Driver(#[source] BoxError),
}

/// The stage of a pool checkout that timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolStage {
    /// Waiting for a free connection.
    Wait,
    /// Opening a new connection.
    Create,
    /// Checking a returned connection before reuse (not produced by this crate's pool,
    /// whose recycle makes no round trip; kept for other pools).
    Recycle,
}

impl fmt::Display for PoolStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PoolStage::Wait => "waiting for a free connection",
            PoolStage::Create => "opening a new connection",
            PoolStage::Recycle => "recycling a connection",
        })
    }
}

/// Which guard of a [`Tracked`](crate::session::Tracked) object is held (see
/// [`ErrorKind::ObjectInUse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldGuard {
    /// A `read()` guard: it blocks what writes the object.
    Read,
    /// A `write()` guard: it blocks what reads or writes the object.
    Write,
}

impl fmt::Display for HeldGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeldGuard::Read => "read()",
            HeldGuard::Write => "write()",
        })
    }
}

/// An error reported by the PostgreSQL server, with the fields of its error message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbError {
    /// The five-character SQLSTATE code, e.g. `23505`.
    pub sqlstate: String,
    /// The primary message.
    pub message: String,
    /// The severity (`ERROR`, `FATAL`, ...).
    pub severity: String,
    /// Optional detail.
    pub detail: Option<String>,
    /// Optional hint.
    pub hint: Option<String>,
    /// The schema of the object involved.
    pub schema: Option<String>,
    /// The table involved.
    pub table: Option<String>,
    /// The column involved.
    pub column: Option<String>,
    /// The constraint involved.
    pub constraint: Option<String>,
    /// The data type involved.
    pub datatype: Option<String>,
}

impl DbError {
    /// A server error with only a code and a message (other fields empty).
    pub fn new(sqlstate: impl Into<String>, message: impl Into<String>) -> Self {
        DbError {
            sqlstate: sqlstate.into(),
            message: message.into(),
            severity: "ERROR".into(),
            ..DbError::default()
        }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (SQLSTATE {})", self.message, self.sqlstate)?;
        if let Some(c) = &self.constraint {
            write!(f, ", constraint {c:?}")?;
        }
        if let Some(t) = &self.table {
            write!(f, ", table {t:?}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column {c:?}")?;
        }
        if let Some(d) = &self.detail {
            write!(f, "; {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DbError {}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Consumes the error, returning its kind.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// Classifies a server error by its SQLSTATE into the matching kind.
    ///
    /// ```
    /// use orm_core::{DbError, Error};
    ///
    /// let err = Error::from_db(DbError::new("23505", "duplicate key value"));
    /// assert!(err.is_unique_violation());
    /// assert_eq!(err.sqlstate(), Some("23505"));
    /// ```
    pub fn from_db(db: DbError) -> Error {
        let db = Box::new(db);
        let kind = match db.sqlstate.as_str() {
            "23505" => ErrorKind::UniqueViolation(db),
            "23503" => ErrorKind::ForeignKeyViolation(db),
            "23502" => ErrorKind::NotNullViolation(db),
            "23514" => ErrorKind::CheckViolation(db),
            "40001" => ErrorKind::SerializationFailure(db),
            "40P01" => ErrorKind::Deadlock(db),
            "57014" => ErrorKind::StatementTimeout(db),
            "55P03" => ErrorKind::LockTimeout(db),
            // The server ended the session: admin shutdown (pg_terminate_backend, a fast
            // shutdown), crash shutdown, or "the database system is starting up / shutting down".
            "57P01" | "57P02" | "57P03" => ErrorKind::ConnectionLost(db),
            "42P01" => ErrorKind::UndefinedTable(db),
            s if s.starts_with("22") => ErrorKind::DataException(db),
            _ => ErrorKind::Database(db),
        };
        Error::from(kind)
    }

    /// The server's error, if the server reported one.
    pub fn db_error(&self) -> Option<&DbError> {
        match self.kind() {
            ErrorKind::UniqueViolation(db)
            | ErrorKind::ForeignKeyViolation(db)
            | ErrorKind::NotNullViolation(db)
            | ErrorKind::CheckViolation(db)
            | ErrorKind::SerializationFailure(db)
            | ErrorKind::Deadlock(db)
            | ErrorKind::StatementTimeout(db)
            | ErrorKind::LockTimeout(db)
            | ErrorKind::UndefinedTable(db)
            | ErrorKind::DataException(db)
            | ErrorKind::Database(db) => Some(db),
            ErrorKind::Connect { db: Some(db), .. } => Some(db),
            ErrorKind::ConnectionLost(source)
            | ErrorKind::TransactionLost(source)
            | ErrorKind::CommitUnknown(source) => source.downcast_ref::<DbError>(),
            // The last attempt's error, when the server answered it.
            ErrorKind::ReconnectFailed { source, .. } => {
                source.downcast_ref::<Error>().and_then(Error::db_error)
            }
            ErrorKind::PendingRollback {
                cause: Some(db), ..
            } => Some(db),
            ErrorKind::Shard(
                ShardError::Unavailable { source, .. } | ShardError::OnShard { source, .. },
            ) => source.db_error(),
            _ => None,
        }
    }

    /// The SQLSTATE of the server's error, if the server reported one.
    pub fn sqlstate(&self) -> Option<&str> {
        self.db_error().map(|db| db.sqlstate.as_str())
    }

    /// The constraint named by the server, for constraint violations.
    pub fn constraint(&self) -> Option<&str> {
        self.db_error().and_then(|db| db.constraint.as_deref())
    }

    /// `true` for a row-count error where no row was found.
    pub fn is_not_found(&self) -> bool {
        matches!(self.root().kind(), ErrorKind::RowCount { actual: 0, .. })
    }

    /// `true` for a unique-constraint violation (SQLSTATE 23505).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self.root().kind(), ErrorKind::UniqueViolation(_))
    }

    /// `true` for a foreign-key violation (SQLSTATE 23503).
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self.root().kind(), ErrorKind::ForeignKeyViolation(_))
    }

    /// `true` when running the same transaction again may succeed: serialization failure
    /// (40001), deadlock (40P01), or a connection lost outside a transaction or inside one
    /// (which the server rolled back). Not [`CommitUnknown`](ErrorKind::CommitUnknown): that
    /// transaction may have committed.
    ///
    /// ```
    /// use orm_core::{DbError, Error};
    ///
    /// assert!(Error::from_db(DbError::new("40001", "could not serialize")).is_retryable());
    /// assert!(!Error::from_db(DbError::new("23505", "duplicate")).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.root().kind(),
            ErrorKind::SerializationFailure(_)
                | ErrorKind::Deadlock(_)
                | ErrorKind::ConnectionLost(_)
                | ErrorKind::TransactionLost(_)
        )
    }

    /// `true` when a time limit ended the statement: `statement_timeout` or a cancel (57014),
    /// `lock_timeout` (55P03), the client-side query timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.root().kind(),
            ErrorKind::StatementTimeout(_)
                | ErrorKind::LockTimeout(_)
                | ErrorKind::QueryTimeout { .. }
        )
    }

    /// `true` when the connection was lost (the commit outcome may be unknown too).
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self.root().kind(),
            ErrorKind::ConnectionLost(_)
                | ErrorKind::TransactionLost(_)
                | ErrorKind::CommitUnknown(_)
        )
    }

    /// A row-count error.
    pub fn row_count(expected: usize, actual: usize) -> Error {
        ErrorKind::RowCount { expected, actual }.into()
    }

    /// A decode error naming the model and column.
    pub fn decode(model: &'static str, column: impl Into<String>, source: BoxError) -> Error {
        ErrorKind::Decode {
            model,
            column: column.into(),
            source,
        }
        .into()
    }

    /// The value that did not fit its Rust type, when this is a decode error for one (a
    /// `NUMERIC` past `Decimal`'s 28 decimals, an infinite date into chrono): what the value was
    /// and what to read it as instead.
    pub fn value_out_of_range(&self) -> Option<&ValueOutOfRange> {
        match self.root().kind() {
            ErrorKind::Decode { source, .. } => source.downcast_ref(),
            _ => None,
        }
    }

    /// An invalid-identifier error.
    pub fn invalid_identifier(name: impl Into<String>, reason: &'static str) -> Error {
        ErrorKind::InvalidIdentifier {
            name: name.into(),
            reason,
        }
        .into()
    }

    /// An invalid-statement error.
    pub fn invalid_statement(message: impl Into<String>) -> Error {
        ErrorKind::InvalidStatement(message.into()).into()
    }

    /// A configuration error.
    pub fn config(message: impl Into<String>, source: Option<BoxError>) -> Error {
        ErrorKind::Config {
            message: message.into(),
            source,
        }
        .into()
    }

    /// An object-state error.
    pub fn object_state(message: impl Into<String>) -> Error {
        ErrorKind::ObjectState(message.into()).into()
    }

    /// A validation error.
    pub fn validation(
        model: &'static str,
        field: &'static str,
        message: impl Into<String>,
    ) -> Error {
        ErrorKind::Validation {
            model,
            field,
            message: message.into(),
        }
        .into()
    }

    /// `true` for [`ErrorKind::StaleData`].
    pub fn is_stale_data(&self) -> bool {
        matches!(self.root().kind(), ErrorKind::StaleData { .. })
    }

    /// `true` for [`ErrorKind::PendingRollback`].
    pub fn is_pending_rollback(&self) -> bool {
        matches!(self.root().kind(), ErrorKind::PendingRollback { .. })
    }

    /// `true` for [`ErrorKind::ObjectInUse`]: a guard held on an object stopped a session
    /// operation (nothing was changed; drop the guard and call again).
    pub fn is_object_in_use(&self) -> bool {
        matches!(self.root().kind(), ErrorKind::ObjectInUse { .. })
    }

    /// `true` for [`ErrorKind::Validation`].
    pub fn is_validation(&self) -> bool {
        matches!(self.root().kind(), ErrorKind::Validation { .. })
    }

    /// A transaction-state error.
    pub fn transaction_state(message: impl Into<String>) -> Error {
        ErrorKind::TransactionState(message.into()).into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error(Box::new(kind))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn a_failed_reconnect_keeps_the_servers_reason() {
        let last = Error::from_db(DbError::new("57P03", "the database system is starting up"));
        let e = Error::from(ErrorKind::ReconnectFailed {
            attempts: 3,
            source: Box::new(last),
        });
        assert_eq!(e.sqlstate(), Some("57P03"));
        assert!(
            e.to_string()
                .starts_with("the connection was lost and 3 attempt(s)")
        );
    }

    #[test]
    fn sqlstates_map_to_kinds() {
        let cases = [
            ("23505", "unique"),
            ("23503", "fk"),
            ("23502", "notnull"),
            ("23514", "check"),
            ("40001", "serial"),
            ("40P01", "deadlock"),
            ("57014", "timeout"),
            ("55P03", "lock"),
            ("57P01", "lost"),
            ("57P02", "lost"),
            ("57P03", "lost"),
            ("42P01", "table"),
            ("22003", "data"),
            ("42601", "db"),
        ];
        for (code, want) in cases {
            let e = Error::from_db(DbError::new(code, "m"));
            let got = match e.kind() {
                ErrorKind::UniqueViolation(_) => "unique",
                ErrorKind::ForeignKeyViolation(_) => "fk",
                ErrorKind::NotNullViolation(_) => "notnull",
                ErrorKind::CheckViolation(_) => "check",
                ErrorKind::SerializationFailure(_) => "serial",
                ErrorKind::Deadlock(_) => "deadlock",
                ErrorKind::StatementTimeout(_) => "timeout",
                ErrorKind::LockTimeout(_) => "lock",
                ErrorKind::ConnectionLost(_) => "lost",
                ErrorKind::UndefinedTable(_) => "table",
                ErrorKind::DataException(_) => "data",
                ErrorKind::Database(_) => "db",
                _ => "other",
            };
            assert_eq!(got, want, "{code}");
            assert_eq!(e.sqlstate(), Some(code));
        }
    }
}
