//! Bounded locking of tracked objects: how the session takes an object's lock without ever
//! waiting for ever on a guard its caller holds.
//!
//! An object's values live under a lock that the user's [`Tracked::read`] and
//! [`Tracked::write`] guards hold too. The task that calls the session may be holding one
//! itself (a `read()` kept alive across a `flush`, a `write()` across a query): a blocking lock
//! would then wait for ever. So every lock the session takes on an object goes through
//! [`read`] or [`write`](fn@write) here: one try (the same cost as an uncontended lock), then,
//! when the lock is taken, a short bounded spin that yields the thread (a guard another thread
//! holds is released within its synchronous block), then the [`HeldGuard`] that holds it,
//! which the caller turns into [`ErrorKind::ObjectInUse`] with [`in_use`].
//!
//! Knows nothing of the unit of work: it locks any `RwLock` (parking_lot's, which tells
//! whether it is held with a load: [`held`] takes nothing, where a try and a release cost two
//! locked instructions per object a flush checks; callgrind, issue 17).
//!
//! [`Tracked::read`]: super::Tracked::read
//! [`Tracked::write`]: super::Tracked::write

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Error, ErrorKind, HeldGuard};
use crate::model::Model;

/// How many times a taken lock is looked at again (yielding the thread in between) before the
/// guard holding it is reported.
const TRIES: usize = 64;

/// Read-locks `lock`, or names the guard that holds it (a `write()` guard) after a short
/// bounded wait.
#[inline]
pub(crate) fn read<S>(lock: &RwLock<S>) -> Result<RwLockReadGuard<'_, S>, HeldGuard> {
    match lock.try_read() {
        Some(g) => Ok(g),
        None => contended(lock, false).and_then(|()| read_again(lock)),
    }
}

/// Write-locks `lock`, or names the guard that holds it after a short bounded wait.
#[inline]
pub(crate) fn write<S>(lock: &RwLock<S>) -> Result<RwLockWriteGuard<'_, S>, HeldGuard> {
    match lock.try_write() {
        Some(g) => Ok(g),
        None => contended(lock, true).and_then(|()| write_again(lock)),
    }
}

/// The guard held on `lock` that would stop a lock of this kind (`write`: any guard; else a
/// `write()` guard), after the same bounded wait; `None` when the lock is free. Takes nothing.
#[inline]
pub(crate) fn held<S>(lock: &RwLock<S>, write: bool) -> Option<HeldGuard> {
    if !taken(lock, write) {
        return None;
    }
    contended(lock, write).err()
}

/// Whether a guard holds `lock` that stops a lock of this kind (a load: nothing is taken).
#[inline]
fn taken<S>(lock: &RwLock<S>, write: bool) -> bool {
    match write {
        true => lock.is_locked(),
        false => lock.is_locked_exclusive(),
    }
}

/// The slow path: the lock was taken. Looks again, yielding in between, until it is free
/// (`Ok`: lock it now) or the tries run out (the guard that holds it).
#[cold]
#[inline(never)]
fn contended<S>(lock: &RwLock<S>, write: bool) -> Result<(), HeldGuard> {
    for _ in 0..TRIES {
        std::thread::yield_now();
        if !taken(lock, write) {
            return Ok(());
        }
    }
    // A write lock is refused by any guard, a read lock only by a `write()` guard.
    Err(held_kind(lock))
}

/// The kind of guard holding a lock found taken.
fn held_kind<S>(lock: &RwLock<S>) -> HeldGuard {
    match lock.is_locked_exclusive() {
        true => HeldGuard::Write,
        false => HeldGuard::Read,
    }
}

/// Read-locks a lock found free a moment ago (it may have been taken again since: then the
/// guard that holds it).
fn read_again<S>(lock: &RwLock<S>) -> Result<RwLockReadGuard<'_, S>, HeldGuard> {
    lock.try_read().ok_or(HeldGuard::Write)
}

/// Write-locks a lock found free a moment ago.
fn write_again<S>(lock: &RwLock<S>) -> Result<RwLockWriteGuard<'_, S>, HeldGuard> {
    lock.try_write().ok_or_else(|| held_kind(lock))
}

/// The [`ObjectInUse`](ErrorKind::ObjectInUse) error of `operation` on an object of model
/// `M` with primary key `key` (`None`: not inserted yet), held by `guard`.
#[cold]
pub(crate) fn in_use<M: Model>(
    operation: &'static str,
    key: Option<&M::Pk>,
    guard: HeldGuard,
) -> Error {
    ErrorKind::ObjectInUse {
        operation,
        model: M::TABLE.model,
        key: key.map_or_else(|| "new".to_owned(), |k| render_key::<M>(k)),
        guard,
    }
    .into()
}

/// A primary key as `column=value` pairs: `id=7`, `order_id=3, line=1`.
fn render_key<M: Model>(key: &M::Pk) -> String {
    let names = M::TABLE
        .columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| c.name);
    let values = M::pk_params(key.clone());
    let pairs: Vec<String> = names
        .zip(&values)
        .map(|(name, value)| format!("{name}={value:?}"))
        .collect();
    if pairs.is_empty() {
        format!("{key:?}")
    } else {
        pairs.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_lock_is_taken_and_a_held_one_is_named() {
        let lock = RwLock::new(1);
        assert!(read(&lock).is_ok());
        assert!(write(&lock).is_ok());
        assert_eq!(held(&lock, true), None);
        {
            let _r = lock.read();
            // Readers share the lock; a writer is refused, naming the read guard.
            assert!(read(&lock).is_ok());
            assert_eq!(write(&lock).err(), Some(HeldGuard::Read));
            assert_eq!(held(&lock, true), Some(HeldGuard::Read));
            assert_eq!(held(&lock, false), None);
        }
        {
            let _w = lock.write();
            assert_eq!(read(&lock).err(), Some(HeldGuard::Write));
            assert_eq!(write(&lock).err(), Some(HeldGuard::Write));
            assert_eq!(held(&lock, false), Some(HeldGuard::Write));
            assert_eq!(held(&lock, true), Some(HeldGuard::Write));
        }
        assert_eq!(held(&lock, true), None);
        assert_eq!(*write(&lock).expect("free"), 1);
    }

    #[test]
    fn a_guard_held_by_another_thread_is_named_and_its_release_seen() {
        let lock = RwLock::new(5);
        let (taken, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|s| {
            let holder = s.spawn(|| {
                let _w = lock.write();
                taken.wait();
                release.wait();
            });
            taken.wait();
            // Held until this thread lets it go: the bounded wait ends naming it.
            assert_eq!(held(&lock, false), Some(HeldGuard::Write));
            assert_eq!(read(&lock).err(), Some(HeldGuard::Write));
            release.wait();
            holder.join().expect("the holder ends");
            assert_eq!(held(&lock, true), None);
            assert_eq!(*read(&lock).expect("released"), 5);
        });
    }

    #[test]
    fn a_panic_under_a_guard_leaves_the_value_usable() {
        let lock = std::sync::Arc::new(RwLock::new(5));
        let l2 = lock.clone();
        let _ = std::thread::spawn(move || {
            let _g = l2.write();
            panic!("while holding it");
        })
        .join();
        assert_eq!(*read(&lock).expect("released by the unwind"), 5);
        assert_eq!(*write(&lock).expect("free"), 5);
    }
}
