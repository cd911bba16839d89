//! The SQL compiler: one walk over a statement, producing SQL text with `$1..$n` placeholders and
//! the parameter list.
//!
//! The text depends only on the statement's shape, never on values: values are always
//! parameters, `IN` lists are one array parameter (`= ANY($n)`), `LIMIT`/`OFFSET` are parameters
//! and multi-row inserts send one array per column. Identifiers are always quoted.

mod writer;

pub use writer::{MAX_IDENTIFIER_BYTES, SqlWriter, check_identifier};

use std::fmt;

use crate::error::Result;
use crate::expr::{BinOp, Node, Ordering, Param, UnaryOp};
use crate::meta::TableRef;
use crate::stmt::{Delete, Insert, SelectCore, Update};
use crate::types::ColumnType;

/// A compiled statement: SQL text and its parameters, in `$n` order.
///
/// Its `Display` prints the SQL and then the parameters as a comment, which is what the snapshot
/// tests record.
#[derive(Clone)]
pub struct CompiledQuery {
    /// The SQL text.
    pub sql: String,
    /// The parameters; `params[0]` is `$1`.
    pub params: Vec<Param>,
}

impl CompiledQuery {
    fn from_writer(w: SqlWriter) -> Result<Self> {
        let (sql, params) = w.finish()?;
        Ok(CompiledQuery { sql, params })
    }
}

impl fmt::Debug for CompiledQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for CompiledQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)?;
        f.write_str("\n-- params: [")?;
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{p:?}")?;
        }
        f.write_str("]")
    }
}

/// Compiles a `SELECT`.
pub fn select(core: &SelectCore) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    write_select(&mut w, core);
    CompiledQuery::from_writer(w)
}

/// Compiles an `INSERT`.
pub fn insert<O>(stmt: &Insert<O>) -> Result<CompiledQuery> {
    use crate::stmt::InsertSource;
    let mut w = SqlWriter::new();
    w.push("INSERT INTO ");
    write_table(&mut w, &stmt.table);
    if !stmt.columns.is_empty() {
        w.push(" (");
        for (i, c) in stmt.columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.push_ident(c);
        }
        w.push(")");
    }
    match &stmt.source {
        InsertSource::Values(rows) => {
            if rows.is_empty() {
                w.fail(crate::Error::invalid_statement(
                    "an INSERT needs at least one row",
                ));
            }
            if stmt.columns.is_empty() {
                w.push(" DEFAULT VALUES");
            } else {
                w.push(" VALUES ");
                for (i, row) in rows.iter().enumerate() {
                    if i > 0 {
                        w.push(", ");
                    }
                    w.push("(");
                    write_list(&mut w, row);
                    w.push(")");
                }
            }
        }
        InsertSource::Unnest(arrays) => {
            w.push(" SELECT * FROM unnest(");
            for (i, (array, ty)) in arrays.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.push_param(array.clone());
                w.push("::");
                write_type(&mut w, ty, None);
                w.push("[]");
            }
            w.push(")");
        }
    }
    write_returning(&mut w, &stmt.returning);
    CompiledQuery::from_writer(w)
}

/// Compiles an `UPDATE`.
pub fn update<M, O>(stmt: &Update<M, O>) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    if stmt.sets.is_empty() {
        w.fail(crate::Error::invalid_statement(
            "an UPDATE needs at least one SET column",
        ));
    }
    w.push("UPDATE ");
    write_table(&mut w, &stmt.table);
    w.push(" SET ");
    for (i, (col, value)) in stmt.sets.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_ident(col);
        w.push(" = ");
        write_node(&mut w, value);
    }
    write_where(&mut w, stmt.filter.as_ref());
    write_returning(&mut w, &stmt.returning);
    CompiledQuery::from_writer(w)
}

/// Compiles a `DELETE`.
pub fn delete<M, O>(stmt: &Delete<M, O>) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    w.push("DELETE FROM ");
    write_table(&mut w, &stmt.table);
    write_where(&mut w, stmt.filter.as_ref());
    write_returning(&mut w, &stmt.returning);
    CompiledQuery::from_writer(w)
}

fn write_table(w: &mut SqlWriter, t: &TableRef) {
    w.push_qualified(t.schema, t.name);
}

fn write_where(w: &mut SqlWriter, filter: Option<&Node>) {
    if let Some(f) = filter {
        w.push(" WHERE ");
        write_node(w, f);
    }
}

fn write_returning(w: &mut SqlWriter, returning: &[Node]) {
    if !returning.is_empty() {
        w.push(" RETURNING ");
        write_list(w, returning);
    }
}

fn write_list(w: &mut SqlWriter, nodes: &[Node]) {
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        write_node(w, n);
    }
}

