//! Relationships as the session sees them: taking loaded or new children out of a model's
//! `Related` fields, linking objects, and the statements of many-to-many links and cascades.

use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use super::flush::{AfterStep, FlushJob};
use super::persist::Persist;
use super::tracked::{ErasedEntry, Pair, Status, Tracked, downcast};
use super::unit::{UnitOfWork, collection_key};
use crate::compile::{self, CompiledQuery, SqlWriter};
use crate::error::{Error, Result};
use crate::expr::Param;
use crate::load::{Load, RowAccess, RowSink, Strategy};
use crate::meta::Table;
use crate::relation::{RelatedValue, Relation, RelationKind, RelationMeta};
use crate::row::{Decode, FromRow};

/// A relationship's columns as positions in their tables.
#[derive(Debug)]
#[doc(hidden)]
pub struct Resolved {
    /// The foreign-key columns, in the table holding them (the target for has-many/has-one,
    /// the parent for belongs-to).
    pub(crate) fk_cols: Arc<[usize]>,
    /// The referenced key columns, in the referenced table.
    pub(crate) key_cols: Arc<[usize]>,
    /// For many-to-many: the association table, its columns towards the parent and the target,
    /// and the key columns of parent and target.
    pub(crate) secondary: Option<Secondary>,
}

#[derive(Debug)]
#[doc(hidden)]
pub struct Secondary {
    pub(crate) table: &'static Table,
    pub(crate) to_parent: Vec<&'static str>,
    pub(crate) to_target: Vec<&'static str>,
    pub(crate) parent_key: Vec<usize>,
    pub(crate) target_key: Vec<usize>,
}

fn positions(
    table: &'static Table,
    names: &[&'static str],
    meta: &RelationMeta,
) -> Result<Arc<[usize]>> {
    names
        .iter()
        .map(|n| {
            table
                .columns
                .iter()
                .position(|c| c.name == *n)
                .ok_or_else(|| {
                    Error::invalid_statement(format!(
                        "relationship `{}.{}`: no column {n:?} in table {:?}",
                        meta.model, meta.name, table.name
                    ))
                })
        })
        .collect()
}

impl Resolved {
    pub(crate) fn new(meta: &'static RelationMeta) -> Result<Self> {
        let r = meta.resolve()?;
        Ok(match meta.kind {
            RelationKind::BelongsTo => Resolved {
                fk_cols: positions(meta.parent, &r.parent_cols, meta)?,
                key_cols: positions(meta.target, &r.target_cols, meta)?,
                secondary: None,
            },
            RelationKind::HasMany | RelationKind::HasOne => Resolved {
                fk_cols: positions(meta.target, &r.target_cols, meta)?,
                key_cols: positions(meta.parent, &r.parent_cols, meta)?,
                secondary: None,
            },
            RelationKind::ManyToMany => {
                let (table, to_parent, to_target) = r.secondary.ok_or_else(|| {
                    Error::invalid_statement(format!(
                        "relationship `{}.{}`: many_to_many needs secondary = Model",
                        meta.model, meta.name
                    ))
                })?;
                let parent_key = positions(meta.parent, &r.parent_cols, meta)?.to_vec();
                let target_key = positions(meta.target, &r.target_cols, meta)?.to_vec();
                Resolved {
                    fk_cols: Arc::from(Vec::new()),
                    key_cols: Arc::from(Vec::new()),
                    secondary: Some(Secondary {
                        table,
                        to_parent,
                        to_target,
                        parent_key,
                        target_key,
                    }),
                }
            }
        })
    }
}

/// A relationship of model `P`, as the session uses it. Implemented by [`RelOps`] for every
/// relationship the derive declares; listed in [`Persist::RELATIONS`].
pub trait RelationOps<P: Persist>: Send + Sync + 'static {
    /// The relationship's metadata.
    fn meta(&self) -> &'static RelationMeta;

    /// Takes the loaded value out of `parent`'s field (leaving it not loaded), boxed.
    #[doc(hidden)]
    fn take(&self, parent: &mut P) -> Option<Box<dyn Any + Send>>;

    /// Puts children taken by [`take`](Self::take) into the session (as loaded rows or as new
    /// objects) and links them to `parent`.
    #[doc(hidden)]
    fn attach(
        &self,
        uow: &mut UnitOfWork,
        parent: &Arc<dyn ErasedEntry>,
        children: Box<dyn Any + Send>,
        loaded: bool,
    ) -> Result<()>;

    /// The type-erased operations.
    #[doc(hidden)]
    fn any(&self) -> &'static dyn AnyRelation;
}

