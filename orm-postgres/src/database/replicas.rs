//! Read replicas behind one [`Database`]: which server a call runs on.
//!
//! The replica set of a database, its health (in rotation, down, lagging) and the choice of a
//! replica for a read, with read-your-writes. Which SQL text is a plain read is decided in
//! `classify.rs` (a module of its own, below the executor).
//!
//! Where each decision is made:
//! - the [`Executor`](crate::Executor) methods of a `Database` classify the compiled SQL
//!   (`crate::classify`) and ask for a read connection only for a plain read;
//! - `Database::checkout_read` (in `database/mod.rs`) hands a read to [`ReplicaSet::read`]
//!   unless the handle is pinned to the primary ([`Database::on_primary`]);
//! - every other checkout of a replicated database (writes, transactions, sessions, held
//!   connections, migrations, listeners) is the primary's, and marks a write on the handle's
//!   write mark when its connection goes back, which starts that client's read-your-writes
//!   window (the mark and the token are in `own_writes.rs`).

mod identity;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::own_writes::Lsn;
use crate::conn::{Conn, Watcher};
use crate::{Database, Error, Result};
use orm_core::Statement;

/// Where a client's reads go right after it wrote (Rails' automatic role switching, with the
/// LSN check SQLAlchemy and Rails lack). Set with
/// [`DatabaseBuilder::read_your_writes`](crate::DatabaseBuilder::read_your_writes).
///
/// A write is any call that ran on the primary for other reasons than a read: a statement
/// that is not a plain read, a transaction, a session's transaction, a held connection. Its
/// time is taken when its connection goes back to the pool (after the `COMMIT`).
///
/// The mark is per client: a [`Database`] handle and its clones (and the sessions and
/// transactions opened on them) are one client. The handle the builder returns is one client
/// for all its clones, so by default a write anywhere in the process holds back every read
/// of it; [`Database::with_own_writes`] makes a client of its own (one per request or user
/// session), [`Database::last_write`] and [`Database::reads_after`] carry a client's last
/// write to another process or request as a [`WriteToken`](crate::WriteToken).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadYourWrites {
    /// Reads go to replicas whatever was written: a read right after a write may not see it.
    Off,
    /// For this long after a write, reads go to the primary.
    Primary(Duration),
    /// For this long after a write, a read goes to a replica only when it has replayed the
    /// primary's WAL up to where it stood after the write (`pg_last_wal_replay_lsn()` against
    /// `pg_current_wal_insert_lsn()`), otherwise to the primary. Costs one query on the
    /// primary per write (by the first read after it) and one on the replica per read within
    /// the window.
    Lsn(Duration),
}

impl Default for ReadYourWrites {
    /// [`Lsn`](ReadYourWrites::Lsn) for 5 seconds.
    fn default() -> Self {
        ReadYourWrites::Lsn(Duration::from_secs(5))
    }
}

/// Whether a replica takes reads now.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplicaState {
    /// It takes reads.
    InRotation,
    /// It did not answer (a connect error or timeout), or it is another cluster than the
    /// primary's (its `system_identifier` differs); tried again after the check interval.
    Down {
        /// The error, or the mismatch.
        reason: String,
    },
    /// Its replay lag exceeded the limit; checked again after the check interval.
    Lagging {
        /// The lag measured.
        lag: Duration,
    },
}

/// One replica of a database, as [`Database::replicas`] reports it.
#[derive(Debug, Clone)]
pub struct ReplicaStatus {
    /// `user@host:port/dbname`.
    pub server: String,
    /// In rotation, down or lagging.
    pub state: ReplicaState,
    /// The replay lag at the last check, when one was made.
    pub lag: Option<Duration>,
    /// Reads routed to it since the database was built.
    pub reads: u64,
    /// Statements sent to it (reads and the health checks).
    pub statements: u64,
}

