//! Horizontal sharding, the part without IO: a model's shard key (`#[model(shard_key)]`, read
//! with [`Model::shard_key`]), the [`ShardMap`] from key values to
//! shards, [`route`] (where a statement's tree fixes the key), and the plan of a query run on
//! every shard ([`fan_out_select`]). `orm_postgres::Sharded` runs them.
//!
//! # Routing rules
//! A statement is routed by the first table with a shard key that it reads or writes (the
//! `FROM` list then the joins of a `SELECT`; the target of an `INSERT`, `UPDATE`, `DELETE`):
//! - its filter fixes the key with `key = v` (either side), `key IS NOT DISTINCT FROM v` or
//!   `key = ANY(values)` ([`is_in`](crate::expr::Expression::is_in)), alone, `AND`ed with
//!   anything (the first conjunct that fixes it is used), or `OR`ed with another that fixes it;
//! - an `INSERT`'s rows carry it as a value (`VALUES` or the `unnest` arrays of
//!   `insert_many`); an `INSERT … SELECT` by what its query selects in the key's place: a
//!   value (with the keys the query's filter fixes for the sharded table it reads, which must
//!   be on the same shard), or that table's own key column (the keys its filter fixes: the
//!   rows stay on their shard); an expression there fixes nothing;
//! - an `UPDATE` that sets the key is refused: a row never moves between shards; so is an
//!   upsert whose `ON CONFLICT … DO UPDATE` sets it to anything but `EXCLUDED.key` (the
//!   inserted row's key, which the statement is routed by).
//!
//! Tables joined into a routed statement must be co-located: their rows with the same key
//! live on the same shard (shard them by the same key, with the same map).

mod fan_out;
mod key;
mod map;
#[cfg(test)]
mod tests;

pub use fan_out::{FanOutQuery, SortKey, SortValue, fan_out_plan, fan_out_select};
pub use key::{KeyType, KeyValue};
pub use map::{ShardMap, fnv1a};

use crate::ast::{
    ConflictAction, FromItem, InsertCore, InsertSource, Node, OnConflict, Query, SelectCore, Tree,
};
use crate::error::{Error, ErrorKind, Result, ShardError};
use crate::meta::Table;
use crate::model::Model;
use key::KeyColumn;
use std::collections::HashSet;

/// Where a statement's shard key is: the sharded table it reads or writes, and the key values
/// its filter or rows fix (`None`: it does not fix them).
#[derive(Debug, Clone)]
pub struct Routed {
    /// The sharded table.
    pub table: &'static Table,
    /// Its shard key column.
    pub column: &'static str,
    /// The values, when the statement fixes them (deduplicated, in order of appearance). For
    /// an `INSERT … SELECT` of a value in the key's place, the keys its query reads follow
    /// the inserted one: the statement runs on one shard, which must hold them all.
    pub keys: Option<Vec<KeyValue>>,
}

