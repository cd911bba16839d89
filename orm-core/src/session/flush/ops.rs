//! [`TypedModel<T>`](crate::session::state::TypedModel): what the session does with the objects
//! of model `T` when it holds them type-erased — the implementation of
//! [`ErasedModel`] (state changes, hooks, foreign keys, and
//! the statements of each flush step for a group of objects of the same table).

use std::any::TypeId;
use std::sync::Arc;

use super::FLUSH;
use super::fk_sync::{needs_fk_sync, sync_entry_fks};
use super::flight::{patch_columns, requeue};
use super::insert::insert;
use super::joined;
use super::read_back::read_back_by_key;
use super::sql::{cached_query, delete_using, null_sql, row_arrays, storage_tables, update_sql};
use super::typed::{read_all, stored_key_arrays, typed, typed_all, typed_ref};
use crate::error::Result;
use crate::relation::{Cascade, RelationKind, RelationMeta};
use crate::session::cascade::{drop_entry_link, link_entry_fk};
use crate::session::columns::ColumnSet;
use crate::session::job::{ExpectedRows, FlushJob, InsertStep};
use crate::session::persist::Persist;
use crate::session::positions::KeyPositions;
use crate::session::state::TypedModel;
use crate::session::status::Status;
use crate::session::tracked::save_undo;
use crate::session::unit::{
    AfterStep, ErasedEntry, ErasedModel, ErasedRelation, HookContext, LinkBefore, UnitOfWork,
    same_rel,
};

impl<T: Persist> ErasedModel for TypedModel<T> {
    fn mark_deleted(
        &self,
        uow: &mut UnitOfWork,
        e: &Arc<dyn ErasedEntry>,
        operation: &'static str,
    ) -> Result<()> {
        uow.mark_entry_deleted(&typed::<T>(e)?, operation)
    }

    fn expunge(
        &self,
        uow: &mut UnitOfWork,
        e: &Arc<dyn ErasedEntry>,
        operation: &'static str,
    ) -> Result<()> {
        uow.expunge_entry(&typed::<T>(e)?, operation)
    }

    fn link_fk(
        &self,
        e: &Arc<dyn ErasedEntry>,
        keys: &KeyPositions,
        parent: Option<Arc<dyn ErasedEntry>>,
        changed: Option<&'static str>,
    ) -> Result<()> {
        link_entry_fk(&typed::<T>(e)?, keys, parent, changed)
    }

    fn drop_link(
        &self,
        e: &Arc<dyn ErasedEntry>,
        fk_cols: &[usize],
        parent: Option<u64>,
        operation: &'static str,
    ) -> Result<Option<LinkBefore>> {
        drop_entry_link(&typed::<T>(e)?, fk_cols, parent, operation)
    }

