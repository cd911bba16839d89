//! The flush: new, changed and deleted objects become statements, ordered by foreign-key
//! dependency and batched per table and column set.
//!
//! The plan runs in steps; the statements of one step are independent of each other (the
//! driver pipelines them), and each step may depend on the previous ones (a child's `INSERT`
//! needs its parent's generated key):
//!
//! 1. loads needed to cascade deletes (children of deleted parents, unless passive);
//! 2. `INSERT`s, one step per dependency level: objects whose parents are inserted in the same
//!    flush come one level later; a cycle (two rows pointing at each other) is broken by
//!    inserting one side with a `NULL` key and setting it afterwards (a post-update). One
//!    statement per table and level: `INSERT ... SELECT * FROM unnest($1, $2, ...) RETURNING`
//!    the generated columns;
//! 3. `UPDATE`s, one statement per table and set of changed columns:
//!    `UPDATE t SET a = v.a FROM unnest(...) AS v WHERE t.id = v.k`, checked against the
//!    number of objects (and the version column) so a lost update is a `StaleData` error;
//! 4. many-to-many association rows deleted and inserted;
//! 5. `DELETE`s, children before parents.

use std::any::TypeId;
use std::collections::HashMap;

use super::fxhash::{FxHashMap, FxHashSet};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use super::ColumnSet;
use super::hooks::HookContext;
use super::persist::Persist;
use super::relations::{
    AnyRelation, Resolved, delete_using, key_arrays, write_idents, write_matches, write_unnest,
    write_unnest_with,
};
use super::tracked::{AnyEntry, Entry, ErasedEntry, Inner, Pair, Status, downcast, save_undo};
use super::unit::{CollKey, SavepointToken, UnitOfWork, expire_entry, link_fk_typed, same_rel};
use crate::compile::{self, CompiledQuery, SqlWriter};
use crate::error::{Error, ErrorKind, Result};
use crate::expr::Param;
use crate::load::{RowAccess, RowSink};
use crate::relation::{Cascade, RelationKind, RelationMeta};

/// Statement texts by model, kind (insert, update, delete) and column set: the SQL of a
/// flush depends only on that, so it is written once per session.
pub(crate) type SqlCache = FxHashMap<(TypeId, u8, ColumnSet), String>;

/// The statement of `key` with these parameters: its SQL text from the cache, or written by
/// `build` (which pushes the parameters in the same order) the first time.
fn cached_query(
    cache: &mut SqlCache,
    key: (TypeId, u8, ColumnSet),
    params: Vec<Param>,
    build: impl FnOnce(Vec<Param>) -> Result<CompiledQuery>,
) -> Result<CompiledQuery> {
    if let Some(sql) = cache.get(&key) {
        return Ok(CompiledQuery {
            sql: sql.clone(),
            params,
        });
    }
    let query = build(params)?;
    cache.insert(key, query.sql.clone());
    Ok(query)
}

/// What runs after a step's statements succeeded.
pub(crate) type AfterStep = Box<dyn FnOnce(&mut UnitOfWork) -> Result<()> + Send>;

/// How a statement's result is checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect {
    rows: u64,
    model: &'static str,
    operation: &'static str,
}

/// One statement of a flush step.
pub struct FlushJob {
    /// The statement.
    pub query: CompiledQuery,
    /// Where its rows go (`RETURNING`), when it returns rows; otherwise run it for its count.
    pub sink: Option<RowSink<'static>>,
    expect: Option<Expect>,
}

impl std::fmt::Debug for FlushJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushJob")
            .field("sql", &self.query.sql)
            .field("returns_rows", &self.sink.is_some())
            .finish()
    }
}

impl FlushJob {
    pub(crate) fn execute(query: CompiledQuery, expect: Option<Expect>) -> Self {
        FlushJob {
            query,
            sink: None,
            expect,
        }
    }

    pub(crate) fn rows(query: CompiledQuery, sink: RowSink<'static>) -> Self {
        FlushJob {
            query,
            sink: Some(sink),
            expect: None,
        }
    }

    /// Checks the number of rows a statement run for its count affected: fewer than the
    /// objects it was for is a [`StaleData`](ErrorKind::StaleData) error.
    pub fn check(&self, affected: u64) -> Result<()> {
        match self.expect {
            Some(e) if e.rows != affected => Err(ErrorKind::StaleData {
                model: e.model,
                operation: e.operation,
                expected: e.rows,
                actual: affected,
            }
            .into()),
            _ => Ok(()),
        }
    }
}

/// Statements that can run together, and what to do once they succeeded.
pub struct FlushStep {
    /// The statements, in order (independent of each other: pipeline them).
    pub jobs: Vec<FlushJob>,
    after: Vec<AfterStep>,
}

impl std::fmt::Debug for FlushStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushStep")
            .field("jobs", &self.jobs)
            .finish()
    }
}

/// The result of running a step's statement.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// Rows were handed to the sink.
    Rows,
    /// The statement affected this many rows.
    Count(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    CascadeLoads,
    Inserts,
    Updates,
    Links,
    Deletes,
    Done,
}

