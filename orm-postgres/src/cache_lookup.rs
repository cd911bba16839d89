//! What the executor asks the result cache ([`crate::cache`]), above it in the layers: whether a statement is cached where it runs, and its rows
//! (a stored result, or the statement's run and stored).

use std::sync::Arc;

use deadpool_postgres::tokio_postgres::Row;

use crate::acquire::sealed::Acquire;
use crate::cache::{Entry, bump, dependencies};
use crate::pg_row::PgRow;
use crate::stmt::CachePolicy;
use crate::unnamed::params::Encoded;
use crate::{CompiledQuery, Decode, Error, Result};

/// The rows of a cached statement, shared with the cache.
pub(crate) type CachedRows = Arc<Entry>;

/// The rows of `q` through the executor's result cache: stored ones (a hit), or the statement
/// run on the executor's connection and stored (a miss). `None` when the statement is not
/// cached there; the caller then runs it as usual.
///
/// Not cached: without a cache; with `.no_cache()`; without a policy (`.cached(..)`, or every
/// table read with a time to live: its model's `cache_ttl`, or registered per model); with relationship loads or raw SQL, unless asked (then an error:
/// the cache cannot know what they read); inside a transaction that wrote a table the result
/// depends on; inside a repeatable-read or serializable transaction unless the policy allows
/// it; with a parameter the cache cannot encode (a custom type).
pub(crate) async fn cached_rows<E: Acquire + ?Sized>(
    ex: &E,
    q: &CompiledQuery,
    policy: Option<&CachePolicy>,
    has_loads: bool,
    site: crate::call_site::Site,
) -> Result<Option<CachedRows>> {
    let Some(store) = ex.result_cache() else {
        return Ok(None);
    };
    let (ttl, in_snapshot) = match policy {
        Some(p) if p.is_never() => return Ok(None),
        Some(p) => {
            if has_loads {
                return Err(Error::invalid_statement(
                    "a cached query cannot load relationships: cache the parents' query and the loads' queries separately, or load after fetching",
                ));
            }
            if q.reads.opaque {
                return Err(Error::invalid_statement(
                    "a cached query holding raw SQL must declare every table it reads (CachePolicy::reads)",
                ));
            }
            (p.time_to_live(), p.allows_serializable())
        }
        None if has_loads || q.reads.opaque => return Ok(None),
        None => match store.registered_ttl(&q.reads.tables) {
            Some(ttl) => (ttl, false),
            None => return Ok(None),
        },
    };
    if !ex.cache_ready(store).await? {
        return Ok(None);
    }
    let deps = dependencies(&q.reads.tables);
    if let Some(conn) = ex.held() {
        if !conn.cache_allows(&deps, in_snapshot) {
            return Ok(None);
        }
    }
    // A parameter naming a user-defined type has no key without a lookup: not cached.
    let Ok(params) = Encoded::new(&q.params, &[]) else {
        return Ok(None);
    };
    let mut key = Vec::with_capacity(q.sql.len() + 1 + 16 * q.params.len());
    key.extend_from_slice(q.sql.as_bytes());
    key.push(0);
    params.write_key(&mut key);
    if let Some(entry) = store.get(&key) {
        bump(&store.counters.hits, "db.cache.hits");
        return Ok(Some(entry));
    }
    bump(&store.counters.misses, "db.cache.misses");
    let born = store.now();
    let rows = crate::executor::read_retrying!(
        ex.acquire_for(|| crate::classify::is_plain_read(&q.sql)),
        |conn| {
            // The key is the untagged SQL: call sites share results.
            let mut tagged = None;
            if conn.tags_on() {
                let mut q = q.clone();
                conn.tag(&mut q, site);
                tagged = Some(q);
            }
            conn.fetch_rows(tagged.as_ref().unwrap_or(q)).await
        },
        |out| out
    )?;
    Ok(Some(store.put(
        key.into_boxed_slice(),
        rows,
        deps,
        born,
        ttl,
    )))
}

/// Decodes every row.
pub(crate) fn decode_all<D: Decode>(rows: &[Row]) -> Result<Vec<D::Output>> {
    rows.iter().map(|r| D::decode(&PgRow(r), 0)).collect()
}

/// Decodes the only row: `None` without one (an error when `required`), an error with several.
pub(crate) fn decode_opt<D: Decode>(rows: &[Row], required: bool) -> Result<Option<D::Output>> {
    match rows {
        [] if required => Err(Error::row_count(1, 0)),
        [] => Ok(None),
        [row] => D::decode(&PgRow(row), 0).map(Some),
        _ => Err(Error::row_count(1, rows.len())),
    }
}
