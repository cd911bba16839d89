//! [`CancelHandle`]: cancelling the statement a connection is running, from another task,
//! through PostgreSQL's cancel protocol.

use std::time::Duration;

use deadpool_postgres::tokio_postgres::CancelToken;

use crate::driver_error::from_connect;
use crate::{ErrorKind, Result, tls};

/// How long a cancel request (of a timed-out statement, or through a [`CancelHandle`]) may
/// take.
pub(crate) const CANCEL_LIMIT: Duration = Duration::from_secs(5);

/// Cancels whatever statement one connection is running, from any task: PostgreSQL's cancel
/// protocol, sent on a new connection to the server (encrypted like the connection's own,
/// with the database's TLS settings). The cancelled statement fails with
/// [`StatementTimeout`](crate::ErrorKind::StatementTimeout) (SQLSTATE 57014); inside a
/// transaction, the transaction then needs a rollback.
///
/// Get one from [`Connection::cancel_handle`](crate::Connection::cancel_handle) or
/// [`Transaction::cancel_handle`](crate::Transaction::cancel_handle). It is cheap to clone and
/// stays valid as long as the connection lives; cancelling when nothing runs does nothing
/// (though a cancel that arrives as the next statement starts cancels that one). Once a handle
/// is taken, the connection's transactions send their `BEGIN` alone rather than with their
/// first statement (a cancel landing on it would leave the statement outside the transaction),
/// and the connection is closed when released, so a handle kept after cancels nothing of the
/// pool's next user.
/// (For a time limit on each statement, see
/// [`DatabaseBuilder::query_timeout`](crate::DatabaseBuilder::query_timeout).)
///
/// ```no_run
/// use std::time::Duration;
/// use orm_postgres::prelude::*;
///
/// # async fn run(db: Database) -> orm_postgres::Result<()> {
/// let conn = db.connection().await?;
/// let cancel = conn.cancel_handle();
/// tokio::spawn(async move {
///     tokio::time::sleep(Duration::from_secs(1)).await;
///     let _ = cancel.cancel().await;
/// });
/// let err = conn.batch_execute("SELECT pg_sleep(60)").await.unwrap_err();
/// assert_eq!(err.sqlstate(), Some("57014"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CancelHandle {
    /// `None` when the connection was already released.
    token: Option<CancelToken>,
    tls: tls::Connector,
}

impl std::fmt::Debug for CancelHandle {
    // The token holds the backend's secret key: never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelHandle").finish_non_exhaustive()
    }
}

impl CancelHandle {
    pub(crate) fn new(token: Option<CancelToken>, tls: tls::Connector) -> CancelHandle {
        CancelHandle { token, tls }
    }

    /// Asks the server to cancel the connection's running statement. Returns once the server
    /// has received the request (the statement itself fails shortly after, in its own task),
    /// or with an error after at most 5 seconds.
    ///
    /// # Errors
    ///
    /// [`Connect`](ErrorKind::Connect) when the server cannot be reached or the request got
    /// no answer in time.
    pub async fn cancel(&self) -> Result<()> {
        let Some(token) = &self.token else {
            return Err(ErrorKind::Connect {
                message: "the connection was already released: nothing to cancel".into(),
                db: None,
                source: None,
            }
            .into());
        };
        match tokio::time::timeout(CANCEL_LIMIT, token.cancel_query(self.tls.clone())).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(from_connect(e)),
            Err(_) => Err(ErrorKind::Connect {
                message: format!("the cancel request got no answer within {CANCEL_LIMIT:?}"),
                db: None,
                source: None,
            }
            .into()),
        }
    }
}