/// A flush in progress. Drive it with [`UnitOfWork::flush_next`].
pub struct FlushPlan {
    token: SavepointToken,
    phase: Phase,
    ctx: HookContext,
    dirty: Vec<Arc<dyn ErasedEntry>>,
    /// Everything taken from the dirty queue (put back if the flush fails).
    drained: Vec<Arc<dyn ErasedEntry>>,
    insert_levels: Vec<Vec<Arc<dyn ErasedEntry>>>,
    next_level: usize,
    /// Foreign keys inserted as NULL to break a cycle, set by a post-update: (entry id, link).
    deferred: HashMap<u64, Vec<usize>>,
    delete_levels: Vec<Vec<Arc<dyn ErasedEntry>>>,
    next_delete: usize,
    loaded_cascades: FxHashSet<CollKey>,
    /// Statements sent so far (for the caller's bookkeeping).
    pub statements: usize,
}

impl std::fmt::Debug for FlushPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushPlan")
            .field("phase", &self.phase)
            .finish()
    }
}

/// What the flush needs of one model's objects, without knowing the model. Not public API.
#[doc(hidden)]
pub trait TableOps: Send + Sync + 'static {
    fn mark_deleted(&self, uow: &mut UnitOfWork, e: &Arc<dyn ErasedEntry>) -> Result<()>;
    fn expunge(&self, uow: &mut UnitOfWork, e: &Arc<dyn ErasedEntry>);
    fn expire(&self, e: &Arc<dyn ErasedEntry>);
    fn link_fk(
        &self,
        e: &Arc<dyn ErasedEntry>,
        resolved: &Resolved,
        parent: Option<Arc<dyn ErasedEntry>>,
        changed: bool,
    ) -> Result<()>;
    fn relation_by_meta(&self, meta: &'static RelationMeta) -> Option<&'static dyn AnyRelation>;
    /// The parents this object's foreign keys point at: (link index, parent).
    fn fk_parents(&self, e: &Arc<dyn ErasedEntry>) -> Vec<(usize, Arc<dyn ErasedEntry>)>;
    /// Validation and `before_insert` hooks of a new object.
    fn before_insert(&self, e: &Arc<dyn ErasedEntry>, ctx: &mut HookContext) -> Result<()>;
    /// Validation of a dirty object's changed columns.
    fn validate_dirty(&self, e: &Arc<dyn ErasedEntry>) -> Result<()>;
    /// Copies parents' keys into the object's foreign keys (`NULL` for `deferred` links).
    fn sync_fks(&self, e: &Arc<dyn ErasedEntry>, deferred: &[usize]) -> Result<()>;
    fn insert_job(
        &self,
        group: &[Arc<dyn ErasedEntry>],
        cache: &mut SqlCache,
    ) -> Result<Vec<FlushJob>>;
    fn inserted(
        &self,
        uow: &mut UnitOfWork,
        group: &[Arc<dyn ErasedEntry>],
        ctx: &mut HookContext,
    ) -> Result<()>;
    /// Hooks and the changed columns of a dirty object (`None`: nothing to write).
    fn prepare_update(
        &self,
        e: &Arc<dyn ErasedEntry>,
        ctx: &mut HookContext,
    ) -> Result<Option<ColumnSet>>;
    fn update_job(
        &self,
        group: &[Arc<dyn ErasedEntry>],
        columns: ColumnSet,
        cache: &mut SqlCache,
    ) -> Result<FlushJob>;
    fn updated(
        &self,
        group: &[Arc<dyn ErasedEntry>],
        columns: ColumnSet,
        ctx: &mut HookContext,
    ) -> Result<()>;
    fn before_delete(&self, e: &Arc<dyn ErasedEntry>, ctx: &mut HookContext) -> Result<()>;
    /// Before its foreign keys are set by the flush: saves the object's state and snapshot.
    fn touch_for_update(&self, e: &Arc<dyn ErasedEntry>);
    fn delete_job(&self, group: &[Arc<dyn ErasedEntry>], cache: &mut SqlCache) -> Result<FlushJob>;
    fn deleted(
        &self,
        uow: &mut UnitOfWork,
        group: &[Arc<dyn ErasedEntry>],
        ctx: &mut HookContext,
    ) -> Result<()>;
    /// The relationships whose children must be loaded to cascade this object's delete.
    fn cascade_relations(&self) -> Vec<&'static dyn AnyRelation>;
    /// The many-to-many relationships (their association rows go with the object).
    fn many_to_many(&self) -> Vec<&'static dyn AnyRelation>;
}

struct Ops<T>(PhantomData<fn() -> T>);

impl<T: Persist> Ops<T> {
    const OPS: &'static dyn TableOps = &Ops::<T>(PhantomData);
}

pub(crate) fn ops<T: Persist>() -> &'static dyn TableOps {
    Ops::<T>::OPS
}

fn typed<T: Persist>(e: &Arc<dyn ErasedEntry>) -> Result<Arc<Entry<T>>> {
    downcast::<T>(e).ok_or_else(|| Error::object_state("object of the wrong type"))
}

