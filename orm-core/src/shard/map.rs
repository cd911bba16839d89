//! [`ShardMap`]: which shard holds a key value.

use std::ops::{Bound, RangeBounds};
use std::sync::{Arc, Mutex};

use postgres_types::ToSql;

use super::key::{KeyType, KeyValue};
use crate::error::{Error, Result};
use crate::fxhash::FxHashMap;
use crate::types::{Param, param};

/// Which shard holds each value of the shard key: a hash of the value, or explicit ranges or
/// lists of values per shard (by shard name).
///
/// ```
/// use orm_core::shard::ShardMap;
///
/// // The key hashed over the shards, in the order they were added.
/// let by_hash = ShardMap::hash();
/// // Tenants 1..=999 on "eu", 1000 and up on "us".
/// let by_range = ShardMap::ranges().range(1..1000, "eu").range(1000.., "us");
/// // Named regions, listed.
/// let by_list = ShardMap::lists().list("eu", ["de", "fr"]).list("us", ["us", "ca"]);
/// ```
#[derive(Clone, Debug)]
pub struct ShardMap {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Hash,
    /// Inclusive bounds.
    Ranges(Vec<(i64, i64, String)>),
    Lists(Lists),
}

/// The lists of a list map, and for each key type they were looked up with, the list of every
/// value: built at the first look-up of that type, so a look-up is one hash probe, not an
/// encoding of every listed value.
#[derive(Clone, Default)]
struct Lists {
    lists: Vec<(String, Vec<Param>)>,
    index: Arc<Mutex<FxHashMap<KeyType, Arc<ListIndex>>>>,
}

/// The position (in [`Lists::lists`]) of the list holding each value.
type ListIndex = FxHashMap<KeyValue, usize>;

impl Lists {
    /// The position (in `lists`) of the list holding each value, encoded as `ty`; the first
    /// list of a value listed twice. Values that do not encode as `ty` are left out: no key of
    /// that type equals them.
    fn index(&self, ty: KeyType) -> Arc<ListIndex> {
        // A poisoned lock still holds whole entries (each is inserted in one call).
        let mut built = self.index.lock().unwrap_or_else(|p| p.into_inner());
        built
            .entry(ty)
            .or_insert_with(|| {
                let mut index = FxHashMap::default();
                for (at, (_, values)) in self.lists.iter().enumerate() {
                    for v in values {
                        if let Ok(Some(key)) = KeyValue::encode(ty, &**v) {
                            index.entry(key).or_insert(at);
                        }
                    }
                }
                Arc::new(index)
            })
            .clone()
    }
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Hash => f.write_str("Hash"),
            Kind::Ranges(r) => f.debug_tuple("Ranges").field(r).finish(),
            Kind::Lists(l) => {
                let shards: Vec<_> = l.lists.iter().map(|(s, v)| (s, v.len())).collect();
                f.debug_tuple("Lists").field(&shards).finish()
            }
        }
    }
}

