//! What the relationship tests of both datasets share: loading one query with each strategy
//! (checking its statement count), building the expected object graph from hand-written SQL,
//! and comparing graphs.
//!
//! The expected side never goes through the loader: its rows come from `raw::query` (each child
//! row with the key of its parent first, `(key, child)`), and are attached to their parents
//! here, in the order the SQL returned them.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;

use orm_postgres::Decode;
use orm_postgres::ErrorKind;
use orm_postgres::load::Load;
use orm_postgres::prelude::*;
use orm_postgres::raw::RawQuery;
use orm_postgres::relation::Relation;

use crate::Outcome;

/// A loading strategy, to run one query with each in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// `WHERE key = ANY($1)`: one query per level.
    SelectIn,
    /// `WHERE key IN (parent query)`: one query per level.
    Subquery,
    /// `LEFT JOIN` in the parent query: no query of its own.
    Joined,
}

impl Way {
    /// The three, in the order [`each_way`] runs them.
    pub const ALL: [Way; 3] = [Way::SelectIn, Way::Subquery, Way::Joined];

    /// `rel` loaded this way.
    pub fn of<R: Relation>(self, rel: Relationship<R>) -> Load<R>
    where
        R::Target: Clone,
    {
        match self {
            Way::SelectIn => rel.selectin(),
            Way::Subquery => rel.subquery(),
            Way::Joined => rel.joined(),
        }
    }
}

/// Runs the query `build(way)` once per strategy, checks each sent `statements[i]` statements
/// (for `Way::ALL[i]`), and that the three results are equal. Returns the result.
pub async fn each_way<P, S, F>(
    db: &Database,
    build: F,
    statements: [u64; 3],
) -> Result<Vec<P>, String>
where
    F: Fn(Way) -> Select<P, S>,
    Select<P, S>: Statement<Row = P>,
    P: Model + Decode<Output = P> + Clone + PartialEq + Debug,
{
    each_way_on(db, db, build, statements).await
}

/// [`each_way`] through `ex` (a transaction of `db`), counting the statements of `db`.
pub async fn each_way_on<E, P, S, F>(
    db: &Database,
    ex: &E,
    build: F,
    statements: [u64; 3],
) -> Result<Vec<P>, String>
where
    E: Executor,
    F: Fn(Way) -> Select<P, S>,
    Select<P, S>: Statement<Row = P>,
    P: Model + Decode<Output = P> + Clone + PartialEq + Debug,
{
    let mut results: Vec<Vec<P>> = Vec::with_capacity(3);
    for (way, expected) in Way::ALL.into_iter().zip(statements) {
        let q = build(way);
        let sql = q
            .compile()
            .map(|c| c.sql.into_owned())
            .unwrap_or_else(|e| e.to_string());
        let before = db.statement_count();
        let rows = ex
            .fetch_all(q)
            .await
            .map_err(|e| format!("{way:?}: the query failed: {e}\n  SQL: {sql}"))?;
        let sent = db.statement_count() - before;
        if sent != expected {
            return Err(format!(
                "{way:?}: {sent} statements, expected {expected}\n  SQL: {sql}"
            ));
        }
        results.push(rows);
    }
    let joined = results.pop().unwrap_or_default();
    let subquery = results.pop().unwrap_or_default();
    let selectin = results.pop().unwrap_or_default();
    same_graph("subquery vs selectin", &subquery, &selectin)?;
    same_graph("joined vs selectin", &joined, &selectin)?;
    Ok(selectin)
}

/// Fetches the rows of hand-written SQL.
pub async fn by_hand<O: Decode>(
    db: &impl Executor,
    raw: RawQuery<O>,
) -> Result<Vec<O::Output>, String> {
    db.fetch_all(raw)
        .await
        .map_err(|e| format!("the hand-written query failed: {e}"))
}

/// Gives each parent the children whose key is the parent's `key`, in the order of `rows`
/// (an empty list when none); `slot` is the relationship's field.
pub fn attach_many<'p, P: 'p, C: Clone, K: Eq + Hash>(
    parents: impl IntoIterator<Item = &'p mut P>,
    rows: Vec<(K, C)>,
    key: impl Fn(&P) -> K,
    slot: impl Fn(&mut P) -> &mut Related<Vec<C>>,
) {
    let by_key = group(rows);
    for p in parents {
        let children = by_key.get(&key(p)).cloned().unwrap_or_default();
        slot(p).set(children);
    }
}