impl Routed {
    /// The shards (indices into `shards`, ascending) the key values map to:
    /// [`KeyMissing`](ShardError::KeyMissing) when the statement does not fix the key,
    /// [`Unmapped`](ShardError::Unmapped) for a value the map covers no shard for (or when no
    /// value is left, all `NULL`).
    pub fn shards(&self, map: &ShardMap, shards: &[&str]) -> Result<Vec<usize>> {
        let Some(keys) = &self.keys else {
            return Err(ShardError::KeyMissing {
                table: self.table.name,
                column: self.column,
            }
            .into());
        };
        let unmapped = |value: String| ShardError::Unmapped {
            table: self.table.name,
            column: self.column,
            value,
        };
        if keys.is_empty() {
            return Err(unmapped("NULL".into()).into());
        }
        let mut out = Vec::new();
        for k in keys {
            let i = map
                .shard_of(k, shards)
                .ok_or_else(|| unmapped(k.to_string()))?;
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out.sort_unstable();
        Ok(out)
    }
}

/// Where `tree` fixes its shard key; [`NotRoutable`](ShardError::NotRoutable) when it reads
/// or writes no sharded table, an `InvalidStatement` error for an `UPDATE` that sets the key
/// or an upsert whose `DO UPDATE` sets it to anything but `EXCLUDED.key`.
pub fn route(tree: Tree<'_>) -> Result<Routed> {
    match tree {
        Tree::Select(core) => route_select(core),
        Tree::Compound(c) => route_compound(&c.left, &c.right),
        Tree::Insert(core, table) => {
            let (key, column) = key_of(table)?;
            refuse_moving_upsert(core, table, column)?;
            let keys = match core.columns.iter().position(|c| *c == column) {
                None => None,
                Some(at) => match &core.source {
                    InsertSource::Values(rows) => {
                        let mut all = Some(Vec::new());
                        for row in rows {
                            let found = match row.get(at) {
                                Some(node) => key.values_of_node(node)?,
                                None => None,
                            };
                            all = all.zip(found).map(|(mut a, f)| {
                                a.extend(f);
                                a
                            });
                        }
                        all
                    }
                    InsertSource::Unnest(arrays) => match arrays.get(at) {
                        Some((array, _)) => key.values_of_array(array)?,
                        None => None,
                    },
                    InsertSource::Query(q) => selected_keys(key, at, q)?,
                },
            };
            Ok(routed(table, column, keys))
        }
        Tree::Update(core, table) => {
            let (key, column) = key_of(table)?;
            if core.sets.iter().any(|(c, _)| *c == column) {
                return Err(sets_the_key(
                    "an UPDATE",
                    table,
                    column,
                    "delete it and insert it again",
                ));
            }
            Ok(routed(
                table,
                column,
                filter_keys(key, core.filter.as_ref())?,
            ))
        }
        Tree::Delete(core, table) => {
            let (key, column) = key_of(table)?;
            Ok(routed(
                table,
                column,
                filter_keys(key, core.filter.as_ref())?,
            ))
        }
    }
}

/// Refuses an upsert whose `ON CONFLICT … DO UPDATE` sets the shard key to anything but
/// `EXCLUDED.key`: the existing row, on the shard the inserted key routed the statement to,
/// would take a key of another shard. `EXCLUDED.key` is the inserted row's key, the one the
/// statement is routed by (what `set_excluded` and `set_all_excluded` write).
fn refuse_moving_upsert(core: &InsertCore, table: &Table, column: &str) -> Result<()> {
    let Some(OnConflict {
        action: ConflictAction::Update { sets, .. },
        ..
    }) = &core.on_conflict
    else {
        return Ok(());
    };
    let moves = |(c, value): &(&str, Node)| {
        *c == column && !matches!(value, Node::Excluded(e) if *e == column)
    };
    match sets.iter().any(moves) {
        true => Err(sets_the_key(
            "an upsert (`ON CONFLICT … DO UPDATE`)",
            table,
            column,
            "leave it out of the `SET`s or set it to the inserted value, `set_excluded`",
        )),
        false => Ok(()),
    }
}

/// The error of a statement that would change a row's shard key; `instead` says what to do.
fn sets_the_key(statement: &str, table: &Table, column: &str, instead: &str) -> Error {
    Error::invalid_statement(format!(
        "{statement} cannot set the shard key `{}`.`{column}`: a row never moves between shards ({instead})",
        table.name
    ))
}

/// Where rows written as they are (a binary `COPY` of `rows`, which has no statement tree)
/// fix their shard key: as [`route`] finds it for an `INSERT` of the same rows.
/// [`NotRoutable`](ShardError::NotRoutable) when `M` has no shard key.
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::shard::route_rows;
///
/// #[derive(Model, Debug, Clone)]
/// #[model(table = "orders", crate = "orm_core")]
/// pub struct Order {
///     #[model(primary_key)]
///     pub id: i64,
///     #[model(shard_key)]
///     pub tenant_id: i64,
/// }
///
/// let rows = [Order { id: 1, tenant_id: 7 }, Order { id: 2, tenant_id: 7 }];
/// let routed = route_rows(&rows).unwrap();
/// let keys = routed.keys.unwrap();
/// assert_eq!(keys.len(), 1);
/// assert_eq!(keys[0].as_i64(), Some(7));
/// ```
pub fn route_rows<M: Model>(rows: &[M]) -> Result<Routed> {
    let table = M::TABLE;
    let (key, column) = key_of(table)?;
    let Some(at) = table.insert_columns().position(|c| c.name == column) else {
        return Ok(routed(table, column, None));
    };
    let mut keys = Vec::new();
    let mut values = Vec::new();
    for row in rows {
        values.clear();
        row.insert_values(&mut values);
        if let Some(v) = values.get(at) {
            keys.extend(KeyValue::encode(key.ty, *v)?);
        }
    }
    Ok(routed(table, column, Some(keys)))
}

fn routed(table: &'static Table, column: &'static str, keys: Option<Vec<KeyValue>>) -> Routed {
    // A set, not a scan of the kept ones: `insert_many` or `COPY` of many distinct keys.
    let keys = keys.map(|mut k| {
        let mut seen = HashSet::with_capacity(k.len());
        k.retain(|v| seen.insert(v.clone()));
        k
    });
    Routed {
        table,
        column,
        keys,
    }
}

/// The key column of a sharded table (qualified by its name), or `NotRoutable`.
fn key_of(table: &'static Table) -> Result<(KeyColumn<'static>, &'static str)> {
    let not_sharded = || ShardError::NotRoutable {
        reason: format!("`{}` has no shard key", table.name),
    };
    let column = table.shard_key_column().ok_or_else(not_sharded)?;
    let ty = KeyType::of(table.name, column)?;
    Ok((
        KeyColumn {
            qualifier: table.name,
            column: column.name,
            ty,
        },
        column.name,
    ))
}

fn filter_keys(key: KeyColumn<'_>, filter: Option<&Node>) -> Result<Option<Vec<KeyValue>>> {
    match filter {
        Some(f) => key.values_in(f),
        None => Ok(None),
    }
}

fn route_query(q: &Query) -> Result<Routed> {
    match q {
        Query::Select(core) => route_select(core),
        Query::Compound(c) => route_compound(&c.left, &c.right),
    }
}

/// Both sides of a set operation; the union of their keys when both fix them.
fn route_compound(left: &Query, right: &Query) -> Result<Routed> {
    let (l, r) = (route_query(left)?, route_query(right)?);
    let keys = match (l.keys, r.keys) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        _ => None,
    };
    Ok(routed(l.table, l.column, keys))
}