pub(crate) fn write_select(w: &mut SqlWriter, s: &SelectCore) {
    use crate::stmt::FromItem;
    w.push("SELECT ");
    if s.distinct {
        w.push("DISTINCT ");
    }
    write_list(w, &s.columns);
    match &s.from {
        Some(FromItem::Table(t)) => {
            w.push(" FROM ");
            write_table(w, t);
        }
        Some(FromItem::Subquery(sub, alias)) => {
            w.push(" FROM (");
            write_select(w, sub);
            w.push(") AS ");
            w.push_ident(alias);
        }
        None => {}
    }
    write_where(w, s.filter.as_ref());
    if !s.order_by.is_empty() {
        w.push(" ORDER BY ");
        for (i, o) in s.order_by.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            write_node(w, &o.node);
            if o.ordering == Ordering::Desc {
                w.push(" DESC");
            }
            match o.nulls_first {
                Some(true) => w.push(" NULLS FIRST"),
                Some(false) => w.push(" NULLS LAST"),
                None => {}
            }
        }
    }
    if let Some(l) = &s.limit {
        w.push(" LIMIT ");
        write_node(w, l);
    }
    if let Some(o) = &s.offset {
        w.push(" OFFSET ");
        write_node(w, o);
    }
}

/// Whether a node needs parentheses when it is an operand of another operator.
fn is_compound(n: &Node) -> bool {
    matches!(
        n,
        Node::Binary(..) | Node::Unary(..) | Node::InArray { .. } | Node::Between { .. }
    )
}

fn write_operand(w: &mut SqlWriter, n: &Node) {
    if is_compound(n) {
        w.push("(");
        write_node(w, n);
        w.push(")");
    } else {
        write_node(w, n);
    }
}

/// Writes one expression node. The `match` is exhaustive: a new node kind does not compile until
/// it is printed here.
pub(crate) fn write_node(w: &mut SqlWriter, n: &Node) {
    match n {
        Node::Column(c) => {
            w.push_ident(c.table);
            w.push(".");
            w.push_ident(c.name);
        }
        Node::Param(p) => w.push_param(p.clone()),
        Node::Unary(op, e) => match op {
            UnaryOp::Not => {
                w.push("NOT ");
                write_operand(w, e);
            }
            UnaryOp::Neg => {
                w.push("-");
                write_operand(w, e);
            }
            UnaryOp::IsNull => {
                write_operand(w, e);
                w.push(" IS NULL");
            }
            UnaryOp::IsNotNull => {
                write_operand(w, e);
                w.push(" IS NOT NULL");
            }
        },
        Node::Binary(op, l, r) => {
            // `a AND b AND c` rather than `(a AND b) AND c`: AND and OR are associative.
            match &**l {
                Node::Binary(inner, ..) if inner == op && matches!(op, BinOp::And | BinOp::Or) => {
                    write_node(w, l)
                }
                _ => write_operand(w, l),
            }
            w.push(" ");
            w.push(op.as_sql());
            w.push(" ");
            write_operand(w, r);
        }
        Node::InArray {
            expr,
            array,
            negated,
        } => {
            write_operand(w, expr);
            w.push(if *negated { " <> ALL(" } else { " = ANY(" });
            write_node(w, array);
            w.push(")");
        }
        Node::Between {
            expr,
            low,
            high,
            negated,
        } => {
            write_operand(w, expr);
            w.push(if *negated {
                " NOT BETWEEN "
            } else {
                " BETWEEN "
            });
            write_operand(w, low);
            w.push(" AND ");
            write_operand(w, high);
        }
        Node::Func(name, args) => {
            w.push(name);
            w.push("(");
            write_list(w, args);
            w.push(")");
        }
        Node::CountStar => w.push("count(*)"),
        Node::Keyword(k) => w.push(k),
        Node::Exists(sub) => {
            w.push("EXISTS (");
            write_select(w, sub);
            w.push(")");
        }
    }
}

/// Writes an SQL type name as used in DDL and casts.
pub(crate) fn write_type(w: &mut SqlWriter, ty: &ColumnType, len: Option<u32>) {
    match ty {
        ColumnType::Bool => w.push("BOOLEAN"),
        ColumnType::SmallInt => w.push("SMALLINT"),
        ColumnType::Integer => w.push("INTEGER"),
        ColumnType::BigInt => w.push("BIGINT"),
        ColumnType::Real => w.push("REAL"),
        ColumnType::Double => w.push("DOUBLE PRECISION"),
        ColumnType::Text => match len {
            Some(n) => {
                w.push("VARCHAR(");
                w.push(&n.to_string());
                w.push(")");
            }
            None => w.push("TEXT"),
        },
        ColumnType::Bytea => w.push("BYTEA"),
        ColumnType::Date => w.push("DATE"),
        ColumnType::Time => w.push("TIME"),
        ColumnType::Timestamp => w.push("TIMESTAMP"),
        ColumnType::Timestamptz => w.push("TIMESTAMPTZ"),
        ColumnType::Uuid => w.push("UUID"),
        ColumnType::Jsonb => w.push("JSONB"),
        ColumnType::Numeric => w.push("NUMERIC"),
        ColumnType::Enum(e) => w.push_qualified(e.schema, e.name),
        ColumnType::Array(inner) => {
            write_type(w, inner, len);
            w.push("[]");
        }
    }
}
