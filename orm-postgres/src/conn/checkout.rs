//! Taking a connection: from the hot slot when nobody else wants one (`hot.rs`), else from
//! the pool, waiting at most the wait timeout when it is busy (in the unnamed mode, replacing
//! one that may lack types created since it opened); and giving it back when the
//! [`Conn`] is dropped, or closing it when it is not known to be clean. Every checkout is
//! counted in [`Settings::demand`] from its start until its connection goes back.

use std::pin::pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use deadpool_postgres::{Object, Pool, PoolError, TimeoutType, Timeouts};

use super::{Conn, Pooled, Settings, TxState, deadline};
use crate::driver_error::from_pool;
use crate::{Result, StatementMode};

impl Conn {
    pub(crate) async fn checkout(
        pool: &Pool,
        settings: Arc<Settings>,
        query_timeout: Option<Duration>,
        tags: Option<Arc<crate::call_site::Tags>>,
    ) -> Result<Conn> {
        let demand = Demand::start(&settings.demand);
        // Alone, the connection kept from the last return (see `hot.rs`): no pool at all.
        let kept = match demand.ahead {
            0 => settings.hot.take(&settings.counters),
            _ => None,
        };
        // The limit of the checkout's waits for the pool, armed when it first waits: one for
        // the whole checkout, however many times it waits.
        let mut limit = None;
        let mut obj = match kept {
            Some(obj) => obj,
            None => Self::from_pool(pool, &settings, demand.ahead, &mut limit).await?,
        };
        if settings.statement_mode == StatementMode::Unnamed {
            obj = Box::pin(Self::up_to_date(pool, &settings, obj, &mut limit)).await?;
        }
        // From here on the connection's drop ends its demand.
        std::mem::forget(demand);
        Ok(Conn {
            obj: Some(obj),
            settings,
            in_flight: AtomicUsize::new(0),
            begin_kept: AtomicBool::new(false),
            unready: AtomicBool::new(false),
            tx: Mutex::new(TxState::default()),
            query_timeout,
            tags,
            write_mark: None,
            replica: None,
        })
    }

    /// A connection out of the pool: an idle one (or a new one) at once, or after a wait when
    /// the pool is busy (`ahead`: the checkouts and connections counted before this one), under
    /// the checkout's `limit` (see [`wait_for`](Conn::wait_for)).
    async fn from_pool(
        pool: &Pool,
        settings: &Settings,
        ahead: usize,
        limit: &mut Option<deadline::Deadline>,
    ) -> Result<Pooled> {
        // An idle connection of the pool (or room for a new one) is taken without arming the
        // wait and recycle timers, which cost more than the rest of the checkout; only when the
        // pool is busy do we wait, at most the wait timeout (`wait_for`). When as many checkouts
        // as the pool has connections hold or wait for one, the fast try would fail: the wait
        // comes first (a failed try cost 290 instructions of a busy pool's checkout, callgrind,
        // issue 17).
        // For this choice the count is a hint; either way is correct.
        let busy = ahead >= settings.max_size;
        let first = match busy {
            true => Self::wait_for(pool, settings, limit).await,
            false => pool.timeout_get(&settings.fast_checkout).await,
        };
        let obj = match first {
            Ok(obj) => obj,
            // Not boxed (a boxed `pool.get()` cost a large allocation per waiting checkout,
            // most checkouts of a busy pool: callgrind, issue 17).
            Err(PoolError::Timeout(TimeoutType::Wait)) if !busy => {
                Self::wait_for(pool, settings, limit)
                    .await
                    .map_err(from_pool)?
            }
            Err(e) => return Err(from_pool(e)),
        };
        Ok(Box::new(obj))
    }

