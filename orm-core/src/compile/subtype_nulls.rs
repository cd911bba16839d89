//! The trap of a joined-table enum's `LEFT JOIN`: the rows of the other variants have `NULL` in
//! every column of a subtype table, so `Developer::level.is_null()` on `Staff` would also be true
//! for every chief (and `DELETE` them). A null test of a subtype column therefore means "a row of
//! that subtype whose column is `NULL`": `developers.level IS NULL` is written
//! `(developers.level IS NULL AND developers.id IS NOT NULL)`. Its negation is the exact
//! complement (every row that is not such a developer). Other operators need no help: a
//! comparison with a padded `NULL` is already not true.

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

/// The subtype table of `model` whose column `node` tests for `NULL` (`x IS NULL`,
/// `x IS NOT DISTINCT FROM y`), if any.
fn null_test_of(node: &mut Node, model: &'static Table) -> Option<&'static Table> {
    let joined = model.joined?;
    let mut operands: Vec<&mut Node> = match node {
        Node::Unary(UnaryOp::IsNull, e) => vec![&mut **e],
        Node::Binary(BinOp::IsNotDistinctFrom, l, r) => vec![&mut **l, &mut **r],
        _ => return None,
    };
    joined
        .parts
        .iter()
        .copied()
        .find(|part| operands.iter_mut().any(|o| mentions(o, part.name)))
}

/// Rewrites every null test of a subtype column of `model` (read through its `LEFT JOIN`s) in
/// `node` to hold only for rows of that subtype (see the module docs).
pub(crate) fn guard_subtype_nulls(node: &mut Node, model: &'static Table) {
    if let Some(part) = null_test_of(node, model) {
        let Some(key) = model.primary_key().next() else {
            return;
        };
        let test = std::mem::replace(node, Node::Keyword("NULL"));
        let exists = Node::unary(
            UnaryOp::IsNotNull,
            Node::Column(ColumnRef {
                table: part.name,
                name: key.name,
            }),
        );
        *node = Node::binary(BinOp::And, test, exists);
        return;
    }
    node.walk_mut(&mut |child| {
        if let Child::Node(n) = child {
            guard_subtype_nulls(n, model);
        }
    });
}
