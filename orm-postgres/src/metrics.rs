//! Pool metrics: what a database's pool holds now ([`PoolStatus`]) and what happened to its
//! connections since the database was built ([`PoolMetrics`]), counted where it happens — the
//! checkout, the connection's IO task, the check of an idle connection before reuse, the
//! decision to close a connection instead of reusing it.
//!
//! With the `metrics` feature every count is also published through the [`metrics`] facade
//! (see [`Database::metrics`](crate::Database::metrics) for the names), to whatever recorder
//! the application installed (Prometheus, StatsD, ...).
//!
//! [`metrics`]: https://docs.rs/metrics

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use deadpool_postgres::{ClientWrapper, Hook, HookError};

/// How many connections a database's pool holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Connections open now (idle or in use).
    pub size: usize,
    /// Idle connections ready for use.
    pub available: usize,
    /// Connections checked out now (`size - available`).
    pub in_use: usize,
    /// Calls waiting for a free connection now.
    pub waiting: usize,
}

impl From<deadpool_postgres::Status> for PoolStatus {
    fn from(s: deadpool_postgres::Status) -> PoolStatus {
        PoolStatus {
            max_size: s.max_size,
            size: s.size,
            available: s.available,
            in_use: s.size.saturating_sub(s.available),
            waiting: s.waiting,
        }
    }
}

/// A snapshot of a database's pool: what it holds now and what happened to its connections
/// since the database was built ([`Database::metrics`](crate::Database::metrics)). The counters
/// only grow; compare two snapshots to see what an operation did.
///
/// Connections a [`Listener`](crate::Listener) opens for itself are not the pool's and are
/// not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolMetrics {
    /// The result cache's counters (zeros without one; feature `cache`).
    pub cache: CacheMetrics,
    /// What the pool holds now.
    pub status: PoolStatus,
    /// Connections handed out (every statement run on the database, every transaction, every
    /// held connection or lock takes one).
    pub checkouts: u64,
    /// Calls that waited for a free connection longer than the wait timeout
    /// ([`PoolTimeout`](crate::ErrorKind::PoolTimeout)).
    pub wait_timeouts: u64,
    /// Connections opened.
    pub opened: u64,
    /// Attempts to open a connection that failed (server unreachable, refused, a bad
    /// password); each host tried counts once per attempt that tried them all.
    pub connect_errors: u64,
    /// Connections whose IO ended, whoever ended it (the pool, the server, the network).
    /// `opened - closed` connections are alive.
    pub closed: u64,
    /// Connections closed instead of being reused, by reason.
    pub discarded: Discarded,
}

/// What a database's result cache did since it was built
/// ([`DatabaseBuilder::result_cache`](crate::DatabaseBuilder), feature `cache`), and what it
/// holds now. With the `metrics` feature the counters are published as `db.cache.hits`,
/// `db.cache.misses`, `db.cache.invalidations`, `db.cache.evictions` and
/// `db.cache.expirations`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheMetrics {
    /// Results served from memory.
    pub hits: u64,
    /// Cached statements that ran (nothing stored, or stored but stale or expired).
    pub misses: u64,
    /// Results dropped because a commit wrote a table they read (counted when next asked
    /// for: an invalidation itself costs one map write, whatever the number of results).
    pub invalidations: u64,
    /// Results evicted to keep within the entry and byte bounds.
    pub evictions: u64,
    /// Results removed when their time to live passed.
    pub expirations: u64,
    /// Results held now.
    pub entries: u64,
    /// Bytes held now (each result weighs at least `max_bytes / max_entries`, which is how
    /// one bound keeps both).
    pub bytes: u64,
}

/// Why connections were closed instead of going back to the pool (see [`PoolMetrics`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discarded {
    /// The connection broke while in use: the network failed or the server ended the session
    /// (`pg_terminate_backend`, a restart).
    pub lost: u64,
    /// Found closed when taken from the pool: it died while idle.
    pub broken: u64,
    /// Abandoned after the client-side [query
    /// timeout](crate::DatabaseBuilder::query_timeout).
    pub timed_out: u64,
    /// Given back with a statement in flight or a transaction open (a future or a transaction
    /// dropped before it finished).
    pub unclean: u64,
    /// Closed because its holder asked: [`Connection::close_on_drop`](crate::Connection::close_on_drop),
    /// an [`AdvisoryLock`](crate::AdvisoryLock) dropped while held.
    pub requested: u64,
}

/// Why one connection is closed instead of reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Discard {
    Lost,
    TimedOut,
    Unclean,
    Requested,
}

