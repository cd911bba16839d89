//! The result cache (feature `cache`): query results kept in process, bounded by entries and
//! bytes (moka), invalidated by table when a commit through the database writes it, and, when a
//! channel is set, across processes over `LISTEN`/`NOTIFY`.
//!
//! - `mod.rs`: [`ResultCache`] (the settings) and the store: keys, entries, generations;
//! - `writes.rs`: which tables a statement writes, read from its SQL text;
//! - `remote.rs`: what invalidations sent over `LISTEN`/`NOTIFY` carry.
//!
//! Above it in the layers: `cache_lookup.rs` (what the executor asks: whether a statement is
//! cached here, and its rows) and `cache_listener.rs` (the listener receiving invalidations).
//!
//! # How a result stays correct
//! Each table has a generation, the value of a global clock when a commit last wrote it. A
//! result is stored with the clock's value from *before* its query ran and the tables it read;
//! it is served only while none of them has a newer generation. So a commit that lands while
//! the query runs makes the result stale at birth, and invalidating a table costs one map write
//! whatever the number of entries (stale entries are dropped when next read, or evicted).
//!
//! Cached values are the rows as they came off the wire (`tokio_postgres::Row`, shared through
//! an `Arc`) and are decoded again on every hit: no `Clone` bound on the output type, and the
//! byte bound counts real bytes.

mod remote;
mod writes;

pub(crate) use remote::Publish;
pub(crate) use writes::{Written, written};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use deadpool_postgres::tokio_postgres::Row;
use moka::notification::RemovalCause;

use crate::meta::{FkAction, Table};
use crate::metrics::CacheMetrics;

/// The settings of a database's result cache
/// ([`DatabaseBuilder::result_cache`](crate::DatabaseBuilder::result_cache)).
///
/// | setting | default |
/// |---|---|
/// | `max_entries` | 10 000 |
/// | `max_bytes` (wire bytes of the rows, plus keys and bookkeeping) | 64 MiB |
/// | `model::<M>(ttl)` / `table(t, ttl)`: cache every query reading only such tables | none |
/// | `notify_channel` (invalidations across processes) | off |
///
/// ```no_run
/// use std::time::Duration;
/// use orm_postgres::prelude::*;
/// use orm_postgres::ResultCache;
/// # use orm_postgres::__doc_fixture::User;
/// # async fn run() -> orm_postgres::Result<()> {
/// let db = Database::builder("postgres://localhost/app")
///     .result_cache(
///         ResultCache::new()
///             .max_entries(50_000)
///             .max_bytes(256 << 20)
///             .model::<User>(Duration::from_secs(60))
///             .notify_channel("orm_cache"),
///     )
///     .connect()
///     .await?;
/// let users: Vec<User> = db.fetch_all(select::<User>()).await?; // cached: only `users` is read
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ResultCache {
    max_entries: u64,
    max_bytes: u64,
    tables: Vec<(&'static Table, Duration)>,
    channel: Option<String>,
}

impl Default for ResultCache {
    fn default() -> Self {
        ResultCache::new()
    }
}

impl ResultCache {
    /// 10 000 entries, 64 MiB, no model cached unless its query says `.cached(ttl)`, no
    /// invalidation across processes.
    pub fn new() -> Self {
        ResultCache {
            max_entries: 10_000,
            max_bytes: 64 << 20,
            tables: Vec::new(),
            channel: None,
        }
    }

    /// At most `n` results (at least 1).
    pub fn max_entries(mut self, n: u64) -> Self {
        self.max_entries = n.max(1);
        self
    }

    /// At most `n` bytes of results, counted as the rows' wire bytes plus the key and a small
    /// per-row overhead. A result larger than this is never stored.
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = n.max(1);
        self
    }

    /// Caches for `ttl` every query (`fetch_all`, `fetch_one`, `fetch_optional`) that reads
    /// only tables registered this way, without `.cached(...)` on it: the per-model policy.
    /// Queries that load relationships are not cached this way.
    pub fn model<M: crate::Model>(self, ttl: Duration) -> Self {
        self.table(M::TABLE, ttl)
    }

    /// [`model`](ResultCache::model) by table.
    pub fn table(mut self, table: &'static Table, ttl: Duration) -> Self {
        self.tables.push((table, ttl));
        self
    }

    /// Sends the tables each commit wrote on `channel` (`pg_notify`) and listens to it on a
    /// connection of the cache's own, so that every database (in any process) with the same
    /// channel on the same server invalidates what it cached from them. Writes made by other
    /// programs still reach cached results only through their time to live.
    pub fn notify_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// The channel, checked (for the builder).
    pub(crate) fn check(&self) -> crate::Result<()> {
        match &self.channel {
            Some(c) => orm_core::compile::check_identifier(c),
            None => Ok(()),
        }
    }
}

