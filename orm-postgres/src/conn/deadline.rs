//! The limits of statements and of waits for a pooled connection, kept by one watchdog thread
//! instead of a tokio timer each.
//!
//! A tokio `Sleep` costs about 650 instructions from its creation to its drop (the clock read,
//! the timer wheel's lock, insert and remove), and a statement and a busy pool's checkout each
//! took one (callgrind, issue 17: 1,860 of the 15,400 instructions of a lookup on a busy
//! pool). A [`Deadline`] is a slot of the watchdog's, armed when its future first waits and
//! freed when it is done. The watchdog thread sleeps until the earliest armed deadline, wakes
//! the futures whose time has come and sleeps again; a deadline earlier than the one it sleeps
//! for wakes it to look again. With one limit for every statement, each new deadline is later
//! than those before it, so the thread wakes about once per limit, whatever the rate of
//! statements; with none armed it parks.
//!
//! A slot is owned by its deadline while armed; freed, it waits in its thread's spares
//! (`Spares`), filed under the task it last woke, with that task's waker still in it: a
//! statement's next deadline, usually the same task's, finds its slot ready, and arming it is
//! one store of the time, with no lock. (Another task's slot takes the slot's lock to change
//! its waker; a thread without a spare at hand takes one from the shared list, or a new one,
//! under the watchdog's lock.) The store is sequentially consistent,
//! as is the watchdog's note of when it looks next, which it writes before it reads the slots
//! once more: an arm either sees that note (and wakes the thread when it is earlier) or is
//! seen by that second look. Freeing is a plain store. (With a mutex-guarded table, a waker
//! cloned in and dropped out, a statement's deadline took six locked instructions, about
//! 50 ns, a third of a point of a lookup by key: issue 17. Now it takes one when its task's
//! slot is at hand.)
//!
//! The cost: a free slot in a thread's spares keeps the waker of the task that last used it,
//! which keeps that task's allocation (for tokio, and its runtime's handle) alive until the
//! slot serves another task: at most [`SPARES`] per thread that ran deadlines. A spare that
//! leaves its thread (displaced, or the thread ends) drops its waker.
//!
//! If the thread cannot be started, deadlines are tokio timers, as before. A limit too far
//! to count (past about 292 years) never fires.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// A limit armed for one future: fires once its time has come.
pub(crate) struct Deadline {
    timer: Timer,
}

enum Timer {
    /// A slot of the watchdog's.
    Watched(Armed),
    /// Without a watchdog: a tokio timer.
    Tokio(Pin<Box<tokio::time::Sleep>>),
    /// A limit too far to count: never fires.
    Never,
    /// Dropped: its slot is back among the spares.
    Freed,
}

/// A slot armed for a deadline.
struct Armed {
    slot: Arc<Slot>,
    /// When (see [`Slot::at`]).
    at: Ticks,
    /// The waker in the slot (a clone of it), to compare with without the slot's lock.
    waker: Waker,
}

/// The time, in the watchdog's ticks: nanoseconds since its start, plus one (0 is "free").
type Ticks = u64;

/// `d` in nanoseconds, if that fits in 64 bits (without `Duration::as_nanos`'s 128-bit
/// arithmetic).
fn nanos(d: Duration) -> Option<u64> {
    d.as_secs()
        .checked_mul(1_000_000_000)?
        .checked_add(u64::from(d.subsec_nanos()))
}

/// Marks a slot's time once the watchdog fired it.
const FIRED: u64 = 1 << 63;

/// One deadline's place in the watchdog's table (free when new).
#[derive(Default)]
struct Slot {
    /// Free (0), or the deadline's time, with [`FIRED`] once the watchdog fired it.
    at: AtomicU64,
    /// The task to wake: the one that armed it last (kept while the slot is free).
    waker: Mutex<Option<Waker>>,
}

impl Slot {
    fn waker(&self) -> MutexGuard<'_, Option<Waker>> {
        // Nothing panics while holding it (a clone or a swap of wakers).
        self.waker.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts `waker` in the slot; the handle's copy of it.
    fn wake_with(&self, waker: &Waker) -> Waker {
        #[cfg(test)]
        tests::REPLACED.with(|n| n.set(n.get() + 1));
        let old = self.waker().replace(waker.clone());
        // Dropped outside the lock (a waker's drop may run code).
        drop(old);
        waker.clone()
    }
}

