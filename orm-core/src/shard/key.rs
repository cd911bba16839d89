//! Shard key values: a parameter encoded as its column's PostgreSQL binary form, and where a
//! statement's filter fixes them.

use std::fmt;

use bytes::BytesMut;
use postgres_types::{IsNull, ToSql, Type};

use crate::ast::{BinOp, CastType, Node};
use crate::error::{Error, Result};
use crate::meta::ColumnDef;
use crate::types::{ColumnArray, ColumnType, Param};

/// The types a shard key column may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// `SMALLINT` (`i16`).
    Int2,
    /// `INTEGER` (`i32`).
    Int4,
    /// `BIGINT` (`i64`).
    Int8,
    /// `TEXT` / `VARCHAR` (`String`).
    Text,
    /// `UUID`.
    Uuid,
}

impl KeyType {
    /// The key type of `column`; an error for a type no shard key may have.
    pub fn of(table: &str, column: &ColumnDef) -> Result<KeyType> {
        KeyType::of_type(column.ty).ok_or_else(|| {
            Error::config(
                format!(
                    "the shard key `{table}`.`{}` is {:?}: a shard key is an integer, text or a UUID",
                    column.name, column.ty
                ),
                None,
            )
        })
    }

    /// The key type of a column type; `None` for a type no shard key may have.
    pub(crate) fn of_type(ty: ColumnType) -> Option<KeyType> {
        Some(match ty {
            ColumnType::SmallInt => KeyType::Int2,
            ColumnType::Integer => KeyType::Int4,
            ColumnType::BigInt => KeyType::Int8,
            ColumnType::Text => KeyType::Text,
            ColumnType::Uuid => KeyType::Uuid,
            _ => return None,
        })
    }

    /// The server type a value is encoded as.
    pub fn pg_type(self) -> Type {
        match self {
            KeyType::Int2 => Type::INT2,
            KeyType::Int4 => Type::INT4,
            KeyType::Int8 => Type::INT8,
            KeyType::Text => Type::TEXT,
            KeyType::Uuid => Type::UUID,
        }
    }

    fn array_type(self) -> Type {
        match self {
            KeyType::Int2 => Type::INT2_ARRAY,
            KeyType::Int4 => Type::INT4_ARRAY,
            KeyType::Int8 => Type::INT8_ARRAY,
            KeyType::Text => Type::TEXT_ARRAY,
            KeyType::Uuid => Type::UUID_ARRAY,
        }
    }
}

/// One value of a shard key, as the bytes of its PostgreSQL binary encoding (big-endian
/// integers, UTF-8 text, the 16 bytes of a UUID): what the hash map hashes and the list map
/// compares, so the shard of a value depends on nothing but the value and its column's type.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyValue {
    ty: KeyType,
    bytes: Vec<u8>,
}

impl KeyValue {
    /// Encodes `value` as a key of type `ty`; `None` for `NULL`, an error when the value is not
    /// of that type.
    pub fn encode(ty: KeyType, value: &(dyn ToSql + Sync)) -> Result<Option<KeyValue>> {
        let mut buf = BytesMut::new();
        match value.to_sql_checked(&ty.pg_type(), &mut buf) {
            Ok(IsNull::No) => Ok(Some(KeyValue {
                ty,
                bytes: buf.to_vec(),
            })),
            Ok(IsNull::Yes) => Ok(None),
            Err(e) => Err(Error::invalid_statement(format!(
                "cannot encode a shard key value as {:?}: {e}",
                ty.pg_type()
            ))),
        }
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.ty
    }

    /// The binary encoding.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The value of an integer key.
    pub fn as_i64(&self) -> Option<i64> {
        let b = &self.bytes;
        match self.ty {
            KeyType::Int2 => Some(i16::from_be_bytes(b.as_slice().try_into().ok()?).into()),
            KeyType::Int4 => Some(i32::from_be_bytes(b.as_slice().try_into().ok()?).into()),
            KeyType::Int8 => Some(i64::from_be_bytes(b.as_slice().try_into().ok()?)),
            KeyType::Text | KeyType::Uuid => None,
        }
    }
}

