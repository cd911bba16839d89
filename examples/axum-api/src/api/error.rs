//! The service's errors and their HTTP answers.
//!
//! | error | status | body `error` |
//! |---|---|---|
//! | bad input: a body, path or query that does not parse, a validator's rejection | 422 | `invalid` (with `field`) |
//! | a unique violation | 409 | `conflict` (with `field`) |
//! | no such row, or one the caller may not see | 404 | `not_found` |
//! | no known account in `x-account-id` | 401 | `unauthenticated` |
//! | an action the caller's role may not do on a row it sees | 403 | `forbidden` |
//! | a serialization failure or deadlock, still failing after the retries | 503 | `busy` |
//! | a request body over 1 MiB, or not sent within 30 seconds | 413, 408 | `bad_body` |
//! | anything else | 500 | `internal` (logged; the body says nothing of SQL or the server) |
//!
//! Every body is JSON: `{"error": "...", "message": "...", "field": "..."}` (`field` only where one
//! is known). A response made from a retryable database error carries [`Retryable`] in its
//! extensions, which tells the [session layer](super::session) to run the request again.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use orm_postgres::{Error, ErrorKind, Table};
use serde::Serialize;

use super::models::TABLES;

/// What went wrong in a handler.
#[derive(Debug)]
pub enum ApiError {
    /// The request is malformed or a value is not acceptable (422).
    Invalid {
        /// The offending field, when one is to blame.
        field: Option<String>,
        /// What is wrong with it.
        message: String,
    },
    /// No such resource (404).
    NotFound {
        /// What was looked for: `user 7`.
        what: String,
    },
    /// The request body could not be read: over the size limit (413) or too slow (408).
    Body {
        /// 413 or 408.
        status: StatusCode,
        /// Why.
        message: String,
    },
    /// The caller did not say who it is, or is no known account (401).
    Unauthenticated,
    /// The caller may see the row but its role may not do this to it (403).
    Forbidden {
        /// The permission it lacks.
        needs: String,
    },
    /// The database refused or failed the work: classified when it is answered.
    Db(Error),
}

/// Marks a response made from a serialization failure or a deadlock: running the request again
/// may succeed.
#[derive(Debug, Clone, Copy)]
pub struct Retryable;

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
struct ErrorBody {
    error: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl ApiError {
    /// A 422 about one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// A 404: `not_found("user", 7)` says `user 7 not found`.
    pub fn not_found(kind: &str, id: i64) -> ApiError {
        ApiError::NotFound {
            what: format!("{kind} {id}"),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError::Db(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Invalid { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorBody {
                    error: "invalid",
                    message,
                    field,
                },
            ),
            ApiError::NotFound { what } => (
                StatusCode::NOT_FOUND,
                ErrorBody {
                    error: "not_found",
                    message: format!("{what} not found"),
                    field: None,
                },
            ),
            ApiError::Body { status, message } => (
                status,
                ErrorBody {
                    error: "bad_body",
                    message,
                    field: None,
                },
            ),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                ErrorBody {
                    error: "unauthenticated",
                    message: "name a known account in the x-account-id header".to_owned(),
                    field: None,
                },
            ),
            ApiError::Forbidden { needs } => (
                StatusCode::FORBIDDEN,
                ErrorBody {
                    error: "forbidden",
                    message: format!("your role lacks the permission {needs}"),
                    field: None,
                },
            ),
            ApiError::Db(e) => return db_error_response(&e),
        };
        (status, Json(body)).into_response()
    }
}

/// The answer to a database error. Classified by kind and SQLSTATE (a pending rollback keeps
/// the SQLSTATE of the error that caused it), never by message text.
fn db_error_response(e: &Error) -> Response {
    if let ErrorKind::Validation { field, message, .. } = e.kind() {
        return ApiError::invalid(*field, message.clone()).into_response();
    }
    let (status, error, message, field) = match e.sqlstate() {
        Some("23505") => {
            let field = unique_field(e);
            let message = match field {
                Some(f) => format!("{f} is already taken"),
                None => "already exists".to_owned(),
            };
            (StatusCode::CONFLICT, "conflict", message, field)
        }
        Some("40001" | "40P01") => (
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the request conflicted with concurrent ones; try again".to_owned(),
            None,
        ),
        _ if e.is_not_found() => (
            StatusCode::NOT_FOUND,
            "not_found",
            "not found".to_owned(),
            None,
        ),
        _ => {
            // The whole error goes to the log, never to the client.
            tracing::error!(error = %e, "request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal server error".to_owned(),
                None,
            )
        }
    };
    let body = ErrorBody {
        error,
        message,
        field: field.map(str::to_owned),
    };
    let mut response = (status, Json(body)).into_response();
    if matches!(e.sqlstate(), Some("40001" | "40P01")) {
        response.extensions_mut().insert(Retryable);
    }
    response
}

/// The model field behind a unique violation. The server names the constraint and the table,
/// not the column; a one-column unique constraint that PostgreSQL named itself is
/// `<table>_<column>_key`, which the tables' metadata resolves.
fn unique_field(e: &Error) -> Option<&'static str> {
    let db = e.db_error()?;
    let constraint = db.constraint.as_deref()?;
    let table: &Table = TABLES
        .iter()
        .find(|t| Some(t.name) == db.table.as_deref())?;
    table
        .columns
        .iter()
        .find(|c| c.unique && constraint == format!("{}_{}_key", table.name, c.name))
        .map(|c| c.field)
}
