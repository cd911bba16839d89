//! The revision graph: a DAG of [revisions](Revision) by their parents and `depends_on`, its
//! heads, bases and branch points, and the plans of an upgrade or a downgrade. No IO.
//!
//! Two kinds of edges: a revision's `parents` make the history (a branch point has two or more
//! children, a merge two or more parents, a head no child), and its `depends_on` only order it
//! after revisions of other branches. Both count for what must be applied before a revision
//! and reverted after it; only parents count for heads, bases, branch points and
//! [`current_heads`](Graph::current_heads).
//!
//! [`Graph::new`] checks the whole graph before anything can run: a duplicate id, a parent or
//! `depends_on` naming no revision, and a cycle are [`MigrateError::Graph`] errors naming a
//! revision's file.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt;
use std::str::FromStr;

use crate::error::{MigrateError, Result};
use crate::revision::{ID_LEN, Revision};

/// A checked revision graph.
#[derive(Debug, Clone)]
pub struct Graph {
    /// The revisions, sorted by id; the indices below point into it.
    revisions: Vec<Revision>,
    /// Id to index.
    index: BTreeMap<String, usize>,
    /// The children of each revision (by parents).
    children: Vec<Vec<usize>>,
    /// What each revision needs applied first: its parents and its `depends_on`.
    requires: Vec<Vec<usize>>,
    /// The reverse of `requires`.
    required_by: Vec<Vec<usize>>,
    /// A topological order (what a revision requires comes first), ties by id.
    order: Vec<usize>,
}

/// Where an upgrade or a downgrade goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The single head (an error when there are several).
    Head,
    /// Every head.
    Heads,
    /// Before the first revision: nothing applied.
    Base,
    /// A revision, by its id or a unique prefix of it.
    Id(String),
    /// `+N`: the next N revisions to apply; `-N`: the last N applied, to revert.
    Relative(i64),
}

impl Target {
    /// Reads a target: `head`, `heads`, `base`, `+N`, `-N`, or a revision id or prefix of one
    /// (1 to 14 digits). Anything else is [`MigrateError::UnknownRevision`].
    pub fn parse(s: &str) -> Result<Target> {
        let s = s.trim();
        let unknown = || MigrateError::UnknownRevision(s.to_owned());
        match s {
            "head" => Ok(Target::Head),
            "heads" => Ok(Target::Heads),
            "base" => Ok(Target::Base),
            _ if s.starts_with(['+', '-']) => {
                let digits = &s[1..];
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(unknown());
                }
                let n: i64 = s.parse().map_err(|_| unknown())?;
                Ok(Target::Relative(n))
            }
            _ if !s.is_empty() && s.len() <= ID_LEN && s.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Target::Id(s.to_owned()))
            }
            _ => Err(unknown()),
        }
    }
}

impl FromStr for Target {
    type Err = MigrateError;

    fn from_str(s: &str) -> Result<Target> {
        Target::parse(s)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Head => f.write_str("head"),
            Target::Heads => f.write_str("heads"),
            Target::Base => f.write_str("base"),
            Target::Id(id) => f.write_str(id),
            Target::Relative(n) => write!(f, "{n:+}"),
        }
    }
}