/// The 64-bit FNV-1a hash of `bytes`: what [`ShardMap::hash`] computes over a key's binary
/// encoding. Fixed by this definition (offset basis `0xcbf29ce484222325`, prime
/// `0x100000001b3`), so the same key lands on the same shard in every process and version.
///
/// ```
/// assert_eq!(orm_core::shard::fnv1a(b""), 0xcbf29ce484222325);
/// assert_eq!(orm_core::shard::fnv1a(b"a"), 0xaf63dc4c8601ec8c);
/// ```
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl ShardMap {
    /// The shard at index `fnv1a(encoding) % shard count` among the shards in the order they
    /// were added, `encoding` being the key's PostgreSQL binary encoding (a `BIGINT` key's 8
    /// big-endian bytes, a text key's UTF-8 bytes, a UUID's 16 bytes; see [`fnv1a`]). Stable
    /// across processes and versions; adding or removing a shard moves most keys, so a hash
    /// map's shard list is fixed for the data's life (or the data is moved by the application).
    pub fn hash() -> ShardMap {
        ShardMap { kind: Kind::Hash }
    }

    /// A map of integer key ranges, each added with [`range`](ShardMap::range). A value in no
    /// range is an [`Unmapped`](crate::ShardError::Unmapped) error.
    pub fn ranges() -> ShardMap {
        ShardMap {
            kind: Kind::Ranges(Vec::new()),
        }
    }

    /// Key values in `range` (`1..1000`, `1000..`, `..=0`) are on `shard`. Ranges may not
    /// overlap (checked when the sharded database is built). Only for integer keys.
    pub fn range(mut self, range: impl RangeBounds<i64>, shard: impl Into<String>) -> ShardMap {
        let start = match range.start_bound() {
            Bound::Included(n) => Some(*n),
            Bound::Excluded(n) => n.checked_add(1),
            Bound::Unbounded => Some(i64::MIN),
        };
        let end = match range.end_bound() {
            Bound::Included(n) => Some(*n),
            Bound::Excluded(n) => n.checked_sub(1),
            Bound::Unbounded => Some(i64::MAX),
        };
        if let Kind::Ranges(r) = &mut self.kind {
            // An empty range (`5..5`) is kept as start > end and refused by `check`.
            let (start, end) = match (start, end) {
                (Some(s), Some(e)) => (s, e),
                _ => (1, 0),
            };
            r.push((start, end, shard.into()));
        }
        self
    }

    /// A map of listed key values, each list added with [`list`](ShardMap::list). A value in
    /// no list is an [`Unmapped`](crate::ShardError::Unmapped) error.
    pub fn lists() -> ShardMap {
        ShardMap {
            kind: Kind::Lists(Lists::default()),
        }
    }

    /// The key values `values` (of the key field's Rust type: `i64`, `String`/`&str`,
    /// `Uuid`, ...) are on `shard`.
    pub fn list<T, I>(mut self, shard: impl Into<String>, values: I) -> ShardMap
    where
        T: ToSql + Send + Sync + 'static,
        I: IntoIterator<Item = T>,
    {
        if let Kind::Lists(l) = &mut self.kind {
            l.lists
                .push((shard.into(), values.into_iter().map(param).collect()));
            // Built again at the next look-up (a clone made before keeps its own).
            l.index = Arc::default();
        }
        self
    }

    /// Checks the map against the shards' names: every shard it names exists, ranges are
    /// not empty and do not overlap, and there is at least one shard.
    pub fn check(&self, shards: &[&str]) -> Result<()> {
        let bad = |m: String| Err(Error::config(m, None));
        if shards.is_empty() {
            return bad("a sharded database needs at least one shard".into());
        }
        let named: Vec<&str> = match &self.kind {
            Kind::Hash => Vec::new(),
            Kind::Ranges(r) => r.iter().map(|(_, _, s)| s.as_str()).collect(),
            Kind::Lists(l) => l.lists.iter().map(|(s, _)| s.as_str()).collect(),
        };
        if let Some(unknown) = named.iter().find(|n| !shards.contains(n)) {
            return bad(format!(
                "the shard map names shard `{unknown}`, which is not one of {shards:?}"
            ));
        }
        if let Kind::Ranges(r) = &self.kind {
            let mut sorted: Vec<_> = r.iter().collect();
            sorted.sort_by_key(|(s, _, _)| *s);
            for (s, e, shard) in &sorted {
                if s > e {
                    return bad(format!("an empty key range for shard `{shard}`"));
                }
            }
            for w in sorted.windows(2) {
                let ((_, e1, a), (s2, _, b)) = (w[0], w[1]);
                if s2 <= e1 {
                    return bad(format!(
                        "the key ranges of shards `{a}` and `{b}` overlap at {s2}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The index (in `shards`) of the shard holding `key`; `None` when the map covers no
    /// shard for it (a range or list map), or a range map is given a non-integer key.
    pub fn shard_of(&self, key: &KeyValue, shards: &[&str]) -> Option<usize> {
        let name = match &self.kind {
            Kind::Hash => {
                let n = u64::try_from(shards.len()).ok().filter(|n| *n > 0)?;
                return usize::try_from(fnv1a(key.bytes()) % n).ok();
            }
            Kind::Ranges(r) => {
                let v = key.as_i64()?;
                &r.iter().find(|(s, e, _)| *s <= v && v <= *e)?.2
            }
            Kind::Lists(l) => {
                let at = *l.index(key.key_type()).get(key)?;
                &l.lists.get(at)?.0
            }
        };
        shards.iter().position(|s| *s == name)
    }
}
