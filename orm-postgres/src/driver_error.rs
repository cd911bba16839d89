//! Converting the driver's and the pool's errors into [`Error`] at the crate boundary.

use std::error::Error as _;

use deadpool_postgres::PoolError;
use deadpool_postgres::{TimeoutType, tokio_postgres};

use crate::{DbError, Error, ErrorKind, PoolStage};

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

/// Whether the error means the connection itself failed (not the statement).
pub(crate) fn is_connection_error(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
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

/// Classifies a driver error raised while running a statement.
pub(crate) fn from_pg(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        return Error::from_db(db_info(db));
    }
    if is_connection_error(&e) {
        return ErrorKind::ConnectionLost(Box::new(e)).into();
    }
    // `error serializing parameter N` (0-based): the value did not fit the server's type.
    let text = e.to_string();
    if let Some(n) = text.strip_prefix("error serializing parameter ") {
        if let Ok(idx) = n.trim().parse::<usize>() {
            let source = e
                .into_source()
                .unwrap_or_else(|| "the value does not fit the parameter's type".into());
            return ErrorKind::Encode {
                index: idx + 1,
                source,
            }
            .into();
        }
    }
    ErrorKind::Driver(Box::new(e)).into()
}

/// Classifies an error raised while opening a connection.
pub(crate) fn from_connect(e: tokio_postgres::Error) -> Error {
    let db = e.as_db_error().map(|db| Box::new(db_info(db)));
    let message = match &db {
        Some(db) => db.to_string(),
        None => {
            let mut msg = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                source = s.source();
            }
            msg
        }
    };
    ErrorKind::Connect {
        message,
        db,
        source: Some(Box::new(e)),
    }
    .into()
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
        PoolError::Backend(e) => from_connect(e),
        PoolError::Closed => Error::transaction_state("the connection pool is closed"),
        other => ErrorKind::Connect {
            message: other.to_string(),
            db: None,
            source: Some(Box::new(other)),
        }
        .into(),
    }
}