/// The counters of one database, shared by its pool's connector, its connections and its
/// handles.
#[derive(Debug, Default)]
pub(crate) struct PoolCounters {
    checkouts: AtomicU64,
    wait_timeouts: AtomicU64,
    opened: AtomicU64,
    connect_errors: AtomicU64,
    closed: AtomicU64,
    lost: AtomicU64,
    broken: AtomicU64,
    timed_out: AtomicU64,
    unclean: AtomicU64,
    requested: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl PoolCounters {
    /// A connection was handed out; `status` is the pool's after it.
    pub(crate) fn checked_out(&self, status: impl FnOnce() -> PoolStatus) {
        bump(&self.checkouts);
        facade::counter("db.pool.checkouts");
        facade::gauges(status);
    }

    /// A call gave up waiting for a free connection.
    pub(crate) fn wait_timed_out(&self, status: impl FnOnce() -> PoolStatus) {
        bump(&self.wait_timeouts);
        facade::counter("db.pool.wait_timeouts");
        facade::gauges(status);
    }

    /// A connection was opened for the pool.
    pub(crate) fn opened(&self) {
        bump(&self.opened);
        facade::counter("db.pool.connections.opened");
    }

    /// Opening a connection for the pool failed.
    pub(crate) fn connect_failed(&self) {
        bump(&self.connect_errors);
        facade::counter("db.pool.connections.errors");
    }

    /// A pool connection's IO ended.
    pub(crate) fn closed(&self) {
        bump(&self.closed);
        facade::counter("db.pool.connections.closed");
    }

    /// A connection is closed instead of reused.
    pub(crate) fn discarded(&self, why: Discard) {
        let (counter, reason) = match why {
            Discard::Lost => (&self.lost, "lost"),
            Discard::TimedOut => (&self.timed_out, "timed_out"),
            Discard::Unclean => (&self.unclean, "unclean"),
            Discard::Requested => (&self.requested, "requested"),
        };
        bump(counter);
        facade::discarded(reason);
    }

    /// Whether an idle connection about to be handed out (by the pool, or from the hot slot)
    /// was closed by the server or the network while it sat idle: counted as broken.
    pub(crate) fn closed_while_idle(
        &self,
        client: &deadpool_postgres::tokio_postgres::Client,
    ) -> bool {
        let closed = client.is_closed();
        if closed {
            bump(&self.broken);
            facade::discarded("broken");
        }
        closed
    }

    /// The counters with the pool's `status`.
    pub(crate) fn snapshot(&self, status: PoolStatus) -> PoolMetrics {
        PoolMetrics {
            cache: CacheMetrics::default(),
            status,
            checkouts: read(&self.checkouts),
            wait_timeouts: read(&self.wait_timeouts),
            opened: read(&self.opened),
            connect_errors: read(&self.connect_errors),
            closed: read(&self.closed),
            discarded: Discarded {
                lost: read(&self.lost),
                broken: read(&self.broken),
                timed_out: read(&self.timed_out),
                unclean: read(&self.unclean),
                requested: read(&self.requested),
            },
        }
    }
}

/// The pool's check of an idle connection before it is handed out again: one whose IO has
/// ended (the server or the network closed it while it sat idle) is counted as broken and
/// dropped, and the pool takes another or opens one. (The pool's own recycle check would drop
/// it too, uncounted.)
pub(crate) fn broken_check(counters: Arc<PoolCounters>) -> Hook {
    Hook::sync_fn(move |client: &mut ClientWrapper, _| {
        if counters.closed_while_idle(client) {
            return Err(HookError::message("the connection was closed while idle"));
        }
        Ok(())
    })
}

/// Publishes the pool's gauges (with the `metrics` feature), `status` read only then.
#[cfg(feature = "metrics")]
pub(crate) fn publish_gauges(status: impl FnOnce() -> PoolStatus) {
    facade::gauges(status);
}

/// The `metrics` facade, when the feature is on.
/// Counts one event of `name` through the `metrics` facade (with the feature).
#[cfg_attr(not(feature = "cache"), allow(dead_code))]
pub(crate) fn count(name: &'static str) {
    facade::counter(name);
}

#[cfg(feature = "metrics")]
mod facade {
    use super::PoolStatus;

    pub(super) fn counter(name: &'static str) {
        metrics::counter!(name).increment(1);
    }

    pub(super) fn discarded(reason: &'static str) {
        metrics::counter!("db.pool.connections.discarded", "reason" => reason).increment(1);
    }

    /// Reads the status (a lock of the pool) only with the feature on.
    pub(super) fn gauges(status: impl FnOnce() -> PoolStatus) {
        let s = status();
        metrics::gauge!("db.pool.max").set(s.max_size as f64);
        metrics::gauge!("db.pool.size").set(s.size as f64);
        metrics::gauge!("db.pool.idle").set(s.available as f64);
        metrics::gauge!("db.pool.in_use").set(s.in_use as f64);
        metrics::gauge!("db.pool.waiting").set(s.waiting as f64);
    }
}

/// Without the `metrics` feature: nothing is published, and the status is never read.
#[cfg(not(feature = "metrics"))]
mod facade {
    use super::PoolStatus;

    pub(super) fn counter(_: &'static str) {}

    pub(super) fn discarded(_: &'static str) {}

    pub(super) fn gauges(_: impl FnOnce() -> PoolStatus) {}
}