impl Deadline {
    /// A deadline `limit` from now that wakes `waker` when it fires.
    pub(crate) fn after(limit: Duration, waker: &Waker) -> Deadline {
        let Some(w) = watchdog() else {
            return Deadline {
                timer: Timer::Tokio(Box::pin(tokio::time::sleep(limit))),
            };
        };
        let armed = w
            .now()
            .and_then(|now| now.checked_add(nanos(limit)?))
            .and_then(|at| w.arm(at, waker));
        Deadline {
            timer: armed.map_or(Timer::Never, Timer::Watched),
        }
    }

    /// Ready once the deadline has fired; otherwise it wakes the task of `cx` when it does.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.timer {
            Timer::Watched(armed) => armed.poll(cx.waker()),
            Timer::Tokio(sleep) => sleep.as_mut().poll(cx),
            Timer::Never => Poll::Pending,
            Timer::Freed => Poll::Ready(()),
        }
    }
}

impl Armed {
    fn fired(&self) -> bool {
        self.slot.at.load(Ordering::Acquire) == self.at | FIRED
    }

    fn poll(&mut self, waker: &Waker) -> Poll<()> {
        if self.fired() {
            return Poll::Ready(());
        }
        if !same_task(&self.waker, waker) {
            self.waker = self.slot.wake_with(waker);
            // It may have fired in between, waking the task the slot held before.
            if self.fired() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Timer::Watched(armed) = std::mem::replace(&mut self.timer, Timer::Freed) {
            // Freed: the watchdog skips it (a fire racing this store wakes, for nothing, the
            // task whose waker the slot holds when it wakes).
            armed.slot.at.store(0, Ordering::Release);
            Spares::keep(Spare {
                slot: armed.slot,
                waker: Some(armed.waker),
            });
        }
    }
}

/// Whether `a` and `b` wake the same task: the same data and the same functions.
///
/// `Waker::will_wake` compares the functions' table by address, and some executors build that
/// table in a generic function, whose copies differ: tokio's `block_on` waker (a
/// `#[tokio::main]` body's, a benchmark's) and its clones never "will wake" each other
/// (callgrind, issue 17: every deadline of a lookup by key took a new waker until this).
fn same_task(a: &Waker, b: &Waker) -> bool {
    a.will_wake(b) || (a.data() == b.data() && a.vtable() == b.vtable())
}

/// A free slot and the waker it holds (`None` for a new slot).
struct Spare {
    slot: Arc<Slot>,
    waker: Option<Waker>,
}

/// A thread's free slots, each filed under (a hash of) the task whose waker it holds; the ones
/// that do not fit go to the watchdog's shared list, and so do all of them when the thread
/// ends.
struct Spares {
    table: Vec<Option<Spare>>,
}

/// Entries of a thread's [`Spares`]: more than the tasks a thread usually runs at once.
const SPARES: usize = 256;

thread_local! {
    static SPARES_OF_THREAD: RefCell<Spares> = const { RefCell::new(Spares { table: Vec::new() }) };
}

impl Spares {
    /// Where a task's slot is filed.
    fn index(waker: &Waker) -> usize {
        // Fibonacci hashing of the task's address: its top bits.
        let bits = (waker.data() as usize as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (bits >> (64 - SPARES.trailing_zeros())) as usize
    }

    /// A free slot for the task of `waker`: the one filed where its own would be (holding its
    /// waker, or another task's), else one from the shared list, else a new one.
    fn take(waker: &Waker, w: &Watchdog) -> Spare {
        let local = SPARES_OF_THREAD
            .try_with(|s| {
                let mut s = s.try_borrow_mut().ok()?;
                s.table.get_mut(Self::index(waker))?.take()
            })
            .ok()
            .flatten();
        match local {
            Some(spare) => spare,
            None => w.shared_spare(),
        }
    }

    /// Files a freed slot in this thread's spares, under the task it holds the waker of.
    fn keep(spare: Spare) {
        let index = spare.waker.as_ref().map_or(0, Self::index);
        // What goes to the shared list: another task's slot filed at `index` before, or this
        // one when the thread's spares are gone (it is ending). (The table is never borrowed
        // twice: nothing runs while it is, but moves.)
        let mut left = Some(spare);
        let _ = SPARES_OF_THREAD.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if s.table.is_empty() {
                    s.table.resize_with(SPARES, || None);
                }
                if let Some(spare) = left.take() {
                    left = s.table[index].replace(spare);
                }
            }
        });
        if let (Some(spare), Some(w)) = (left, watchdog()) {
            let spare = spare.without_waker();
            w.lock().free.push(spare);
        }
    }
}

