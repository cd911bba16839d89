//! Expressions.

use super::SqlWriter;
use super::select::write_query;
use crate::ast::{BinOp, CastType, FrameBound, FrameUnits, Node, OrderBy, Ordering, Over, UnaryOp};
use crate::types::{ColumnType, TypeMod};

/// Whether a node needs parentheses when it is an operand of another operator.
fn is_compound(n: &Node) -> bool {
    matches!(
        n,
        Node::Binary(..)
            | Node::Logic(..)
            | Node::Unary(..)
            | Node::InArray { .. }
            | Node::Between { .. }
            | Node::InSubquery { .. }
            | Node::Quantified { .. }
            // Raw SQL may hold any operator (`a OR b`): keep it together.
            | Node::Raw(_)
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

pub(crate) fn write_list(w: &mut SqlWriter, nodes: &[Node]) {
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        write_node(w, n);
    }
}

pub(crate) fn write_order_by(w: &mut SqlWriter, items: &[OrderBy], unqualified: bool) {
    for (i, o) in items.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        match (&o.node, unqualified) {
            // The output columns of a set operation are named, not qualified.
            (Node::Column(c), true) => w.push_ident(c.name),
            (node, _) => write_node(w, node),
        }
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

/// Writes one expression node. The `match` is exhaustive: a new node kind does not compile until
/// it is printed here.
pub(crate) fn write_node(w: &mut SqlWriter, n: &Node) {
    match n {
        Node::Column(c) => {
            w.check_qualifier(c.table, c.name);
            w.push_ident(c.table);
            w.push(".");
            w.push_ident(c.name);
        }
        Node::Name(name) => w.push_ident(name),
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
                Node::Binary(inner, ..) | Node::Logic(inner, _)
                    if inner == op && matches!(op, BinOp::And | BinOp::Or) =>
                {
                    write_node(w, l)
                }
                _ => write_operand(w, l),
            }
            w.push(" ");
            w.push(op.as_sql());
            w.push(" ");
            write_operand(w, r);
        }
        Node::Logic(op, operands) => {
            for (i, operand) in operands.iter().enumerate() {
                if i > 0 {
                    w.push(" ");
                    w.push(op.as_sql());
                    w.push(" ");
                }
                // As for `Binary`: the first operand's own chain of the same operator is not
                // parenthesized (`a AND b AND c`).
                match operand {
                    Node::Binary(inner, ..) | Node::Logic(inner, _) if i == 0 && inner == op => {
                        write_node(w, operand)
                    }
                    _ => write_operand(w, operand),
                }
            }
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
        Node::Quantified {
            expr,
            op,
            array,
            all,
        } => {
            write_operand(w, expr);
            w.push(" ");
            w.push(op.as_sql());
            w.push(if *all { " ALL(" } else { " ANY(" });
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
        Node::Aggregate(a) => {
            w.push(a.name);
            w.push("(");
            if a.distinct {
                w.push("DISTINCT ");
            }
            if a.star {
                w.push("*");
            }
            write_list(w, &a.args);
            if !a.order_by.is_empty() {
                w.push(" ORDER BY ");
                write_order_by(w, &a.order_by, false);
            }
            w.push(")");
            if let Some(f) = &a.filter {
                w.push(" FILTER (WHERE ");
                write_node(w, f);
                w.push(")");
            }
        }
        Node::Window(call, over) => {
            write_node(w, call);
            w.push(" OVER ");
            write_over(w, over);
        }
        Node::Case(c) => {
            w.push("CASE");
            if let Some(op) = &c.operand {
                w.push(" ");
                write_operand(w, op);
            }
            for (when, then) in &c.whens {
                w.push(" WHEN ");
                write_node(w, when);
                w.push(" THEN ");
                write_node(w, then);
            }
            if let Some(e) = &c.else_ {
                w.push(" ELSE ");
                write_node(w, e);
            }
            w.push(" END");
        }
        Node::Cast(e, ty) => {
            w.push("CAST(");
            write_node(w, e);
            w.push(" AS ");
            match ty {
                CastType::Column(t) => write_type(w, t, TypeMod::NONE),
                CastType::Named(name) => w.push(name),
                CastType::Array(t) => {
                    write_type(w, t, TypeMod::NONE);
                    w.push("[]");
                }
            }
            w.push(")");
        }
        Node::Extract(field, e) => {
            w.push("EXTRACT(");
            w.push(field);
            w.push(" FROM ");
            write_node(w, e);
            w.push(")");
        }
        Node::Row(items) => {
            w.push("(");
            write_list(w, items);
            w.push(")");
        }
        Node::Field(e, name) => {
            w.push("(");
            write_node(w, e);
            w.push(").");
            w.push_ident(name);
        }
        Node::Excluded(col) => {
            w.push("EXCLUDED.");
            w.push_ident(col);
        }
        Node::Label(e, label) => {
            write_node(w, e);
            w.push(" AS ");
            w.push_ident(label);
        }
        Node::CountStar => w.push("count(*)"),
        Node::Keyword(k) => w.push(k),
        Node::Exists(q) => {
            w.push("EXISTS (");
            write_query(w, q);
            w.push(")");
        }
        Node::Subquery(q) => {
            w.push("(");
            write_query(w, q);
            w.push(")");
        }
        Node::InSubquery {
            expr,
            query,
            negated,
        } => {
            write_operand(w, expr);
            w.push(if *negated { " NOT IN (" } else { " IN (" });
            write_query(w, query);
            w.push(")");
        }
        Node::Raw(raw) => super::raw::write_raw(w, raw),
    }
}

/// Writes an `OVER` clause: `w` or `(...)`.
pub(crate) fn write_over(w: &mut SqlWriter, over: &Over) {
    if let (Some(name), true, true, true) = (
        over.name,
        over.partition_by.is_empty(),
        over.order_by.is_empty(),
        over.frame.is_none(),
    ) {
        w.push_ident(name);
        return;
    }
    w.push("(");
    write_window_spec(w, over);
    w.push(")");
}

/// Writes the inside of a window specification.
pub(crate) fn write_window_spec(w: &mut SqlWriter, over: &Over) {
    let mut sep = "";
    if let Some(name) = over.name {
        w.push_ident(name);
        sep = " ";
    }
    if !over.partition_by.is_empty() {
        w.push(sep);
        w.push("PARTITION BY ");
        write_list(w, &over.partition_by);
        sep = " ";
    }
    if !over.order_by.is_empty() {
        w.push(sep);
        w.push("ORDER BY ");
        write_order_by(w, &over.order_by, false);
        sep = " ";
    }
    if let Some(frame) = &over.frame {
        w.push(sep);
        w.push(match frame.units {
            FrameUnits::Rows => "ROWS ",
            FrameUnits::Range => "RANGE ",
            FrameUnits::Groups => "GROUPS ",
        });
        match &frame.end {
            Some(end) => {
                w.push("BETWEEN ");
                write_bound(w, &frame.start);
                w.push(" AND ");
                write_bound(w, end);
            }
            None => write_bound(w, &frame.start),
        }
    }
}

fn write_bound(w: &mut SqlWriter, b: &FrameBound) {
    match b {
        FrameBound::UnboundedPreceding => w.push("UNBOUNDED PRECEDING"),
        FrameBound::Preceding(n) => {
            write_node(w, n);
            w.push(" PRECEDING");
        }
        FrameBound::CurrentRow => w.push("CURRENT ROW"),
        FrameBound::Following(n) => {
            write_node(w, n);
            w.push(" FOLLOWING");
        }
        FrameBound::UnboundedFollowing => w.push("UNBOUNDED FOLLOWING"),
    }
}

/// Writes an SQL type name as used in DDL and casts, with its modifier (see [`TypeMod`]).
pub(crate) fn write_type(w: &mut SqlWriter, ty: &ColumnType, m: TypeMod) {
    let name = match ty {
        ColumnType::Bool => "BOOLEAN",
        ColumnType::SmallInt => "SMALLINT",
        ColumnType::Integer => "INTEGER",
        ColumnType::BigInt => "BIGINT",
        ColumnType::Real => "REAL",
        ColumnType::Double => "DOUBLE PRECISION",
        ColumnType::Text => match m.len {
            Some(n) => {
                w.push("VARCHAR(");
                w.push(&n.to_string());
                w.push(")");
                return;
            }
            None => "TEXT",
        },
        ColumnType::Bytea => "BYTEA",
        ColumnType::Date => "DATE",
        ColumnType::Time => "TIME",
        ColumnType::Timestamp => "TIMESTAMP",
        ColumnType::Timestamptz => "TIMESTAMPTZ",
        ColumnType::Uuid => "UUID",
        ColumnType::Jsonb => "JSONB",
        ColumnType::Numeric => "NUMERIC",
        ColumnType::Interval => "INTERVAL",
        ColumnType::TsVector => "TSVECTOR",
        ColumnType::TsQuery => "TSQUERY",
        ColumnType::Inet => "INET",
        ColumnType::Cidr => "CIDR",
        ColumnType::MacAddr => "MACADDR",
        ColumnType::MacAddr8 => "MACADDR8",
        ColumnType::Money => "MONEY",
        ColumnType::VarBit => "VARBIT",
        ColumnType::Range(kind) => return w.push(&kind.name().to_ascii_uppercase()),
        ColumnType::Multirange(kind) => {
            return w.push(&kind.multirange_name().to_ascii_uppercase());
        }
        ColumnType::Enum(e) => return w.push_qualified(e.schema, e.name),
        ColumnType::Domain(d) => return w.push_qualified(d.schema, d.name),
        ColumnType::Named(n) => return w.push_qualified(n.schema, n.name),
        ColumnType::Composite(c) => return w.push_qualified(c.schema, c.name),
        ColumnType::Array(inner) => {
            write_type(w, inner, m);
            return w.push("[]");
        }
    };
    w.push(name);
    let takes_precision = matches!(
        ty,
        ColumnType::Numeric
            | ColumnType::Time
            | ColumnType::Timestamp
            | ColumnType::Timestamptz
            | ColumnType::Interval
    );
    if let Some(p) = m.precision.filter(|_| takes_precision) {
        w.push("(");
        w.push(&p.to_string());
        if let Some(s) = m.scale {
            w.push(", ");
            w.push(&s.to_string());
        }
        w.push(")");
    }
}
