//! The *selectin* strategy: one more query per relationship level, `WHERE fk = ANY($1)` with the
//! parents' keys as one array parameter (so its SQL is the same for any number of parents). The
//! rows come back with their keys and are grouped onto their parents. The *subquery* strategy
//! and a *joined* load run on objects in hand reuse this query builder and this grouping.

use std::any::Any;

use super::{Load, RowAccess, Strategy};
use crate::ast::{CastType, FromItem, Node, Query, SelectCore};
use crate::error::{Error, Result};
use crate::fxhash::{FxHashMap, FxHashSet};
use crate::model::Model;
use crate::relation::{RelatedValue, Relation, Relationship};
use crate::row::{Decode, FromRow};
use crate::stmt::rel_join;

impl<R: Relation> Relationship<R>
where
    R::Target: Clone,
{
    /// Load with one extra query per level: `WHERE fk = ANY($1)`, the parents' keys as one
    /// array parameter (so the SQL is the same for any number of parents).
    pub fn selectin(self) -> Load<R> {
        Load::with_strategy(Strategy::SelectIn)
    }
}

/// Label of the key columns appended to a loader's select list.
const KEY_LABELS: [&str; 8] = [
    "orm_key_0",
    "orm_key_1",
    "orm_key_2",
    "orm_key_3",
    "orm_key_4",
    "orm_key_5",
    "orm_key_6",
    "orm_key_7",
];

/// Loaded rows and their keys, in query order, and where each row's key starts.
pub(super) struct Buffer<R: Relation> {
    pub(super) rows: Chunks<(R::Target, R::Key)>,
    key_at: usize,
    /// The key's column among the target's, when it is one of them ([`own_key_position`]).
    own_key: Option<usize>,
}

/// The position of the key in a loader row when it is one column of the target that the
/// target's own columns already carry (a foreign key of a one-to-many): the query then does not
/// select it a second time. `None` for keys of several columns, keys in an association table
/// and deferred columns: those follow the target's columns, labelled.
fn own_key_position<R: Relation>() -> Option<usize> {
    let meta = R::META;
    let r = meta.resolve().ok()?;
    match (&r.secondary, r.target_cols.as_slice()) {
        (None, [col]) => meta
            .target
            .columns
            .iter()
            .position(|c| c.name == *col && !c.deferred),
        _ => None,
    }
}

impl<R: Relation> Load<R> {
    /// Where the key starts in a row of the loader query ([`build`](Load::build)): in the
    /// target's own columns ([`own_key_position`]), or after them.
    pub(crate) fn key_position() -> usize {
        own_key_position::<R>().unwrap_or(<R::Target as FromRow>::WIDTH)
    }

    /// The loader query: the target's columns, then the key columns (labelled) unless the
    /// target's columns carry the key ([`own_key_position`]), filtered by `key_filter` built
    /// over the key column nodes.
    pub(super) fn build(&self, key_filter: impl FnOnce(&[Node]) -> Result<Node>) -> Result<Query> {
        let meta = R::META;
        let r = meta.resolve()?;
        let target_q = meta.target.name;
        let mut core = SelectCore {
            columns: crate::stmt::model_select_list(meta.target, target_q).collect(),
            from: vec![FromItem::Table {
                table: meta.target,
                alias: None,
            }],
            ..SelectCore::default()
        };
        let key_nodes: Vec<Node> = match &r.secondary {
            None => r
                .target_cols
                .iter()
                .map(|c| rel_join::col(target_q, c))
                .collect(),
            Some((sec, to_parent, to_target)) => {
                core.joins.push(rel_join::association_join(
                    sec,
                    to_target,
                    target_q,
                    &r.target_cols,
                ));
                to_parent
                    .iter()
                    .map(|c| rel_join::col(sec.name, c))
                    .collect()
            }
        };
        if key_nodes.len() > KEY_LABELS.len() {
            return Err(Error::invalid_statement(
                "a relationship key has too many columns",
            ));
        }
        if own_key_position::<R>().is_none() {
            for (i, k) in key_nodes.iter().enumerate() {
                core.columns
                    .push(Node::Label(Box::new(k.clone()), KEY_LABELS[i]));
            }
        }
        core.filter = Some(key_filter(&key_nodes)?);
        core.order_by = rel_join::ordering(meta, target_q);
        Ok(Query::from(core))
    }