fn typed_all<T: Persist>(group: &[Arc<dyn ErasedEntry>]) -> Result<Vec<Arc<Entry<T>>>> {
    group.iter().map(typed::<T>).collect()
}

/// Copies `from`'s column `from_col` into `inner`'s column `to_col`.
fn copy_key<T: Persist>(
    inner: &mut Inner<T>,
    to_col: usize,
    from: &Arc<dyn ErasedEntry>,
    from_col: usize,
) -> Result<()> {
    let mut result = Ok(());
    from.with_column(from_col, &mut |v| {
        result = match v {
            Some(v) => inner.value.set_column_value(to_col, v),
            None => Err(Error::object_state(format!(
                "no key column #{from_col} in {}",
                from.table().model
            ))),
        };
    });
    result
}

impl<T: Persist> TableOps for Ops<T> {
    fn mark_deleted(&self, uow: &mut UnitOfWork, e: &Arc<dyn ErasedEntry>) -> Result<()> {
        uow.mark_deleted_typed(&typed::<T>(e)?)
    }

    fn expunge(&self, uow: &mut UnitOfWork, e: &Arc<dyn ErasedEntry>) {
        if let Ok(t) = typed::<T>(e) {
            uow.expunge_typed(&t);
        }
    }

    fn expire(&self, e: &Arc<dyn ErasedEntry>) {
        if let Ok(t) = typed::<T>(e) {
            expire_entry(&t);
        }
    }

    fn link_fk(
        &self,
        e: &Arc<dyn ErasedEntry>,
        resolved: &Resolved,
        parent: Option<Arc<dyn ErasedEntry>>,
        changed: bool,
    ) -> Result<()> {
        link_fk_typed(&typed::<T>(e)?, resolved, parent, changed)
    }

    fn relation_by_meta(&self, meta: &'static RelationMeta) -> Option<&'static dyn AnyRelation> {
        T::RELATIONS
            .iter()
            .find(|r| same_rel(r.meta(), meta))
            .map(|r| r.any())
    }

    fn fk_parents(&self, e: &Arc<dyn ErasedEntry>) -> Vec<(usize, Arc<dyn ErasedEntry>)> {
        let Ok(t) = typed::<T>(e) else {
            return Vec::new();
        };
        let inner = t.read_lock();
        inner
            .fk
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.parent.clone().map(|p| (i, p)))
            .collect()
    }

    fn before_insert(&self, e: &Arc<dyn ErasedEntry>, ctx: &mut HookContext) -> Result<()> {
        let t = typed::<T>(e)?;
        let mut inner = t.lock();
        // Only the model's own hooks change a new object here: then save it, so a failed
        // flush undoes them (a password is not hashed twice).
        if T::CUSTOM_HOOKS {
            if let Some(shared) = inner.session.clone() {
                save_undo(&t, &mut inner, &shared);
            }
            inner.value.before_insert(ctx)?;
        }
        inner.value.validate(ColumnSet::all(T::TABLE.columns.len()))
    }

    fn validate_dirty(&self, e: &Arc<dyn ErasedEntry>) -> Result<()> {
        let t = typed::<T>(e)?;
        let inner = t.read_lock();
        match &inner.snapshot {
            Some(s) => inner
                .value
                .validate(inner.value.changed_columns(s.as_ref())),
            None => Ok(()),
        }
    }

