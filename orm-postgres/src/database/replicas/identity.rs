//! A replica's identity: a streaming replica is a copy of its primary's cluster, so it has the
//! same `system_identifier` (set by `initdb`, kept by `pg_basebackup`). A replica URL that
//! points at another cluster (a typo'd port, a staging server) would otherwise serve another
//! database's data as if it were the primary's. Checked at the first read a replica is offered
//! (and again, while it fails, after each check interval).

use std::time::Duration;

use orm_core::Statement;

use super::ReplicaSet;
use crate::conn::Conn;
use crate::{Database, Result};

/// The cluster's identifier; readable by every role.
const SYSTEM_ID_SQL: &str = "SELECT system_identifier FROM pg_control_system()";

/// What the check found.
pub(super) enum Identity {
    /// The primary's cluster.
    Same,
    /// Not known now (the primary did not answer in time, or a server refused the query):
    /// the replica serves and is checked again at its next read.
    Unknown,
    /// Another cluster, or no answer from the replica: the reason it leaves the rotation.
    Other(String),
}

/// The `system_identifier` of `conn`'s server, within `timeout`.
async fn system_id(conn: &Conn, timeout: Duration) -> Option<Result<i64>> {
    let q = orm_core::raw::query::<i64>(SYSTEM_ID_SQL).compile().ok()?;
    match tokio::time::timeout(timeout, conn.fetch_opt::<i64>(&q, true)).await {
        Ok(Ok(Some(id))) => Some(Ok(id)),
        Ok(Ok(None)) => None,
        Ok(Err(e)) => Some(Err(e)),
        Err(_) => None,
    }
}

impl ReplicaSet {
    /// Whether `conn`, a replica's, is a connection to `primary`'s cluster.
    pub(super) async fn identity(&self, conn: &Conn, primary: &Database) -> Identity {
        let timeout = self.settings.check_timeout;
        let Some(primary_id) = self.primary_id(primary, timeout).await else {
            return Identity::Unknown;
        };
        match system_id(conn, timeout).await {
            Some(Ok(id)) if id == primary_id => Identity::Same,
            Some(Ok(id)) => Identity::Other(format!(
                "another cluster than the primary's: system identifier {id}, the primary's {primary_id}"
            )),
            // The server answered with an error (a role without access): nothing is known.
            Some(Err(e)) if e.sqlstate().is_some() => {
                tracing::warn!(error = %e, "cannot check that a replica is the primary's");
                Identity::Unknown
            }
            Some(Err(_)) | None => Identity::Other("the identity check failed or timed out".into()),
        }
    }

    /// The primary's `system_identifier`, read once (`None` while it cannot be read).
    async fn primary_id(&self, primary: &Database, timeout: Duration) -> Option<i64> {
        if let Some(id) = self.primary_id.get() {
            return Some(*id);
        }
        let conn = tokio::time::timeout(timeout, primary.checkout_primary(false))
            .await
            .ok()?
            .ok()?;
        let id = system_id(&conn, timeout).await?.ok()?;
        Some(*self.primary_id.get_or_init(|| id))
    }
}