    pub(super) fn selectin_query(&self, parents: &[&R::Parent]) -> Result<Option<Query>> {
        let mut seen = FxHashSet::with_capacity_and_hasher(parents.len(), Default::default());
        let keys: Vec<R::Key> = parents
            .iter()
            .filter_map(|p| R::parent_key(p))
            .filter(|k| seen.insert(k.clone()))
            .collect();
        if keys.is_empty() {
            return Ok(None);
        }
        let params = R::key_params(keys);
        let meta = R::META;
        let r = meta.resolve()?;
        let key_tables: Vec<&'static crate::meta::ColumnDef> = match &r.secondary {
            None => r
                .target_cols
                .iter()
                .filter_map(|c| meta.target.column(c))
                .collect(),
            Some((sec, to_parent, _)) => to_parent.iter().filter_map(|c| sec.column(c)).collect(),
        };
        self.build(|keys| key_filter(keys.to_vec(), params, &key_tables))
            .map(Some)
    }
}

/// `key = ANY($1)` for one key column; for a composite key `(a, b) IN (SELECT * FROM
/// unnest($1::t1[], $2::t2[]))` (the columns' types name the arrays'). `params` holds one array
/// per column of `keys`, whose definitions are `columns`.
pub(crate) fn key_filter(
    keys: Vec<Node>,
    params: Vec<crate::expr::Param>,
    columns: &[&'static crate::meta::ColumnDef],
) -> Result<Node> {
    if let [key] = &keys[..] {
        let array = params
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid_statement("relationship key without a parameter"))?;
        return Ok(Node::InArray {
            expr: Box::new(key.clone()),
            array: Box::new(Node::Param(array)),
            negated: false,
        });
    }
    let casts: Vec<Node> = params
        .into_iter()
        .zip(columns)
        .map(|(p, c)| Node::Cast(Box::new(Node::Param(p)), CastType::Array(c.ty)))
        .collect();
    Ok(Node::InSubquery {
        expr: Box::new(Node::Row(keys)),
        query: Box::new(Query::from(SelectCore {
            columns: vec![Node::Keyword("*")],
            from: vec![FromItem::Function(Node::Func("unnest", casts), "orm_keys")],
            ..SelectCore::default()
        })),
        negated: false,
    })
}

impl<R: Relation> Load<R>
where
    R::Target: Clone,
{
    pub(super) fn keyed_buffer(&self) -> Box<dyn Any + Send> {
        Box::new(Buffer::<R> {
            rows: Chunks::default(),
            key_at: Self::key_position(),
            own_key: own_key_position::<R>(),
        })
    }

    pub(super) fn push_keyed(
        &self,
        buffer: &mut (dyn Any + Send),
        row: &dyn RowAccess,
    ) -> Result<()> {
        let buffer = buffer
            .downcast_mut::<Buffer<R>>()
            .ok_or_else(|| Error::invalid_statement("loader buffer of the wrong type"))?;
        let target = <R::Target as FromRow>::from_row(row, 0)?;
        // A key the target carries is read from it, not decoded again.
        let key = match buffer
            .own_key
            .and_then(|i| key_of::<R::Key>(target.column_any(i)?))
        {
            Some(key) => key,
            None => R::Key::decode(row, buffer.key_at)?,
        };
        buffer.rows.push((target, key));
        Ok(())
    }
}

/// Values in arrival order, in chunks that double in size. A chunk is never moved once
/// allocated: one vector would copy every row loaded so far at each doubling, and a load of
/// 10,000 rows spent 450,000 instructions (1.7% of its client's) in those copies (callgrind,
/// issue 17).
pub(super) struct Chunks<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks { chunks: Vec::new() }
    }
}

/// The first chunk's capacity.
const FIRST_CHUNK: usize = 16;