    fn sync_fks(&self, e: &Arc<dyn ErasedEntry>, deferred: &[usize]) -> Result<()> {
        let t = typed::<T>(e)?;
        let mut inner = t.lock();
        if inner.status == Status::Pending && T::VERSION.is_some() {
            // A new row starts at the next version of what it holds (1 for 0).
            inner.value.bump_version();
        }
        if inner.fk.is_empty() {
            return Ok(());
        }
        let links = inner.fk.clone();
        for (i, link) in links.iter().enumerate() {
            match (&link.parent, deferred.contains(&i)) {
                (Some(parent), false) => {
                    if parent.status() == Status::Pending {
                        return Err(Error::object_state(format!(
                            "`{}` points at a `{}` that is not inserted yet",
                            T::TABLE.model,
                            parent.table().model
                        )));
                    }
                    for (to, from) in link.fk_cols.iter().zip(link.parent_cols.iter()) {
                        copy_key(&mut inner, *to, parent, *from)?;
                    }
                }
                _ => {
                    for &to in link.fk_cols.iter() {
                        inner.value.set_column_null(to)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn insert_job(
        &self,
        group: &[Arc<dyn ErasedEntry>],
        cache: &mut SqlCache,
    ) -> Result<Vec<FlushJob>> {
        let entries = typed_all::<T>(group)?;
        let table = T::TABLE;
        let insert_cols: Vec<usize> = (0..table.columns.len())
            .filter(|&i| !table.columns[i].generated)
            .collect();
        let returning: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].generated)
            .collect();
        let write_returning = |w: &mut SqlWriter| {
            if !returning.is_empty() {
                w.push(" RETURNING ");
                let names: Vec<&str> = returning.iter().map(|&c| table.columns[c].name).collect();
                write_idents(w, &names);
            }
        };
        let make_sink = |entries: Vec<Arc<Entry<T>>>| -> RowSink<'static> {
            let returning = returning.clone();
            let mut next = 0usize;
            Box::new(move |row: &dyn RowAccess| {
                let entry = entries.get(next).ok_or_else(|| {
                    Error::invalid_statement("INSERT returned more rows than objects")
                })?;
                next += 1;
                let mut inner = entry.lock();
                for (at, &c) in returning.iter().enumerate() {
                    inner.value.decode_column(c, row, at)?;
                }
                Ok(())
            })
        };
        if insert_cols.is_empty() {
            // Every column is generated: one `DEFAULT VALUES` insert per object.
            let mut jobs = Vec::new();
            for entry in entries {
                let mut w = SqlWriter::new();
                w.push("INSERT INTO ");
                w.push_qualified(table.schema, table.name);
                w.push(" DEFAULT VALUES");
                write_returning(&mut w);
                jobs.push(FlushJob::rows(compile::finish(w)?, make_sink(vec![entry])));
            }
            return Ok(jobs);
        }
        let arrays = {
            let guards: Vec<_> = entries.iter().map(|e| e.read_lock()).collect();
            let rows: Vec<&T> = guards.iter().map(|g| &g.value).collect();
            key_arrays(&rows, &insert_cols)?
        };
        let key = (TypeId::of::<T>(), 0u8, ColumnSet::empty());
        let query = cached_query(cache, key, arrays, |params| {
            insert_sql::<T>(&insert_cols, params, &write_returning)
        })?;
        Ok(vec![if returning.is_empty() {
            FlushJob::execute(query, None)
        } else {
            FlushJob::rows(query, make_sink(entries))
        }])
    }

    fn inserted(
        &self,
        uow: &mut UnitOfWork,
        group: &[Arc<dyn ErasedEntry>],
        ctx: &mut HookContext,
    ) -> Result<()> {
        for e in group {
            let t = typed::<T>(e)?;
            {
                let mut inner = t.lock();
                inner.status = Status::Persistent;
                inner.snapshot = None;
                inner.queued = false;
                inner.value.after_insert(ctx)?;
            }
            uow.map_insert(t);
        }
        Ok(())
    }

    fn prepare_update(
        &self,
        e: &Arc<dyn ErasedEntry>,
        ctx: &mut HookContext,
    ) -> Result<Option<ColumnSet>> {
        let t = typed::<T>(e)?;
        let mut inner = t.lock();
        if inner.status != Status::Persistent {
            return Ok(None);
        }
        let Some(snapshot) = inner.snapshot.take() else {
            inner.queued = false;
            return Ok(None);
        };
        let mut changed = inner.value.changed_columns(snapshot.as_ref());
        if changed.is_empty() {
            inner.queued = false;
            return Ok(None);
        }
        inner.value.before_update(changed, ctx)?;
        changed = inner.value.changed_columns(snapshot.as_ref());
        inner.value.validate(changed)?;
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
        cache: &mut SqlCache,
    ) -> Result<FlushJob> {
        let entries = typed_all::<T>(group)?;
        let table = T::TABLE;
        let pk: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].primary_key)
            .collect();
        let set: Vec<usize> = columns.iter().collect();
        let mut arrays: Vec<Param> = Vec::new();
        {
            let guards: Vec<_> = entries.iter().map(|e| e.read_lock()).collect();
            let current: Vec<&T> = guards.iter().map(|g| &g.value).collect();
            // The key and the version as the database has them: from the snapshot.
            let old: Vec<&T> = guards
                .iter()
                .map(|g| g.snapshot.as_deref().unwrap_or(&g.value))
                .collect();
            arrays.extend(key_arrays(&current, &set)?);
            arrays.extend(key_arrays(&old, &pk)?);
            if let Some(v) = T::VERSION {
                arrays.extend(key_arrays(&old, &[v])?);
            }
        }
        let key = (TypeId::of::<T>(), 1u8, columns);
        let query = cached_query(cache, key, arrays, |params| {
            update_sql::<T>(&set, &pk, params)
        })?;
        Ok(FlushJob::execute(
            query,
            Some(Expect {
                rows: entries.len() as u64,
                model: table.model,
                operation: "UPDATE",
            }),
        ))
    }

    fn updated(
        &self,
        group: &[Arc<dyn ErasedEntry>],
        columns: ColumnSet,
        ctx: &mut HookContext,
    ) -> Result<()> {
        for e in group {
            let t = typed::<T>(e)?;
            let mut inner = t.lock();
            inner.snapshot = None;
            inner.queued = false;
            inner.value.after_update(columns, ctx)?;
        }
        Ok(())
    }

    fn before_delete(&self, e: &Arc<dyn ErasedEntry>, ctx: &mut HookContext) -> Result<()> {
        let t = typed::<T>(e)?;
        let inner = t.read_lock();
        inner.value.before_delete(ctx)
    }

