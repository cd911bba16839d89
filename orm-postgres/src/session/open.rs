//! Opening sessions on a [`Database`]: [`session`](Database::session),
//! [`session_with`](Database::session_with) and [`retry`](Database::retry). They live with the
//! session, not with the database, so that the session depends on the database and never the
//! other way round (as SQLAlchemy's `Session(engine)` takes the engine).

use super::{RetryPolicy, Session, SessionOptions, is_retryable};
use crate::{Database, Result, Scoped};

impl Database {
    /// A new session with the default options (autoflush, expire on commit).
    pub fn session(&self) -> Session {
        self.session_with(SessionOptions::default())
    }

    /// A new session with options.
    pub fn session_with(&self, options: SessionOptions) -> Session {
        Session::new(self, options)
    }

    /// Runs `f` in a fresh session and commits; when the transaction fails with a
    /// serialization failure (40001), a deadlock (40P01) or a lost connection
    /// ([`ConnectionLost`](crate::ErrorKind::ConnectionLost),
    /// [`TransactionLost`](crate::ErrorKind::TransactionLost): nothing was committed), rolls
    /// back and runs it again in a new session, up to `policy`'s attempts, waiting longer each
    /// time. Any other error is returned at once, [`CommitUnknown`](crate::ErrorKind::CommitUnknown)
    /// included (the commit may have happened).
    ///
    /// `f` may run several times: keep side effects outside the database out of it. It returns
    /// its `async` block as a [`Scoped`] future (`.scoped()`; see [`Database::transaction`]).
    ///
    /// ```no_run
    /// # use orm_postgres::{Database, RetryPolicy, prelude::*};
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let name = "Jane";
    /// let id = db
    ///     .retry(RetryPolicy::attempts(5), |s| {
    ///         async move {
    ///             let user = s.add(User { id: 0, name: name.into(), email: None });
    ///             s.flush().await?;
    ///             let id = user.read().id;
    ///             Ok(id)
    ///         }
    ///         .scoped()
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn retry<'a, T, F>(&self, policy: RetryPolicy, mut f: F) -> Result<T>
    where
        F: for<'c> FnMut(&'c mut Session) -> Scoped<'a, 'c, Result<T>> + 'a,
    {
        let mut attempt = 1;
        loop {
            let mut s = self.session_with(policy.options);
            let outcome = match f(&mut s).await {
                Ok(v) => s.commit().await.map(|()| v),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err(e) if is_retryable(&e) && attempt < policy.attempts => {
                    let _ = s.rollback().await;
                    tokio::time::sleep(policy.delay(attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    let _ = s.rollback().await;
                    return Err(e);
                }
            }
        }
    }
}
