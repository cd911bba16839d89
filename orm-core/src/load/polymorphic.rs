//! *selectin* loading of a joined-table inheritance enum (SQLAlchemy's `selectin_polymorphic`):
//! instead of one query `LEFT JOIN`ing every subtype table, the base rows' keys and
//! discriminators first, then one query per variant present, reading that variant's rows by key:
//!
//! ```text
//! SELECT staff.id, staff.role FROM staff WHERE <filter> ORDER BY <order> LIMIT <n>
//! SELECT staff.id, staff.name, chiefs.budget, staff.role, NULL, NULL
//!   FROM staff JOIN chiefs ON chiefs.id = staff.id WHERE staff.id = ANY($1)     -- chiefs present
//! SELECT staff.id, staff.name, NULL, staff.role, developers.language, developers.level
//!   FROM staff JOIN developers ON developers.id = staff.id WHERE staff.id = ANY($1)
//! ```
//!
//! Each variant's rows have the enum's columns (the other variants' as `NULL`), so they decode
//! as the enum does; the results come back in the first query's order. The first query reads
//! the base table, `LEFT JOIN`ing just the subtype tables its filter or ordering names (a null
//! test of a subtype column holds only for that subtype's rows, as in the joined form). The variant queries go out together (pipelined). A row
//! deleted between the queries is left out. A composite key is read the same way, the variant
//! queries filtering `(a, b) IN (SELECT * FROM unnest($1::t1[], $2::t2[]))` as the relationship
//! loaders do.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::BytesMut;
use postgres_types::{IsNull, ToSql, Type, to_sql_checked};

use super::run::compile_query;
use super::runner::{BoxFuture, QueryRunner, RowAccess, RowSink};
use super::selectin::key_filter;
use crate::ast::{ColumnRef, FromItem, Join, JoinKind, JoinOn, Node, Query, SelectCore};
use crate::compile::CompiledQuery;
use crate::error::{BoxError, Error, Result};
use crate::inherit::ErasedArray;
use crate::meta::{ColumnDef, Table};
use crate::row::{Decode, Row};

/// A value passed on as the server sent it (binary format, same type): a key read by the first
/// query, bound in the second, with the type the server sent it as.
#[derive(Debug)]
struct RawValue(Vec<u8>, Type);

/// The first OID of objects made after `initdb`: below it, the built-in types.
const FIRST_NORMAL_OID: u32 = 16384;

/// `text`, `varchar`, `bpchar` and `name`: one binary format (the bytes of the string).
fn text_like(oid: u32) -> bool {
    [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME]
        .iter()
        .any(|t| t.oid() == oid)
}

impl ToSql for RawValue {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        // Another built-in type is another binary format (an `int4` key's 4 bytes are no
        // `int8`): refused, so a value declared by trying types (the unnamed statement mode)
        // finds its own. A user-made type (a domain over the key's type) is taken as sent.
        let (want, own) = (ty.oid(), self.1.oid());
        if want != own
            && want < FIRST_NORMAL_OID
            && own < FIRST_NORMAL_OID
            && !(text_like(want) && text_like(own))
        {
            return Err(Box::new(postgres_types::WrongType::new::<RawValue>(
                ty.clone(),
            )));
        }
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn column(table: &'static str, name: &'static str) -> Node {
    Node::Column(ColumnRef { table, name })
}

/// The enum's table, the qualifier of its base columns, and the query's `SELECT` body.
fn parts_of(query: &Query) -> Result<(&'static Table, &'static str, &SelectCore)> {
    let not_joined =
        || Error::invalid_statement("selectin loading reads a joined-table inheritance enum");
    let Query::Select(core) = query else {
        return Err(not_joined());
    };
    match core.from.first() {
        Some(FromItem::Table { table, alias }) if table.joined.is_some() => {
            Ok((table, alias.unwrap_or(table.name), core))
        }
        _ => Err(not_joined()),
    }
}

/// Runs a query of a joined-table enum (see [`Statement::polymorphic_selectin`](crate::stmt::Statement::polymorphic_selectin))
/// the *selectin* way, decoding each row with `D`.
pub fn fetch_selectin<'a, D: Decode>(
    runner: &'a dyn QueryRunner,
    query: Query,
) -> BoxFuture<'a, Result<Vec<D::Output>>> {
    Box::pin(async move {
        let plan = SelectinPlan::start(runner, query).await?;
        plan.fetch::<D>(runner, 0..plan.len()).await
    })
}