fn route_select(core: &SelectCore) -> Result<Routed> {
    source_key(core).map(|(routed, _)| routed)
}

/// The sharded table a `SELECT` is routed by (the first of its `FROM` list, then its joins),
/// with the keys its filter fixes, and its key column as the query names it (its alias).
fn source_key(core: &SelectCore) -> Result<(Routed, KeyColumn<'static>)> {
    let items = core.from.iter().chain(core.joins.iter().map(|j| &j.item));
    let found = items.into_iter().find_map(|item| match item {
        FromItem::Table { table, alias } if table.shard_key.is_some() => {
            Some((*table, alias.unwrap_or(table.name)))
        }
        _ => None,
    });
    let Some((table, qualifier)) = found else {
        return Err(ShardError::NotRoutable {
            reason: "the query reads no table with a shard key".into(),
        }
        .into());
    };
    let (mut key, column) = key_of(table)?;
    key.qualifier = qualifier;
    let keys = filter_keys(key, core.filter.as_ref())?;
    Ok((routed(table, column, keys), key))
}

/// The shard key values of the rows an `INSERT … SELECT` writes, `query` selecting the
/// target's key at position `at`; `None` when they cannot be told.
/// - A value there (a parameter, `value(k)`) is every row's key. When the query reads a
///   sharded table and its filter fixes that table's key, those keys are added: the rows read
///   are on their shards, and the statement runs on one, so both must be on it (else the
///   statement spans shards, refused as such, instead of reading nothing where it runs).
/// - The key column of the sharded table the query is routed by, of the target key's type,
///   keeps each row's key: the keys the query's filter fixes (the rows stay on their shard).
/// - Anything else (an expression, another table's column, a subquery, a key of another type)
///   tells nothing: `None`, refused as [`KeyMissing`](ShardError::KeyMissing) unless run on a
///   shard named by hand (a session or transaction on it).
///
/// Each side of a set operation is looked at; the keys are those of both.
fn selected_keys(key: KeyColumn<'_>, at: usize, query: &Query) -> Result<Option<Vec<KeyValue>>> {
    let core = match query {
        Query::Select(core) => core,
        Query::Compound(c) => {
            let left = selected_keys(key, at, &c.left)?;
            let right = selected_keys(key, at, &c.right)?;
            return Ok(left.zip(right).map(|(mut l, r)| {
                l.extend(r);
                l
            }));
        }
    };
    let Some(node) = core.columns.get(at) else {
        return Ok(None);
    };
    let source = match source_key(core) {
        Ok(found) => Some(found),
        Err(e) if matches!(e.kind(), ErrorKind::Shard(ShardError::NotRoutable { .. })) => None,
        Err(e) => return Err(e),
    };
    if let Some(mut values) = key.value_of_selected(node)? {
        match source.map(|(routed, _)| routed.keys) {
            // A sharded source its filter does not fix reads every shard: one shard's run
            // would copy only that shard's rows.
            Some(None) => return Ok(None),
            Some(Some(read)) => values.extend(read),
            None => {}
        }
        return Ok(Some(values));
    }
    let mut node = node;
    while let Node::Label(inner, _) = node {
        node = inner;
    }
    Ok(match source {
        Some((routed, column)) if column.ty == key.ty && column.is(node) => routed.keys,
        _ => None,
    })
}
