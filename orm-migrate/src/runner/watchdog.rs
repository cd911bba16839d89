//! The server's liveness during a run. A run's own statements have no client-side limit
//! unless the run sets `statement_timeout` (an index built `CONCURRENTLY` on a big table may
//! take hours), so a server that stopped answering — frozen, paused, cut off by the network
//! while the kernel still answers keepalives — would hold the run, and the deploy, forever.
//!
//! So while a run waits, every [`Migrator::server_probe`](super::Migrator::server_probe)
//! interval the server is asked, on a connection of its own ([`Database::ping`]: outside the
//! pool, bounded by `connect_timeout` and the query timeout), whether it still answers. A busy
//! server answers and the run goes on waiting; one that does not ends the run with
//! [`MigrateError::Unresponsive`]. The run's future is dropped then, and its connection, made
//! to close when dropped, with it: the server rolls back the revision in progress and releases
//! the migration lock when it sees that.

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use orm_postgres::Database;

use crate::error::{MigrateError, Result};

/// The default interval between checks while a run waits.
pub(crate) const DEFAULT_PROBE: Duration = Duration::from_secs(30);

/// Runs `run`; while it waits, checks every `every` that `db`'s server answers (`None`: never).
pub(crate) async fn watched<T>(
    db: &Database,
    every: Option<Duration>,
    run: impl Future<Output = Result<T>>,
) -> Result<T> {
    let mut run = pin!(run);
    let Some(every) = every.filter(|e| !e.is_zero()) else {
        return run.await;
    };
    let started = Instant::now();
    loop {
        if let Ok(result) = tokio::time::timeout(every, run.as_mut()).await {
            return result;
        }
        // The check runs beside the run, not instead of it: a run that finishes while the
        // server is being asked is not held up by the check.
        let primary = db.on_primary();
        let mut ping = pin!(primary.ping());
        let checked = std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(result) = run.as_mut().poll(cx) {
                return std::task::Poll::Ready(Err(result));
            }
            ping.as_mut().poll(cx).map(Ok)
        })
        .await;
        match checked {
            Err(result) => return result,
            Ok(Ok(_)) => {}
            Ok(Err(source)) => {
                return Err(MigrateError::Unresponsive {
                    waited: started.elapsed(),
                    source,
                });
            }
        }
    }
}