/// A query of a joined-table enum read the *selectin* way, after its first query: the keys and
/// discriminators of its rows, in order. [`fetch`](Self::fetch) reads the rows of a range of
/// them (one query per variant present), so a stream can read them a batch at a time.
pub struct SelectinPlan {
    table: &'static Table,
    /// The qualifier of the base table's columns (its name, or the query's alias).
    q: &'static str,
    key: Vec<&'static ColumnDef>,
    /// The key's positions in the enum's columns (the variant queries' select list).
    key_at: Vec<usize>,
    /// Each variant with its own table: its discriminator value and its query, all but the
    /// key filter each batch adds (built once, whatever the number of batches).
    variants: Vec<(&'static str, SelectCore)>,
    /// Each row's key (as the server sent it, one value per key column) and discriminator.
    order: Vec<(Vec<Vec<u8>>, String)>,
    /// The types the server sent the key columns as (none when there were no rows).
    key_types: Vec<Type>,
}

impl SelectinPlan {
    /// Runs the first query (the keys and discriminators) through `runner`.
    pub fn start(runner: &dyn QueryRunner, query: Query) -> BoxFuture<'_, Result<SelectinPlan>> {
        Box::pin(async move {
            let (table, q, core) = parts_of(&query)?;
            let Selectin {
                joined,
                disc,
                key,
                key_at,
            } = Selectin::of(table)?;
            // 1. The keys and discriminators, in the query's order, from the base table alone.
            let mut first = core.clone();
            first.columns = key
                .iter()
                .map(|k| column(q, k.name))
                .chain([column(q, disc.column)])
                .collect();
            first.from[0] = FromItem::Table {
                table: joined.base,
                alias: (q != table.name).then_some(q),
            };
            // The subtype tables the filter or ordering names, LEFT JOINed (in the enum's
            // order, before the query's own joins), with the enum's guard on their null tests.
            let mut parts = Vec::new();
            for part in joined.parts {
                let named = first
                    .filter
                    .as_mut()
                    .is_some_and(|f| crate::compile::mentions(f, part.name))
                    || first
                        .order_by
                        .iter_mut()
                        .any(|o| crate::compile::mentions(&mut o.node, part.name));
                if named {
                    parts.push(Join {
                        kind: JoinKind::Left,
                        item: FromItem::Table {
                            table: part,
                            alias: None,
                        },
                        on: JoinOn::On(subtype_on(&key, q, part)),
                    });
                }
            }
            first.joins.splice(0..0, parts);
            if let Some(f) = &mut first.filter {
                crate::compile::guard_subtype_nulls(f, table);
            }
            let compiled = compile_query(&Query::Select(Box::new(first)), runner.criteria())?;
            let mut order: Vec<(Vec<Vec<u8>>, String)> = Vec::new();
            let mut key_types: Vec<Type> = Vec::new();
            let n = key.len();
            // The first query's key columns come first.
            let first_key_at: Vec<usize> = (0..n).collect();
            let sink: RowSink<'_> = Box::new(|row: &dyn RowAccess| {
                if key_types.is_empty() {
                    for &i in &first_key_at {
                        let (ty, _) = row
                            .raw(i)
                            .map_err(|e| Error::decode(table.model, key[i].name, e))?;
                        key_types.push(ty.clone());
                    }
                }
                let raw = raw_key(row, &first_key_at, table, &key)?;
                let value: String = row
                    .get_at(n)
                    .map_err(|e| Error::decode(table.model, disc.column, e))?;
                order.push((raw, value));
                Ok(())
            });
            run_one(runner, compiled, sink).await?;
            let variants = joined
                .parts
                .iter()
                .zip(joined.values)
                .map(|(part, value)| {
                    let core = variant_core(table, joined.base, q, core, &key, part, value);
                    (*value, core)
                })
                .collect();
            Ok(SelectinPlan {
                table,
                q,
                key,
                key_at,
                variants,
                order,
                key_types,
            })
        })
    }

    /// How many rows the first query found.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the first query found no row.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The rows of `range` (positions in the first query's order), decoded with `D`: one query
    /// per variant present among them, sent together. A row deleted since the first query is
    /// left out.
    pub fn fetch<'a, D: Decode>(
        &'a self,
        runner: &'a dyn QueryRunner,
        range: std::ops::Range<usize>,
    ) -> BoxFuture<'a, Result<Vec<D::Output>>> {
        Box::pin(async move {
            let (table, q, key, key_at) = (self.table, self.q, &self.key, &self.key_at);
            let order = self.order.get(range).unwrap_or_default();
            let n = key.len();
            // 2. One query per variant present, by key.
            let mut jobs: Vec<CompiledQuery> = Vec::new();
            for (value, core) in &self.variants {
                let present: Vec<&Vec<Vec<u8>>> = order
                    .iter()
                    .filter(|(_, v)| v == value)
                    .map(|(k, _)| k)
                    .collect();
                if present.is_empty() {
                    continue;
                }
                // One array per key column.
                let params: Vec<crate::expr::Param> = (0..n)
                    .map(|c| {
                        let values = present
                            .iter()
                            .map(|k| {
                                let ty = self.key_types.get(c).cloned().unwrap_or(Type::UNKNOWN);
                                Arc::new(RawValue(k[c].clone(), ty)) as crate::expr::Param
                            })
                            .collect();
                        Arc::new(ErasedArray(values)) as crate::expr::Param
                    })
                    .collect();
                let filter =
                    key_filter(key.iter().map(|k| column(q, k.name)).collect(), params, key)?;
                let variant = SelectCore {
                    filter: Some(filter),
                    ..core.clone()
                };
                jobs.push(compile_query(
                    &Query::Select(Box::new(variant)),
                    runner.criteria(),
                )?);
            }
            let mut found: HashMap<Vec<Vec<u8>>, D::Output> = HashMap::with_capacity(order.len());
            {
                let found = std::sync::Mutex::new(&mut found);
                let sinks: Vec<(CompiledQuery, RowSink<'_>)> = jobs
                    .into_iter()
                    .map(|job| {
                        let (found, key_at, key) = (&found, &key_at, &key);
                        let sink: RowSink<'_> = Box::new(move |row: &dyn RowAccess| {
                            let raw = raw_key(row, key_at, table, key)?;
                            let value = D::decode(row, 0)?;
                            found
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(raw, value);
                            Ok(())
                        });
                        (job, sink)
                    })
                    .collect();
                for outcome in runner.run_all(sinks).await {
                    outcome?;
                }
            }
            Ok(order.iter().filter_map(|(k, _)| found.remove(k)).collect())
        })
    }
}