impl Spare {
    /// The slot, its waker dropped: for the shared list, where nothing ties it to a task.
    fn without_waker(self) -> Spare {
        let kept = self.slot.waker().take();
        // Dropped outside the lock (a waker's drop may run code).
        drop((kept, self.waker));
        Spare {
            slot: self.slot,
            waker: None,
        }
    }
}

impl Drop for Spares {
    fn drop(&mut self) {
        // The thread ends: its spares serve the others.
        let spares: Vec<Spare> = self
            .table
            .drain(..)
            .flatten()
            .map(Spare::without_waker)
            .collect();
        if let (false, Some(w)) = (spares.is_empty(), watchdog()) {
            w.lock().free.extend(spares);
        }
    }
}

/// The process's watchdog, started on first use; `None` if its thread could not start.
fn watchdog() -> Option<&'static Watchdog> {
    static WATCHDOG: OnceLock<Option<Watchdog>> = OnceLock::new();
    WATCHDOG.get_or_init(Watchdog::start).as_ref()
}

struct Watchdog {
    /// Ticks count from here.
    epoch: Instant,
    /// When the thread looks next ([`Ticks`]); `u64::MAX` while it is parked until a deadline
    /// is armed.
    next_look: AtomicU64,
    state: Mutex<State>,
    thread: Thread,
}

#[derive(Default)]
struct State {
    /// Every slot, armed or free.
    slots: Vec<Arc<Slot>>,
    /// Free slots no thread keeps.
    free: Vec<Spare>,
}

