//! The flush as a sequence of steps ([`FlushPlan`], [`FlushStep`]) and its API on
//! [`UnitOfWork`]: `flush_begin`, `flush_next`, `flush_step_done`, `flush_end`,
//! `flush_abort`.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;

use super::plan::{Entries, by_table, cycle_breaks, ordered_steps, tables_of};
use crate::error::Result;
use crate::relation::RelationKind;
use crate::session::collections::not_in;
use crate::session::columns::ColumnSet;
use crate::session::fxhash::{FxHashMap, FxHashSet};
use crate::session::job::FlushJob;
use crate::session::job::{Deferred, InsertStep};
use crate::session::savepoint::SavepointToken;
use crate::session::status::Status;
use crate::session::unit::{
    AfterStep, AssociationPair, CollKey, ErasedEntry, ErasedRelation, HookContext, UnitOfWork,
    collection_key, same_rel,
};

/// Statements that can run together, and what to do once they succeeded.
pub struct FlushStep {
    /// The statements, in order (independent of each other: pipeline them).
    pub jobs: Vec<FlushJob>,
    after: Vec<AfterStep>,
    /// Whether its statements only read (the loads that cascade a delete).
    reads_only: bool,
}

impl FlushStep {
    fn writing(jobs: Vec<FlushJob>, after: Vec<AfterStep>) -> Self {
        FlushStep {
            jobs,
            after,
            reads_only: false,
        }
    }

    /// Whether its statements only read (the loads that cascade a delete to children not
    /// loaded yet): when the step fails afterwards, the transaction holds nothing of the
    /// flush.
    pub fn reads_only(&self) -> bool {
        self.reads_only
    }
}

impl std::fmt::Debug for FlushStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushStep")
            .field("jobs", &self.jobs)
            .finish()
    }
}

/// The kind of step a flush produces next; the stages run in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlushStage {
    CascadeLoads,
    Inserts,
    Updates,
    Links,
    Deletes,
    Done,
}

/// A flush in progress. Drive it with [`UnitOfWork::flush_next`].
pub struct FlushPlan {
    /// What the flush is for (`flush`, `commit`, `autoflush`): named by its errors.
    operation: &'static str,
    token: SavepointToken,
    /// This flush's number, which marks the objects its statements carry
    /// ([`ErasedEntry::set_flight`]).
    flight: u64,
    stage: FlushStage,
    ctx: HookContext,
    /// The persistent objects of `drained` (their positions: no reference counts to change),
    /// each once.
    dirty: Vec<usize>,
    /// Everything taken from the dirty queue (put back if the flush fails).
    drained: Vec<Arc<dyn ErasedEntry>>,
    insert_levels: Vec<Vec<Arc<dyn ErasedEntry>>>,
    next_level: usize,
    /// Joined-table objects whose base rows the last step inserted: their subtype rows come
    /// next.
    part_inserts: Vec<Entries>,
    /// Foreign keys inserted as NULL to break a cycle, set by a post-update: (entry id, link).
    deferred: Deferred,
    delete_levels: Vec<Vec<Arc<dyn ErasedEntry>>>,
    next_delete: usize,
    loaded_cascades: FxHashSet<CollKey>,
    /// Statements sent so far (for the caller's bookkeeping).
    pub statements: usize,
}

impl std::fmt::Debug for FlushPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushPlan")
            .field("stage", &self.stage)
            .finish()
    }
}

