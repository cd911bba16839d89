//! One session per request: the [`transactional`] middleware opens it, the [`DbSession`]
//! extractor hands it to the handler, and when the handler has answered the middleware
//! commits (a 2xx or 3xx answer) or rolls back (anything else).
//!
//! ```text
//! request ──► transactional ──► handler(DbSession, ..) ──► response
//!               │ session = db.session_with(options)         │
//!               │◄───────────────────────────────────────────┘
//!               │ 2xx/3xx: commit (a failing commit becomes the error's answer)
//!               │ else:    rollback
//!               └ a serialization failure or deadlock (in the handler or at commit):
//!                 the whole request again, in a new session, up to `attempts` times
//! ```
//!
//! The request body is read once, up to [`MAX_BODY`] bytes within [`BODY_TIMEOUT`], so that a
//! request can run again.
//! The handler borrows the session through a lock it gives back when it returns; it may hold
//! the session across `.await`s (a `Session` is `Send`), but never a `Tracked` guard.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use orm_postgres::{Database, Session, SessionOptions};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::error::{ApiError, Retryable};

/// The largest request body the service reads, in bytes.
pub const MAX_BODY: usize = 1 << 20;

/// The longest the service waits for a request body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the [`transactional`] middleware needs: the pool, the sessions' options and how many
/// times a request may run.
#[derive(Debug, Clone)]
pub struct Transactional {
    /// The pool.
    pub db: Database,
    /// Each request's session options (the service uses `REPEATABLE READ`, so a concurrent
    /// update of a row the request read is a serialization failure, not a lost update).
    pub options: SessionOptions,
    /// Runs of one request in all (at least 1).
    pub attempts: u32,
    /// How many times a request was run again, for all requests (for tests and metrics).
    pub reruns: Arc<AtomicU64>,
}

/// The request's session, in the request's extensions while the handler runs.
#[derive(Clone)]
struct SessionSlot(Arc<Mutex<Session>>);

/// The request's session, for a handler: `async fn h(mut s: DbSession, ..)`, then
/// `s.add(..)`, `s.get::<User>(id).await?`, ... Dereferences to [`Session`].
pub struct DbSession(OwnedMutexGuard<Session>);

impl std::ops::Deref for DbSession {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

impl std::ops::DerefMut for DbSession {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for DbSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(SessionSlot(slot)) = parts.extensions.get::<SessionSlot>().cloned() else {
            tracing::error!("DbSession used on a route without the transactional layer");
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        // Never waits: a second DbSession in one handler is a programming error, not a
        // deadlock.
        slot.try_lock_owned().map(DbSession).map_err(|_| {
            tracing::error!("the request's session is already taken");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        })
    }
}

/// The middleware: runs the rest of the stack in a session of its own and commits or rolls
/// back by the answer; runs the request again after a serialization failure or deadlock.
/// Install it with `axum::middleware::from_fn_with_state(transactional_state, transactional)`.
pub async fn transactional(
    State(config): State<Transactional>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await
    {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return ApiError::Body {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                message: format!("the request body is over {MAX_BODY} bytes or unreadable"),
            }
            .into_response();
        }
        Err(_) => {
            return ApiError::Body {
                status: StatusCode::REQUEST_TIMEOUT,
                message: format!("the request body took over {BODY_TIMEOUT:?}"),
            }
            .into_response();
        }
    };
    let mut attempt = 1;
    loop {
        let slot = Arc::new(Mutex::new(config.db.session_with(config.options)));
        let mut request = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        request.extensions_mut().insert(SessionSlot(slot.clone()));
        let response = next.clone().run(request).await;
        let response = finish(&slot, response).await;
        if response.extensions().get::<Retryable>().is_none() || attempt >= config.attempts {
            return response;
        }
        tracing::debug!(attempt, "serialization failure: running the request again");
        config.reruns.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// Commits or rolls back the request's session by the handler's answer.
async fn finish(slot: &Mutex<Session>, response: Response) -> Response {
    // The handler has returned, so nobody holds the session, unless the handler moved it into
    // a task of its own: then it is rolled back when that task drops it.
    let Ok(mut session) = slot.try_lock() else {
        tracing::error!("the request's session outlived its handler");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        match session.commit().await {
            Ok(()) => response,
            Err(e) => {
                let _ = session.rollback().await;
                ApiError::from(e).into_response()
            }
        }
    } else {
        if let Err(e) = session.rollback().await {
            // The connection is closed instead of going back to the pool: nothing leaks.
            tracing::warn!(error = %e, "rollback failed");
        }
        response
    }
}

/// The wait before run `attempt + 1`: 5 ms doubling, at most 160 ms, plus up to half of it
/// again so that contending requests spread apart.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(5) * (1u32 << attempt.min(5));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base + base.mul_f64(f64::from(nanos % 1000) / 2000.0)
}