    fn touch_for_update(&self, e: &Arc<dyn ErasedEntry>) {
        let Ok(t) = typed::<T>(e) else {
            return;
        };
        let mut inner = t.lock();
        // A failed flush leaves dirty objects dirty (their snapshot stays until `updated`);
        // only hooks and the version column change them, and then they need an undo record.
        if T::CUSTOM_HOOKS || T::VERSION.is_some() {
            if let Some(shared) = inner.session.clone() {
                save_undo(&t, &mut inner, &shared);
            }
        }
        if inner.status == Status::Persistent && inner.snapshot.is_none() {
            inner.snapshot = Some(Arc::new(inner.value.copy_columns()));
        }
    }

    fn delete_job(&self, group: &[Arc<dyn ErasedEntry>], cache: &mut SqlCache) -> Result<FlushJob> {
        let entries = typed_all::<T>(group)?;
        let table = T::TABLE;
        let mut cols: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].primary_key)
            .collect();
        if let Some(v) = T::VERSION {
            cols.push(v);
        }
        let arrays = {
            let guards: Vec<_> = entries.iter().map(|e| e.read_lock()).collect();
            let old: Vec<&T> = guards
                .iter()
                .map(|g| g.snapshot.as_deref().unwrap_or(&g.value))
                .collect();
            key_arrays(&old, &cols)?
        };
        let key = (TypeId::of::<T>(), 2u8, ColumnSet::empty());
        let query = cached_query(cache, key, arrays, |params| {
            let names: Vec<&'static str> = cols.iter().map(|&c| table.columns[c].name).collect();
            delete_using(table, &names, params)
        })?;
        let expect = T::VERSION.map(|_| Expect {
            rows: entries.len() as u64,
            model: table.model,
            operation: "DELETE",
        });
        Ok(FlushJob::execute(query, expect))
    }

    fn deleted(
        &self,
        uow: &mut UnitOfWork,
        group: &[Arc<dyn ErasedEntry>],
        ctx: &mut HookContext,
    ) -> Result<()> {
        for e in group {
            let t = typed::<T>(e)?;
            uow.map_remove(&t);
            let mut inner = t.lock();
            inner.status = Status::Detached;
            inner.queued = false;
            inner.snapshot = None;
            inner.value.after_delete(ctx)?;
        }
        Ok(())
    }

    fn cascade_relations(&self) -> Vec<&'static dyn AnyRelation> {
        T::RELATIONS
            .iter()
            .filter(|r| {
                let m = r.meta();
                matches!(m.kind, RelationKind::HasMany | RelationKind::HasOne)
                    && m.cascade.contains(Cascade::DELETE)
                    && !m.passive_deletes
            })
            .map(|r| r.any())
            .collect()
    }

    fn many_to_many(&self) -> Vec<&'static dyn AnyRelation> {
        T::RELATIONS
            .iter()
            .filter(|r| r.meta().kind == RelationKind::ManyToMany)
            .map(|r| r.any())
            .collect()
    }
}

/// `INSERT INTO t (c...) SELECT ... FROM unnest(...) WITH ORDINALITY ... ORDER BY n [RETURNING]`.
fn insert_sql<T: Persist>(
    insert_cols: &[usize],
    arrays: Vec<Param>,
    write_returning: &dyn Fn(&mut SqlWriter),
) -> Result<CompiledQuery> {
    let table = T::TABLE;
    let defs: Vec<_> = insert_cols.iter().map(|&c| &table.columns[c]).collect();
    let columns: Vec<&str> = defs.iter().map(|c| c.name).collect();
    let mut names: Vec<String> = (0..insert_cols.len()).map(|i| format!("c{i}")).collect();
    let mut w = SqlWriter::new();
    w.push("INSERT INTO ");
    w.push_qualified(table.schema, table.name);
    w.push(" (");
    write_idents(&mut w, &columns);
    // ORDER BY the position: rows are inserted, and returned, in the objects' order.
    w.push(") SELECT ");
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push("\"orm_v\".");
        w.push_ident(n);
    }
    w.push(" FROM ");
    names.push("n".into());
    write_unnest_with(&mut w, arrays, &defs, &names, true);
    w.push(" ORDER BY \"orm_v\".\"n\"");
    write_returning(&mut w);
    compile::finish(w)
}

/// `UPDATE t SET a = v.v0, ... FROM unnest(...) AS v WHERE t.k = v.k0 [AND t.version = v.ver]`.
fn update_sql<T: Persist>(
    set: &[usize],
    pk: &[usize],
    arrays: Vec<Param>,
) -> Result<CompiledQuery> {
    let table = T::TABLE;
    let mut defs = Vec::new();
    let mut names = Vec::new();
    for (i, &c) in set.iter().enumerate() {
        defs.push(&table.columns[c]);
        names.push(format!("v{i}"));
    }
    for (i, &c) in pk.iter().enumerate() {
        defs.push(&table.columns[c]);
        names.push(format!("k{i}"));
    }
    if let Some(v) = T::VERSION {
        defs.push(&table.columns[v]);
        names.push("ver".into());
    }
    let mut w = SqlWriter::new();
    w.push("UPDATE ");
    w.push_qualified(table.schema, table.name);
    w.push(" SET ");
    for (i, &c) in set.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_ident(table.columns[c].name);
        w.push(&format!(" = \"orm_v\".\"v{i}\""));
    }
    w.push(" FROM ");
    write_unnest(&mut w, arrays, &defs, &names);
    w.push(" WHERE ");
    let pk_names: Vec<&str> = pk.iter().map(|&c| table.columns[c].name).collect();
    write_matches(
        &mut w,
        table,
        &pk_names,
        &names[set.len()..set.len() + pk.len()],
    );
    if let Some(v) = T::VERSION {
        w.push(" AND ");
        w.push_qualified(table.schema, table.name);
        w.push(".");
        w.push_ident(table.columns[v].name);
        w.push(" = \"orm_v\".\"ver\"");
    }
    compile::finish(w)
}