/// The query of one variant's rows (`part` its table joined to `base`, `value` its discriminator
/// value), all but the key filter: the enum's columns (the other variants' as `NULL`, a
/// deferred column the query `asked` to leave out as its placeholder), then the column
/// properties (this variant's, the others' as `NULL`: they may name tables this query does not
/// join).
fn variant_core(
    table: &'static Table,
    base: &'static Table,
    q: &'static str,
    asked: &SelectCore,
    key: &[&'static ColumnDef],
    part: &'static Table,
    value: &str,
) -> SelectCore {
    SelectCore {
        columns: table
            .columns
            .iter()
            .zip(&asked.columns)
            .map(|(c, asked)| match c.home {
                _ if c.deferred && !matches!(asked, Node::Column(_)) => asked.clone(),
                None => column(q, c.name),
                Some(h) if h == part.name => column(h, c.name),
                Some(_) => Node::Keyword("NULL"),
            })
            .chain(
                crate::stmt::property_nodes(table)
                    .zip(table.properties)
                    .map(|(node, p)| match p.variant {
                        Some(v) if v == value => node,
                        _ => Node::Keyword("NULL"),
                    }),
            )
            .collect(),
        from: vec![FromItem::Table {
            table: base,
            alias: (q != table.name).then_some(q),
        }],
        joins: vec![Join {
            kind: JoinKind::Inner,
            item: FromItem::Table {
                table: part,
                alias: None,
            },
            on: JoinOn::On(subtype_on(key, q, part)),
        }],
        ..Default::default()
    }
}

/// What both phases read of the enum's metadata.
struct Selectin {
    joined: &'static crate::meta::Joined,
    disc: crate::meta::Discriminator,
    key: Vec<&'static ColumnDef>,
    /// The key's positions in the enum's columns (the variant queries' select list).
    key_at: Vec<usize>,
}

impl Selectin {
    fn of(table: &'static Table) -> Result<Selectin> {
        let (Some(joined), Some(disc)) = (table.joined, table.discriminator) else {
            return Err(Error::invalid_statement(
                "selectin loading reads a joined-table inheritance enum",
            ));
        };
        let key: Vec<&'static ColumnDef> = table.primary_key().collect();
        if key.is_empty() {
            return Err(Error::invalid_statement(format!(
                "selectin loading of `{}` needs a primary key",
                table.model
            )));
        }
        let key_at = key
            .iter()
            .filter_map(|k| table.columns.iter().position(|c| c.name == k.name))
            .collect();
        Ok(Selectin {
            joined,
            disc,
            key,
            key_at,
        })
    }
}

/// The subtype key = the base key (qualified by `q`), column by column.
fn subtype_on(key: &[&'static ColumnDef], q: &'static str, part: &'static Table) -> Node {
    key.iter()
        .map(|k| {
            Node::binary(
                crate::ast::BinOp::Eq,
                column(part.name, k.name),
                column(q, k.name),
            )
        })
        .reduce(|a, b| Node::binary(crate::ast::BinOp::And, a, b))
        .unwrap_or(Node::Keyword("TRUE"))
}

/// The key of a row as the server sent it: the columns at `at`, one per key column (a `NULL`
/// is a decode error naming the column).
fn raw_key(
    row: &dyn RowAccess,
    at: &[usize],
    table: &'static Table,
    key: &[&'static ColumnDef],
) -> Result<Vec<Vec<u8>>> {
    at.iter()
        .zip(key)
        .map(|(&i, k)| {
            let (_, raw) = row
                .raw(i)
                .map_err(|e| Error::decode(table.model, k.name, e))?;
            raw.map(<[u8]>::to_vec)
                .ok_or_else(|| Error::decode(table.model, k.name, "NULL key".into()))
        })
        .collect()
}

async fn run_one(runner: &dyn QueryRunner, query: CompiledQuery, sink: RowSink<'_>) -> Result<()> {
    for outcome in runner.run_all(vec![(query, sink)]).await {
        outcome?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_key_is_sent_only_as_a_type_of_its_own_format() {
        let mut out = BytesMut::new();
        let int4 = RawValue(7i32.to_be_bytes().to_vec(), Type::INT4);
        assert!(int4.to_sql(&Type::INT8, &mut out).is_err());
        assert!(int4.to_sql(&Type::INT4, &mut out).is_ok());
        let code = RawValue(b"ab".to_vec(), Type::VARCHAR);
        assert!(code.to_sql(&Type::TEXT, &mut out).is_ok());
        assert!(code.to_sql(&Type::INT8, &mut out).is_err());
        // A user-made type (a domain over the key's type) is taken as sent.
        let domain = Type::new(
            "posint".into(),
            20000,
            postgres_types::Kind::Domain(Type::INT4),
            "public".into(),
        );
        assert!(int4.to_sql(&domain, &mut out).is_ok());
    }
}
