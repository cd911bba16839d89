//! The statements of a relationship in a flush — [`ErasedRelation`] of
//! [`TypedRelation`]: many-to-many association rows inserted and deleted, and the loads that
//! cascade a delete to children not loaded yet.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::FLUSH;
use super::sql::{
    column_defs, compile_query, delete_using, key_arrays, write_idents, write_unnest,
};
use crate::compile::{self, SqlWriter};
use crate::error::{Error, Result};
use crate::load::{Load, RowAccess, RowSink, Strategy};
use crate::relation::{Relation, RelationMeta};
use crate::row::{Decode, FromRow};
use crate::session::fxhash::FxHashMap;
use crate::session::job::FlushJob;
use crate::session::persist::{Persist, TypedRelation};
use crate::session::positions::KeyPositions;
use crate::session::state::{Entry, downcast};
use crate::session::status::Status;
use crate::session::tracked::Tracked;
use crate::session::unit::{AfterStep, AssociationPair, ErasedEntry, ErasedRelation, UnitOfWork};

/// The parents of type `P` behind erased entries, with their locks held while `f` runs.
fn with_values<P: Persist, T>(
    entries: &[Arc<dyn ErasedEntry>],
    f: impl FnOnce(&[&P]) -> T,
) -> Result<T> {
    // The same object may appear several times (a parent of several links): lock it once.
    // Found by address in a map: thousands of distinct targets are not each compared with
    // every one before them.
    let mut unique: Vec<Arc<Entry<P>>> = Vec::new();
    let mut seen: FxHashMap<*const Entry<P>, usize> = FxHashMap::default();
    let mut slots = Vec::with_capacity(entries.len());
    for e in entries {
        let typed =
            downcast::<P>(e).ok_or_else(|| Error::object_state("object of the wrong type"))?;
        let slot = *seen.entry(Arc::as_ptr(&typed)).or_insert_with(|| {
            unique.push(typed);
            unique.len() - 1
        });
        slots.push(slot);
    }
    let guards = unique
        .iter()
        .map(|e| e.read_for(FLUSH))
        .collect::<Result<Vec<_>>>()?;
    let values: Vec<&P> = slots.iter().map(|&i| &guards[i].value).collect();
    Ok(f(&values))
}

impl<R: Relation> ErasedRelation for TypedRelation<R>
where
    R::Parent: Persist,
    R::Target: Persist,
{
    fn meta(&self) -> &'static RelationMeta {
        R::META
    }

    fn link_job(
        &self,
        keys: &KeyPositions,
        pairs: &[AssociationPair],
        insert: bool,
    ) -> Result<FlushJob> {
        let sec = keys
            .association
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
        keys: &KeyPositions,
        parents: &[Arc<dyn ErasedEntry>],
    ) -> Result<FlushJob> {
        let sec = keys
            .association
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
        let key_at = Load::<R>::key_position();
        let sink: RowSink<'static> = Box::new(move |row: &dyn RowAccess| {
            let target = <R::Target as FromRow>::from_row(row, 0)?;
            let key = R::Key::decode(row, key_at)?;
            sink_rows
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((target, key));
            Ok(())
        });
        let after: AfterStep = Box::new(move |uow: &mut UnitOfWork| {
            let rows = std::mem::take(&mut *rows.lock().unwrap_or_else(|p| p.into_inner()));
            let fk_cols = uow.key_positions(R::META)?.fk_cols.clone();
            let mut by_key: HashMap<R::Key, Vec<Arc<dyn ErasedEntry>>> = HashMap::new();
            for (target, key) in rows {
                let t: Tracked<R::Target> = uow.register_loaded(target)?;
                // The load ran before this flush's updates: a child the session moved to
                // another parent (its link changed, or its foreign key written) still reads
                // as this parent's. It is no longer its child: neither linked nor deleted.
                if t.erased().moved_away(&fk_cols, FLUSH)? {
                    continue;
                }
                by_key.entry(key).or_default().push(t.erased());
            }
            for parent in &parents {
                let key = match downcast::<R::Parent>(parent) {
                    Some(p) => R::parent_key(&p.read_for(FLUSH)?.value),
                    None => None,
                };
                let children = key
                    .and_then(|k| by_key.get(&k).cloned())
                    .unwrap_or_default();
                uow.replace_collection(parent, TypedRelation::<R>::ERASED, children.clone(), None)?;
                for child in &children {
                    if child.status() == Status::Persistent {
                        uow.delete_erased(child, FLUSH)?;
                    }
                }
            }
            Ok(())
        });
        Ok(Some((FlushJob::rows(compile_query(&query)?, sink), after)))
    }
}

impl<R: Relation> Load<R> {
    /// A selectin load for the session's own use.
    pub(crate) fn session_selectin() -> Self {
        Load::with_strategy(Strategy::SelectIn)
    }
}