    fn relation_by_meta(&self, meta: &'static RelationMeta) -> Option<&'static dyn ErasedRelation> {
        T::RELATIONS
            .iter()
            .find(|r| same_rel(r.meta(), meta))
            .map(|r| r.erased())
    }

    fn row_switch(&self, uow: &mut UnitOfWork, e: &Arc<dyn ErasedEntry>) -> Result<bool> {
        uow.row_switch_entry(&typed::<T>(e)?)
    }

    fn runs_before_insert(&self) -> bool {
        T::CUSTOM_HOOKS || T::VALIDATES
    }

    fn before_insert(&self, e: &Arc<dyn ErasedEntry>, ctx: &mut HookContext) -> Result<()> {
        if !self.runs_before_insert() {
            // Nothing to run: no lock to take.
            return Ok(());
        }
        let t = typed_ref::<T>(e)?;
        let mut inner = t.write_for(FLUSH)?;
        // Only the model's own hooks change a new object here: then save it, so a failed
        // flush undoes them (a password is not hashed twice).
        if T::CUSTOM_HOOKS {
            if let Some(link) = inner.session.clone() {
                save_undo(&typed::<T>(e)?, &mut inner, &link);
            }
            inner.value.before_insert(ctx)?;
        }
        inner.value.validate(ColumnSet::all(T::TABLE.columns.len()))
    }

    fn model_type(&self) -> TypeId {
        TypeId::of::<T>()
    }

    fn insert(
        &self,
        group: Vec<Arc<dyn ErasedEntry>>,
        step: &InsertStep<'_>,
    ) -> Result<(Vec<FlushJob>, AfterStep)> {
        insert::<T>(group, step)
    }

    fn insert_parts_job(&self, group: &[Arc<dyn ErasedEntry>]) -> Result<Vec<FlushJob>> {
        joined::insert_parts(&typed_all::<T>(group)?)
    }

    fn prepare_update(
        &self,
        e: &Arc<dyn ErasedEntry>,
        ctx: &mut HookContext,
    ) -> Result<Option<ColumnSet>> {
        let t = typed_ref::<T>(e)?;
        let mut inner = t.write_for(FLUSH)?;
        // A failed flush leaves dirty objects dirty (their snapshot stays until `updated`);
        // only hooks, the version column and the foreign keys set below change them, and the
        // first two need an undo record.
        if T::CUSTOM_HOOKS || T::VERSION.is_some() {
            if let Some(link) = inner.session.clone() {
                save_undo(&typed::<T>(e)?, &mut inner, &link);
            }
        }
        let persistent = t.status() == Status::Persistent;
        if persistent && inner.snapshot.is_none() {
            inner.snapshot = Some(inner.take_snapshot());
        }
        if needs_fk_sync(t) {
            sync_entry_fks(t, &mut inner, &[])?;
        }
        if !persistent {
            return Ok(None);
        }
        let Some(snapshot) = inner.snapshot.take() else {
            t.set_queued(false);
            return Ok(None);
        };
        let mut changed = inner.value.changed_columns(snapshot.as_ref());
        if changed.is_empty() {
            t.set_queued(false);
            return Ok(None);
        }
        if T::CUSTOM_HOOKS {
            inner.value.before_update(changed, ctx)?;
            changed = inner.value.changed_columns(snapshot.as_ref());
        }
        inner.value.validate(changed)?;
        inner.value.audit_update(snapshot.as_ref(), changed, ctx)?;
        if let Some(v) = T::VERSION {
            inner.value.bump_version();
            changed.insert(v);
        }
        inner.snapshot = Some(snapshot);
        Ok(Some(changed))
    }

    fn update_job(
        &self,
        group: &[Arc<dyn ErasedEntry>],
        columns: ColumnSet,
    ) -> Result<Vec<FlushJob>> {
        if T::TABLE.joined.is_some() {
            return joined::update(&typed_all::<T>(group)?, columns);
        }
        let table = T::TABLE;
        let pk: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].primary_key)
            .collect();
        let set: Vec<usize> = columns.iter().collect();
        let arrays = {
            // Borrowed: no reference count changed per object.
            let guards = read_all(group.iter().map(typed_ref::<T>))?;
            let current: Vec<&T> = guards.iter().map(|g| &g.value).collect();
            // The key and the version as the database has them: from the snapshot.
            let old: Vec<&T> = guards
                .iter()
                .map(|g| g.snapshot.as_deref().unwrap_or(&g.value))
                .collect();
            let mut cols = set.clone();
            cols.extend(&pk);
            cols.extend(T::VERSION);
            row_arrays(&current, &old, &cols, set.len())?
        };
        // Stored generated columns change with the columns they read: read back with the key.
        let computed: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].computed.is_some())
            .collect();
        let returning: Vec<usize> = if computed.is_empty() {
            Vec::new()
        } else {
            pk.iter().chain(&computed).copied().collect()
        };
        let key = (TypeId::of::<T>(), 1u8, columns);
        let query = cached_query(key, arrays, |params| {
            update_sql::<T>(table, &set, &pk, T::VERSION, params, &returning)
        })?;
        let expect = ExpectedRows {
            rows: group.len() as u64,
            model: table.model,
            operation: "UPDATE",
        };
        if computed.is_empty() {
            return Ok(vec![FlushJob::execute(query, Some(expect))]);
        }
        let entries = typed_all::<T>(group)?;
        Ok(vec![
            FlushJob::rows(query, read_back_by_key(entries, pk, computed)).expect(expect),
        ])
    }

    fn updated(
        &self,
        uow: &mut UnitOfWork,
        group: &[Arc<dyn ErasedEntry>],
        columns: ColumnSet,
        ctx: &mut HookContext,
    ) -> Result<()> {
        // An UPDATE of a key column moves the row: the identity map follows it, so the old key
        // finds nothing and the new one this object (not a second one for the same row).
        let rekey = columns.iter().any(|c| T::TABLE.columns[c].primary_key);
        for e in group {
            let t = typed_ref::<T>(e)?;
            let mut inner = t.write_for(FLUSH)?;
            let landed = t.land(&mut inner);
            if rekey {
                // The key the UPDATE wrote: the copy it read, if the object changed since.
                let pk = landed.as_ref().map_or_else(|| inner.value.pk(), |f| f.pk());
                if t.key().as_ref() != Some(&pk) {
                    let t = typed::<T>(e)?;
                    uow.map_remove(&t);
                    uow.map_insert(t, pk);
                }
            }
            match landed {
                // Changed while the UPDATE was at the server: dirty against what it wrote,
                // with the stored generated columns the server computed (read back since) and
                // the version it wrote (the copy may predate the bump).
                Some(flown) => {
                    let written = (0..T::TABLE.columns.len()).filter(|&c| {
                        T::TABLE.columns[c].computed.is_some() || T::VERSION == Some(c)
                    });
                    let flown = patch_columns(&inner.value, flown, written);
                    inner.spare = inner.snapshot.replace(flown);
                    requeue(t, e, &inner);
                }
                None => {
                    // Kept for the object's next snapshot.
                    inner.spare = inner.snapshot.take();
                    t.set_queued(false);
                }
            }
            inner.value.after_update(columns, ctx)?;
        }
        Ok(())
    }

    fn before_delete(&self, e: &Arc<dyn ErasedEntry>, ctx: &mut HookContext) -> Result<()> {
        let t = typed_ref::<T>(e)?;
        let inner = t.read_for(FLUSH)?;
        inner.value.before_delete(ctx)
    }

    fn delete_job(&self, group: &[Arc<dyn ErasedEntry>]) -> Result<Vec<FlushJob>> {
        let entries = typed_all::<T>(group)?;
        if T::TABLE.joined.is_some() {
            return joined::delete(&entries);
        }
        let table = T::TABLE;
        let mut cols: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].primary_key)
            .collect();
        if let Some(v) = T::VERSION {
            cols.push(v);
        }
        let arrays = stored_key_arrays(&entries, &cols)?;
        let key = (TypeId::of::<T>(), 2u8, ColumnSet::empty());
        let query = cached_query(key, arrays, |params| {
            let names: Vec<&'static str> = cols.iter().map(|&c| table.columns[c].name).collect();
            delete_using(table, &names, params)
        })?;
        let expect = T::VERSION.map(|_| ExpectedRows {
            rows: entries.len() as u64,
            model: table.model,
            operation: "DELETE",
        });
        Ok(vec![FlushJob::execute(query, expect)])
    }

    fn unlink_job(&self, group: &[Arc<dyn ErasedEntry>], cols: &[usize]) -> Result<Vec<FlushJob>> {
        let entries = typed_all::<T>(group)?;
        let table = T::TABLE;
        let pk: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].primary_key)
            .collect();
        let arrays = stored_key_arrays(&entries, &pk)?;
        let pk_names: Vec<&'static str> = pk.iter().map(|&c| table.columns[c].name).collect();
        // One statement per table holding some of the columns (a joined-table model's own
        // columns are in its subtype table, keyed by the same columns).
        let base = table.joined.map_or(table.name, |j| j.base.name);
        let mut jobs = Vec::new();
        for target in storage_tables(table) {
            let set: Vec<usize> = cols
                .iter()
                .copied()
                .filter(|&c| table.columns[c].home.unwrap_or(base) == target.name)
                .collect();
            if set.is_empty() {
                continue;
            }
            let names: Vec<&'static str> = set.iter().map(|&c| table.columns[c].name).collect();
            let key = (TypeId::of::<T>(), 6u8, set.iter().copied().collect());
            let query = cached_query(key, arrays.clone(), |params| {
                null_sql(target, &names, &pk_names, params)
            })?;
            jobs.push(FlushJob::execute(query, None));
        }
        Ok(jobs)
    }

    fn deleted(
        &self,
        uow: &mut UnitOfWork,
        group: &[Arc<dyn ErasedEntry>],
        ctx: &mut HookContext,
    ) -> Result<()> {
        for e in group {
            let t = typed::<T>(e)?;
            let mut inner = t.write_for(FLUSH)?;
            uow.map_remove(&t);
            t.set_status(Status::Detached);
            t.set_queued(false);
            inner.snapshot = None;
            inner.value.after_delete(ctx)?;
        }
        Ok(())
    }

    fn cascade_relations(&self) -> Vec<&'static dyn ErasedRelation> {
        T::RELATIONS
            .iter()
            .filter(|r| {
                let m = r.meta();
                matches!(m.kind, RelationKind::HasMany | RelationKind::HasOne)
                    && m.cascade.contains(Cascade::DELETE)
                    && !m.passive_deletes
            })
            .map(|r| r.erased())
            .collect()
    }

    fn many_to_many(&self) -> Vec<&'static dyn ErasedRelation> {
        T::RELATIONS
            .iter()
            .filter(|r| r.meta().kind == RelationKind::ManyToMany)
            .map(|r| r.erased())
            .collect()
    }
}
