//! Which phase each expanded column is in, from the revision graph and the applied set. No
//! IO: [`Migrator::phases`](crate::Migrator::phases) reads the applied set for you.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::{MigrateError, Result};
use crate::graph::{Graph, Target};
use crate::revision::Revision;

use crate::phase::ColumnMove;

/// Where an expand/contract pair is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// The expand revision is not applied: only the old column exists.
    Pending,
    /// The expand is applied and the contract is not (or not written): both columns exist and
    /// are kept in sync; the old and the new release can run side by side.
    Expanded,
    /// The contract is applied: only the new column exists.
    Contracted,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Pending => "pending",
            Phase::Expanded => "expanded",
            Phase::Contracted => "contracted",
        })
    }
}

/// One expand revision, its contract revision if written, and its phase.
#[derive(Debug, Clone)]
pub struct PhaseEntry<'g> {
    /// The column moved.
    pub change: &'g ColumnMove,
    /// The expand revision.
    pub expand: &'g Revision,
    /// Its contract revision, when one is written.
    pub contract: Option<&'g Revision>,
    /// Where the database is.
    pub phase: Phase,
}

/// Every expand revision of `graph` in [history](Graph::history) order, with its contract and
/// its phase in a database that has `applied`. [`MigrateError::Graph`] naming the contract's
/// file when a `contract:` names a revision that is not an expand revision among its
/// ancestors, or when two contracts name the same expand.
pub fn phases<'g>(graph: &'g Graph, applied: &BTreeSet<String>) -> Result<Vec<PhaseEntry<'g>>> {
    let mut entries: Vec<PhaseEntry<'g>> = graph
        .history()
        .into_iter()
        .filter_map(|r| {
            r.phase.expand.as_ref().map(|change| PhaseEntry {
                change,
                expand: r,
                contract: None,
                phase: if applied.contains(&r.id) {
                    Phase::Expanded
                } else {
                    Phase::Pending
                },
            })
        })
        .collect();
    for contract in graph.revisions() {
        let Some(expand_id) = &contract.phase.contract else {
            continue;
        };
        let bad = |message: String| MigrateError::Graph {
            path: contract.source.clone(),
            message,
        };
        let Some(entry) = entries.iter_mut().find(|e| &e.expand.id == expand_id) else {
            return Err(bad(format!(
                "`contract: {expand_id}` names no expand revision (one with an `expand:` line)"
            )));
        };
        let ancestors = graph.upgrade_plan(&BTreeSet::new(), &Target::Id(contract.id.clone()))?;
        if !ancestors.iter().any(|r| &r.id == expand_id) {
            return Err(bad(format!(
                "the contract of {expand_id} must follow it: make {expand_id} one of its \
                 ancestors (parents)"
            )));
        }
        if let Some(other) = entry.contract {
            return Err(bad(format!(
                "{expand_id} is contracted by {} already",
                other.id
            )));
        }
        entry.contract = Some(contract);
        if applied.contains(&contract.id) {
            entry.phase = Phase::Contracted;
        }
    }
    Ok(entries)
}
