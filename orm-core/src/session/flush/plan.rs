//! The order of a flush: dependency levels of the objects (an object comes after the objects
//! its foreign keys point at), the back edges of cycles (inserted as `NULL`, set by a
//! post-update), and the grouping of each level by table depth and table.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;

use crate::meta::Table;
use crate::session::fxhash::FxHashMap;
use crate::session::job::Deferred;
use crate::session::unit::ErasedEntry;

/// Objects of a session, type-erased.
pub(crate) type Entries = Vec<Arc<dyn ErasedEntry>>;

/// The steps of a flush for the objects of `entries` that `keep` selects: grouped by
/// dependency level, table depth and table ([`group_steps`]; `reverse` for deletes), with the
/// back edges of cycles as deferred links (entry id, link index).
///
/// One pass reads the objects (a session's 100,000 new objects do not fit in a cache: each
/// pass over them costs milliseconds); the levels are only worked out when one of them has a
/// foreign-key link.
pub(crate) fn ordered_steps(
    entries: &[Arc<dyn ErasedEntry>],
    keep: impl Fn(&dyn ErasedEntry) -> bool,
    reverse: bool,
) -> (Vec<Entries>, Deferred) {
    let mut linked = false;
    // Sized for all of them (usually all are kept): no reallocation as it grows.
    let mut selected: Vec<Arc<dyn ErasedEntry>> = Vec::with_capacity(entries.len());
    for e in entries.iter().filter(|e| keep(&***e)) {
        linked |= e.has_fk_links();
        selected.push(e.clone());
    }
    let (lv, deferred) = if linked {
        levels(&selected, reverse)
    } else {
        (vec![0; selected.len()], HashMap::new())
    };
    (group_steps(selected, &lv, reverse), deferred)
}

/// Dependency levels of `entries`: an entry comes after the entries of the set its foreign
/// keys point at. Back edges of cycles are returned as deferred links (entry id, link index).
///
/// For deletes (`together`), the entries of a cycle share one level instead: rows of one
/// table pointing at each other go in one `DELETE` (the server checks the foreign key at the
/// statement's end), where one each would leave the second pointing at the first.
fn levels(entries: &[Arc<dyn ErasedEntry>], together: bool) -> (Vec<usize>, Deferred) {
    let parents: Vec<Vec<(usize, Arc<dyn ErasedEntry>)>> =
        entries.iter().map(|e| e.fk_parents()).collect();
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
    let mut deferred = Deferred::new();
    // With `together`: the cycles' members, joined (each entry its own group at first).
    let mut group: Vec<usize> = if together {
        (0..n).collect()
    } else {
        Vec::new()
    };
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
                        if together {
                            // Its members: the path from `dep` to here, on the stack.
                            let from = stack.iter().rposition(|&(i, _)| i == dep).unwrap_or(0);
                            let members: Vec<usize> =
                                stack[from..].iter().map(|&(i, _)| i).collect();
                            for m in members {
                                let (a, b) = (root(&mut group, m), root(&mut group, dep));
                                group[a] = b;
                            }
                        }
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
    if together && !deferred.is_empty() {
        cycles_together(&deps, &mut group, &mut level);
    }
    (level, deferred)
}

/// The representative of `i`'s group (union-find, paths halved).
fn root(group: &mut [usize], mut i: usize) -> usize {
    while group[i] != i {
        group[i] = group[group[i]];
        i = group[i];
    }
    i
}

