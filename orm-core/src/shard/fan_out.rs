//! The plan of a `SELECT` run on every shard: what each shard is sent, and how the rows are
//! merged.
//!
//! Each shard runs the query with its `ORDER BY` expressions added as hidden trailing columns,
//! `LIMIT limit + offset` and no `OFFSET`; the merged rows are sorted by the hidden columns'
//! values (decoded as [`SortValue`]s) and cut to `OFFSET offset LIMIT limit`. Every row of the
//! global page is among the first `limit + offset` rows of its own shard, so the page is exact
//! when Rust's comparison of the sort values agrees with the server's: always for integers,
//! floats, booleans, dates, times, timestamps and UUIDs; for text only under a byte-order
//! collation (`"C"`, or text that sorts the same in the database's collation): text is
//! compared by its UTF-8 bytes.

use std::cmp::Ordering as CmpOrdering;

use postgres_types::{FromSql, Type};

use super::key::{KeyType, KeyValue};
use crate::ast::{Node, Ordering, SelectCore, Tree, param};
use crate::compile::{self, CompiledQuery, Output};
use crate::error::{BoxError, Error, Result};
use crate::row::Decode;
use crate::stmt::{Select, Statement};

/// How the merged rows of a fan-out are sorted: one per `ORDER BY` item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    /// `DESC`.
    pub descending: bool,
    /// Where `NULL`s go (PostgreSQL's default: last ascending, first descending).
    pub nulls_first: bool,
}

/// A `SELECT` prepared for every shard.
#[derive(Debug)]
pub struct FanOutQuery {
    /// What each shard runs.
    pub query: CompiledQuery,
    /// The columns the rows decode (the hidden sort columns follow them).
    pub width: usize,
    /// One per hidden sort column.
    pub order: Vec<SortKey>,
    /// The `LIMIT` to apply after the merge.
    pub limit: Option<u64>,
    /// The `OFFSET` to apply after the merge.
    pub offset: u64,
}

impl FanOutQuery {
    /// Sorts the merged `rows` (each with its sort values) and cuts them to the query's
    /// `OFFSET` and `LIMIT`. Stable: rows equal by the sort keys keep their shard order.
    pub fn merge<T>(&self, mut rows: Vec<(T, Vec<SortValue>)>) -> Vec<T> {
        if !self.order.is_empty() {
            rows.sort_by(|(_, a), (_, b)| self.compare(a, b));
        }
        let rows = rows.into_iter().map(|(r, _)| r);
        let skipped = rows.skip(usize::try_from(self.offset).unwrap_or(usize::MAX));
        match self.limit {
            Some(n) => skipped
                .take(usize::try_from(n).unwrap_or(usize::MAX))
                .collect(),
            None => skipped.collect(),
        }
    }

    /// How two rows' sort values compare in the query's `ORDER BY` (what
    /// [`merge`](Self::merge) sorts by; a streaming merge picks the least head with it).
    pub fn compare(&self, a: &[SortValue], b: &[SortValue]) -> CmpOrdering {
        for ((key, x), y) in self.order.iter().zip(a).zip(b) {
            let o = match (x, y) {
                (SortValue::Null, SortValue::Null) => CmpOrdering::Equal,
                (SortValue::Null, _) if key.nulls_first => CmpOrdering::Less,
                (SortValue::Null, _) => CmpOrdering::Greater,
                (_, SortValue::Null) if key.nulls_first => CmpOrdering::Greater,
                (_, SortValue::Null) => CmpOrdering::Less,
                _ if key.descending => y.cmp_value(x),
                _ => x.cmp_value(y),
            };
            if o != CmpOrdering::Equal {
                return o;
            }
        }
        CmpOrdering::Equal
    }
}

/// The plan of `query` on every shard: [`fan_out_select`] of its body. What
/// `orm_postgres::FanOut` runs; call it to see the SQL each shard is sent.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
/// let plan = orm_core::shard::fan_out_plan(&select::<User>().order_by(User::id).limit(5).offset(5)).unwrap();
/// assert!(plan.query.sql.ends_with(r#"ORDER BY "users"."id" LIMIT $1"#));
/// assert_eq!((plan.limit, plan.offset), (Some(5), 5));
/// ```
pub fn fan_out_plan<O: Decode, S>(query: &Select<O, S>) -> Result<FanOutQuery> {
    match query.tree() {
        Some(Tree::Select(core)) => fan_out_select(core, Output::of::<O>(O::WIDTH)),
        _ => Err(Error::invalid_statement("a fan-out runs a SELECT")),
    }
}

