//! The hot slot: the connection last given back, kept out of the pool for the next checkout
//! while nobody else wants one (HikariCP's thread-local fast path, for one slot).
//!
//! A pool's checkout and return cost about 1,600 instructions (deadpool's semaphore, its
//! slots' lock, the recycle hooks, the object's moves), more than a lookup's compile and
//! decode together: a lookup by key on an idle pool took 13,100 instructions, 11,900 through
//! this slot (callgrind, issue 17). Taking the slot is one swap of a pointer, and so is filling
//! it: a locked instruction each, where the mutex it was took two each way (about 35 ns per
//! lookup, a quarter of a point of the lookup by key).
//!
//! The slot is used only when no other checkout is under way and no other connection is
//! checked out (`demand`, see `conn/checkout.rs`): a busy pool's connections all go back to the
//! pool, where its waiters are. A connection is never stranded in the slot while a checkout
//! waits in the pool. A checkout counts itself in `demand` before it looks at the slot, and
//! looks only when it counted none ahead of it; a return fills the slot, then reads `demand`
//! again and hands the connection to the pool when it is not zero. Every change and read of the
//! count is `SeqCst`, so they have one order: a checkout counted before that second read is
//! seen by it (the connection moves to the pool, where that checkout looks next, unless it
//! took the connection first); the first one counted after it counts none ahead, and its look
//! comes after the fill, so it takes the connection. (The swaps on the slot are in one order,
//! each reading the one before it with acquire and release, as the mutex it was ordered them:
//! a checkout whose swap comes first makes its count seen by the fill's second read.)

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crossbeam_utils::atomic::AtomicCell;
use deadpool_postgres::Object;

use super::Pooled;

#[cfg(feature = "metrics")]
use crate::metrics::publish_gauges;
use crate::metrics::{PoolCounters, PoolStatus};

/// What the gauges are read from: the connection's pool (with `metrics`), or nothing.
#[cfg(feature = "metrics")]
type Gauges = Option<deadpool_postgres::Pool>;
#[cfg(not(feature = "metrics"))]
struct Gauges;

/// The pool of `obj`, to read the gauges from once it is kept (with `metrics`).
#[cfg(feature = "metrics")]
fn gauges_of(obj: &Object) -> Gauges {
    Object::pool(obj)
}

/// Without `metrics`: nothing to read.
#[cfg(not(feature = "metrics"))]
fn gauges_of(_: &Object) -> Gauges {
    Gauges
}

/// At most one idle connection, out of the pool (which counts it as in use).
#[derive(Default)]
pub(crate) struct HotSlot {
    /// A box is one pointer: the cell swaps it with the processor's atomic exchange, no lock
    /// (`AtomicCell::is_lock_free`, checked by a test).
    conn: AtomicCell<Option<Pooled>>,
    /// Whether `conn` holds one, for the status, which cannot look into the cell: set by a
    /// fill before its swap, cleared by the take that empties the slot after its swap. Each
    /// swap reads the one before it (acquire and release), so the set and clear of one
    /// connection's stay in the slot are in that order. A status read between a swap and its
    /// flag may be off by one, as any read of a busy pool's counts is; and a take's clear
    /// delayed past a later return's fill (which then also missed the take's checkout in its
    /// second read of the demand) leaves the kept connection counted in use until the next
    /// checkout. (The mutex this was made both impossible, at two locked instructions more
    /// each way.)
    full: AtomicBool,
}

impl HotSlot {
    /// The kept connection, if any. One the server or the network closed while it sat here is
    /// counted broken and dropped, as the pool's recycle check does with its idle ones.
    pub(crate) fn take(&self, counters: &PoolCounters) -> Option<Pooled> {
        let obj = self.take_kept()?;
        if counters.closed_while_idle(&obj) {
            // Out of the pool, which may then open another.
            drop(Object::take(*obj));
            return None;
        }
        Some(obj)
    }

    /// The kept connection, out of the slot.
    fn take_kept(&self) -> Option<Pooled> {
        let kept = self.conn.take();
        // Only by the take that emptied it: the fill it took from set `full` before its swap,
        // which this swap reads (acquire), so this clear comes after that set.
        if kept.is_some() {
            self.full.store(false, Ordering::Relaxed);
        }
        kept
    }

    /// Keeps a clean connection when no other checkout or connection is counted in `demand`
    /// (which no longer counts this one) and the slot is free; otherwise gives it back to the
    /// pool.
    pub(crate) fn give_back(&self, obj: Pooled, demand: &AtomicUsize) {
        if demand.load(Ordering::SeqCst) != 0 {
            return self.to_pool(obj);
        }
        let pool = gauges_of(&obj);
        // Set before the fill (see `take_kept`).
        self.full.store(true, Ordering::Relaxed);
        // One that was there already (another return's, which read no demand either) goes to
        // the pool instead.
        if let Some(other) = self.conn.swap(Some(obj)) {
            self.to_pool(other);
        }
        // A checkout counted after the first read of `demand` may have found the slot empty
        // and gone to the pool: the connection goes there too (unless that checkout took it
        // since).
        let moved = match demand.load(Ordering::SeqCst) {
            0 => None,
            _ => self.take_kept(),
        };
        match moved {
            Some(obj) => self.to_pool(obj),
            // Idle now (or taken since by a checkout, which the status reads from the slot).
            None => self.publish(pool),
        }
    }

    /// Gives a clean connection back to the pool, then publishes the pool's gauges (with
    /// `metrics`), so `in_use` and `idle` are current after every return as after every
    /// checkout.
    fn to_pool(&self, obj: Pooled) {
        let pool = gauges_of(&obj);
        drop(obj);
        self.publish(pool);
    }

    /// Publishes the pool's gauges, the kept connection counted idle (with `metrics`).
    #[cfg(feature = "metrics")]
    fn publish(&self, pool: Gauges) {
        if let Some(pool) = pool {
            publish_gauges(|| self.adjust(pool.status().into()));
        }
    }

    /// Without `metrics`: nothing is published.
    #[cfg(not(feature = "metrics"))]
    fn publish(&self, _: Gauges) {}

    /// The pool's status with the kept connection counted idle, not in use.
    pub(crate) fn adjust(&self, mut status: PoolStatus) -> PoolStatus {
        if self.full.load(Ordering::Relaxed) && status.in_use > 0 {
            status.in_use -= 1;
            status.available += 1;
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_swaps_its_box_without_a_lock() {
        // Otherwise crossbeam falls back to a global lock per swap, two locked instructions
        // each way: what the slot replaced.
        assert!(AtomicCell::<Option<Pooled>>::is_lock_free());
    }
}