/// The session's operations of relationship `R` (a marker type the derive generates).
pub struct RelOps<R>(PhantomData<fn() -> R>);

impl<R: Relation> RelOps<R>
where
    R::Parent: Persist,
    R::Target: Persist,
{
    /// The operations, as the derive lists them in `Persist::RELATIONS`.
    pub const OPS: &'static dyn RelationOps<R::Parent> = &RelOps::<R>(PhantomData);
    const ANY: &'static dyn AnyRelation = &RelOps::<R>(PhantomData);
}

/// The type-erased operations of a relationship.
pub(crate) fn any_relation<R: Relation>() -> &'static dyn AnyRelation
where
    R::Parent: Persist,
    R::Target: Persist,
{
    RelOps::<R>::ANY
}

impl<R: Relation> RelationOps<R::Parent> for RelOps<R>
where
    R::Parent: Persist,
    R::Target: Persist,
{
    fn meta(&self) -> &'static RelationMeta {
        R::META
    }

    fn take(&self, parent: &mut R::Parent) -> Option<Box<dyn Any + Send>> {
        let mut value = R::slot(parent).take()?;
        let children: Vec<R::Target> = value
            .children_mut()
            .into_iter()
            .map(|c| std::mem::replace(c, c.copy_columns()))
            .collect();
        Some(Box::new(children))
    }

    fn attach(
        &self,
        uow: &mut UnitOfWork,
        parent: &Arc<dyn ErasedEntry>,
        children: Box<dyn Any + Send>,
        loaded: bool,
    ) -> Result<()> {
        let children = children
            .downcast::<Vec<R::Target>>()
            .map_err(|_| Error::object_state("relationship value of the wrong type"))?;
        let mut items = Vec::with_capacity(children.len());
        for child in *children {
            let t = if loaded {
                uow.register_loaded(child)?
            } else {
                uow.add(child)
            };
            items.push(t.erased());
        }
        // The other side of a has-many (declared with back_populates) learns its parent.
        if loaded && R::META.kind == RelationKind::HasMany {
            if let Some(back) = R::META.back_populates {
                if let Some(rev) = <R::Target as Persist>::RELATIONS
                    .iter()
                    .find(|r| r.meta().name == back && r.meta().kind == RelationKind::BelongsTo)
                {
                    let rev_meta = rev.meta();
                    for child in &items {
                        let key = collection_key(child.id(), rev_meta);
                        if let std::collections::hash_map::Entry::Vacant(slot) =
                            uow.collections.entry(key)
                        {
                            slot.insert(super::unit::Collection {
                                rel: reverse_ops(rev_meta, &items)?,
                                parent: child.clone(),
                                items: vec![parent.clone()],
                                original: None,
                                complete: true,
                            });
                        }
                    }
                }
            }
        }
        uow.replace_collection(parent, RelOps::<R>::ANY, items, loaded)
    }

    fn any(&self) -> &'static dyn AnyRelation {
        RelOps::<R>::ANY
    }
}

/// The erased operations of the reverse relationship named by `back_populates`, found through
/// a collection of the session that already uses it, or through the target's own list.
fn reverse_ops(
    meta: &'static RelationMeta,
    children: &[Arc<dyn ErasedEntry>],
) -> Result<&'static dyn AnyRelation> {
    children
        .first()
        .and_then(|c| c.flush_ops().relation_by_meta(meta))
        .ok_or_else(|| Error::object_state("back_populates: relationship not found"))
}

/// What the flush needs of a relationship without knowing its types.
#[doc(hidden)]
pub trait AnyRelation: Send + Sync + 'static {
    fn meta(&self) -> &'static RelationMeta;

    /// Many-to-many: the statement inserting (or deleting) association rows for the pairs.
    fn link_job(&self, resolved: &Resolved, pairs: &[Pair], insert: bool) -> Result<FlushJob>;

    /// Many-to-many: the statement deleting every association row of `parents`.
    fn unlink_all_job(
        &self,
        resolved: &Resolved,
        parents: &[Arc<dyn ErasedEntry>],
    ) -> Result<FlushJob>;

    /// The query loading the children of `parents` (to cascade a delete), the sink decoding
    /// its rows, and what to do with them afterwards: link them and delete them.
    fn cascade_load(
        &self,
        parents: Vec<Arc<dyn ErasedEntry>>,
    ) -> Result<Option<(FlushJob, AfterStep)>>;
}

