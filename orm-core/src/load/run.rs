//! Running loads: the loads a statement carries, and running them for a batch of parents (their
//! queries together, pipelined by the runner; then each assignment and its nested loads).

use std::any::Any;
use std::sync::Arc;

use super::runner::{BoxFuture, QueryRunner, RowAccess, RowSink};
use super::{LoadOption, Loader, Strategy};
use crate::ast::Query;
use crate::compile::{self, CompiledQuery, SqlWriter};
use crate::error::Result;
use crate::stmt::{Criteria, RowOf, Statement};

/// The loads a statement asks for, and the statement's query (for subquery loading).
pub type LoadPlan<P> = (Vec<Arc<dyn Loader<P>>>, Query, bool);

/// The relationship loads a statement carries (its options that are loads), with its query,
/// and whether it reads a joined-table enum the *selectin* way (then run it with
/// [`fetch_selectin`](super::fetch_selectin)); `None` when it has neither.
pub fn plan<S: Statement + ?Sized>(statement: &S) -> Option<LoadPlan<RowOf<S>>> {
    let selectin = statement.polymorphic_selectin();
    let (loaders, query) = match statement.options() {
        Some(set) => {
            let loaders: Vec<Arc<dyn Loader<RowOf<S>>>> = set
                .options
                .iter()
                .filter_map(|o| o.as_any().downcast_ref::<LoadOption<RowOf<S>>>())
                .map(|l| l.0.clone())
                .collect();
            (loaders, set.query)
        }
        None => (Vec::new(), selectin.clone()?),
    };
    if loaders.is_empty() && selectin.is_none() {
        return None;
    }
    Some((loaders, query, selectin.is_some()))
}

/// Runs `loaders` for `parents`: their queries together (pipelined by the runner), then each
/// assignment and its nested loads. `joined_done`: the parent query already folded its joined
/// loads (otherwise, e.g. for objects in hand or nested levels, a joined load runs as selectin).
pub fn run_loads<'a, P: Send>(
    runner: &'a dyn QueryRunner,
    parents: Vec<&'a mut P>,
    loaders: &'a [Arc<dyn Loader<P>>],
    parent_query: Option<&'a Query>,
    joined_done: bool,
) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        if parents.is_empty() || loaders.is_empty() {
            return Ok(());
        }
        // One query per loader (none when no parent has a key: the field is still set, empty).
        let mut pending: Vec<Option<(Query, CompiledQuery)>> = Vec::with_capacity(loaders.len());
        {
            let shared: Vec<&P> = parents.iter().map(|p| &**p).collect();
            for l in loaders {
                if joined_done && l.strategy() == Strategy::Joined {
                    // Loaded by the parent query itself (JoinedFold).
                    pending.push(None);
                    continue;
                }
                pending.push(match l.query(&shared, parent_query)? {
                    Some(q) => {
                        let compiled = compile_query(&q, runner.criteria())?;
                        Some((q, compiled))
                    }
                    None => None,
                });
            }
        }
        let mut buffers: Vec<Box<dyn Any + Send>> = loaders.iter().map(|l| l.buffer()).collect();
        {
            // All the loaders' queries go out together: the runner pipelines them.
            let mut jobs: Vec<(CompiledQuery, RowSink<'_>)> = Vec::new();
            for ((loader, job), buffer) in loaders.iter().zip(&pending).zip(buffers.iter_mut()) {
                if let Some((_, compiled)) = job {
                    let buffer: &mut (dyn Any + Send) = &mut **buffer;
                    jobs.push((
                        compiled.clone(),
                        Box::new(move |row: &dyn RowAccess| loader.push(buffer, row)),
                    ));
                }
            }
            for outcome in runner.run_all(jobs).await {
                outcome?;
            }
        }
        // Each loader assigns to its own field of the same parents: one after the other.
        let mut parents = parents;
        for ((loader, job), buffer) in loaders.iter().zip(pending).zip(buffers) {
            if joined_done && loader.strategy() == Strategy::Joined {
                // Assigned by the parent query's fold.
                continue;
            }
            let batch: Vec<&mut P> = parents.iter_mut().map(|p| &mut **p).collect();
            loader
                .assign(batch, buffer, runner, job.map(|(q, _)| q))
                .await?;
        }
        Ok(())
    })
}

/// Compiles a loader query, with the runner's criteria (the query itself stays as it is: it
/// becomes the parent query of nested subquery loads, which take the criteria themselves),
/// after their check.
pub(crate) fn compile_query(q: &Query, criteria: Option<&Criteria>) -> Result<CompiledQuery> {
    if let Some(c) = criteria {
        c.check(Some(q.tree()))?;
    }
    let mut w = SqlWriter::new();
    match criteria.filter(|c| c.adds_conditions()) {
        None => compile::write_query(&mut w, q),
        Some(c) => {
            let mut q = q.clone();
            c.apply_query(&mut q);
            compile::write_query(&mut w, &q);
        }
    }
    compile::finish(w)
}
