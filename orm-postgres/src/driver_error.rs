//! Converting the driver's and the pool's errors into [`Error`] at the crate boundary.

use std::error::Error as _;
use std::fmt;

use deadpool_postgres::PoolError;
use deadpool_postgres::{TimeoutType, tokio_postgres};

use crate::connect_failure::{self, ConnectAttempt, Failed, Failures};
use crate::{BoxError, DbError, Error, ErrorKind, PoolStage};

/// A statement parameter that could not be encoded for the server's type, raised by
/// [`DomainParam`](crate::pg_row::DomainParam) so that [`from_pg`] knows the failure by its type.
#[derive(Debug)]
pub(crate) struct ParamEncodeError {
    /// 0-based position of the parameter in its statement.
    pub(crate) index: usize,
    /// Why the value could not be encoded.
    pub(crate) source: BoxError,
}

impl fmt::Display for ParamEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot encode parameter ${}", self.index + 1)
    }
}

impl std::error::Error for ParamEncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// The fields of a server error message.
fn db_info(db: &tokio_postgres::error::DbError) -> DbError {
    let mut info = DbError::new(db.code().code(), db.message());
    info.severity = db.severity().to_owned();
    info.detail = db.detail().map(str::to_owned);
    info.hint = db.hint().map(str::to_owned);
    info.schema = db.schema().map(str::to_owned);
    info.table = db.table().map(str::to_owned);
    info.column = db.column().map(str::to_owned);
    info.constraint = db.constraint().map(str::to_owned);
    info.datatype = db.datatype().map(str::to_owned);
    info
}

/// Whether the error means the connection itself failed (not the statement): the socket
/// closed or failed, or the server ended the session (57P01 admin shutdown, 57P02 crash
/// shutdown, 57P03 cannot connect now).
pub(crate) fn is_connection_error(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        return ends_session(db);
    }
    let mut source = e.source();
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Whether a server error ended the session: a `FATAL` or `PANIC` (the idle-in-transaction
/// or idle-session timeout, 25P03 / 57P05, among them), or one of the shutdown codes.
///
/// pgbouncer sends only the localized severity (no `V` field), e.g. `FATAL` with 08P01
/// "database removed" when it drops a client, so that one is read when the other is missing.
fn ends_session(db: &tokio_postgres::error::DbError) -> bool {
    use tokio_postgres::error::Severity;
    let fatal = match db.parsed_severity() {
        Some(severity) => matches!(severity, Severity::Fatal | Severity::Panic),
        None => matches!(db.severity(), "FATAL" | "PANIC"),
    };
    fatal || matches!(db.code().code(), "57P01" | "57P02" | "57P03")
}

/// Classifies a driver error raised while running a statement.
pub(crate) fn from_pg(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        if ends_session(db) {
            // The server's message stays the source, so `sqlstate()` tells why.
            return ErrorKind::ConnectionLost(Box::new(db_info(db))).into();
        }
        return Error::from_db(db_info(db));
    }
    if is_connection_error(&e) {
        return ErrorKind::ConnectionLost(Box::new(e)).into();
    }
    // A parameter that did not fit the server's type: `DomainParam` raised a `ParamEncodeError`,
    // which the driver hands back as the error's source.
    if e.source().is_some_and(|s| s.is::<ParamEncodeError>()) {
        let source = e
            .into_source()
            .unwrap_or_else(|| "the driver dropped the parameter's error".into());
        return match source.downcast::<ParamEncodeError>() {
            Ok(failed) => ErrorKind::Encode {
                index: failed.index + 1,
                source: failed.source,
            }
            .into(),
            Err(other) => ErrorKind::Driver(other).into(),
        };
    }
    ErrorKind::Driver(Box::new(e)).into()
}

/// Classifies an error raised while opening a connection. A failed TLS handshake becomes a
/// [`TlsError`](crate::TlsError) source.
pub(crate) fn from_connect(e: tokio_postgres::Error) -> Error {
    let (message, db, source) = connect_parts(e, false);
    ErrorKind::Connect {
        message,
        db,
        source: Some(source),
    }
    .into()
}

/// What a connect error says: its message (the whole of the driver's, with its causes, or the
/// server's, or the TLS failure's), the server's error, and its source (the [`TlsError`] for a
/// failed handshake, else the driver's error). With `reason_only` (the message follows the
/// attempt's place), it starts at the cause of the driver's error, without the driver's "error
/// connecting to server" that the place says.
///
/// [`TlsError`]: crate::TlsError
fn connect_parts(
    e: tokio_postgres::Error,
    reason_only: bool,
) -> (String, Option<Box<DbError>>, BoxError) {
    #[cfg(feature = "tls")]
    if let Some(tls) = crate::TlsError::classify(&e) {
        return (tls.to_string(), None, Box::new(tls));
    }
    let db = e.as_db_error().map(|db| Box::new(db_info(db)));
    let message = match &db {
        Some(db) => db.to_string(),
        None => {
            let first: &(dyn std::error::Error + 'static) = match (reason_only, e.source()) {
                (true, Some(cause)) => cause,
                _ => &e,
            };
            let mut msg = first.to_string();
            let mut source = first.source();
            while let Some(s) = source {
                // The driver's message already ends with its direct cause.
                let text = s.to_string();
                if !msg.ends_with(&text) {
                    msg.push_str(": ");
                    msg.push_str(&text);
                }
                source = s.source();
            }
            msg
        }
    };
    (message, db, Box::new(e))
}

/// One failed attempt of a connect, classified: its reason, and its own error, whose message
/// is the attempt's line.
pub(crate) fn attempt(failed: Failed) -> ConnectAttempt {
    let Failed {
        place,
        error,
        timeout,
    } = failed;
    let (mut reason, db, source) = connect_parts(error, true);
    if let Some(timeout) = timeout {
        reason = timeout.to_string();
    }
    let line = ConnectAttempt::line(&place, &reason);
    let error = ErrorKind::Connect {
        message: line,
        db,
        source: Some(source),
    }
    .into();
    ConnectAttempt::new(place, reason, timeout.is_some(), error)
}

/// The error of a connect whose every attempt failed (see [`ConnectFailure`]).
///
/// [`ConnectFailure`]: crate::ConnectFailure
pub(crate) fn from_failures(failures: Failures) -> Error {
    let mut attempts: Vec<ConnectAttempt> = failures.earlier.into_iter().map(attempt).collect();
    attempts.push(attempt(failures.last));
    connect_failure::error(attempts)
}

/// Classifies a pool checkout error.
pub(crate) fn from_pool(e: PoolError) -> Error {
    match e {
        PoolError::Timeout(t) => ErrorKind::PoolTimeout(match t {
            TimeoutType::Wait => PoolStage::Wait,
            TimeoutType::Create => PoolStage::Create,
            TimeoutType::Recycle => PoolStage::Recycle,
        })
        .into(),
        // A connection the pool's connector failed to open: with the attempts it left before
        // returning the last one's error to the pool (see `connect_failure::stash`).
        PoolError::Backend(e) => match connect_failure::take(&e) {
            Some(pending) => {
                let mut attempts = pending.earlier;
                attempts.push(attempt(Failed {
                    place: pending.last,
                    error: e,
                    timeout: pending.timeout,
                }));
                connect_failure::error(attempts)
            }
            None => from_connect(e),
        },
        PoolError::Closed => Error::transaction_state("the connection pool is closed"),
        other => ErrorKind::Connect {
            message: other.to_string(),
            db: None,
            source: Some(Box::new(other)),
        }
        .into(),
    }
}