/// Gives the entries of each cycle (`group`, joined by the search) one level, the highest of
/// theirs, and raises what depends on them above it.
fn cycles_together(deps: &[Vec<(usize, usize)>], group: &mut [usize], level: &mut [usize]) {
    let n = level.len();
    let before = level.to_vec();
    // Settle: a group at the highest level of its members, an entry above what it points at
    // outside its group. The groups are the search's cycles (a pair of rows, a ring); one that
    // reaches back into a cycle by another way than the search went (an edge to an entry
    // already done) stays outside its group, which then never settles: after `n + 1` rounds
    // the levels are left as they were (one statement per level, as before).
    for _ in 0..=n {
        let mut changed = false;
        let mut top: FxHashMap<usize, usize> = FxHashMap::default();
        for (i, &l) in level.iter().enumerate() {
            let r = root(group, i);
            let t = top.entry(r).or_insert(0);
            *t = (*t).max(l);
        }
        for i in 0..n {
            let r = root(group, i);
            let mut l = top[&r];
            for &(_, d) in &deps[i] {
                if root(group, d) != r {
                    l = l.max(level[d] + 1);
                }
            }
            if l != level[i] {
                level[i] = l;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
    level.copy_from_slice(&before);
}

/// The tables of `entries`, each once, in order of first appearance.
pub(crate) fn tables_of<'a>(
    entries: impl IntoIterator<Item = &'a Arc<dyn ErasedEntry>>,
) -> Vec<&'static Table> {
    let mut tables: Vec<&'static Table> = Vec::new();
    for e in entries {
        if !tables.iter().any(|t| std::ptr::eq(*t, e.table())) {
            tables.push(e.table());
        }
    }
    tables
}

/// The depth of each table in the foreign-key graph of `tables` (referenced tables first).
/// Tables whose keys form a cycle have no such order: for deletes (`reverse`), the order of
/// the keys left once the flush has broken the cycles ([`cycle_breaks`]); otherwise the
/// objects' order.
fn table_depths(entries: &[Arc<dyn ErasedEntry>], reverse: bool) -> FxHashMap<usize, usize> {
    let tables = tables_of(entries);
    let order = match crate::ddl::sort_by_dependency(&tables) {
        Ok(order) => order,
        Err(_) if reverse => broken_order(&tables),
        Err(_) => tables,
    };
    order
        .iter()
        .enumerate()
        .map(|(i, t)| (*t as *const _ as usize, i))
        .collect()
}

/// A foreign key between two of a flush's tables: (referencing table, its column, referenced
/// table), as indexes into the tables and the referencing table's columns.
type Key = (usize, usize, usize);

/// The foreign keys between different `tables` that can stop a `DELETE` of the referenced
/// row: those without an `ON DELETE` action of their own (`CASCADE`, `SET NULL` and `SET
/// DEFAULT` never do).
fn blocking_keys(tables: &[&'static Table]) -> Vec<Key> {
    use crate::meta::FkAction;
    let index = |schema: Option<&str>, name: &str| {
        tables
            .iter()
            .position(|t| t.schema == schema && t.name == name)
    };
    let mut keys = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        for (c, column) in t.columns.iter().enumerate() {
            let Some(fk) = &column.references else {
                continue;
            };
            let acts = matches!(
                fk.on_delete,
                Some(FkAction::Cascade | FkAction::SetNull | FkAction::SetDefault)
            );
            match index(fk.schema.or(t.schema), fk.table) {
                Some(j) if j != i && !acts => keys.push((i, c, j)),
                _ => {}
            }
        }
    }
    keys
}

/// The foreign keys a flush deleting rows of `tables` sets to `NULL` in those rows before its
/// `DELETE`s (SQLAlchemy's post-update, before the delete): the nullable ones that close a
/// cycle between different tables (each table's rows referencing the other's, directly or
/// through others), which no order of the tables' statements would satisfy. As (table,
/// column) indexes. Rows of one table pointing at each other need none: one `DELETE` takes
/// them all (see [`levels`]).
pub(crate) fn cycle_breaks(tables: &[&'static Table]) -> Vec<(usize, usize)> {
    let keys = blocking_keys(tables);
    if keys.is_empty() {
        return Vec::new();
    }
    let reach = reachable(tables.len(), &keys);
    keys.into_iter()
        .filter(|&(i, c, j)| reach[j][i] && tables[i].columns[c].nullable)
        .map(|(i, c, _)| (i, c))
        .collect()
}

/// `reach[a][b]`: table `a` reaches table `b` through `keys`.
fn reachable(n: usize, keys: &[Key]) -> Vec<Vec<bool>> {
    let mut reach = vec![vec![false; n]; n];
    for (start, row) in reach.iter_mut().enumerate() {
        let mut stack = vec![start];
        while let Some(a) = stack.pop() {
            for &(_, _, b) in keys.iter().filter(|k| k.0 == a) {
                if !row[b] {
                    row[b] = true;
                    stack.push(b);
                }
            }
        }
    }
    reach
}

/// `tables`, referenced tables first, by the blocking keys the flush does not break (see
/// [`cycle_breaks`]); in their own order when those still form a cycle (of `NOT NULL` keys:
/// the server then reports the violation).
fn broken_order(tables: &[&'static Table]) -> Vec<&'static Table> {
    let breaks = cycle_breaks(tables);
    let keys: Vec<Key> = blocking_keys(tables)
        .into_iter()
        .filter(|&(i, c, _)| !breaks.contains(&(i, c)))
        .collect();
    let n = tables.len();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        // The first table whose referenced tables are all placed.
        let next =
            (0..n).find(|&i| !placed[i] && keys.iter().all(|&(a, _, b)| a != i || placed[b]));
        let Some(i) = next else {
            return tables.to_vec();
        };
        placed[i] = true;
        order.push(tables[i]);
    }
    order
}

/// Groups entries into steps: by dependency level, then table depth, then table.
fn group_steps(
    entries: Vec<Arc<dyn ErasedEntry>>,
    levels: &[usize],
    reverse: bool,
) -> Vec<Vec<Arc<dyn ErasedEntry>>> {
    if levels.iter().all(|&l| l == 0) && all_same(&entries, |e| std::ptr::from_ref(e.table())) {
        // One table, no object pointing at another: one step, in the objects' order.
        return one_group(entries);
    }
    let depths = table_depths(&entries, reverse);
    let mut keyed: Vec<((usize, usize), Arc<dyn ErasedEntry>)> = entries
        .into_iter()
        .zip(levels)
        .map(|(e, &l)| {
            let d = depths
                .get(&(e.table() as *const _ as usize))
                .copied()
                .unwrap_or(0);
            ((l, d), e)
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

/// Whether `key` is the same for every entry.
fn all_same<K: PartialEq>(
    entries: &[Arc<dyn ErasedEntry>],
    key: impl Fn(&dyn ErasedEntry) -> K,
) -> bool {
    let mut keys = entries.iter().map(|e| key(&**e));
    keys.next().is_none_or(|first| keys.all(|k| k == first))
}

/// `entries` as the only group (none when there are none).
fn one_group(entries: Vec<Arc<dyn ErasedEntry>>) -> Vec<Vec<Arc<dyn ErasedEntry>>> {
    if entries.is_empty() {
        Vec::new()
    } else {
        vec![entries]
    }
}

/// Splits a step's entries by model, keeping order.
pub(crate) fn by_table(entries: Vec<Arc<dyn ErasedEntry>>) -> Vec<Vec<Arc<dyn ErasedEntry>>> {
    if all_same(&entries, |e| e.as_any().type_id()) {
        // One model (the usual case): the step is the group.
        return one_group(entries);
    }
    let mut groups: Vec<(TypeId, Vec<Arc<dyn ErasedEntry>>)> = Vec::new();
    for e in entries {
        let ty = e.as_any().type_id();
        match groups.iter_mut().find(|(t, _)| *t == ty) {
            Some((_, g)) => g.push(e),
            None => groups.push((ty, vec![e])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}
