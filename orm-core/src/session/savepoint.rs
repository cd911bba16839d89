//! Transactions and savepoints as the unit of work sees them: frames of the undo log that a
//! rollback replays ([`SavepointToken`]); and operations that change nothing when they fail
//! (`all_or_nothing`), through the same frames.
//!
//! Replaying takes the lock of every object it restores, which a guard may hold: a rollback
//! the caller asks for checks them all first ([`check_rollback`](UnitOfWork::check_rollback),
//! [`check_rollback_savepoint`](UnitOfWork::check_rollback_savepoint)) and fails with
//! [`ObjectInUse`](crate::ErrorKind::ObjectInUse) before anything is restored. A replay that
//! still meets a guard (taken meanwhile by another thread) stops there: the records it could
//! not run stay in the log, [`needs_rollback`](UnitOfWork::needs_rollback) says so, and the
//! next rollback runs them.

use super::fxhash::FxHashSet;
use super::status::Status;
use super::unit::{Undo, UnitOfWork};
use crate::error::{Error, Result};

/// A savepoint's place in the undo log, returned by [`UnitOfWork::begin_savepoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavepointToken {
    depth: usize,
}

impl UnitOfWork {
    fn next_gen(&mut self) -> u64 {
        self.next_gen += 1;
        self.next_gen
    }

    /// Starts a savepoint frame: [`rollback_savepoint`](Self::rollback_savepoint) restores
    /// every object changed since.
    pub fn begin_savepoint(&mut self) -> SavepointToken {
        let generation = self.next_gen();
        self.link.undo.push_frame(generation);
        SavepointToken {
            depth: self.link.undo.depth(),
        }
    }

    /// Keeps what happened since the savepoint (its frame merges into the one below).
    pub fn release_savepoint(&mut self, token: SavepointToken) {
        while self.link.undo.depth() >= token.depth && self.link.undo.depth() > 1 {
            self.link.undo.merge_frame();
        }
        if self.unrestored.is_some_and(|d| d >= token.depth) {
            self.unrestored = Some(token.depth.saturating_sub(1).max(1));
        }
    }

    /// An [`ObjectInUse`](crate::ErrorKind::ObjectInUse) error (operation `rollback_nested`)
    /// when a guard holds an object that rolling back to the savepoint must restore. Takes no
    /// lock and changes nothing.
    pub fn check_rollback_savepoint(&self, token: SavepointToken) -> Result<()> {
        self.check_undo_targets(token.depth, "rollback_nested")
    }

    /// Restores every object to its state when the savepoint began. A guard held on one of
    /// them fails it first, with nothing restored (see
    /// [`check_rollback_savepoint`](Self::check_rollback_savepoint)).
    pub fn rollback_savepoint(&mut self, token: SavepointToken) -> Result<()> {
        self.check_rollback_savepoint(token)?;
        self.unwind(token, "rollback_nested", true)
    }

    /// Starts the undo frame of a flush.
    pub(crate) fn begin_flush_frame(&mut self) -> SavepointToken {
        self.begin_savepoint()
    }

    /// Undoes a failed flush's changes to the objects.
    pub(crate) fn unwind_flush(&mut self, token: SavepointToken) -> Result<()> {
        self.unwind(token, "flush", false)
    }

    /// Runs `f`, an `operation` that may change several objects (a delete and its cascades):
    /// when it fails, every object it changed is restored from the undo records it wrote, so
    /// the failed operation leaves the session as it was.
    pub(crate) fn all_or_nothing<R>(
        &mut self,
        operation: &'static str,
        f: impl FnOnce(&mut Self) -> Result<R>,
    ) -> Result<R> {
        // A frame of its own: every object it changes saves its state in it, even one already
        // saved in the frame below.
        let token = self.begin_savepoint();
        match f(self) {
            Ok(r) => {
                self.release_savepoint(token);
                Ok(r)
            }
            Err(e) => {
                // The objects it changed were free a moment ago; if one is held now, its record
                // stays in the frame below and the session needs a rollback.
                let _ = self.abandon_savepoint(token, operation);
                Err(e)
            }
        }
    }

    /// Undoes what happened since the savepoint, for an `operation` that failed part way
    /// (a merge, level by level): every object it changed is restored. An object a guard
    /// holds now fails it with [`ObjectInUse`](crate::ErrorKind::ObjectInUse): its record
    /// stays in the frame below, and [`needs_rollback`](Self::needs_rollback) is true until a
    /// rollback restores it.
    pub fn abandon_savepoint(
        &mut self,
        token: SavepointToken,
        operation: &'static str,
    ) -> Result<()> {
        self.unwind(token, operation, false)
    }

