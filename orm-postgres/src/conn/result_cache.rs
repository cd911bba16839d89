//! The result cache's bookkeeping on a [`Conn`]: which tables the statements write, and
//! when they commit.

use std::sync::atomic::Ordering;

use deadpool_postgres::tokio_postgres;
use futures_util::{StreamExt, pin_mut};

use super::{Conn, Settings};
use crate::{CompiledQuery, Result};

/// The result cache's bookkeeping: which tables the statements write, and when they commit.
impl Conn {
    /// The database's settings.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Records the tables a statement being sent writes.
    pub(super) fn note_sent(&self, sql: &str) {
        if self.settings.cache.is_some() {
            let w = crate::cache::written(sql);
            if !w.is_empty() {
                self.tx().written.merge(w);
            }
        }
    }

    /// A statement finished: outside a transaction, what it wrote is committed.
    pub(super) fn note_done(&self) {
        let Some(store) = &self.settings.cache else {
            return;
        };
        let written = {
            let mut tx = self.tx();
            if tx.open || tx.written.is_empty() {
                return;
            }
            let w = std::mem::take(&mut tx.written);
            if store.remote.is_some() {
                tx.unpublished.merge(w.clone());
            }
            w
        };
        store.invalidate(&written);
    }

    /// Tells other processes what statements outside a transaction wrote (best effort: a
    /// failure is logged, and their caches rely on the time to live). Bounded by the query
    /// timeout like any statement: a server that answered the write and then stopped
    /// answering gives the connection up (closed, with a cancel request) instead of holding
    /// the caller, whose write did succeed.
    pub(super) async fn publish_unpublished(&self) {
        let Some(remote) = self.settings.cache.as_ref().and_then(|s| s.remote.as_ref()) else {
            return;
        };
        let written = {
            let mut tx = self.tx();
            if tx.open || tx.unpublished.is_empty() {
                return;
            }
            std::mem::take(&mut tx.unpublished)
        };
        let Ok(obj) = self.obj() else { return };
        let publish = remote.publish(&written);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
            [&publish.channel, &publish.payload];
        let send = obj.execute("SELECT pg_notify($1, $2)", &params);
        let sent = match self.query_timeout {
            Some(limit) => match tokio::time::timeout(limit, send).await {
                Ok(sent) => sent,
                Err(_) => {
                    // Still in flight: the connection is discarded, not reused.
                    let e = self.abandon(limit);
                    tracing::warn!(error = %e, "result cache: cannot announce the tables written");
                    return;
                }
            },
            None => send.await,
        };
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        if let Err(e) = sent {
            tracing::warn!(error = %e, "result cache: cannot announce the tables written");
        }
    }

    /// The notification announcing what the open transaction wrote, sent just before
    /// `COMMIT`.
    pub(super) fn publish_at_commit(&self) -> Option<crate::cache::Publish> {
        let remote = self.settings.cache.as_ref()?.remote.as_ref()?;
        let tx = self.tx();
        (!tx.written.is_empty()).then(|| remote.publish(&tx.written))
    }

    /// Whether a result depending on `deps` may be served and stored here: outside a
    /// transaction, or inside one that wrote none of them, and (unless `in_snapshot`) not in a
    /// repeatable-read or serializable one.
    pub(crate) fn cache_allows(&self, deps: &[Box<str>], in_snapshot: bool) -> bool {
        let tx = self.tx();
        if !tx.open {
            return true;
        }
        if tx.snapshot && !in_snapshot {
            return false;
        }
        !tx.written.touches(deps.iter().map(|d| &**d))
    }

    /// Runs a statement and keeps its rows as they came (for the result cache).
    pub(crate) async fn fetch_rows(&self, q: &CompiledQuery) -> Result<Vec<tokio_postgres::Row>> {
        let fut = async {
            let rows = self.query_stream(q).await?;
            pin_mut!(rows);
            let mut out = Vec::new();
            while let Some(row) = rows.next().await {
                out.push(row.map_err(|e| self.pg_error(e))?);
            }
            Ok(out)
        };
        self.tracked(&q.sql, std::pin::pin!(fut), |v: &Vec<_>| {
            Some(v.len() as u64)
        })
        .await
    }
}
