//! The *joined* strategy: the parent query itself `LEFT JOIN`s the target, and the rows are
//! folded back into their parents ([`JoinedFold`]). A plain query of one table whose conditions
//! read only its own row joins as it is (its key identifies a parent); any other, one with
//! `LIMIT`, `OFFSET` or joins of its own say, is wrapped first, so its limit counts parents (a row
//! number identifies a parent; see `stmt/option.rs`). Nested under another load, or for objects
//! in hand, a joined load runs as *selectin*.

use std::any::Any;
use std::sync::Arc;

use super::identity::Identity;
use super::{Load, Loader, QueryRunner, RowAccess, Strategy};
use crate::ast::{FromItem, Join, JoinKind, JoinOn};
use crate::error::{Error, Result};
use crate::fxhash::{FxHashMap, FxHashSet};
use crate::meta::Table;
use crate::model::{Model, decode_optional};
use crate::relation::{Relation, Relationship};
use crate::row::Decode;
use crate::stmt::{JoinedParts, rel_join};

impl<R: Relation> Relationship<R>
where
    R::Target: Clone,
{
    /// Load in the parent query itself, with a `LEFT JOIN`; the rows are folded back into their
    /// parents (a query with `LIMIT`, `OFFSET`, joins of its own or conditions beyond its own
    /// row's columns becomes a subquery first, so the limit counts parents; a `DISTINCT`,
    /// grouped or locking query cannot take a joined load: load with `selectin`). Joins apply
    /// to the query's own rows: nested under another load, or for objects already in hand
    /// (`Executor::load`), a joined load runs as `selectin`.
    pub fn joined(self) -> Load<R> {
        Load::with_strategy(Strategy::Joined)
    }
}

/// Joined children per parent (by parent number), the identities of those seen (with their
/// parent's number), and the positions of the target's primary key among its columns.
pub(super) struct JoinedBuffer<R: Relation> {
    pub(super) per_parent: Vec<Vec<R::Target>>,
    seen: FxHashSet<(usize, Identity)>,
    key_positions: Vec<usize>,
}

/// Positions of a table's primary-key columns among its columns.
fn meta_key_positions(table: &Table) -> Vec<usize> {
    table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.primary_key)
        .map(|(i, _)| i)
        .collect()
}

/// Folds the rows of a query with joined loads: the parent part of each row (decoded by `D`)
/// once per parent, in first-seen order, and each joined load's child part into its buffer.
pub struct JoinedFold<'l, D: Decode> {
    loaders: Vec<&'l dyn Loader<D::Output>>,
    buffers: Vec<Box<dyn Any + Send>>,
    parents: Vec<D::Output>,
    seen: FxHashMap<Identity, usize>,
    /// The previous row's parent: rows of one parent usually come together.
    last: Option<(Identity, usize)>,
    /// Where the columns identifying the parent row start: after the parent's and the joined
    /// loads' columns.
    id_start: usize,
}

impl<'l, D: Decode> JoinedFold<'l, D> {
    /// A fold for the joined loads among `loaders`.
    pub fn new(loaders: &'l [Arc<dyn Loader<D::Output>>]) -> Self {
        let joined: Vec<&'l dyn Loader<D::Output>> = loaders
            .iter()
            .filter(|l| l.strategy() == Strategy::Joined)
            .map(|l| &**l)
            .collect();
        let buffers = joined.iter().map(|l| l.joined_buffer()).collect();
        let id_start = D::WIDTH + joined.iter().map(|l| l.joined_width()).sum::<usize>();
        JoinedFold {
            id_start,
            loaders: joined,
            buffers,
            parents: Vec::new(),
            seen: FxHashMap::default(),
            last: None,
        }
    }