impl<T> Chunks<T> {
    pub(super) fn push(&mut self, value: T) {
        if let Some(last) = self.chunks.last_mut() {
            if last.len() < last.capacity() {
                last.push(value);
                return;
            }
        }
        let capacity = self.chunks.last().map_or(FIRST_CHUNK, |c| c.capacity() * 2);
        let mut chunk = Vec::with_capacity(capacity);
        chunk.push(value);
        self.chunks.push(chunk);
    }

    pub(super) fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T> IntoIterator for Chunks<T> {
    type Item = T;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<T>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

/// A column value as a key of type `K`: a `K`, or an `Option<K>` holding one.
fn key_of<K: Clone + 'static>(value: &(dyn Any + Send + Sync)) -> Option<K> {
    match value.downcast_ref::<K>() {
        Some(key) => Some(key.clone()),
        None => value.downcast_ref::<Option<K>>()?.clone(),
    }
}

/// Groups rows by key and gives each parent its children; rows shared by several parents (a
/// target of many-to-one or many-to-many) are cloned, the last taker gets the original.
///
/// Each group is sized before its rows move in: one pass numbers the groups and counts their
/// rows, the next moves each row into its group. Grown row by row, the children's vectors of a
/// 1,000-post, 10,000-comment load reallocated 3,300 times, 5% of the load's instructions
/// (callgrind, issue 17).
pub(super) fn assign_rows<R: Relation>(
    parents: &mut [&mut R::Parent],
    rows: Buffer<R>,
) -> Result<()>
where
    R::Target: Clone,
{
    let rows = rows.rows;
    // Key -> group number; per group, its rows and the parents that take it.
    let mut by_key: FxHashMap<R::Key, usize> =
        FxHashMap::with_capacity_and_hasher(parents.len(), Default::default());
    let mut sizes: Vec<usize> = Vec::with_capacity(parents.len());
    let mut group_of: Vec<usize> = Vec::with_capacity(rows.len());
    for (_, key) in rows.iter() {
        let g = match by_key.get(key) {
            Some(&g) => g,
            None => {
                by_key.insert(key.clone(), sizes.len());
                sizes.push(0);
                sizes.len() - 1
            }
        };
        sizes[g] += 1;
        group_of.push(g);
    }
    let mut groups: Vec<(Vec<R::Target>, usize)> = sizes
        .into_iter()
        .map(|n| (Vec::with_capacity(n), 0))
        .collect();
    for ((target, _), g) in rows.into_iter().zip(group_of) {
        groups[g].0.push(target);
    }
    // Each parent's group (none without a key, or with no rows).
    let taken: Vec<Option<usize>> = parents
        .iter()
        .map(|p| R::parent_key(p).and_then(|k| by_key.get(&k).copied()))
        .collect();
    for g in taken.iter().flatten() {
        groups[*g].1 += 1;
    }
    for (parent, g) in parents.iter_mut().zip(taken) {
        let children = g
            .map(|g| {
                let group = &mut groups[g];
                group.1 -= 1;
                if group.1 == 0 {
                    std::mem::take(&mut group.0)
                } else {
                    group.0.clone()
                }
            })
            .unwrap_or_default();
        if let Some(slot) = R::slot(parent) {
            slot.set(R::Value::from_children(children, R::META)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Chunks, FIRST_CHUNK};

    #[test]
    fn chunks_keep_arrival_order_across_chunks() {
        let mut c = Chunks::default();
        let n = FIRST_CHUNK * 7 + 3;
        for i in 0..n {
            c.push(i);
        }
        assert_eq!(c.len(), n);
        // 16, 32, 64, then the last 3 in a chunk of 128: none was moved to grow.
        assert_eq!(c.chunks.len(), 4);
        assert_eq!(c.chunks[3].capacity(), FIRST_CHUNK * 8);
        assert!(c.iter().copied().eq(0..n));
        assert!(c.into_iter().eq(0..n));
    }

    #[test]
    fn empty_chunks() {
        let c: Chunks<String> = Chunks::default();
        assert_eq!(c.len(), 0);
        assert_eq!(c.iter().count(), 0);
        assert_eq!(c.into_iter().count(), 0);
    }
}