/// A new flush's number (never 0).
fn next_flight() -> u64 {
    static FLIGHTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    FLIGHTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Runs what hooks deferred (objects they added), and what those objects' hooks deferred, up
/// to 16 rounds.
fn run_deferred(uow: &mut UnitOfWork, ctx: &mut HookContext) {
    for _ in 0..16 {
        let deferred = std::mem::take(&mut ctx.deferred);
        if deferred.is_empty() {
            return;
        }
        for d in deferred {
            d(uow);
        }
    }
}

/// The statements setting to `NULL` the foreign keys that close a cycle between the tables
/// of the objects to delete (see [`cycle_breaks`]), one per table holding some.
fn cycle_break_jobs(levels: &[Entries]) -> Result<Vec<FlushJob>> {
    let tables = tables_of(levels.iter().flatten());
    if tables.len() < 2 {
        return Ok(Vec::new());
    }
    let breaks = cycle_breaks(&tables);
    let mut jobs = Vec::new();
    for (i, table) in tables.iter().enumerate() {
        let cols: Vec<usize> = breaks
            .iter()
            .filter(|&&(t, _)| t == i)
            .map(|&(_, c)| c)
            .collect();
        if cols.is_empty() {
            continue;
        }
        let group: Entries = levels
            .iter()
            .flatten()
            .filter(|e| std::ptr::eq(e.table(), *table))
            .cloned()
            .collect();
        if let Some(first) = group.first() {
            jobs.extend(first.erased_model().unlink_job(&group, &cols)?);
        }
    }
    Ok(jobs)
}

impl UnitOfWork {
    /// Starts a flush: validators and `before_insert` hooks run here, before any SQL. `None`
    /// when there is nothing to write. A changed object a guard holds fails it (operation
    /// `flush`), as in [`flush_begin_as`](Self::flush_begin_as).
    pub fn flush_begin(&mut self) -> Result<Option<FlushPlan>> {
        self.flush_begin_as(super::FLUSH)
    }

    /// [`flush_begin`](Self::flush_begin) for the named operation (`commit`, `autoflush`, ...):
    /// a changed object that a `read()`/`write()` guard holds (or a parent its foreign keys
    /// point at, write-held) fails it with [`ObjectInUse`](crate::ErrorKind::ObjectInUse)
    /// naming `operation`, before anything is sent and before any validator or hook of the
    /// changed objects runs, the session as it was. New and deleted objects and the objects
    /// of changed many-to-many collections are checked by
    /// [`check_guards_before_flush`](Self::check_guards_before_flush), which comes first.
    pub fn flush_begin_as(&mut self, operation: &'static str) -> Result<Option<FlushPlan>> {
        if !self.has_changes() {
            return Ok(None);
        }
        let token = self.begin_flush_frame();
        let mut plan = FlushPlan {
            operation,
            token,
            flight: next_flight(),
            stage: FlushStage::CascadeLoads,
            ctx: HookContext::new(),
            dirty: Vec::new(),
            drained: Vec::new(),
            insert_levels: Vec::new(),
            next_level: 0,
            part_inserts: Vec::new(),
            deferred: HashMap::new(),
            delete_levels: Vec::new(),
            next_delete: 0,
            loaded_cascades: FxHashSet::default(),
            statements: 0,
        };
        if let Err(e) = self.prepare(&mut plan) {
            // A failure to restore is remembered (`needs_rollback`); the cause is the error.
            let _ = self.flush_abort(plan);
            return Err(e);
        }
        Ok(Some(plan))
    }

    fn prepare(&mut self, plan: &mut FlushPlan) -> Result<()> {
        // New objects: hooks (which may add more objects) and validation.
        let mut done = 0;
        for _ in 0..16 {
            // Hooks add objects through the context, run after the loop: `new` does not
            // change while it is read.
            let pending = &self.new[done..];
            if pending.is_empty() {
                break;
            }
            for e in pending {
                // The model first: the object itself is not read when there is nothing to run.
                let model = e.erased_model();
                if model.runs_before_insert() && e.status() == Status::Pending {
                    model.before_insert(e, &mut plan.ctx)?;
                }
            }
            done = self.new.len();
            run_deferred(self, &mut plan.ctx);
        }
        plan.drained = self.take_dirty();
        // Each changed object is marked with the flush's number now, before its statement reads
        // its values (`update_step`): a change made from now on (from another thread) is kept
        // for the next flush if the statement does not carry it. The mark also finds the rare
        // object queued twice (expired and changed again, say) without a set of ids. A guard
        // held on one fails the flush here, before anything is sent and before any validator
        // runs (see `check_guards_before_flush`).
        plan.dirty = Vec::with_capacity(plan.drained.len());
        for (i, e) in plan.drained.iter().enumerate() {
            if e.enter_flight(plan.flight, plan.operation)? {
                plan.dirty.push(i);
            }
        }
        for &i in &plan.dirty {
            plan.drained[i].validate_changes(plan.operation)?;
        }
        Ok(())
    }

    /// The next step of the flush, or `None` when it is complete.
    pub fn flush_next(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        loop {
            let step = match plan.stage {
                FlushStage::CascadeLoads => self.cascade_step(plan)?,
                FlushStage::Inserts => self.insert_step(plan)?,
                FlushStage::Updates => self.update_step(plan)?,
                FlushStage::Links => self.link_step(plan)?,
                FlushStage::Deletes => self.delete_step(plan)?,
                FlushStage::Done => return Ok(None),
            };
            if let Some(step) = step {
                plan.statements += step.jobs.len();
                return Ok(Some(step));
            }
        }
    }

    /// Once the deleted objects are all known (cascades loaded): new objects whose key a
    /// deleted one holds take over its row, and join the objects to update.
    fn switch_rows(&mut self, plan: &mut FlushPlan) -> Result<()> {
        if self.deleted.is_empty() {
            return Ok(());
        }
        for e in self.new.clone() {
            if e.status() == Status::Pending && e.erased_model().row_switch(self, &e)? {
                plan.drained.push(e.clone());
                if e.enter_flight(plan.flight, plan.operation)? {
                    plan.dirty.push(plan.drained.len() - 1);
                }
            }
        }
        Ok(())
    }

    fn cascade_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        // Parents whose cascading relationships are not loaded yet (one only appended to is
        // not the whole collection: its load adds the database's children to it).
        let mut wanted: Vec<(&'static dyn ErasedRelation, Entries)> = Vec::new();
        for e in self.deleted.clone() {
            for rel in e.erased_model().cascade_relations() {
                let key = collection_key(e.id(), rel.meta());
                let complete = self.collections.get(&key).is_some_and(|c| c.complete);
                if complete || !plan.loaded_cascades.insert(key) {
                    continue;
                }
                match wanted
                    .iter_mut()
                    .find(|(r, _)| same_rel(r.meta(), rel.meta()))
                {
                    Some((_, parents)) => parents.push(e.clone()),
                    None => wanted.push((rel, vec![e.clone()])),
                }
            }
        }
        if wanted.is_empty() {
            plan.stage = FlushStage::Inserts;
            self.switch_rows(plan)?;
            let pending = |e: &dyn ErasedEntry| e.status() == Status::Pending;
            (plan.insert_levels, plan.deferred) = ordered_steps(&self.new, pending, false);
            return Ok(None);
        }
        let mut jobs = Vec::new();
        let mut after = Vec::new();
        for (rel, parents) in wanted {
            if let Some((job, a)) = rel.cascade_load(parents)? {
                jobs.push(job);
                after.push(a);
            }
        }
        if jobs.is_empty() {
            return Ok(None);
        }
        Ok(Some(FlushStep {
            jobs,
            after,
            reads_only: true,
        }))
    }

    fn insert_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        // Joined-table objects inserted by the previous step: their subtype rows, now that
        // their keys are known.
        if !plan.part_inserts.is_empty() {
            let mut jobs = Vec::new();
            for group in std::mem::take(&mut plan.part_inserts) {
                jobs.extend(group[0].erased_model().insert_parts_job(&group)?);
            }
            if !jobs.is_empty() {
                return Ok(Some(FlushStep::writing(jobs, Vec::new())));
            }
        }
        let Some(level) = plan
            .insert_levels
            .get_mut(plan.next_level)
            .map(std::mem::take)
        else {
            plan.stage = FlushStage::Updates;
            return Ok(None);
        };
        plan.next_level += 1;
        let mut jobs = Vec::new();
        let mut after: Vec<AfterStep> = Vec::new();
        let step = InsertStep {
            copy: &self.copy,
            deferred: &plan.deferred,
            flight: plan.flight,
        };
        for group in by_table(level) {
            if group[0].table().joined.is_some() {
                plan.part_inserts.push(group.clone());
            }
            let (group_jobs, group_after) = group[0].erased_model().insert(group, &step)?;
            jobs.extend(group_jobs);
            after.push(group_after);
        }
        Ok(Some(FlushStep::writing(jobs, after)))
    }

    fn update_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        plan.stage = FlushStage::Links;
        let dirty = std::mem::take(&mut plan.dirty);
        // Objects inserted with a NULL key to break a cycle: now set it.
        let deferred = std::mem::take(&mut plan.deferred);
        // Found by id in a map of the new objects, made only when there are some: one per
        // cycle's back edge, not a scan of every new object each.
        let mut new_by_id: FxHashMap<u64, &Arc<dyn ErasedEntry>> = FxHashMap::default();
        if !deferred.is_empty() {
            new_by_id.reserve(self.new.len());
            for e in &self.new {
                new_by_id.entry(e.id()).or_insert(e);
            }
        }
        let deferred = deferred
            .keys()
            .filter_map(|id| new_by_id.get(id).copied())
            .inspect(|e| e.set_flight(plan.flight));
        let mut groups: Vec<(TypeId, ColumnSet, Entries)> = Vec::new();
        // Each object is marked before its changes are found (the changed objects since
        // `prepare`, the deferred ones here): a change made after that (from another thread)
        // is either in the statement or kept for the next one.
        for e in dirty.iter().map(|&i| &plan.drained[i]).chain(deferred) {
            let model = e.erased_model();
            let Some(cols) = model.prepare_update(e, &mut plan.ctx)? else {
                e.set_flight(0);
                continue;
            };
            let ty = model.model_type();
            match groups.iter_mut().find(|(t, c, _)| *t == ty && *c == cols) {
                Some((_, _, g)) => g.push(e.clone()),
                None => {
                    // Sized for the common flush: every changed object in one group.
                    let mut g = Vec::with_capacity(if groups.is_empty() { dirty.len() } else { 4 });
                    g.push(e.clone());
                    groups.push((ty, cols, g));
                }
            }
        }
        if groups.is_empty() {
            return Ok(None);
        }
        let mut jobs = Vec::new();
        let mut after: Vec<AfterStep> = Vec::new();
        for (_, cols, group) in groups {
            jobs.extend(group[0].erased_model().update_job(&group, cols)?);
            after.push(Box::new(move |uow: &mut UnitOfWork| {
                let mut ctx = HookContext::new();
                group[0]
                    .erased_model()
                    .updated(uow, &group, cols, &mut ctx)?;
                for d in ctx.deferred {
                    d(uow);
                }
                Ok(())
            }));
        }
        Ok(Some(FlushStep::writing(jobs, after)))
    }

    fn link_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        plan.stage = FlushStage::Deletes;
        let mut deletes = Vec::new();
        let mut inserts = Vec::new();
        // Association rows of deleted objects go with them.
        let mut by_rel: Vec<(&'static dyn ErasedRelation, Entries)> = Vec::new();
        for e in &self.deleted {
            for rel in e.erased_model().many_to_many() {
                match by_rel
                    .iter_mut()
                    .find(|(r, _)| same_rel(r.meta(), rel.meta()))
                {
                    Some((_, g)) => g.push(e.clone()),
                    None => by_rel.push((rel, vec![e.clone()])),
                }
            }
        }
        for (rel, parents) in by_rel {
            let keys = self.key_positions(rel.meta())?;
            deletes.push(rel.unlink_all_job(&keys, &parents)?);
        }
        // Changed many-to-many collections: the difference.
        type Pairs = Vec<AssociationPair>;
        let mut changes: Vec<(&'static dyn ErasedRelation, Pairs, Pairs)> = Vec::new();
        for key in self.changed_collections.to_vec() {
            let Some(coll) = self.collections.get(&key).cloned() else {
                continue;
            };
            if coll.rel.meta().kind != RelationKind::ManyToMany {
                continue;
            }
            let parent = coll.parent.clone();
            if parent.status() == Status::Deleted {
                continue;
            }
            let original = coll.original.clone().unwrap_or_default();
            let added: Pairs = not_in(&coll.items, &original)
                .map(|i| (parent.clone(), i.clone()))
                .collect();
            // A removed target deleted too still needs its row deleted here: its own model
            // may declare no many-to-many to take it (a second DELETE of the row, when it
            // does, deletes nothing and is not counted).
            let removed: Pairs = not_in(&original, &coll.items)
                .map(|o| (parent.clone(), o.clone()))
                .collect();
            match changes
                .iter_mut()
                .find(|(r, _, _)| same_rel(r.meta(), coll.rel.meta()))
            {
                Some((_, a, r)) => {
                    a.extend(added);
                    r.extend(removed);
                }
                None => changes.push((coll.rel, added, removed)),
            }
        }
        for (rel, added, removed) in changes {
            let keys = self.key_positions(rel.meta())?;
            if !removed.is_empty() {
                deletes.push(rel.link_job(&keys, &removed, false)?);
            }
            if !added.is_empty() {
                inserts.push(rel.link_job(&keys, &added, true)?);
            }
        }
        if deletes.is_empty() && inserts.is_empty() {
            return Ok(None);
        }
        deletes.extend(inserts);
        Ok(Some(FlushStep::writing(deletes, Vec::new())))
    }

    fn delete_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        if plan.next_delete == 0 && plan.delete_levels.is_empty() {
            let deleted = |e: &dyn ErasedEntry| e.status() == Status::Deleted;
            (plan.delete_levels, _) = ordered_steps(&self.deleted, deleted, true);
            // Tables whose rows reference each other: their keys closing the cycle set to
            // NULL first, in a step of their own (the DELETEs then go in the order of the
            // keys left, which `ordered_steps` took).
            let jobs = cycle_break_jobs(&plan.delete_levels)?;
            if !jobs.is_empty() {
                return Ok(Some(FlushStep::writing(jobs, Vec::new())));
            }
        }
        let Some(level) = plan
            .delete_levels
            .get_mut(plan.next_delete)
            .map(std::mem::take)
        else {
            plan.stage = FlushStage::Done;
            return Ok(None);
        };
        plan.next_delete += 1;
        let mut jobs = Vec::new();
        let mut after: Vec<AfterStep> = Vec::new();
        for group in by_table(level) {
            for e in &group {
                e.erased_model().before_delete(e, &mut plan.ctx)?;
            }
            jobs.extend(group[0].erased_model().delete_job(&group)?);
            after.push(Box::new(move |uow: &mut UnitOfWork| {
                let mut ctx = HookContext::new();
                group[0].erased_model().deleted(uow, &group, &mut ctx)?;
                for d in ctx.deferred {
                    d(uow);
                }
                Ok(())
            }));
        }
        Ok(Some(FlushStep::writing(jobs, after)))
    }

    /// After a step's statements succeeded (each checked with [`FlushJob::check`]).
    pub fn flush_step_done(&mut self, step: FlushStep) -> Result<()> {
        // The statements go first: what runs after them takes back the objects they shared.
        drop(step.jobs);
        for a in step.after {
            a(self)?;
        }
        Ok(())
    }

    /// Ends a flush whose steps all succeeded. Returns whether hooks added objects that need
    /// another flush.
    pub fn flush_end(&mut self, plan: FlushPlan) -> Result<bool> {
        let mut ctx = plan.ctx;
        self.new.retain(|e| e.status() == Status::Pending);
        // `add_all_copy` asks for the flush that inserts its objects.
        self.copy.requested.clear();
        self.deleted.retain(|e| e.status() == Status::Deleted);
        for key in self.changed_collections.take() {
            if let Some(c) = self.collections.get_mut(&key) {
                c.original = None;
            }
        }
        run_deferred(self, &mut ctx);
        self.release_savepoint(plan.token);
        self.link.recycle_dirty(plan.drained);
        Ok(self.has_changes())
    }

    /// Abandons a failed flush: every object is back to its state before the flush.
    ///
    /// An object the flush changed may be held by a guard taken since (by another thread):
    /// then it is not restored, [`ObjectInUse`](crate::ErrorKind::ObjectInUse) says which,
    /// and [`needs_rollback`](Self::needs_rollback) is true until a rollback restores it.
    pub fn flush_abort(&mut self, plan: FlushPlan) -> Result<()> {
        let restored = self.unwind_flush(plan.token);
        // Nothing was written: the objects are as dirty as before, changed in flight or not.
        for e in plan.drained.iter().chain(&self.new) {
            e.set_flight(0);
        }
        let mut seen = FxHashSet::default();
        for e in plan.drained {
            if seen.insert(e.id()) && e.is_queued() {
                self.link.queue_dirty(e);
            }
        }
        restored
    }

    /// Fails with [`ObjectInUse`](crate::ErrorKind::ObjectInUse) when a `read()`/`write()`
    /// guard the caller holds would stop the flush: the flush write-locks every object it
    /// writes (new, changed, deleted), and read-locks the parents their foreign keys come
    /// from and the objects of changed many-to-many collections. Checked before anything is
    /// locked or sent, so the session is untouched and the same flush succeeds once the guard
    /// is dropped; `operation` names the caller (`flush`, `commit`, `autoflush`). Costs a
    /// look at the lock (a load) of each object the flush touches, not per object tracked.
    pub fn check_guards(&self, operation: &'static str) -> Result<()> {
        self.check_guards_before_flush(operation, true)
    }

    /// [`check_guards`](Self::check_guards) before a flush begun with
    /// [`flush_begin_as`](Self::flush_begin_as), which checks the changed objects itself as it
    /// takes them (before anything is sent, and before any hook of theirs runs): so they are
    /// checked here only when code runs before the flush takes them (`hooks_first`: the
    /// caller's hooks; or the `before_insert` hooks and validators of new objects). A flush of
    /// changed objects then passes over them once less.
    pub fn check_guards_before_flush(
        &self,
        operation: &'static str,
        hooks_first: bool,
    ) -> Result<()> {
        let check = |e: &Arc<dyn ErasedEntry>| e.check_writable(operation);
        self.new.iter().chain(&self.deleted).try_for_each(check)?;
        if hooks_first || !self.new.is_empty() {
            // Read in place: no copy of the queue (check_free takes no lock of the session).
            self.link.try_for_each_dirty(|e| {
                if e.is_queued() && e.status() == Status::Persistent {
                    check(e)
                } else {
                    Ok(())
                }
            })?;
        }
        for key in self.changed_collections.iter() {
            let Some(c) = self.collections.get(key) else {
                continue;
            };
            if c.rel.meta().kind == RelationKind::ManyToMany {
                let objects = std::iter::once(&c.parent)
                    .chain(&c.items)
                    .chain(c.original.iter().flatten());
                for e in objects {
                    e.check_free(operation, false)?;
                }
            }
        }
        Ok(())
    }
}