/// Dependency levels of `entries`: an entry comes after the entries of the set its foreign
/// keys point at. Back edges of cycles are returned as deferred links (entry id, link index).
fn levels(entries: &[Arc<dyn ErasedEntry>]) -> (Vec<usize>, HashMap<u64, Vec<usize>>) {
    let parents: Vec<Vec<(usize, AnyEntry)>> = entries
        .iter()
        .map(|e| e.flush_ops().fk_parents(e))
        .collect();
    if parents.iter().all(Vec::is_empty) {
        // No object points at another: one level.
        return (vec![0; entries.len()], HashMap::new());
    }
    let index: FxHashMap<u64, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id(), i))
        .collect();
    let deps: Vec<Vec<(usize, usize)>> = parents
        .into_iter()
        .map(|ps| {
            ps.into_iter()
                .filter_map(|(link, p)| index.get(&p.id()).map(|&j| (link, j)))
                .collect()
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    let n = entries.len();
    let mut marks = vec![Mark::New; n];
    let mut level = vec![0usize; n];
    let mut deferred: HashMap<u64, Vec<usize>> = HashMap::new();
    // Iterative depth-first search (graphs can be deep: a long chain of rows).
    for start in 0..n {
        if marks[start] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::Visiting;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if *next < deps[node].len() {
                let (link, dep) = deps[node][*next];
                *next += 1;
                match marks[dep] {
                    Mark::New => {
                        marks[dep] = Mark::Visiting;
                        stack.push((dep, 0));
                    }
                    Mark::Visiting => {
                        // A cycle (or a row pointing at itself): insert this link as NULL and
                        // set it afterwards.
                        deferred.entry(entries[node].id()).or_default().push(link);
                    }
                    Mark::Done => {}
                }
            } else {
                let deferred_links = deferred.get(&entries[node].id());
                level[node] = deps[node]
                    .iter()
                    .filter(|(link, _)| !deferred_links.is_some_and(|d| d.contains(link)))
                    .map(|&(_, d)| level[d] + 1)
                    .max()
                    .unwrap_or(0);
                marks[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    (level, deferred)
}

/// The depth of each table in the foreign-key graph of `tables` (referenced tables first).
fn table_depths(entries: &[Arc<dyn ErasedEntry>]) -> HashMap<usize, usize> {
    let mut tables: Vec<&'static crate::meta::Table> = Vec::new();
    for e in entries {
        if !tables.iter().any(|t| std::ptr::eq(*t, e.table())) {
            tables.push(e.table());
        }
    }
    let order = crate::ddl::sort_by_dependency(&tables).unwrap_or(tables);
    order
        .iter()
        .enumerate()
        .map(|(i, t)| (*t as *const _ as usize, i))
        .collect()
}

/// Groups entries into steps: by dependency level, then table depth, then table.
fn group_steps(
    entries: &[Arc<dyn ErasedEntry>],
    levels: &[usize],
    reverse: bool,
) -> Vec<Vec<Arc<dyn ErasedEntry>>> {
    let depths = table_depths(entries);
    let mut keyed: Vec<((usize, usize), Arc<dyn ErasedEntry>)> = entries
        .iter()
        .zip(levels)
        .map(|(e, &l)| {
            let d = depths
                .get(&(e.table() as *const _ as usize))
                .copied()
                .unwrap_or(0);
            ((l, d), e.clone())
        })
        .collect();
    // Stable: objects keep their order within a table. Deletes go the other way: children
    // (deeper levels, referencing tables) first.
    if reverse {
        keyed.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
    } else {
        keyed.sort_by_key(|(k, _)| *k);
    }
    let mut steps: Vec<Vec<Arc<dyn ErasedEntry>>> = Vec::new();
    let mut last = None;
    for (k, e) in keyed {
        if last != Some(k.0) {
            steps.push(Vec::new());
            last = Some(k.0);
        }
        if let Some(s) = steps.last_mut() {
            s.push(e);
        }
    }
    steps
}

/// Splits a step's entries by table, keeping order.
fn by_table(entries: &[Arc<dyn ErasedEntry>]) -> Vec<Vec<Arc<dyn ErasedEntry>>> {
    let mut groups: Vec<(TypeId, Vec<Arc<dyn ErasedEntry>>)> = Vec::new();
    for e in entries {
        let ty = e.as_any().type_id();
        match groups.iter_mut().find(|(t, _)| *t == ty) {
            Some((_, g)) => g.push(e.clone()),
            None => groups.push((ty, vec![e.clone()])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

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

impl UnitOfWork {
    /// Starts a flush: validators and `before_insert` hooks run here, before any SQL. `None`
    /// when there is nothing to write.
    pub fn flush_begin(&mut self) -> Result<Option<FlushPlan>> {
        if !self.has_changes() {
            return Ok(None);
        }
        let token = self.begin_flush_frame();
        let mut plan = FlushPlan {
            token,
            phase: Phase::CascadeLoads,
            ctx: HookContext::new(),
            dirty: Vec::new(),
            drained: Vec::new(),
            insert_levels: Vec::new(),
            next_level: 0,
            deferred: HashMap::new(),
            delete_levels: Vec::new(),
            next_delete: 0,
            loaded_cascades: FxHashSet::default(),
            statements: 0,
        };
        if let Err(e) = self.prepare(&mut plan) {
            self.flush_abort(plan);
            return Err(e);
        }
        Ok(Some(plan))
    }

    fn prepare(&mut self, plan: &mut FlushPlan) -> Result<()> {
        // New objects: hooks (which may add more objects) and validation.
        let mut done = 0;
        for _ in 0..16 {
            let pending: Vec<Arc<dyn ErasedEntry>> = self.new[done..].to_vec();
            if pending.is_empty() {
                break;
            }
            done = self.new.len();
            for e in &pending {
                if e.status() == Status::Pending {
                    e.flush_ops().before_insert(e, &mut plan.ctx)?;
                }
            }
            run_deferred(self, &mut plan.ctx);
        }
        let mut seen = FxHashSet::default();
        plan.drained = self.take_dirty();
        plan.dirty = plan
            .drained
            .iter()
            .filter(|e| seen.insert(e.id()) && e.status() == Status::Persistent)
            .cloned()
            .collect();
        for e in &plan.dirty {
            e.flush_ops().validate_dirty(e)?;
        }
        Ok(())
    }

    /// The next step of the flush, or `None` when it is complete.
    pub fn flush_next(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        loop {
            let step = match plan.phase {
                Phase::CascadeLoads => self.cascade_step(plan)?,
                Phase::Inserts => self.insert_step(plan)?,
                Phase::Updates => self.update_step(plan)?,
                Phase::Links => self.link_step(plan)?,
                Phase::Deletes => self.delete_step(plan)?,
                Phase::Done => return Ok(None),
            };
            if let Some(step) = step {
                plan.statements += step.jobs.len();
                return Ok(Some(step));
            }
        }
    }

    fn cascade_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        // Parents whose cascading relationships are not loaded yet.
        let mut wanted: Vec<(&'static dyn AnyRelation, Vec<AnyEntry>)> = Vec::new();
        for e in self.deleted.clone() {
            for rel in e.flush_ops().cascade_relations() {
                let key = super::unit::collection_key(e.id(), rel.meta());
                if self.collections.contains_key(&key) || !plan.loaded_cascades.insert(key) {
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
            plan.phase = Phase::Inserts;
            let new: Vec<Arc<dyn ErasedEntry>> = self
                .new
                .iter()
                .filter(|e| e.status() == Status::Pending)
                .cloned()
                .collect();
            let (lv, deferred) = levels(&new);
            plan.insert_levels = group_steps(&new, &lv, false);
            plan.deferred = deferred;
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
        Ok(Some(FlushStep { jobs, after }))
    }

    fn insert_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        let Some(level) = plan.insert_levels.get(plan.next_level).cloned() else {
            plan.phase = Phase::Updates;
            return Ok(None);
        };
        plan.next_level += 1;
        let mut jobs = Vec::new();
        let mut after: Vec<AfterStep> = Vec::new();
        for group in by_table(&level) {
            for e in &group {
                let deferred = plan.deferred.get(&e.id()).cloned().unwrap_or_default();
                e.flush_ops().sync_fks(e, &deferred)?;
            }
            jobs.extend(
                group[0]
                    .flush_ops()
                    .insert_job(&group, &mut self.sql_cache)?,
            );
            let ctx = Arc::new(Mutex::new(HookContext::new()));
            let group2 = group.clone();
            after.push(Box::new(move |uow: &mut UnitOfWork| {
                let mut ctx = ctx.lock().unwrap_or_else(|p| p.into_inner());
                group2[0].flush_ops().inserted(uow, &group2, &mut ctx)?;
                let deferred = std::mem::take(&mut ctx.deferred);
                drop(ctx);
                for d in deferred {
                    d(uow);
                }
                Ok(())
            }));
        }
        Ok(Some(FlushStep { jobs, after }))
    }

    fn update_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        plan.phase = Phase::Links;
        let mut dirty = std::mem::take(&mut plan.dirty);
        // Objects inserted with a NULL key to break a cycle: now set it.
        for (id, _) in std::mem::take(&mut plan.deferred) {
            if let Some(e) = self.new.iter().find(|e| e.id() == id).cloned() {
                dirty.push(e);
            }
        }
        let mut groups: Vec<(TypeId, ColumnSet, Vec<AnyEntry>)> = Vec::new();
        for e in &dirty {
            e.flush_ops().touch_for_update(e);
            e.flush_ops().sync_fks(e, &[])?;
            let Some(cols) = e.flush_ops().prepare_update(e, &mut plan.ctx)? else {
                continue;
            };
            let ty = e.as_any().type_id();
            match groups.iter_mut().find(|(t, c, _)| *t == ty && *c == cols) {
                Some((_, _, g)) => g.push(e.clone()),
                None => groups.push((ty, cols, vec![e.clone()])),
            }
        }
        if groups.is_empty() {
            return Ok(None);
        }
        let mut jobs = Vec::new();
        let mut after: Vec<AfterStep> = Vec::new();
        for (_, cols, group) in groups {
            jobs.push(
                group[0]
                    .flush_ops()
                    .update_job(&group, cols, &mut self.sql_cache)?,
            );
            after.push(Box::new(move |uow: &mut UnitOfWork| {
                let mut ctx = HookContext::new();
                group[0].flush_ops().updated(&group, cols, &mut ctx)?;
                for d in ctx.deferred {
                    d(uow);
                }
                Ok(())
            }));
        }
        Ok(Some(FlushStep { jobs, after }))
    }

    fn link_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        plan.phase = Phase::Deletes;
        let mut deletes = Vec::new();
        let mut inserts = Vec::new();
        // Association rows of deleted objects go with them.
        let mut by_rel: Vec<(&'static dyn AnyRelation, Vec<AnyEntry>)> = Vec::new();
        for e in &self.deleted {
            for rel in e.flush_ops().many_to_many() {
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
            let resolved = self.resolved(rel.meta())?;
            deletes.push(rel.unlink_all_job(&resolved, &parents)?);
        }
        // Changed many-to-many collections: the difference.
        type Pairs = Vec<Pair>;
        let mut changes: Vec<(&'static dyn AnyRelation, Pairs, Pairs)> = Vec::new();
        for key in self.changed_collections.clone() {
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
            let added: Pairs = coll
                .items
                .iter()
                .filter(|i| !original.iter().any(|o| o.id() == i.id()))
                .map(|i| (parent.clone(), i.clone()))
                .collect();
            let removed: Pairs = original
                .iter()
                .filter(|o| !coll.items.iter().any(|i| i.id() == o.id()))
                .filter(|o| o.status() != Status::Deleted)
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
            let resolved = self.resolved(rel.meta())?;
            if !removed.is_empty() {
                deletes.push(rel.link_job(&resolved, &removed, false)?);
            }
            if !added.is_empty() {
                inserts.push(rel.link_job(&resolved, &added, true)?);
            }
        }
        if deletes.is_empty() && inserts.is_empty() {
            return Ok(None);
        }
        deletes.extend(inserts);
        Ok(Some(FlushStep {
            jobs: deletes,
            after: Vec::new(),
        }))
    }

    fn delete_step(&mut self, plan: &mut FlushPlan) -> Result<Option<FlushStep>> {
        if plan.next_delete == 0 && plan.delete_levels.is_empty() {
            let deleted: Vec<Arc<dyn ErasedEntry>> = self
                .deleted
                .iter()
                .filter(|e| e.status() == Status::Deleted)
                .cloned()
                .collect();
            let (lv, _) = levels(&deleted);
            plan.delete_levels = group_steps(&deleted, &lv, true);
        }
        let Some(level) = plan.delete_levels.get(plan.next_delete).cloned() else {
            plan.phase = Phase::Done;
            return Ok(None);
        };
        plan.next_delete += 1;
        let mut jobs = Vec::new();
        let mut after: Vec<AfterStep> = Vec::new();
        for group in by_table(&level) {
            for e in &group {
                e.flush_ops().before_delete(e, &mut plan.ctx)?;
            }
            jobs.push(
                group[0]
                    .flush_ops()
                    .delete_job(&group, &mut self.sql_cache)?,
            );
            after.push(Box::new(move |uow: &mut UnitOfWork| {
                let mut ctx = HookContext::new();
                group[0].flush_ops().deleted(uow, &group, &mut ctx)?;
                for d in ctx.deferred {
                    d(uow);
                }
                Ok(())
            }));
        }
        Ok(Some(FlushStep { jobs, after }))
    }

    /// After a step's statements succeeded (each checked with [`FlushJob::check`]).
    pub fn flush_step_done(&mut self, step: FlushStep) -> Result<()> {
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
        self.deleted.retain(|e| e.status() == Status::Deleted);
        for key in std::mem::take(&mut self.changed_collections) {
            if let Some(c) = self.collections.get_mut(&key) {
                c.original = None;
            }
        }
        run_deferred(self, &mut ctx);
        self.release_savepoint(plan.token);
        Ok(self.has_changes())
    }

    /// Abandons a failed flush: every object is back to its state before the flush.
    pub fn flush_abort(&mut self, plan: FlushPlan) {
        self.rollback_savepoint(plan.token);
        let mut seen = FxHashSet::default();
        for e in plan.drained {
            if seen.insert(e.id()) && e.is_queued() {
                self.shared().queue_dirty(e);
            }
        }
    }
}
