//! Transactions and savepoints as the unit of work sees them: frames of the undo log that a
//! rollback replays ([`SavepointToken`]).

use super::fxhash::FxHashSet;
use super::status::Status;
use super::undo::Undo;
use super::unit::UnitOfWork;

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
    }

    /// Restores every object to its state when the savepoint began.
    pub fn rollback_savepoint(&mut self, token: SavepointToken) {
        while self.link.undo.depth() >= token.depth && self.link.undo.depth() > 1 {
            let records = self.link.undo.pop_frame();
            self.replay(records);
        }
    }

    /// Starts the undo frame of a flush.
    pub(crate) fn begin_flush_frame(&mut self) -> SavepointToken {
        self.begin_savepoint()
    }

    /// After `COMMIT`: forget the undo log; expire every object when asked.
    pub fn committed(&mut self, expire: bool) {
        let generation = self.next_gen();
        drop(self.link.undo.reset_transaction(generation));
        self.deleted.clear();
        if expire {
            // Nothing is dirty after the flush of a commit: moving the epoch expires all.
            self.link.expire_everything();
        }
    }

    /// After `ROLLBACK`: every object back to its state when the transaction began (objects
    /// added since are expunged, deleted ones are back), and expired.
    pub fn rolled_back(&mut self) {
        let generation = self.next_gen();
        let records = self.link.undo.reset_transaction(generation);
        self.replay(records);
        // Other transactions may have changed the rows meanwhile: the next load refreshes
        // every object (SQLAlchemy expires everything on rollback too). The replay left
        // nothing dirty that was not dirty when the transaction began.
        self.link.expire_everything();
    }

    fn replay(&mut self, records: Vec<Undo<UnitOfWork>>) {
        for undo in records.into_iter().rev() {
            undo(self);
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
    }
}