/// The plan of `core` on every shard, its rows decoding as `out`: see the module docs.
/// An `InvalidStatement` error for a query ordered by an output name (order by the
/// expression instead) or whose `LIMIT`/`OFFSET` is not a value.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
/// use orm_core::shard::fan_out_select;
/// use orm_core::compile::Output;
/// use orm_core::ast::Tree;
///
/// let q = select::<User>().order_by(User::name).limit(10).offset(20);
/// let Some(Tree::Select(core)) = q.tree() else { unreachable!() };
/// let plan = fan_out_select(core, Output::of::<User>(3)).unwrap();
/// assert_eq!(plan.query.sql, r#"SELECT "users"."id", "users"."name", "users"."email", "users"."name" FROM "users" ORDER BY "users"."name" LIMIT $1"#);
/// assert_eq!((plan.limit, plan.offset), (Some(10), 20));
/// ```
pub fn fan_out_select(core: &SelectCore, out: Output) -> Result<FanOutQuery> {
    let number = |node: &Option<Node>, what: &str| -> Result<Option<u64>> {
        match node {
            None => Ok(None),
            Some(Node::Param(p)) => KeyValue::encode(KeyType::Int8, &**p)?
                .and_then(|v| v.as_i64())
                .map(|n| Some(u64::try_from(n).unwrap_or(0)))
                .ok_or_else(|| Error::invalid_statement(format!("{what} is NULL"))),
            Some(_) => Err(Error::invalid_statement(format!(
                "a query run on every shard needs its {what} as a value"
            ))),
        }
    };
    let limit = number(&core.limit, "LIMIT")?;
    let offset = number(&core.offset, "OFFSET")?.unwrap_or(0);
    let mut shard_core = core.clone();
    let mut order = Vec::with_capacity(core.order_by.len());
    for item in &core.order_by {
        if matches!(item.node, Node::Name(_)) {
            return Err(Error::invalid_statement(
                "a query run on every shard is merged by its ORDER BY expressions: order by an expression, not by an output column's name",
            ));
        }
        let descending = item.ordering == Ordering::Desc;
        order.push(SortKey {
            descending,
            nulls_first: item.nulls_first.unwrap_or(descending),
        });
        shard_core.columns.push(item.node.clone());
    }
    shard_core.offset = None;
    shard_core.limit = limit.map(|n| {
        let n = n.saturating_add(offset).min(i64::MAX as u64) as i64;
        Node::Param(param(n))
    });
    if core.columns.len() != out.width {
        // The same check (and message) as the query's own compile.
        compile::select_statement(core, out)?;
    }
    let query = compile::select_statement_width(&shard_core, shard_core.columns.len())?;
    Ok(FanOutQuery {
        query,
        width: out.width,
        order,
        limit,
        offset,
    })
}

/// One value of a fan-out's hidden sort column, decoded from any type the merge can compare
/// as the server does; another type (`NUMERIC`, `JSONB`, ...) fails to decode, with an error
/// saying so, rather than merging in a wrong order.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SortValue {
    /// `NULL`.
    Null,
    /// A boolean (`false` first).
    Bool(bool),
    /// An integer, a date, a time or a timestamp (their binary forms are integers).
    Int(i64),
    /// A floating-point number (`NaN` last, as PostgreSQL).
    Float(f64),
    /// Text, compared by its UTF-8 bytes.
    Text(String),
    /// A UUID or `BYTEA`, compared by bytes.
    Bytes(Vec<u8>),
}

impl SortValue {
    fn cmp_value(&self, other: &SortValue) -> CmpOrdering {
        match (self, other) {
            (SortValue::Bool(a), SortValue::Bool(b)) => a.cmp(b),
            (SortValue::Int(a), SortValue::Int(b)) => a.cmp(b),
            (SortValue::Float(a), SortValue::Float(b)) => a.total_cmp(b),
            (SortValue::Text(a), SortValue::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (SortValue::Bytes(a), SortValue::Bytes(b)) => a.cmp(b),
            // One column has one type on every shard; mixed kinds cannot meet.
            _ => CmpOrdering::Equal,
        }
    }
}

impl<'a> FromSql<'a> for SortValue {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        let int = |n: usize| -> std::result::Result<i64, BoxError> {
            let b: [u8; 8] = {
                let mut b = [0u8; 8];
                if raw.len() != n {
                    return Err("bad length".into());
                }
                // Sign-extend big-endian.
                let fill = if raw.first().is_some_and(|x| x & 0x80 != 0) {
                    0xff
                } else {
                    0
                };
                b[..8 - n].fill(fill);
                b[8 - n..].copy_from_slice(raw);
                b
            };
            Ok(i64::from_be_bytes(b))
        };
        Ok(match *ty {
            Type::BOOL => SortValue::Bool(raw.first().is_some_and(|b| *b != 0)),
            Type::INT2 => SortValue::Int(int(2)?),
            Type::INT4 | Type::DATE => SortValue::Int(int(4)?),
            Type::INT8 | Type::TIMESTAMP | Type::TIMESTAMPTZ | Type::TIME => {
                SortValue::Int(int(8)?)
            }
            Type::FLOAT4 => SortValue::Float(f32::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => SortValue::Float(f64::from_sql(ty, raw)?),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                SortValue::Text(String::from_utf8(raw.to_vec())?)
            }
            Type::UUID | Type::BYTEA => SortValue::Bytes(raw.to_vec()),
            _ => {
                return Err(format!(
                    "a query run on every shard cannot merge rows ordered by a {ty} value in the order of the server; order by an integer, float, boolean, text, UUID, date or time expression (cast it)"
                )
                .into());
            }
        })
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, BoxError> {
        Ok(SortValue::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