impl Graph {
    /// Checks and indexes revisions. Errors ([`MigrateError::Graph`], naming a file): two
    /// revisions with one id (both files are named), a parent or `depends_on` that is no
    /// revision, a cycle (the error lists it).
    pub fn new(mut revisions: Vec<Revision>) -> Result<Graph> {
        revisions.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.source.cmp(&b.source)));
        if let Some(pair) = revisions.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(MigrateError::Graph {
                path: pair[1].source.clone(),
                message: format!(
                    "duplicate revision id {}: {} has it too",
                    pair[1].id,
                    pair[0].source.display()
                ),
            });
        }
        let index: BTreeMap<String, usize> = (0..)
            .zip(&revisions)
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let n = revisions.len();
        let mut children = vec![Vec::new(); n];
        let mut requires = vec![Vec::new(); n];
        let mut required_by = vec![Vec::new(); n];
        for (i, r) in revisions.iter().enumerate() {
            for (kind, ids) in [("parent", &r.parents), ("depends_on", &r.depends_on)] {
                for id in ids {
                    let Some(&j) = index.get(id) else {
                        return Err(MigrateError::Graph {
                            path: r.source.clone(),
                            message: format!(
                                "revision {}: {kind} {id} is not in the migrations directory",
                                r.id
                            ),
                        });
                    };
                    if kind == "parent" {
                        children[j].push(i);
                    }
                    if !requires[i].contains(&j) {
                        requires[i].push(j);
                        required_by[j].push(i);
                    }
                }
            }
        }
        let mut graph = Graph {
            revisions,
            index,
            children,
            requires,
            required_by,
            order: Vec::with_capacity(n),
        };
        graph.sort()?;
        Ok(graph)
    }

    /// Kahn's algorithm, smallest id first among the ready; a cycle when some are left.
    fn sort(&mut self) -> Result<()> {
        let mut pending: Vec<usize> = self.requires.iter().map(Vec::len).collect();
        let mut ready: BinaryHeap<Reverse<usize>> = (0..self.revisions.len())
            .filter(|&i| pending[i] == 0)
            .map(Reverse)
            .collect();
        while let Some(Reverse(i)) = ready.pop() {
            self.order.push(i);
            for &k in &self.required_by[i] {
                pending[k] -= 1;
                if pending[k] == 0 {
                    ready.push(Reverse(k));
                }
            }
        }
        if self.order.len() == self.revisions.len() {
            return Ok(());
        }
        // Every revision left requires another one left: walk back until one repeats.
        let Some(start) = (0..self.revisions.len()).find(|&i| pending[i] > 0) else {
            return Ok(());
        };
        let mut path = vec![start];
        let mut at = start;
        while let Some(&prev) = self.requires[at].iter().find(|&&j| pending[j] > 0) {
            if let Some(pos) = path.iter().position(|&p| p == prev) {
                path.drain(..pos);
                break;
            }
            path.push(prev);
            at = prev;
        }
        let first = path.first().copied().unwrap_or(start);
        let cycle: Vec<&str> = path
            .iter()
            .chain(std::iter::once(&first))
            .map(|&i| self.revisions[i].id.as_str())
            .collect();
        Err(MigrateError::Graph {
            path: self.revisions[first].source.clone(),
            message: format!(
                "revision {} is in a cycle of parents/depends_on: {} (each needs the next applied first)",
                self.revisions[first].id,
                cycle.join(" -> ")
            ),
        })
    }

    /// The number of revisions.
    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    /// Whether there is no revision.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// Every revision, sorted by id.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Whether a revision has exactly this id.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// The revision with this id, or the only one whose id starts with it;
    /// [`MigrateError::UnknownRevision`] when none or several do.
    pub fn get(&self, id: &str) -> Result<&Revision> {
        self.position(id).map(|i| &self.revisions[i])
    }

    fn position(&self, id: &str) -> Result<usize> {
        if let Some(&i) = self.index.get(id) {
            return Ok(i);
        }
        let mut matches = self
            .index
            .range::<str, _>((std::ops::Bound::Included(id), std::ops::Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(id))
            .map(|(_, &i)| i);
        match (id.is_empty(), matches.next(), matches.next()) {
            (false, Some(i), None) => Ok(i),
            _ => Err(MigrateError::UnknownRevision(id.to_owned())),
        }
    }

    fn refs(&self, indices: impl IntoIterator<Item = usize>) -> Vec<&Revision> {
        indices.into_iter().map(|i| &self.revisions[i]).collect()
    }

    /// The revisions no other revision has as a parent, by id.
    pub fn heads(&self) -> Vec<&Revision> {
        self.refs((0..self.revisions.len()).filter(|&i| self.children[i].is_empty()))
    }

    /// The revisions with no parent, by id.
    pub fn bases(&self) -> Vec<&Revision> {
        self.refs((0..self.revisions.len()).filter(|&i| self.revisions[i].parents.is_empty()))
    }

    /// The branch points: revisions that are the parent of two or more revisions, by id.
    pub fn branches(&self) -> Vec<&Revision> {
        self.refs((0..self.revisions.len()).filter(|&i| self.children[i].len() >= 2))
    }

    /// The children of a revision (those that have it as a parent), by id.
    pub fn children(&self, id: &str) -> Result<Vec<&Revision>> {
        let i = self.position(id)?;
        let mut children = self.children[i].clone();
        children.sort_unstable();
        Ok(self.refs(children))
    }

    /// Every revision in a topological order: parents and `depends_on` before the revisions
    /// that name them, ties broken by id.
    pub fn history(&self) -> Vec<&Revision> {
        self.refs(self.order.iter().copied())
    }

    /// Errors with [`MigrateError::UnknownApplied`] when `applied` names a revision the graph
    /// lacks, else marks the applied revisions.
    fn applied_flags(&self, applied: &BTreeSet<String>) -> Result<Vec<bool>> {
        let mut flags = vec![false; self.revisions.len()];
        for id in applied {
            let &i = self
                .index
                .get(id)
                .ok_or_else(|| MigrateError::UnknownApplied(id.clone()))?;
            flags[i] = true;
        }
        Ok(flags)
    }

    /// The single head, or [`MigrateError::MultipleHeads`]; `None` for an empty graph.
    fn single_head(&self) -> Result<Option<usize>> {
        let heads: Vec<usize> = (0..self.revisions.len())
            .filter(|&i| self.children[i].is_empty())
            .collect();
        match heads.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(MigrateError::MultipleHeads {
                heads: heads
                    .iter()
                    .map(|&i| self.revisions[i].id.clone())
                    .collect(),
            }),
        }
    }

    /// The revisions reachable from `starts` along `edges`, with the starts.
    fn closure(&self, starts: &[usize], edges: &[Vec<usize>]) -> Vec<bool> {
        let mut seen = vec![false; self.revisions.len()];
        let mut stack = starts.to_vec();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(&edges[i]);
            }
        }
        seen
    }

    /// What an upgrade to `target` applies, in order: every revision the target needs (its
    /// ancestors and `depends_on`, transitively, and itself) not yet applied. `head` with
    /// several heads is [`MigrateError::MultipleHeads`]; `+N` is the next N unapplied revisions
    /// of [`history`](Self::history) ([`MigrateError::BadTarget`] when fewer are left or N is
    /// negative); `base` applies nothing. An id in `applied` that the graph lacks is
    /// [`MigrateError::UnknownApplied`].
    pub fn upgrade_plan(
        &self,
        applied: &BTreeSet<String>,
        target: &Target,
    ) -> Result<Vec<&Revision>> {
        let flags = self.applied_flags(applied)?;
        let targets = match target {
            Target::Head => self.single_head()?.into_iter().collect(),
            Target::Heads => (0..self.revisions.len())
                .filter(|&i| self.children[i].is_empty())
                .collect(),
            Target::Base => Vec::new(),
            Target::Id(id) => vec![self.position(id)?],
            &Target::Relative(n) => {
                let Ok(n) = usize::try_from(n) else {
                    return Err(bad_target(target, "a negative step is a downgrade"));
                };
                let next: Vec<usize> = self
                    .order
                    .iter()
                    .copied()
                    .filter(|&i| !flags[i])
                    .take(n)
                    .collect();
                if next.len() < n {
                    let reason = format!("only {} revision(s) are not applied", next.len());
                    return Err(bad_target(target, &reason));
                }
                return Ok(self.refs(next));
            }
        };
        let needed = self.closure(&targets, &self.requires);
        Ok(self.refs(
            self.order
                .iter()
                .copied()
                .filter(|&i| needed[i] && !flags[i]),
        ))
    }

    /// What a downgrade to `target` reverts, in order (dependents first): for `base`, every
    /// applied revision; for an id (or `head`), every applied revision that descends from it
    /// (through parents or `depends_on`), not the revision itself; for `-N`, the last N
    /// applied revisions of [`history`](Self::history) ([`MigrateError::BadTarget`] when fewer
    /// are applied or N is positive); `heads` reverts nothing. An id in `applied` that the
    /// graph lacks is [`MigrateError::UnknownApplied`].
    pub fn downgrade_plan(
        &self,
        applied: &BTreeSet<String>,
        target: &Target,
    ) -> Result<Vec<&Revision>> {
        let flags = self.applied_flags(applied)?;
        let applied_backwards = self.order.iter().rev().copied().filter(|&i| flags[i]);
        let keep = match target {
            Target::Base => return Ok(self.refs(applied_backwards)),
            Target::Heads => return Ok(Vec::new()),
            Target::Head => self.single_head()?,
            Target::Id(id) => Some(self.position(id)?),
            &Target::Relative(n) => {
                if n > 0 {
                    return Err(bad_target(target, "a positive step is an upgrade"));
                }
                let n = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
                let last: Vec<usize> = applied_backwards.take(n).collect();
                if last.len() < n {
                    let reason = format!("only {} revision(s) are applied", last.len());
                    return Err(bad_target(target, &reason));
                }
                return Ok(self.refs(last));
            }
        };
        let Some(keep) = keep else {
            return Ok(Vec::new());
        };
        let descendants = self.closure(&[keep], &self.required_by);
        Ok(self.refs(applied_backwards.filter(|&i| i != keep && descendants[i])))
    }

    /// The applied revisions that no applied revision has as a parent, by id: where the
    /// database is, for `current`. Ids the graph lacks are left out.
    pub fn current_heads(&self, applied: &BTreeSet<String>) -> Vec<&Revision> {
        let is_applied = |i: usize| applied.contains(&self.revisions[i].id);
        self.refs(
            (0..self.revisions.len())
                .filter(|&i| is_applied(i) && !self.children[i].iter().any(|&c| is_applied(c))),
        )
    }
}

fn bad_target(target: &Target, reason: &str) -> MigrateError {
    MigrateError::BadTarget {
        target: target.to_string(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
