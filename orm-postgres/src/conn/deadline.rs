//! The limits of statements and of waits for a pooled connection, kept by one watchdog thread
//! instead of a tokio timer each.
//!
//! A tokio `Sleep` costs about 650 instructions from its creation to its drop (the clock read,
//! the timer wheel's lock, insert and remove), and a statement and a busy pool's checkout each
//! took one (callgrind, issue 17: 1,860 of the 15,400 instructions of a lookup on a busy
//! pool). A [`Deadline`] is a slot in one table under a mutex, armed when its future first
//! waits and freed when it is done: about 220 instructions. The watchdog thread sleeps until
//! the earliest armed deadline, wakes the futures whose time has come and sleeps again; a
//! deadline earlier than the one it sleeps for wakes it to look again. With one limit for
//! every statement, each new deadline is later than those before it, so the thread wakes about
//! once per limit, whatever the rate of statements; with none armed it parks.
//!
//! If the thread cannot be started, deadlines are tokio timers, as before.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// A limit armed for one future: fires once its time has come.
pub(crate) struct Deadline {
    timer: Timer,
}

enum Timer {
    /// A slot of the watchdog's table, and the slot's generation when it was taken.
    Watched { slot: usize, generation: u64 },
    /// Without a watchdog: a tokio timer.
    Tokio(Pin<Box<tokio::time::Sleep>>),
}

impl Deadline {
    /// A deadline `limit` from now that wakes `waker` when it fires.
    pub(crate) fn after(limit: Duration, waker: &Waker) -> Deadline {
        let at = Instant::now().checked_add(limit);
        let timer = match (watchdog(), at) {
            (Some(w), Some(at)) => w.arm(at, waker),
            // A limit past the end of time never fires: a timer of tokio's (which saturates)
            // keeps the code path single.
            _ => Timer::Tokio(Box::pin(tokio::time::sleep(limit))),
        };
        Deadline { timer }
    }

    /// Ready once the deadline has fired; otherwise it wakes the task of `cx` when it does.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.timer {
            Timer::Watched { slot, generation } => match watchdog() {
                Some(w) => w.poll(*slot, *generation, cx.waker()),
                None => Poll::Pending,
            },
            Timer::Tokio(sleep) => sleep.as_mut().poll(cx),
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let (Timer::Watched { slot, generation }, Some(w)) = (&self.timer, watchdog()) {
            w.free(*slot, *generation);
        }
    }
}

/// The process's watchdog, started on first use; `None` if its thread could not start.
fn watchdog() -> Option<&'static Watchdog> {
    static WATCHDOG: OnceLock<Option<Watchdog>> = OnceLock::new();
    WATCHDOG.get_or_init(Watchdog::start).as_ref()
}

struct Watchdog {
    state: Mutex<State>,
    thread: Thread,
}

#[derive(Default)]
struct State {
    slots: Vec<Slot>,
    /// Slots not in use.
    free: Vec<usize>,
    /// When the thread looks next; `None` while it is parked until a deadline is armed.
    next_look: Option<Instant>,
}

struct Slot {
    /// Bumped each time the slot is freed, so that a stale handle never touches its next use.
    generation: u64,
    at: Instant,
    /// The task to wake; `None` once woken (or while free).
    waker: Option<Waker>,
    fired: bool,
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
            // Parked until the first deadline (which unparks it: an unpark before the thread
            // parks makes that park return at once).
            state: Mutex::new(State::default()),
            thread: thread.thread().clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; a poisoned table is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn arm(&self, at: Instant, waker: &Waker) -> Timer {
        let mut s = self.lock();
        let slot = match s.free.pop() {
            Some(i) => i,
            None => {
                s.slots.push(Slot {
                    generation: 0,
                    at,
                    waker: None,
                    fired: false,
                });
                s.slots.len() - 1
            }
        };
        let entry = &mut s.slots[slot];
        entry.at = at;
        entry.waker = Some(waker.clone());
        entry.fired = false;
        let generation = entry.generation;
        if s.next_look.is_none_or(|look| at < look) {
            s.next_look = Some(at);
            self.thread.unpark();
        }
        Timer::Watched { slot, generation }
    }

    fn poll(&self, slot: usize, generation: u64, waker: &Waker) -> Poll<()> {
        let mut s = self.lock();
        match s.slots.get_mut(slot) {
            Some(entry) if entry.generation == generation => {
                if entry.fired {
                    return Poll::Ready(());
                }
                match &mut entry.waker {
                    Some(w) if w.will_wake(waker) => {}
                    w => *w = Some(waker.clone()),
                }
                Poll::Pending
            }
            // Not this deadline's slot any more: cannot happen while the handle lives.
            _ => Poll::Ready(()),
        }
    }

    fn free(&self, slot: usize, generation: u64) {
        let mut s = self.lock();
        if let Some(entry) = s.slots.get_mut(slot).filter(|e| e.generation == generation) {
            entry.generation += 1;
            entry.waker = None;
            s.free.push(slot);
        }
    }

    /// The thread: fires the deadlines whose time has come, then sleeps until the earliest
    /// one still armed (or until a deadline is armed, when none is).
    fn run(&self) {
        let mut due = Vec::new();
        loop {
            let next = {
                let mut s = self.lock();
                let now = Instant::now();
                let mut next: Option<Instant> = None;
                for entry in s.slots.iter_mut().filter(|e| e.waker.is_some()) {
                    if entry.at <= now {
                        entry.fired = true;
                        due.extend(entry.waker.take());
                    } else {
                        next = Some(next.map_or(entry.at, |n| n.min(entry.at)));
                    }
                }
                s.next_look = next;
                next
            };
            // Woken outside the lock: a waker may run its task's code right here.
            for w in due.drain(..) {
                w.wake();
            }
            // Unparked early by a deadline earlier than `next` (or spuriously: then the loop
            // looks again).
            match next {
                Some(at) => std::thread::park_timeout(at.saturating_duration_since(Instant::now())),
                None => std::thread::park(),
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
            std::thread::sleep(Duration::from_millis(5));
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
    fn a_dropped_deadline_never_wakes_and_its_slot_serves_the_next() {
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