/// The parents of type `P` behind erased entries, with their locks held while `f` runs.
fn with_values<P: Persist, T>(
    entries: &[Arc<dyn ErasedEntry>],
    f: impl FnOnce(&[&P]) -> T,
) -> Result<T> {
    // The same object may appear several times (a parent of several links): lock it once.
    let mut unique: Vec<Arc<super::tracked::Entry<P>>> = Vec::new();
    let mut slots = Vec::with_capacity(entries.len());
    for e in entries {
        let typed =
            downcast::<P>(e).ok_or_else(|| Error::object_state("object of the wrong type"))?;
        let slot = match unique.iter().position(|u| Arc::ptr_eq(u, &typed)) {
            Some(i) => i,
            None => {
                unique.push(typed);
                unique.len() - 1
            }
        };
        slots.push(slot);
    }
    let guards: Vec<_> = unique.iter().map(|e| e.read_lock()).collect();
    let values: Vec<&P> = slots.iter().map(|&i| &guards[i].value).collect();
    Ok(f(&values))
}

/// Arrays of the given columns over the objects.
pub(crate) fn key_arrays<P: Persist>(rows: &[&P], cols: &[usize]) -> Result<Vec<Param>> {
    cols.iter()
        .map(|&c| {
            P::column_array(rows, c)
                .ok_or_else(|| Error::object_state(format!("no column #{c} in {}", P::TABLE.model)))
        })
        .collect()
}

/// `unnest($1::t1[], $2::t2[]) AS "orm_v"("k0", "k1")`.
pub(crate) fn write_unnest(
    w: &mut SqlWriter,
    arrays: Vec<Param>,
    types: &[&'static crate::meta::ColumnDef],
    names: &[String],
) {
    write_unnest_with(w, arrays, types, names, false);
}

/// [`write_unnest`], optionally `WITH ORDINALITY` (then `names` ends with the ordinal's name).
pub(crate) fn write_unnest_with(
    w: &mut SqlWriter,
    arrays: Vec<Param>,
    types: &[&'static crate::meta::ColumnDef],
    names: &[String],
    ordinality: bool,
) {
    w.push("unnest(");
    for (i, (a, c)) in arrays.into_iter().zip(types).enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_param(a);
        w.push("::");
        compile::write_type(w, &c.ty, None);
        w.push("[]");
    }
    w.push(if ordinality {
        ") WITH ORDINALITY AS \"orm_v\"("
    } else {
        ") AS \"orm_v\"("
    });
    write_idents(w, names);
    w.push(")");
}

/// `"a", "b", "c"`.
pub(crate) fn write_idents<S: AsRef<str>>(w: &mut SqlWriter, names: &[S]) {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_ident(n.as_ref());
    }
}

/// `"t"."c1" = "orm_v"."n1" AND "t"."c2" = "orm_v"."n2"`: a row of the table matched with a
/// row of the `unnest` alias.
pub(crate) fn write_matches(
    w: &mut SqlWriter,
    table: &'static Table,
    cols: &[&str],
    names: &[String],
) {
    for (i, (c, n)) in cols.iter().zip(names).enumerate() {
        if i > 0 {
            w.push(" AND ");
        }
        w.push_qualified(table.schema, table.name);
        w.push(".");
        w.push_ident(c);
        w.push(" = \"orm_v\".");
        w.push_ident(n);
    }
}

