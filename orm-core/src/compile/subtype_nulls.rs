//! The trap of a joined-table enum's `LEFT JOIN`: the rows of the other variants have `NULL` in
//! every column of a subtype table, so `Developer::level.is_null()` on `Staff` would also be true
//! for every chief (and `DELETE` them). A null test of a subtype column therefore means "a row of
//! that subtype whose column is `NULL`": `developers.level IS NULL` is written
//! `(developers.level IS NULL AND developers.id IS NOT NULL)`. Its negation is the exact
//! complement (every row that is not such a developer).
//!
//! One rule covers every such predicate: each term of the filter's `AND`/`OR`/`NOT` structure
//! that names a subtype table's column and can hold on `NULL`s (a null test, `IS [NOT]
//! DISTINCT FROM`, a `CASE`, or a null-absorbing function such as `coalesce`) is scoped to that
//! subtype's rows with `AND part.key IS NOT NULL`. Other terms need no help: a comparison with a
//! padded `NULL` is already not true, and leaving them alone keeps their SQL as written.

use crate::ast::{BinOp, Child, ColumnRef, Node, UnaryOp};
use crate::meta::Table;

/// Whether `node` names a column of the table (or alias) `name`, outside subqueries.
pub(crate) fn mentions(node: &mut Node, name: &str) -> bool {
    if let Node::Column(c) = node {
        return c.table == name;
    }
    let mut found = false;
    node.walk_mut(&mut |child| {
        if let Child::Node(n) = child {
            found = found || mentions(n, name);
        }
    });
    found
}

/// Functions that can give a non-`NULL` result from `NULL` arguments.
const NULL_ABSORBING: &[&str] = &[
    "coalesce",
    "concat",
    "concat_ws",
    "greatest",
    "least",
    "num_nulls",
    "num_nonnulls",
    "array_remove",
    "array_replace",
];

/// Whether `node` (outside subqueries) can be true, or non-`NULL`, when its columns are `NULL`:
/// a null test, `IS [NOT] DISTINCT FROM`, a `CASE`, or a null-absorbing function.
fn null_sensitive(node: &mut Node) -> bool {
    match node {
        Node::Unary(UnaryOp::IsNull, _)
        | Node::Binary(BinOp::IsNotDistinctFrom | BinOp::IsDistinctFrom, ..)
        | Node::Case(_) => return true,
        Node::Func(name, _) if NULL_ABSORBING.contains(name) => return true,
        _ => {}
    }
    let mut found = false;
    node.walk_mut(&mut |child| {
        if let Child::Node(n) = child {
            found = found || null_sensitive(n);
        }
    });
    found
}

/// Rewrites every predicate of `node` that could hold for a subtype column of `model` padded
/// with `NULL` by its `LEFT JOIN` to hold only for rows of that subtype (see the module docs).
/// `AND`, `OR` and `NOT` are walked through; each other boolean term is one predicate.
pub(crate) fn guard_subtype_nulls(node: &mut Node, model: &'static Table) {
    let Some(joined) = model.joined else { return };
    match node {
        Node::Binary(BinOp::And | BinOp::Or, l, r) => {
            guard_subtype_nulls(l, model);
            guard_subtype_nulls(r, model);
            return;
        }
        Node::Logic(_, operands) => {
            for o in operands {
                guard_subtype_nulls(o, model);
            }
            return;
        }
        Node::Unary(UnaryOp::Not, e) => {
            guard_subtype_nulls(e, model);
            return;
        }
        _ => {}
    }
    let Some(part) = joined
        .parts
        .iter()
        .copied()
        .find(|p| mentions(node, p.name))
    else {
        return;
    };
    let Some(key) = model.primary_key().next() else {
        return;
    };
    if !null_sensitive(node) {
        return;
    }
    let test = std::mem::replace(node, Node::Keyword("NULL"));
    let exists = Node::unary(
        UnaryOp::IsNotNull,
        Node::Column(ColumnRef {
            table: part.name,
            name: key.name,
        }),
    );
    *node = Node::binary(BinOp::And, test, exists);
}