/// Gives each parent the row whose key is the parent's (nullable) foreign key, or `None`.
pub fn attach_optional<'p, P: 'p, C: Clone, K: Eq + Hash>(
    parents: impl IntoIterator<Item = &'p mut P>,
    rows: Vec<(K, C)>,
    key: impl Fn(&P) -> Option<K>,
    slot: impl Fn(&mut P) -> &mut Related<Option<C>>,
) {
    let by_key = group(rows);
    for p in parents {
        let target = key(p)
            .and_then(|k| by_key.get(&k))
            .and_then(|v| v.first().cloned());
        slot(p).set(target);
    }
}

/// Gives each parent the one row whose key is the parent's foreign key; a missing row is an
/// error (the foreign key is required).
pub fn attach_one<'p, P: 'p, C: Clone, K: Eq + Hash + Debug>(
    parents: impl IntoIterator<Item = &'p mut P>,
    rows: Vec<(K, C)>,
    key: impl Fn(&P) -> K,
    slot: impl Fn(&mut P) -> &mut Related<C>,
) -> Outcome {
    let by_key = group(rows);
    for p in parents {
        let k = key(p);
        let target = by_key
            .get(&k)
            .and_then(|v| v.first().cloned())
            .ok_or_else(|| format!("the hand-written SQL has no target for key {k:?}"))?;
        slot(p).set(target);
    }
    Ok(())
}

fn group<K: Eq + Hash, C>(rows: Vec<(K, C)>) -> HashMap<K, Vec<C>> {
    let mut by_key: HashMap<K, Vec<C>> = HashMap::new();
    for (k, c) in rows {
        by_key.entry(k).or_default().push(c);
    }
    by_key
}

/// The two graphs are equal: same parents in the same order, each with the same loaded
/// relationships (and the same ones not loaded). On a difference, names the first parent that
/// differs.
pub fn same_graph<P: PartialEq + Debug>(what: &str, got: &[P], expected: &[P]) -> Outcome {
    if got.len() != expected.len() {
        return Err(format!(
            "{what}: {} parents, expected {}",
            got.len(),
            expected.len()
        ));
    }
    match (0..got.len()).find(|&i| got[i] != expected[i]) {
        None => Ok(()),
        Some(i) => Err(format!(
            "{what}: parent {i} differs\n  got:      {}\n  expected: {}",
            short(&got[i]),
            short(&expected[i])
        )),
    }
}

/// A value's `Debug`, cut to a readable length.
pub fn short(v: &impl Debug) -> String {
    let s = format!("{v:?}");
    if s.len() <= 1500 {
        return s;
    }
    let mut end = 1500;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} chars)", &s[..end], s.len())
}

/// The loaded collection, or an error naming what is missing.
pub fn loaded<T>(r: &Related<T>) -> Result<&T, String> {
    r.get().map_err(|e| format!("not loaded: {e}"))
}

/// Reading `r` is a `NotLoaded` error naming `model.relationship`, and it sends no statement.
pub fn not_loaded<T: Debug>(
    db: &Database,
    r: &Related<T>,
    model: &str,
    relationship: &str,
) -> Outcome {
    let before = db.statement_count();
    let outcome = match r.get() {
        Ok(v) => Err(format!(
            "{model}.{relationship}: read a value nobody loaded: {}",
            short(v)
        )),
        Err(e) => match e.kind() {
            ErrorKind::NotLoaded {
                model: m,
                relationship: r,
            } if *m == model && *r == relationship => Ok(()),
            other => Err(format!(
                "{model}.{relationship}: expected NotLoaded naming it, got {other:?}: {e}"
            )),
        },
    };
    outcome?;
    crate::ensure(db.statement_count() == before, || {
        format!("{model}.{relationship}: reading it sent a statement")
    })
}

/// How many children the parents hold in all, and how many parents hold none: so a test can
/// check it compares something, and the empty case too.
pub fn counts<P, C>(parents: &[P], children: impl Fn(&P) -> Option<&Vec<C>>) -> (usize, usize) {
    let total = parents.iter().filter_map(&children).map(Vec::len).sum();
    let empty = parents
        .iter()
        .filter(|p| children(p).is_some_and(Vec::is_empty))
        .count();
    (total, empty)
}