    /// After `COMMIT`: forget the undo log; expire every object when asked.
    pub fn committed(&mut self, expire: bool) {
        let generation = self.next_gen();
        drop(self.link.undo.reset_transaction(generation));
        self.deleted.clear();
        self.unrestored = None;
        if expire {
            // Nothing is dirty after the flush of a commit: moving the epoch expires all.
            self.link.expire_everything();
        }
    }

    /// An [`ObjectInUse`](crate::ErrorKind::ObjectInUse) error (operation `rollback`) when a
    /// guard holds an object that rolling back the transaction must restore. Takes no lock
    /// and changes nothing: call it before `ROLLBACK`.
    pub fn check_rollback(&self) -> Result<()> {
        self.check_undo_targets(1, "rollback")
    }

    /// After `ROLLBACK`: every object back to its state when the transaction began (objects
    /// added since are expunged, deleted ones are back), and expired.
    ///
    /// A guard held on an object to restore stops the replay there with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse): what was not restored stays in the
    /// undo log, [`needs_rollback`](Self::needs_rollback) is true, and the next call restores
    /// it ([`check_rollback`](Self::check_rollback) first avoids this).
    pub fn rolled_back(&mut self) -> Result<()> {
        let generation = self.next_gen();
        let records = self.link.undo.reset_transaction(generation);
        // The objects `add_all_copy` added are gone with the transaction.
        self.copy.requested.clear();
        let replayed = self.replay(records, "rollback");
        // Other transactions may have changed the rows meanwhile: the next load refreshes
        // every object (SQLAlchemy expires everything on rollback too). The replay left
        // nothing dirty that was not dirty when the transaction began.
        self.link.expire_everything();
        match replayed {
            Ok(()) => {
                self.unrestored = None;
                Ok(())
            }
            Err((rest, e)) => {
                self.link.undo.put_back(rest);
                self.unrestored = Some(1);
                Err(e)
            }
        }
    }

    /// Checks that no guard holds an object the records of the frames from `depth` restore.
    fn check_undo_targets(&self, depth: usize, operation: &'static str) -> Result<()> {
        self.link.undo.try_for_each_from(depth, |r| {
            r.targets(&mut |target| target.check_free(operation, true))
        })
    }

    /// Pops the frames from the savepoint's up and replays their records. When a record meets
    /// a guard, the records left go back into a frame at the savepoint's depth (`keep`: so the
    /// same rollback can run again) or into the frame below, and the session needs a rollback.
    fn unwind(&mut self, token: SavepointToken, operation: &'static str, keep: bool) -> Result<()> {
        let mut records = Vec::new();
        while self.link.undo.depth() >= token.depth && self.link.undo.depth() > 1 {
            let mut frame = self.link.undo.pop_frame();
            frame.extend(records);
            records = frame;
        }
        match self.replay(records, operation) {
            Ok(()) => {
                if self.unrestored.is_some_and(|d| d >= token.depth) {
                    self.unrestored = None;
                }
                Ok(())
            }
            Err((rest, e)) => {
                let generation = self.next_gen();
                self.link.undo.push_frame(generation);
                self.link.undo.put_back(rest);
                let depth = if keep {
                    token.depth
                } else {
                    self.link.undo.merge_frame();
                    token.depth.saturating_sub(1).max(1)
                };
                self.unrestored = Some(self.unrestored.map_or(depth, |d| d.min(depth)));
                Err(e)
            }
        }
    }

    /// Runs undo records, newest first. At the first that fails (a guard holds its object),
    /// stops: the records not run come back, in log order, with the error.
    fn replay(
        &mut self,
        mut records: Vec<Undo>,
        operation: &'static str,
    ) -> std::result::Result<(), (Vec<Undo>, Error)> {
        let mut failed = None;
        while let Some(mut undo) = records.pop() {
            if let Err(e) = undo.restore(self, operation) {
                records.push(undo);
                failed = Some(e);
                break;
            }
        }
        // Lists are rebuilt from the restored states.
        self.new.retain(|e| e.status() == Status::Pending);
        self.deleted.retain(|e| e.status() == Status::Deleted);
        let mut seen = FxHashSet::default();
        self.new.retain(|e| seen.insert(e.id()));
        let mut seen = FxHashSet::default();
        self.deleted.retain(|e| seen.insert(e.id()));
        let collections = &self.collections;
        self.changed_collections
            .retain(|k| collections.get(k).is_some_and(|c| c.original.is_some()));
        match failed {
            Some(e) => Err((records, e)),
            None => Ok(()),
        }
    }
}