impl Watchdog {
    fn start() -> Option<Watchdog> {
        let thread = std::thread::Builder::new()
            .name("orm-deadlines".into())
            // Its `watchdog()` waits for this `start` to return and the static to be set.
            .spawn(|| {
                if let Some(w) = watchdog() {
                    w.run();
                }
            })
            .ok()?;
        Some(Watchdog {
            epoch: Instant::now(),
            // Parked until the first deadline (which unparks it: an unpark before the thread
            // parks makes that park return at once).
            next_look: AtomicU64::new(u64::MAX),
            state: Mutex::new(State::default()),
            thread: thread.thread().clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; a poisoned table is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Now, in ticks.
    fn now(&self) -> Option<Ticks> {
        nanos(Instant::now().saturating_duration_since(self.epoch))?.checked_add(1)
    }

    /// A free slot from the shared list, or a new one.
    fn shared_spare(&self) -> Spare {
        let mut s = self.lock();
        if let Some(spare) = s.free.pop() {
            return spare;
        }
        let slot = Arc::new(Slot::default());
        s.slots.push(slot.clone());
        Spare { slot, waker: None }
    }

    /// Arms a slot for `at`; `None` past what the ticks count (about 292 years from the
    /// start).
    fn arm(&self, at: Ticks, waker: &Waker) -> Option<Armed> {
        if at & FIRED != 0 {
            return None;
        }
        let Spare { slot, waker: held } = Spares::take(waker, self);
        let waker = match held {
            Some(held) if same_task(&held, waker) => held,
            _ => slot.wake_with(waker),
        };
        // The waker is in place before the time is: a fire finds it.
        slot.at.store(at, Ordering::SeqCst);
        if at < self.next_look.load(Ordering::SeqCst) {
            self.thread.unpark();
        }
        Some(Armed { slot, at, waker })
    }

    /// Fires the armed slots due by `now` (into `due`, to wake); the earliest still to come.
    fn look(&self, now: Ticks, due: &mut Vec<Arc<Slot>>) -> Ticks {
        let s = self.lock();
        let mut next = u64::MAX;
        for slot in &s.slots {
            let at = slot.at.load(Ordering::SeqCst);
            if at == 0 || at & FIRED != 0 {
                continue;
            }
            if at > now {
                next = next.min(at);
            } else if slot
                .at
                .compare_exchange(at, at | FIRED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                due.push(slot.clone());
            }
        }
        next
    }

    /// The thread: fires the deadlines whose time has come, then sleeps until the earliest
    /// one still armed (or until a deadline is armed, when none is).
    fn run(&self) {
        let mut due = Vec::new();
        loop {
            let now = self.now().unwrap_or(FIRED - 1);
            let next = self.look(now, &mut due);
            // Woken outside every lock: a waker may run its task's code right here. A waker
            // that panics (in its clone or its wake) must not end the thread, which keeps
            // every other deadline.
            for slot in due.drain(..) {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let waker = slot.waker().clone();
                    if let Some(w) = waker {
                        w.wake();
                    }
                }));
            }
            self.next_look.store(next, Ordering::SeqCst);
            // An arm that stored its time after the look above read its slot, and read
            // `next_look` before the store just made, did not wake the thread: a second look
            // finds it (see the module's note).
            if self.look(now, &mut due) < next || !due.is_empty() {
                continue;
            }
            // Unparked early by a deadline earlier than `next` (or spuriously: then the loop
            // looks again).
            match next {
                u64::MAX => std::thread::park(),
                at => {
                    let now = self.now().unwrap_or(at);
                    std::thread::park_timeout(Duration::from_nanos(at.saturating_sub(now)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Waits (at most 10 s) until `count`'s task was woken.
    fn until_woken(count: &Count, started: Instant) {
        while count.0.load(Ordering::SeqCst) == 0 {
            assert!(started.elapsed() < Duration::from_secs(10), "never fired");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn counted() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn a_deadline_fires_after_its_limit_and_wakes_its_task_once() {
        let (count, waker) = counted();
        let mut cx = Context::from_waker(&waker);
        let started = Instant::now();
        let mut d = Deadline::after(Duration::from_millis(50), &waker);
        assert!(d.poll(&mut cx).is_pending());
        until_woken(&count, started);
        assert!(
            started.elapsed() >= Duration::from_millis(50),
            "fired early"
        );
        assert!(d.poll(&mut cx).is_ready());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_dropped_deadline_never_wakes() {
        let (count, waker) = counted();
        let d = Deadline::after(Duration::from_millis(20), &waker);
        drop(d);
        let (later, later_waker) = counted();
        let mut cx = Context::from_waker(&later_waker);
        let mut next = Deadline::after(Duration::from_secs(3600), &later_waker);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        assert_eq!(later.0.load(Ordering::SeqCst), 0);
        assert!(next.poll(&mut cx).is_pending());
    }

    #[test]
    fn an_earlier_deadline_wakes_a_watchdog_asleep_for_a_later_one() {
        let (late, late_waker) = counted();
        let _late = Deadline::after(Duration::from_secs(3600), &late_waker);
        // Let the watchdog go to sleep for the hour.
        std::thread::sleep(Duration::from_millis(20));
        let (early, early_waker) = counted();
        let started = Instant::now();
        let _early = Deadline::after(Duration::from_millis(40), &early_waker);
        until_woken(&early, started);
        assert_eq!(late.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn the_last_waker_polled_is_the_one_woken() {
        let (first, first_waker) = counted();
        let (second, second_waker) = counted();
        let mut d = Deadline::after(Duration::from_millis(30), &first_waker);
        assert!(d.poll(&mut Context::from_waker(&second_waker)).is_pending());
        let started = Instant::now();
        until_woken(&second, started);
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
    }

    /// The slot a deadline armed (`None` for a tokio timer).
    fn slot_of(d: &Deadline) -> Option<Arc<Slot>> {
        match &d.timer {
            Timer::Watched(armed) => Some(armed.slot.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_tasks_next_deadline_takes_its_slot_back_without_cloning_its_waker() {
        let (count, waker) = counted();
        let first = Deadline::after(Duration::from_secs(3600), &waker);
        let slot = slot_of(&first).expect("a watched deadline");
        // The test's two (`count`, `waker`), the slot's and the handle's.
        assert_eq!(Arc::strong_count(&count), 4);
        drop(first);
        // Free, the slot keeps the task's waker.
        assert_eq!(Arc::strong_count(&count), 4);
        let replaced = REPLACED.with(|n| n.get());
        let second = Deadline::after(Duration::from_secs(3600), &waker);
        assert!(Arc::ptr_eq(&slot, &slot_of(&second).expect("watched")));
        assert_eq!(
            REPLACED.with(|n| n.get()),
            replaced,
            "the waker was put in again"
        );
        assert_ne!(slot.at.load(Ordering::SeqCst), 0);
    }

    thread_local! {
        /// Wakers put in slots by this thread.
        pub(super) static REPLACED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    #[test]
    fn a_block_on_futures_deadlines_keep_its_waker() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let replaced = rt.block_on(std::future::poll_fn(|cx| {
            let before = REPLACED.with(|n| n.get());
            for _ in 0..3 {
                drop(Deadline::after(Duration::from_secs(3600), cx.waker()));
            }
            Poll::Ready(REPLACED.with(|n| n.get()) - before)
        }));
        // The first deadline's slot may have held another waker; the next two find this one.
        assert!(replaced <= 1, "{replaced} wakers put in slots");
    }

    #[test]
    fn a_slot_that_served_another_task_wakes_the_new_one() {
        let (old, old_waker) = counted();
        drop(Deadline::after(Duration::from_secs(3600), &old_waker));
        // Whichever slot it gets (the old task's, or another), the new task is the one woken.
        let (new, new_waker) = counted();
        let started = Instant::now();
        let mut d = Deadline::after(Duration::from_millis(20), &new_waker);
        until_woken(&new, started);
        assert!(d.poll(&mut Context::from_waker(&new_waker)).is_ready());
        assert_eq!(old.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_threads_spares_go_to_the_shared_list_without_their_wakers_when_it_ends() {
        let (count, waker) = counted();
        let slot = std::thread::spawn(move || {
            let d = Deadline::after(Duration::from_secs(3600), &waker);
            let slot = slot_of(&d).expect("watched");
            drop(d);
            slot
        })
        .join()
        .expect("the thread");
        // Not lost: the table's, this test's, and the shared list's (or the deadline's of
        // another test that took it from there since).
        assert!(Arc::strong_count(&slot) >= 3);
        // No waker of the ended thread's task kept.
        assert_eq!(Arc::strong_count(&count), 1);
    }

    #[test]
    fn a_deadline_freed_on_another_thread_never_fires() {
        let (count, waker) = counted();
        let d = Deadline::after(Duration::from_millis(20), &waker);
        let slot = slot_of(&d).expect("watched");
        std::thread::spawn(move || drop(d))
            .join()
            .expect("the thread");
        drop(slot);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }

    /// Many threads arming short and long deadlines at once: every short one fires, none is
    /// lost to the watchdog going to sleep for a later one while it is armed.
    #[test]
    fn no_deadline_is_missed_while_the_watchdog_goes_to_sleep() {
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                std::thread::spawn(move || {
                    let (_late, late_waker) = counted();
                    for i in 0..40u64 {
                        // A long one armed now and then, so the watchdog sleeps for it.
                        let _long = (i % 3 == 0)
                            .then(|| Deadline::after(Duration::from_secs(60), &late_waker));
                        let (count, waker) = counted();
                        let started = Instant::now();
                        let limit = Duration::from_micros(200 + (t * 37 + i * 101) % 1500);
                        let mut d = Deadline::after(limit, &waker);
                        until_woken(&count, started);
                        assert!(d.poll(&mut Context::from_waker(&waker)).is_ready());
                        assert!(started.elapsed() >= limit, "fired early");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("every deadline fired");
        }
    }

    #[test]
    fn a_limit_past_the_end_of_time_never_fires() {
        let (count, waker) = counted();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let mut d = Deadline::after(Duration::MAX, &waker);
            assert!(d.poll(&mut Context::from_waker(&waker)).is_pending());
        });
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }
}