/// `DELETE FROM t USING unnest(...) AS "orm_v"(k0, ...) WHERE t.c0 = "orm_v".k0 AND ...`: one
/// statement deleting the rows whose `cols` match one of the arrays' rows.
pub(crate) fn delete_using(
    table: &'static Table,
    cols: &[&'static str],
    arrays: Vec<Param>,
) -> Result<CompiledQuery> {
    let defs = column_defs(table, cols)?;
    let names: Vec<String> = (0..cols.len()).map(|i| format!("k{i}")).collect();
    let mut w = SqlWriter::new();
    w.push("DELETE FROM ");
    w.push_qualified(table.schema, table.name);
    w.push(" USING ");
    write_unnest(&mut w, arrays, &defs, &names);
    w.push(" WHERE ");
    write_matches(&mut w, table, cols, &names);
    compile::finish(w)
}

fn column_defs(
    table: &'static Table,
    names: &[&'static str],
) -> Result<Vec<&'static crate::meta::ColumnDef>> {
    names
        .iter()
        .map(|n| {
            table.column(n).ok_or_else(|| {
                Error::invalid_statement(format!("no column {n:?} in {:?}", table.name))
            })
        })
        .collect()
}

impl<R: Relation> AnyRelation for RelOps<R>
where
    R::Parent: Persist,
    R::Target: Persist,
{
    fn meta(&self) -> &'static RelationMeta {
        R::META
    }

    fn link_job(&self, resolved: &Resolved, pairs: &[Pair], insert: bool) -> Result<FlushJob> {
        let sec = resolved
            .secondary
            .as_ref()
            .ok_or_else(|| Error::invalid_statement("not a many-to-many relationship"))?;
        let parents: Vec<Arc<dyn ErasedEntry>> = pairs.iter().map(|p| p.0.clone()).collect();
        let targets: Vec<Arc<dyn ErasedEntry>> = pairs.iter().map(|p| p.1.clone()).collect();
        let mut arrays =
            with_values::<R::Parent, _>(&parents, |rows| key_arrays(rows, &sec.parent_key))??;
        arrays.extend(with_values::<R::Target, _>(&targets, |rows| {
            key_arrays(rows, &sec.target_key)
        })??);
        let cols: Vec<&'static str> = sec
            .to_parent
            .iter()
            .chain(&sec.to_target)
            .copied()
            .collect();
        let defs = column_defs(sec.table, &cols)?;
        let names: Vec<String> = (0..cols.len()).map(|i| format!("k{i}")).collect();
        let mut w = SqlWriter::new();
        if insert {
            w.push("INSERT INTO ");
            w.push_qualified(sec.table.schema, sec.table.name);
            w.push(" (");
            write_idents(&mut w, &cols);
            w.push(") SELECT * FROM ");
            write_unnest(&mut w, arrays, &defs, &names);
        } else {
            return Ok(FlushJob::execute(
                delete_using(sec.table, &cols, arrays)?,
                None,
            ));
        }
        Ok(FlushJob::execute(compile::finish(w)?, None))
    }

    fn unlink_all_job(
        &self,
        resolved: &Resolved,
        parents: &[Arc<dyn ErasedEntry>],
    ) -> Result<FlushJob> {
        let sec = resolved
            .secondary
            .as_ref()
            .ok_or_else(|| Error::invalid_statement("not a many-to-many relationship"))?;
        let arrays =
            with_values::<R::Parent, _>(parents, |rows| key_arrays(rows, &sec.parent_key))??;
        Ok(FlushJob::execute(
            delete_using(sec.table, &sec.to_parent, arrays)?,
            None,
        ))
    }

    fn cascade_load(
        &self,
        parents: Vec<Arc<dyn ErasedEntry>>,
    ) -> Result<Option<(FlushJob, AfterStep)>> {
        let load = Load::<R>::session_selectin();
        let query = with_values::<R::Parent, _>(&parents, |rows| load.session_query(rows))??;
        let Some(query) = query else {
            return Ok(None);
        };
        type Rows<R> = Arc<Mutex<Vec<(<R as Relation>::Target, <R as Relation>::Key)>>>;
        let rows: Rows<R> = Arc::new(Mutex::new(Vec::new()));
        let sink_rows = rows.clone();
        let sink: RowSink<'static> = Box::new(move |row: &dyn RowAccess| {
            let target = <R::Target as FromRow>::from_row(row, 0)?;
            let key = R::Key::decode(row, <R::Target as FromRow>::WIDTH)?;
            sink_rows
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((target, key));
            Ok(())
        });
        let after: AfterStep = Box::new(move |uow: &mut UnitOfWork| {
            let rows = std::mem::take(&mut *rows.lock().unwrap_or_else(|p| p.into_inner()));
            let mut by_key: HashMap<R::Key, Vec<Arc<dyn ErasedEntry>>> = HashMap::new();
            for (target, key) in rows {
                let t: Tracked<R::Target> = uow.register_loaded(target)?;
                by_key.entry(key).or_default().push(t.erased());
            }
            for parent in &parents {
                let key =
                    downcast::<R::Parent>(parent).and_then(|p| R::parent_key(&p.read_lock().value));
                let children = key
                    .and_then(|k| by_key.get(&k).cloned())
                    .unwrap_or_default();
                uow.replace_collection(parent, RelOps::<R>::ANY, children.clone(), true)?;
                for child in &children {
                    if child.status() == Status::Persistent {
                        uow.delete_erased(child)?;
                    }
                }
            }
            Ok(())
        });
        Ok(Some((FlushJob::rows(compile_query(&query)?, sink), after)))
    }
}

fn compile_query(q: &crate::ast::Query) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    compile::write_query(&mut w, q);
    compile::finish(w)
}

impl<R: Relation> Load<R> {
    /// A selectin load for the session's own use.
    pub(crate) fn session_selectin() -> Self {
        Load::with_strategy(Strategy::SelectIn)
    }
}