    /// Takes one row: the parent's columns, each joined load's columns, then the columns that
    /// identify the parent row (its number in a wrapped query, its table's key in a flat one:
    /// see `stmt/option.rs`).
    pub fn push(&mut self, row: &dyn RowAccess) -> Result<()> {
        let start = self.id_start;
        let ids = row
            .len()
            .checked_sub(start)
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                Error::invalid_statement("a joined load's row has no parent row identity")
            })?;
        let identity = Identity::of(row, start, 0..ids)?;
        let parent = match &self.last {
            Some((last, i)) if *last == identity => *i,
            _ => {
                let i = match self.seen.get(&identity) {
                    Some(&i) => i,
                    None => {
                        self.parents.push(D::decode(row, 0)?);
                        let i = self.parents.len() - 1;
                        self.seen.insert(identity.clone(), i);
                        i
                    }
                };
                self.last = Some((identity, i));
                i
            }
        };
        let mut offset = D::WIDTH;
        for (l, buffer) in self.loaders.iter().zip(self.buffers.iter_mut()) {
            l.joined_push(&mut **buffer, parent, row, offset)?;
            offset += l.joined_width();
        }
        Ok(())
    }

    /// The parents, with the joined relationships assigned (and their nested loads run).
    pub async fn finish(self, runner: &dyn QueryRunner) -> Result<Vec<D::Output>>
    where
        D::Output: Send,
    {
        let mut parents = self.parents;
        for (l, buffer) in self.loaders.into_iter().zip(self.buffers) {
            let batch: Vec<&mut D::Output> = parents.iter_mut().collect();
            l.assign(batch, buffer, runner, None).await?;
        }
        Ok(parents)
    }
}

impl<R: Relation> Load<R>
where
    R::Target: Clone,
{
    pub(super) fn joined_parts(&self, parent: &'static str, slot: usize) -> Result<JoinedParts> {
        const TARGET: [&str; 8] = [
            "orm_j0", "orm_j1", "orm_j2", "orm_j3", "orm_j4", "orm_j5", "orm_j6", "orm_j7",
        ];
        const SECONDARY: [&str; 8] = [
            "orm_s0", "orm_s1", "orm_s2", "orm_s3", "orm_s4", "orm_s5", "orm_s6", "orm_s7",
        ];
        let (Some(t), Some(sa)) = (TARGET.get(slot), SECONDARY.get(slot)) else {
            return Err(Error::invalid_statement("at most 8 joined loads per query"));
        };
        let meta = R::META;
        let r = meta.resolve()?;
        let target_item = FromItem::Table {
            table: meta.target,
            alias: Some(t),
        };
        let joins = match &r.secondary {
            None => vec![Join {
                kind: JoinKind::Left,
                item: target_item,
                on: JoinOn::On(rel_join::eq_cols(parent, &r.parent_cols, t, &r.target_cols)),
            }],
            Some((sec, to_parent, to_target)) => vec![
                Join {
                    kind: JoinKind::Left,
                    item: FromItem::Table {
                        table: sec,
                        alias: Some(sa),
                    },
                    on: JoinOn::On(rel_join::eq_cols(sa, to_parent, parent, &r.parent_cols)),
                },
                Join {
                    kind: JoinKind::Left,
                    item: target_item,
                    on: JoinOn::On(rel_join::eq_cols(t, &r.target_cols, sa, to_target)),
                },
            ],
        };
        let columns = crate::stmt::model_select_list(meta.target, t).collect();
        let order_by = rel_join::ordering(meta, t);
        Ok(JoinedParts {
            joins,
            columns,
            order_by,
        })
    }

    pub(super) fn joined_children_buffer(&self) -> Box<dyn Any + Send> {
        Box::new(JoinedBuffer::<R> {
            per_parent: Vec::new(),
            seen: FxHashSet::default(),
            key_positions: meta_key_positions(R::Target::TABLE),
        })
    }

    pub(super) fn push_joined(
        &self,
        buffer: &mut (dyn Any + Send),
        parent: usize,
        row: &dyn RowAccess,
        offset: usize,
    ) -> Result<()> {
        let buffer = buffer
            .downcast_mut::<JoinedBuffer<R>>()
            .ok_or_else(|| Error::invalid_statement("loader buffer of the wrong type"))?;
        // A child is identified by its primary key; the same child on several rows of its
        // parent (a product with another joined collection) is decoded and kept once.
        let identity = Identity::of(row, offset, buffer.key_positions.iter().copied())?;
        if !buffer.seen.insert((parent, identity)) {
            return Ok(());
        }
        let Some(child) = decode_optional::<R::Target, _>(row, offset)? else {
            return Ok(());
        };
        if buffer.per_parent.len() <= parent {
            buffer.per_parent.resize_with(parent + 1, Vec::new);
        }
        if let Some(children) = buffer.per_parent.get_mut(parent) {
            children.push(child);
        }
        Ok(())
    }
}