impl fmt::Display for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.as_i64() {
            return write!(f, "{n}");
        }
        match self.ty {
            KeyType::Text => write!(f, "{:?}", String::from_utf8_lossy(&self.bytes)),
            _ => {
                for b in &self.bytes {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyValue({self})")
    }
}

/// The elements of an array parameter (`= ANY($1)`, an `unnest` column), `NULL`s left out.
fn encode_array(ty: KeyType, array: &Param) -> Result<Vec<KeyValue>> {
    let mut buf = BytesMut::new();
    let bad = |e: &dyn fmt::Display| {
        Error::invalid_statement(format!(
            "cannot encode shard key values as {:?}: {e}",
            ty.array_type()
        ))
    };
    match array.to_sql_checked(&ty.array_type(), &mut buf) {
        Ok(IsNull::No) => {}
        Ok(IsNull::Yes) => return Ok(Vec::new()),
        Err(e) => return Err(bad(&e)),
    }
    array_elements(&buf)
        .ok_or_else(|| bad(&"malformed array"))
        .map(|elements| {
            elements
                .into_iter()
                .flatten()
                .map(|bytes| KeyValue {
                    ty,
                    bytes: bytes.to_vec(),
                })
                .collect()
        })
}

/// The elements of a binary-encoded array (`NULL` as `None`), in order; `None` when malformed.
/// The format: dimensions, a has-null flag, the element type, each dimension's length and
/// lower bound, then each element as a 4-byte length (`-1`: `NULL`) and its bytes.
fn array_elements(buf: &[u8]) -> Option<Vec<Option<&[u8]>>> {
    let int = |at: usize| -> Option<i32> {
        Some(i32::from_be_bytes(buf.get(at..at + 4)?.try_into().ok()?))
    };
    let dims = usize::try_from(int(0)?).ok()?;
    let mut count = usize::from(dims > 0);
    for d in 0..dims {
        count = count.checked_mul(usize::try_from(int(12 + 8 * d)?).ok()?)?;
    }
    let mut at = 12 + 8 * dims;
    let mut out = Vec::with_capacity(count.min(buf.len()));
    for _ in 0..count {
        let len = int(at)?;
        at += 4;
        if len < 0 {
            out.push(None);
            continue;
        }
        let end = at.checked_add(usize::try_from(len).ok()?)?;
        out.push(Some(buf.get(at..end)?));
        at = end;
    }
    Some(out)
}

/// The key column a filter is searched for: `qualifier.column` of type `ty`.
#[derive(Clone, Copy)]
pub(crate) struct KeyColumn<'a> {
    pub(crate) qualifier: &'a str,
    pub(crate) column: &'a str,
    pub(crate) ty: KeyType,
}

impl KeyColumn<'_> {
    pub(crate) fn is(&self, node: &Node) -> bool {
        matches!(node, Node::Column(c) if c.table == self.qualifier && c.name == self.column)
    }

    /// The key values a filter fixes: `key = v` (either side), `key IS NOT DISTINCT FROM v`,
    /// `key = ANY(array)` (`is_in`), and those `AND`ed with anything (the first side that fixes
    /// it) or `OR`ed together (both sides must). `None`: the filter does not fix the key.
    pub(crate) fn values_in(&self, node: &Node) -> Result<Option<Vec<KeyValue>>> {
        match node {
            Node::Binary(BinOp::And, l, r) => match self.values_in(l)? {
                Some(v) => Ok(Some(v)),
                None => self.values_in(r),
            },
            Node::Binary(BinOp::Or, l, r) => match (self.values_in(l)?, self.values_in(r)?) {
                (Some(mut a), Some(b)) => {
                    a.extend(b);
                    Ok(Some(a))
                }
                _ => Ok(None),
            },
            Node::Logic(BinOp::And, operands) => {
                for o in operands {
                    if let Some(v) = self.values_in(o)? {
                        return Ok(Some(v));
                    }
                }
                Ok(None)
            }
            Node::Logic(BinOp::Or, operands) => {
                let mut all = Vec::new();
                for o in operands {
                    match self.values_in(o)? {
                        Some(v) => all.extend(v),
                        None => return Ok(None),
                    }
                }
                Ok(Some(all))
            }
            Node::Binary(BinOp::Eq | BinOp::IsNotDistinctFrom, l, r) => {
                let value = match (&**l, &**r) {
                    (c, Node::Param(p)) | (Node::Param(p), c) if self.is(c) => p,
                    _ => return Ok(None),
                };
                Ok(Some(
                    KeyValue::encode(self.ty, &**value)?.into_iter().collect(),
                ))
            }
            Node::InArray {
                expr,
                array,
                negated: false,
            } if self.is(expr) => match &**array {
                Node::Param(p) => encode_array(self.ty, p).map(Some),
                _ => Ok(None),
            },
            Node::Quantified {
                expr,
                op: BinOp::Eq,
                array,
                all: false,
            } if self.is(expr) => match &**array {
                Node::Param(p) => encode_array(self.ty, p).map(Some),
                _ => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// The key values of one inserted column: a row's value (`VALUES`) or every row's
    /// (`unnest`). `None` when a row's value is an expression, not a parameter.
    pub(crate) fn values_of_node(&self, node: &Node) -> Result<Option<Vec<KeyValue>>> {
        match node {
            Node::Param(p) => Ok(Some(KeyValue::encode(self.ty, &**p)?.into_iter().collect())),
            _ => Ok(None),
        }
    }

    /// The key value a query's selected column puts in the key's place (`INSERT … SELECT`): a
    /// parameter, alone or cast to the key's type (as [`value`](crate::expr::value) writes it),
    /// under a label or not. `None` for anything else.
    pub(crate) fn value_of_selected(&self, node: &Node) -> Result<Option<Vec<KeyValue>>> {
        match node {
            Node::Label(inner, _) => self.value_of_selected(inner),
            Node::Cast(inner, CastType::Column(ty)) if KeyType::of_type(*ty) == Some(self.ty) => {
                self.value_of_selected(inner)
            }
            Node::Param(_) => self.values_of_node(node),
            _ => Ok(None),
        }
    }

    /// The key values of an `unnest` column; `None` for a nested array column.
    pub(crate) fn values_of_array(&self, array: &ColumnArray) -> Result<Option<Vec<KeyValue>>> {
        match array {
            ColumnArray::Flat(p) => encode_array(self.ty, p).map(Some),
            ColumnArray::Nested { .. } => Ok(None),
        }
    }
}