/// Where reads went: see [`Database::routing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoutingMetrics {
    /// Reads that ran on a replica.
    pub replica_reads: u64,
    /// Reads that ran on the primary because of read-your-writes.
    pub primary_reads_after_write: u64,
    /// Reads that ran on the primary because no replica was in rotation (or caught up).
    pub primary_reads_fallback: u64,
}

/// Which servers the calls of a handle may use ([`Database::on_primary`],
/// [`Database::on_replica`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Route {
    /// Plain reads to replicas, the rest to the primary.
    #[default]
    Auto,
    /// Everything to the primary.
    Primary,
    /// Everything to a replica (the primary when none is in rotation); no read-your-writes.
    Replica,
}

/// The settings of a replica set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplicaSettings {
    pub read_your_writes: ReadYourWrites,
    pub max_lag: Option<Duration>,
    pub check_interval: Duration,
    pub check_timeout: Duration,
}

/// The replicas of a database and what it knows of them.
pub(crate) struct ReplicaSet {
    replicas: Vec<Replica>,
    next: AtomicUsize,
    settings: ReplicaSettings,
    after_write: AtomicU64,
    fallback: AtomicU64,
    /// The primary's `system_identifier`, once read (see `identity.rs`).
    primary_id: OnceLock<i64>,
}

struct Replica {
    db: Database,
    health: Arc<HealthCell>,
    reads: AtomicU64,
}

/// What is known of a replica's health; shared with the connections it lends, so that a
/// connection lost mid-read takes the replica out of rotation.
pub(crate) struct HealthCell {
    server: String,
    health: Mutex<Health>,
}

struct Health {
    state: ReplicaState,
    lag: Option<Duration>,
    /// When the state was last checked; `None`: never.
    checked: Option<Instant>,
    /// Whether it was found to be the primary's cluster (see `identity.rs`).
    verified: bool,
}

/// The replay lag of a replica: zero when its WAL receiver is streaming and it has replayed
/// all it received, else the age of the last transaction it replayed (of its start, when it
/// replayed none). A replica whose receiver is not streaming (the primary unreachable, the
/// replication connection refused) has received nothing new, so "replayed all it received"
/// says nothing there: it lags by the age of its data. A server that is no replica (promoted)
/// has no lag. `pg_stat_wal_receiver` has a row only while a receiver runs; its `status` is
/// hidden (NULL) from roles without `pg_read_all_stats`, which then trust the row.
const LAG_SQL: &str = "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0::float8 \
     WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AND EXISTS (SELECT 1 \
     FROM pg_stat_wal_receiver WHERE COALESCE(status, 'streaming') = 'streaming') THEN 0::float8 \
     ELSE EXTRACT(EPOCH FROM clock_timestamp() - COALESCE(pg_last_xact_replay_timestamp(), \
     pg_postmaster_start_time()))::float8 END";

/// Whether a replica has replayed up to a position (a server that is no replica has).
const CAUGHT_UP_SQL: &str =
    "SELECT COALESCE(pg_last_wal_replay_lsn() >= CAST(CAST(:lsn AS text) AS pg_lsn), true)";

/// Where the primary's WAL stands (at least past every commit already made).
const PRIMARY_LSN_SQL: &str = "SELECT pg_current_wal_insert_lsn()::text";

impl ReplicaSet {
    pub(crate) fn new(dbs: Vec<Database>, settings: ReplicaSettings) -> ReplicaSet {
        let replicas = dbs
            .into_iter()
            .map(|db| Replica {
                health: Arc::new(HealthCell {
                    server: db.server().to_owned(),
                    health: Mutex::new(Health {
                        state: ReplicaState::InRotation,
                        lag: None,
                        checked: None,
                        verified: false,
                    }),
                }),
                db,
                reads: AtomicU64::new(0),
            })
            .collect();
        ReplicaSet {
            replicas,
            next: AtomicUsize::new(0),
            settings,
            after_write: AtomicU64::new(0),
            fallback: AtomicU64::new(0),
            primary_id: OnceLock::new(),
        }
    }

