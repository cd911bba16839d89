//! The undo log: frames of undo records, one for the transaction and one per open savepoint
//! or flush in progress. Rolling back a frame runs its records (newest first); releasing it
//! merges them into the frame below.
//!
//! Generic over its records (`R`, the unit of work's `UndoRecord`), so it knows nothing of the
//! session's objects: the records that save an object's state are written in `tracked.rs`,
//! the savepoint API in `savepoint.rs`. Beside the frames, under the same lock, it keeps a
//! value of the caller's (`Q`: the session's dirty queue), so that a change that both saves a
//! record and queues its object takes one lock, not two.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// One frame of the undo log: the transaction, a savepoint, or a flush in progress.
struct Frame<R> {
    generation: u64,
    records: Vec<R>,
}

/// What the lock holds: the frames, and the caller's value beside them.
struct Held<R, Q> {
    frames: Vec<Frame<R>>,
    side: Q,
}

/// The frames, and the generation of the top one (an object saves its state once per frame:
/// it compares the generation it last saved into with the current one).
pub(crate) struct UndoLog<R, Q = ()> {
    held: Mutex<Held<R, Q>>,
    current: AtomicU64,
}

impl<R, Q> UndoLog<R, Q> {
    /// A log with the transaction's frame, of generation 1, and `side` beside it.
    pub(crate) fn new(side: Q) -> Self {
        UndoLog {
            held: Mutex::new(Held {
                frames: vec![Frame {
                    generation: 1,
                    records: Vec::new(),
                }],
                side,
            }),
            current: AtomicU64::new(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held<R, Q>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the value beside the frames, under the log's lock (`f` must not use the
    /// log).
    pub(crate) fn side<T>(&self, f: impl FnOnce(&mut Q) -> T) -> T {
        f(&mut self.lock().side)
    }

    /// The generation of the top frame.
    pub(crate) fn current_gen(&self) -> u64 {
        self.current.load(Ordering::Relaxed)
    }

    /// Adds a record to the top frame.
    pub(crate) fn push(&self, undo: R) {
        let frames = &mut self.lock().frames;
        if let Some(f) = frames.last_mut() {
            f.records.push(undo);
        }
    }

    /// Adds to the top frame what `f` gives, or nothing when it merged its record into the
    /// frame's last record (which it is given); then runs `side` on the value beside the
    /// frames, under the same lock.
    pub(crate) fn push_with(
        &self,
        f: impl FnOnce(Option<&mut R>) -> Option<R>,
        side: impl FnOnce(&mut Q),
    ) {
        let mut held = self.lock();
        if let Some(frame) = held.frames.last_mut() {
            if let Some(record) = f(frame.records.last_mut()) {
                frame.records.push(record);
            }
        }
        side(&mut held.side);
    }

    pub(crate) fn push_frame(&self, generation: u64) {
        self.lock().frames.push(Frame {
            generation,
            records: Vec::new(),
        });
        self.current.store(generation, Ordering::Relaxed);
    }

    /// Pops the top frame (never the transaction's), returning its records.
    pub(crate) fn pop_frame(&self) -> Vec<R> {
        let frames = &mut self.lock().frames;
        let records = if frames.len() > 1 {
            frames.pop().map(|f| f.records).unwrap_or_default()
        } else {
            Vec::new()
        };
        if let Some(top) = frames.last() {
            self.current.store(top.generation, Ordering::Relaxed);
        }
        records
    }

    /// Merges the top frame into the one below (a released savepoint, a successful flush).
    pub(crate) fn merge_frame(&self) {
        let frames = &mut self.lock().frames;
        if frames.len() > 1 {
            if let Some(top) = frames.pop() {
                if let Some(below) = frames.last_mut() {
                    // The frame below keeps its generation: objects it already saved need no
                    // new record (objects saved only in the merged frame save once more if they
                    // change again, which is harmless).
                    below.records.extend(top.records);
                }
            }
        }
        if let Some(top) = frames.last() {
            self.current.store(top.generation, Ordering::Relaxed);
        }
    }

    /// Drops every record of the transaction's frame (after commit) or takes them (rollback).
    pub(crate) fn reset_transaction(&self, next_gen: u64) -> Vec<R> {
        let frames = &mut self.lock().frames;
        let mut records = Vec::new();
        while let Some(f) = frames.pop() {
            let mut r = f.records;
            r.extend(std::mem::take(&mut records));
            records = r;
        }
        frames.push(Frame {
            generation: next_gen,
            records: Vec::new(),
        });
        self.current.store(next_gen, Ordering::Relaxed);
        records
    }

    /// The number of frames (1: only the transaction's).
    pub(crate) fn depth(&self) -> usize {
        self.lock().frames.len()
    }

    /// Puts records back on top of the top frame (records a rollback could not replay yet).
    pub(crate) fn put_back(&self, records: Vec<R>) {
        let frames = &mut self.lock().frames;
        if let Some(top) = frames.last_mut() {
            top.records.extend(records);
        }
    }

    /// Runs `f` on every record of the frames from `depth` (1: every frame) to the top, up to
    /// the first error.
    pub(crate) fn try_for_each_from<E>(
        &self,
        depth: usize,
        mut f: impl FnMut(&R) -> Result<(), E>,
    ) -> Result<(), E> {
        let frames = &self.lock().frames;
        for frame in frames.iter().skip(depth.saturating_sub(1)) {
            frame.records.iter().try_for_each(&mut f)?;
        }
        Ok(())
    }
}