/// A stored result.
pub(crate) struct Entry {
    pub(crate) rows: Vec<Row>,
    /// The tables the result depends on.
    pub(crate) deps: Box<[Box<str>]>,
    /// The clock before its query ran.
    born: u64,
    ttl: Duration,
    stored: Instant,
    weight: u32,
}

/// Counters of a cache.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    invalidations: AtomicU64,
    evictions: AtomicU64,
    expirations: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64, name: &'static str) {
    c.fetch_add(1, Ordering::Relaxed);
    crate::metrics::count(name);
}

/// Each entry's own time to live.
struct PerEntry;

impl moka::Expiry<Box<[u8]>, Arc<Entry>> for PerEntry {
    fn expire_after_create(
        &self,
        _: &Box<[u8]>,
        value: &Arc<Entry>,
        _: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// A database's result cache (not public API: the crate-private `cache` module).
pub struct Store {
    entries: moka::sync::Cache<Box<[u8]>, Arc<Entry>>,
    /// Table name → the clock value when a commit last wrote it.
    generations: RwLock<HashMap<Box<str>, u64>>,
    /// The clock value of the last "every table" invalidation.
    all: AtomicU64,
    clock: AtomicU64,
    pub(crate) counters: Arc<Counters>,
    /// The least weight of an entry: `max_bytes / max_entries`, so that the weight bound
    /// bounds the entries too.
    slot: u64,
    max_bytes: u64,
    tables: Vec<(&'static Table, Duration)>,
    pub(crate) remote: Option<remote::Remote>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("entries", &self.entries.entry_count())
            .field("bytes", &self.entries.weighted_size())
            .finish_non_exhaustive()
    }
}

impl Store {
    pub(crate) fn new(config: ResultCache) -> Store {
        let counters = Arc::new(Counters::default());
        let slot = config.max_bytes.div_ceil(config.max_entries).max(1);
        let listener = counters.clone();
        let entries = moka::sync::Cache::builder()
            .max_capacity(config.max_bytes)
            .weigher(move |_, e: &Arc<Entry>| e.weight)
            .expire_after(PerEntry)
            .eviction_listener(move |_, old: Arc<Entry>, cause| match cause {
                RemovalCause::Size => bump(&listener.evictions, "db.cache.evictions"),
                RemovalCause::Expired => bump(&listener.expirations, "db.cache.expirations"),
                // A result stored again after its time to live passed: it expired.
                RemovalCause::Replaced if old.stored.elapsed() >= old.ttl => {
                    bump(&listener.expirations, "db.cache.expirations");
                }
                RemovalCause::Explicit | RemovalCause::Replaced => {}
            })
            .build();
        Store {
            entries,
            generations: RwLock::default(),
            all: AtomicU64::new(0),
            clock: AtomicU64::new(0),
            counters,
            slot,
            max_bytes: config.max_bytes,
            tables: config.tables,
            remote: config.channel.map(remote::Remote::new),
        }
    }

    /// The time to live of a query reading `tables` without a policy of its own: the least
    /// of theirs, each table's registered one ([`ResultCache::model`]) or else its model's
    /// `#[model(cache_ttl = ...)]`; `None` when one of them has neither. A subtype table of
    /// joined-table inheritance takes the time to live of the model table it is read with.
    pub(crate) fn registered_ttl(&self, tables: &[&'static Table]) -> Option<Duration> {
        if tables.is_empty() {
            return None;
        }
        let own = |t: &Table| {
            self.tables
                .iter()
                .find(|(r, _)| same_table(r, t))
                .map(|(_, d)| *d)
                .or(t.cache_ttl)
        };
        let mut ttl = Duration::MAX;
        for t in tables {
            let d = match own(t) {
                Some(d) => d,
                None => tables
                    .iter()
                    .filter(|m| {
                        m.joined
                            .is_some_and(|j| j.parts.iter().any(|p| same_table(p, t)))
                    })
                    .find_map(|m| own(m))?,
            };
            ttl = ttl.min(d);
        }
        Some(ttl)
    }

    /// The clock now: what a result read from now on is born at.
    pub(crate) fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// A stored result still valid, or `None` (a stale one is dropped and counted).
    pub(crate) fn get(&self, key: &[u8]) -> Option<Arc<Entry>> {
        let entry = self.entries.get(key)?;
        if self.is_stale(&entry) {
            self.entries.invalidate(key);
            bump(&self.counters.invalidations, "db.cache.invalidations");
            return None;
        }
        Some(entry)
    }

    fn is_stale(&self, e: &Entry) -> bool {
        if self.all.load(Ordering::SeqCst) > e.born {
            return true;
        }
        let generations = self.generations.read().unwrap_or_else(|p| p.into_inner());
        e.deps
            .iter()
            .any(|d| generations.get(d).is_some_and(|g| *g > e.born))
    }

    /// Stores `rows`, read from `deps` by a query that started at `born`, unless they
    /// exceed the byte bound. Returns the entry either way.
    pub(crate) fn put(
        &self,
        key: Box<[u8]>,
        rows: Vec<Row>,
        deps: Box<[Box<str>]>,
        born: u64,
        ttl: Duration,
    ) -> Arc<Entry> {
        let bytes = weight_of(&key, &rows, &deps);
        let weight = bytes.max(self.slot);
        let entry = Arc::new(Entry {
            rows,
            deps,
            born,
            ttl,
            stored: Instant::now(),
            weight: u32::try_from(weight).unwrap_or(u32::MAX),
        });
        if weight <= self.max_bytes && weight <= u64::from(u32::MAX) && !ttl.is_zero() {
            self.entries.insert(key, entry.clone());
            // Evict now, so that the bounds hold when this call returns (moka otherwise
            // applies them in batches).
            self.entries.run_pending_tasks();
        }
        entry
    }

    /// Invalidates what `w` wrote, in this process.
    pub(crate) fn invalidate(&self, w: &Written) {
        if w.is_empty() {
            return;
        }
        let g = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        if w.all {
            self.all.store(g, Ordering::SeqCst);
            return;
        }
        let mut generations = self.generations.write().unwrap_or_else(|p| p.into_inner());
        for t in &w.tables {
            generations.insert(t.clone(), g);
        }
    }

    /// The counters, with the entries and bytes held now.
    pub(crate) fn metrics(&self) -> CacheMetrics {
        self.entries.run_pending_tasks();
        let c = &self.counters;
        let read = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CacheMetrics {
            hits: read(&c.hits),
            misses: read(&c.misses),
            invalidations: read(&c.invalidations),
            evictions: read(&c.evictions),
            expirations: read(&c.expirations),
            entries: self.entries.entry_count(),
            bytes: self.entries.weighted_size(),
        }
    }
}

/// Whether two table descriptors are of the same table (a model's `TABLE` is a constant:
/// each use may be another address).
fn same_table(a: &Table, b: &Table) -> bool {
    a.name == b.name && a.schema == b.schema
}

/// The tables a result depends on: those it reads, and those they reference with a foreign
/// key whose `ON DELETE`/`ON UPDATE` changes their rows (cascade, set null, set default), so a
/// delete of a parent invalidates cached children. One level: a chain of cascades through a
/// table the query does not read is not followed.
pub(crate) fn dependencies(reads: &[&'static Table]) -> Box<[Box<str>]> {
    let mut deps: Vec<Box<str>> = Vec::with_capacity(reads.len());
    let mut add = |name: &str| {
        if !deps.iter().any(|d| &**d == name) {
            deps.push(name.into());
        }
    };
    for t in reads {
        add(t.name);
        for c in t.columns {
            if let Some(fk) = &c.references {
                let changes = |a: Option<FkAction>| {
                    matches!(
                        a,
                        Some(FkAction::Cascade | FkAction::SetNull | FkAction::SetDefault)
                    )
                };
                if changes(fk.on_delete) || changes(fk.on_update) {
                    add(fk.table);
                }
            }
        }
    }
    deps.into_boxed_slice()
}

/// The bytes a result holds: each value's wire bytes, a per-row and per-value overhead (the
/// row's offsets), the key and the dependencies.
fn weight_of(key: &[u8], rows: &[Row], deps: &[Box<str>]) -> u64 {
    let mut bytes = (key.len() + std::mem::size_of::<Entry>()) as u64;
    bytes += deps.iter().map(|d| d.len() as u64 + 16).sum::<u64>();
    for row in rows {
        bytes += std::mem::size_of::<Row>() as u64;
        for i in 0..row.len() {
            // An `Option<Range>` per value, then the value itself.
            bytes += 24;
            if let Ok(v) = row.try_get::<_, crate::pg_row::RawValue<'_>>(i) {
                bytes += v.0.map_or(0, |b| b.len() as u64);
            }
        }
    }
    bytes
}