    /// A connection for a plain read: a replica in rotation (round-robin) that is caught up
    /// with the recent write of the calling handle (`primary`, a client with its write mark)
    /// when read-your-writes asks, else the primary.
    pub(crate) async fn read(&self, primary: &Database, route: Route) -> Result<Conn> {
        let mut lsn = None;
        if let (Route::Auto, Some(mark)) = (route, primary.write_mark()) {
            match self.settings.read_your_writes {
                ReadYourWrites::Off => {}
                ReadYourWrites::Primary(window) => {
                    if mark.recent(window).is_some() {
                        self.after_write.fetch_add(1, Ordering::Relaxed);
                        return primary.checkout_primary(false).await;
                    }
                }
                ReadYourWrites::Lsn(window) => {
                    if let Some(epoch) = mark.recent(window) {
                        match self.write_lsn(epoch, primary).await {
                            Some(l) => lsn = Some(l),
                            None => {
                                self.after_write.fetch_add(1, Ordering::Relaxed);
                                return primary.checkout_primary(false).await;
                            }
                        }
                    }
                }
            }
        }
        let n = self.replicas.len();
        let mut behind = false;
        for _ in 0..n {
            let replica = &self.replicas[self.next.fetch_add(1, Ordering::Relaxed) % n];
            let lent = self.try_replica(replica, primary, lsn, &mut behind).await;
            if let Some(conn) = lent {
                replica.reads.fetch_add(1, Ordering::Relaxed);
                return Ok(conn);
            }
        }
        if behind {
            self.after_write.fetch_add(1, Ordering::Relaxed);
        } else {
            self.fallback.fetch_add(1, Ordering::Relaxed);
        }
        primary.checkout_primary(false).await
    }