    /// A checkout that waits for a connection, at most the pool's wait timeout: deadpool's,
    /// without its own wait timer, under a [`Deadline`](deadline::Deadline) (which costs less;
    /// see `deadline.rs`). The limit holds for the whole checkout, so a connection opened
    /// after the wait counts in it too (each open is also bounded by the connect timeouts).
    ///
    /// `deadline` is the checkout's: armed here at its first wait, and kept for its next ones
    /// (in the unnamed mode, for connections replacing stale ones: see
    /// [`up_to_date`](Conn::up_to_date)). Once it has passed, an idle connection is still
    /// taken, but none is waited for or opened (an open counts in the limit, as after the
    /// first wait).
    async fn wait_for(
        pool: &Pool,
        settings: &Settings,
        deadline: &mut Option<deadline::Deadline>,
    ) -> std::result::Result<Object, PoolError> {
        let limit = settings.wait_timeout;
        if limit.is_zero() {
            // No wait at all: deadpool's try.
            return pool.timeout_get(&settings.fast_checkout).await;
        }
        let timeouts = Timeouts {
            wait: None,
            ..settings.fast_checkout
        };
        let mut get = pin!(pool.timeout_get(&timeouts));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(got) = get.as_mut().poll(cx) {
                return Poll::Ready(got);
            }
            match deadline {
                Some(d) => d
                    .poll(cx)
                    .map(|()| Err(PoolError::Timeout(TimeoutType::Wait))),
                None => {
                    *deadline = Some(deadline::Deadline::after(limit, cx.waker()));
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// In the unnamed mode: `obj`, or when it may lack types this database created since it
    /// opened (see `unnamed/epoch.rs`), another connection in its place, the stale one closed.
    /// New connections are not stale. The replacements are waited for under the checkout's
    /// `limit`, as the first connection was (see [`wait_for`](Conn::wait_for)): a checkout
    /// that meets stale connections waits at most the wait timeout in all, not once per
    /// connection it replaces.
    async fn up_to_date(
        pool: &Pool,
        settings: &Settings,
        mut obj: Pooled,
        limit: &mut Option<deadline::Deadline>,
    ) -> Result<Pooled> {
        let mut tries = pool.status().max_size;
        while tries > 0
            && settings
                .type_epoch
                .changed_after(Object::metrics(&obj).created)
        {
            drop(Object::take(*obj));
            obj = Box::new(
                Self::wait_for(pool, settings, limit)
                    .await
                    .map_err(from_pool)?,
            );
            tries -= 1;
        }
        Ok(obj)
    }
}

/// One checkout counted in [`Settings::demand`] until it fails or is dropped (forgotten once
/// its connection is out: the [`Conn`] ends it).
struct Demand<'a> {
    count: &'a AtomicUsize,
    /// The demand before this one.
    ahead: usize,
}

impl<'a> Demand<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        // SeqCst: the hot slot's hand-off depends on the order of the count's changes and
        // reads (see `hot.rs`); on x86 it costs what Relaxed does.
        let ahead = count.fetch_add(1, Ordering::SeqCst);
        Demand { count, ahead }
    }
}

impl Drop for Demand<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Before the connection is given back below (SeqCst, see `hot.rs`).
        self.settings.demand.fetch_sub(1, Ordering::SeqCst);
        // The transaction state without its lock: nothing else holds the connection now.
        let in_flight = *self.in_flight.get_mut();
        let tx = self.tx.get_mut().unwrap_or_else(|p| p.into_inner());
        // A statement outside a transaction dropped mid-way may have committed.
        #[cfg(feature = "cache")]
        if !tx.open {
            self.settings.invalidate(&mut tx.written);
        }
        if let Some(mark) = self.write_mark.take() {
            mark.released();
        }
        if let Some(obj) = self.obj.take() {
            match tx.discard_reason(in_flight) {
                // Detach from the pool; dropping the client closes the connection and the
                // server rolls back whatever was open.
                Some(why) => {
                    self.settings.counters.discarded(why);
                    // A transaction that changed types, dropped open: the server rolls it
                    // back, and what the unnamed mode looked up inside it may be gone.
                    if std::mem::take(&mut tx.changed_types) {
                        self.settings.type_epoch.mark();
                    }
                    drop(Object::take(*obj));
                }
                None => self.settings.hot.give_back(obj, &self.settings.demand),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demand_counts_until_it_ends_or_its_connection_takes_it_over() {
        let count = AtomicUsize::new(0);
        let first = Demand::start(&count);
        let second = Demand::start(&count);
        assert_eq!((first.ahead, second.ahead), (0, 1));
        assert_eq!(count.load(Ordering::Relaxed), 2);
        // A checkout that fails (or is dropped) ends its demand.
        drop(second);
        assert_eq!(count.load(Ordering::Relaxed), 1);
        // One that gets its connection hands the count over (`Conn::drop` ends it).
        std::mem::forget(first);
        assert_eq!(count.load(Ordering::Relaxed), 1);
        assert_eq!(Demand::start(&count).ahead, 1);
        assert_eq!(count.load(Ordering::Relaxed), 1);
    }
}