    /// A connection of `replica` for a call through `primary` (with its query timeout) when
    /// the replica is (or comes back) in rotation and has replayed `lsn`; `behind` is set when
    /// it is in rotation but not caught up.
    async fn try_replica(
        &self,
        replica: &Replica,
        primary: &Database,
        lsn: Option<Lsn>,
        behind: &mut bool,
    ) -> Option<Conn> {
        let now = Instant::now();
        let (due, verified) = {
            let h = lock(&replica.health.health);
            let due = h
                .checked
                .is_none_or(|t| now.duration_since(t) >= self.settings.check_interval);
            if h.state != ReplicaState::InRotation && !due {
                return None;
            }
            // A replica out of rotation is checked before it serves again; one in rotation
            // only when there is a lag limit to keep.
            let due =
                due && (h.state != ReplicaState::InRotation || self.settings.max_lag.is_some());
            (due, h.verified)
        };
        let timeout = self.settings.check_timeout;
        let checkout =
            replica
                .db
                .checkout_with(false, primary.query_timeout(), primary.tags.clone());
        let conn = match tokio::time::timeout(timeout, checkout).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => {
                if !matches!(
                    e.kind(),
                    crate::ErrorKind::PoolTimeout(crate::PoolStage::Wait)
                ) {
                    replica.health.set(
                        ReplicaState::Down {
                            reason: e.to_string(),
                        },
                        None,
                    );
                }
                return None;
            }
            Err(_) => {
                // Every connection at work: busy, not down; this read goes elsewhere. With
                // room left, the wait was for a new connection that did not open in time.
                let pool = replica.db.status();
                if pool.size < pool.max_size || pool.available > 0 {
                    replica.health.set(
                        ReplicaState::Down {
                            reason: format!("no connection within {timeout:?}"),
                        },
                        None,
                    );
                }
                return None;
            }
        };
        if !verified {
            match self.identity(&conn, primary).await {
                identity::Identity::Same => lock(&replica.health.health).verified = true,
                identity::Identity::Unknown => {}
                identity::Identity::Other(reason) => {
                    replica.health.set(ReplicaState::Down { reason }, None);
                    return None;
                }
            }
        }
        if due {
            let q = orm_core::raw::query::<f64>(LAG_SQL).compile().ok()?;
            match tokio::time::timeout(timeout, conn.fetch_opt::<f64>(&q, true)).await {
                Ok(Ok(Some(secs))) => {
                    let lag = Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX);
                    match self.settings.max_lag {
                        Some(max) if lag > max => {
                            replica.health.set(ReplicaState::Lagging { lag }, Some(lag));
                            return None;
                        }
                        _ => replica.health.set(ReplicaState::InRotation, Some(lag)),
                    }
                }
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => {
                    replica.health.set(
                        ReplicaState::Down {
                            reason: "the lag check failed or timed out".into(),
                        },
                        None,
                    );
                    return None;
                }
            }
        }
        if let Some(lsn) = lsn {
            let q = orm_core::raw::query::<bool>(CAUGHT_UP_SQL)
                .bind("lsn", lsn.to_string())
                .compile()
                .ok()?;
            match tokio::time::timeout(timeout, conn.fetch_opt::<bool>(&q, true)).await {
                Ok(Ok(Some(true))) => {}
                Ok(Ok(_)) => {
                    *behind = true;
                    return None;
                }
                Ok(Err(_)) | Err(_) => return None,
            }
        }
        let mut conn = conn;
        conn.lent_by_replica(replica.health.clone());
        Some(conn)
    }

    /// The primary's WAL position after the write of `epoch` by the handle `primary` (read
    /// once per write); `None` when it cannot be read in time.
    async fn write_lsn(&self, epoch: u64, primary: &Database) -> Option<Lsn> {
        let mark = primary.write_mark()?;
        if let Some(lsn) = mark.lsn(epoch) {
            return Some(lsn);
        }
        let read = self.primary_lsn(primary);
        let lsn = tokio::time::timeout(self.settings.check_timeout, read)
            .await
            .ok()?
            .ok()?;
        mark.set_lsn(epoch, lsn);
        Some(lsn)
    }

    /// Where the primary's WAL stands now (past every commit already made), read through
    /// the handle `primary`.
    pub(crate) async fn primary_lsn(&self, primary: &Database) -> Result<Lsn> {
        let q = orm_core::raw::query::<String>(PRIMARY_LSN_SQL).compile()?;
        let conn = primary.checkout_primary(false).await?;
        let text = conn
            .fetch_opt::<String>(&q, true)
            .await?
            .ok_or_else(|| Error::row_count(1, 0))?;
        text.parse().map_err(|reason: &str| {
            Error::decode("pg_lsn", "pg_current_wal_insert_lsn", reason.into())
        })
    }

    /// How many replicas there are.
    pub(crate) fn len(&self) -> usize {
        self.replicas.len()
    }

    pub(crate) fn status(&self) -> Vec<ReplicaStatus> {
        self.replicas
            .iter()
            .map(|r| {
                let h = lock(&r.health.health);
                ReplicaStatus {
                    server: r.health.server.clone(),
                    state: h.state.clone(),
                    lag: h.lag,
                    reads: r.reads.load(Ordering::Relaxed),
                    statements: r.db.statement_count(),
                }
            })
            .collect()
    }

    pub(crate) fn routing(&self) -> RoutingMetrics {
        RoutingMetrics {
            replica_reads: self
                .replicas
                .iter()
                .map(|r| r.reads.load(Ordering::Relaxed))
                .sum(),
            primary_reads_after_write: self.after_write.load(Ordering::Relaxed),
            primary_reads_fallback: self.fallback.load(Ordering::Relaxed),
        }
    }
}

impl Watcher for HealthCell {
    /// A read on a connection of this replica lost it: out of rotation until the next check.
    fn lost(&self, error: &crate::Error) {
        self.set(
            ReplicaState::Down {
                reason: error.to_string(),
            },
            None,
        );
    }
}

impl HealthCell {
    fn set(&self, state: ReplicaState, lag: Option<Duration>) {
        let mut h = lock(&self.health);
        if std::mem::discriminant(&h.state) != std::mem::discriminant(&state) {
            tracing::warn!(server = %self.server, ?state, "replica state changed");
        }
        h.state = state;
        h.lag = lag;
        h.checked = Some(Instant::now());
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
