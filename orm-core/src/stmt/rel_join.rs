//! SQL along a relationship: the joins that follow it, `EXISTS` filters through it, and the
//! ordering of its children, built from its [metadata](crate::meta::RelationMeta). The typed
//! entry points (`Select::join_rel`, `Relationship::any`, ...) live with the relationships.

use crate::ast::{
    BinOp, ColumnRef, FromItem, Join, JoinKind, JoinOn, Node, OrderBy, Ordering, Query, RawSql,
    SelectCore,
};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::meta::{RelationMeta, Table};

/// The join items that follow a relationship from the parent's table (two for many-to-many),
/// or why it does not resolve.
pub fn join_items(meta: &'static RelationMeta, kind: JoinKind) -> Result<Vec<Join>> {
    if std::ptr::eq(meta.target, meta.parent) {
        return Err(Error::invalid_statement(format!(
            "relationship `{}.{}` joins a table to itself: declare an alias (alias!(Other = {})) and join it with an explicit condition",
            meta.model, meta.name, meta.model
        )));
    }
    let r = meta.resolve()?;
    let parent_q = meta.parent.name;
    let target_q = meta.target.name;
    Ok(match &r.secondary {
        None => vec![Join {
            kind,
            item: FromItem::Table {
                table: meta.target,
                alias: None,
            },
            on: JoinOn::On(eq_cols(parent_q, &r.parent_cols, target_q, &r.target_cols)),
        }],
        Some((sec, to_parent, to_target)) => vec![
            Join {
                kind,
                item: FromItem::Table {
                    table: sec,
                    alias: None,
                },
                on: JoinOn::On(eq_cols(sec.name, to_parent, parent_q, &r.parent_cols)),
            },
            Join {
                kind,
                item: FromItem::Table {
                    table: meta.target,
                    alias: None,
                },
                on: JoinOn::On(eq_cols(target_q, &r.target_cols, sec.name, to_target)),
            },
        ],
    })
}

/// `JOIN association ON association.<to_target> = target.<target_cols>`.
pub(crate) fn association_join(
    sec: &'static Table,
    to_target: &[&'static str],
    target: &'static str,
    target_cols: &[&'static str],
) -> Join {
    Join {
        kind: JoinKind::Inner,
        item: FromItem::Table {
            table: sec,
            alias: None,
        },
        on: JoinOn::On(eq_cols(sec.name, to_target, target, target_cols)),
    }
}

pub(crate) fn col(table: &'static str, name: &'static str) -> Node {
    Node::Column(ColumnRef { table, name })
}

/// `l1 = r1 AND l2 = r2 ...`
pub(crate) fn eq_cols(
    lt: &'static str,
    lc: &[&'static str],
    rt: &'static str,
    rc: &[&'static str],
) -> Node {
    let mut out: Option<Node> = None;
    for (l, r) in lc.iter().zip(rc) {
        let eq = Node::Binary(BinOp::Eq, Box::new(col(lt, l)), Box::new(col(rt, r)));
        out = Some(match out {
            None => eq,
            Some(prev) => Node::binary(BinOp::And, prev, eq),
        });
    }
    out.unwrap_or(Node::Keyword("FALSE"))
}

/// `EXISTS (SELECT 1 FROM target WHERE <link> AND condition)` along a relationship: parents with
/// at least one related row matching `condition`. An unresolvable relationship fails when the
/// statement compiles.
pub fn exists_related(meta: &'static RelationMeta, condition: Option<Expr<bool>>) -> Expr<bool> {
    let r = match meta.resolve() {
        Ok(r) => r,
        // An unresolvable relationship is reported when the statement compiles.
        Err(e) => return Expr::new(Node::Raw(Box::new(RawSql::failing(e)))),
    };
    let parent_q = meta.parent.name;
    // A relationship to its own table: the inner table gets an alias (a fresh one per nesting
    // level), and the condition, written with the model's columns meaning the related row, is
    // adapted to it (also inside nested relationship filters, whose links refer to it).
    const ALIASES: [&str; 8] = [
        "orm_t0", "orm_t1", "orm_t2", "orm_t3", "orm_t4", "orm_t5", "orm_t6", "orm_t7",
    ];
    let self_referential = std::ptr::eq(meta.target, meta.parent);
    let mut condition = condition.map(Expr::into_node);
    let (target_q, target_alias) = if self_referential {
        let level = condition.as_ref().map_or(0, |c| c.count_aliases("orm_t"));
        let Some(alias) = ALIASES.get(level) else {
            return Expr::new(Node::Raw(Box::new(RawSql::failing(
                Error::invalid_statement("self-referential relationship filters nest too deep"),
            ))));
        };
        if let Some(c) = condition.as_mut() {
            c.requalify(meta.target.name, alias);
        }
        (*alias, Some(*alias))
    } else {
        (meta.target.name, None)
    };
    let condition = condition.map(Expr::<bool>::new);
    let mut core = SelectCore {
        columns: vec![Node::Keyword("1")],
        from: vec![FromItem::Table {
            table: meta.target,
            alias: target_alias,
        }],
        ..SelectCore::default()
    };
    let link = match &r.secondary {
        None => eq_cols(target_q, &r.target_cols, parent_q, &r.parent_cols),
        Some((sec, to_parent, to_target)) => {
            // The target may be aliased (self-referential): join the association table to it.
            core.joins
                .push(association_join(sec, to_target, target_q, &r.target_cols));
            eq_cols(sec.name, to_parent, parent_q, &r.parent_cols)
        }
    };
    core.filter = Some(match condition {
        None => link,
        Some(c) => Node::binary(BinOp::And, link, c.into_node()),
    });
    Expr::new(Node::Exists(Box::new(Query::from(core))))
}

/// A relationship's ordering of loaded children, on the target qualified by `target`.
pub fn ordering(meta: &RelationMeta, target: &'static str) -> Vec<OrderBy> {
    meta.order_by
        .iter()
        .map(|(c, desc)| {
            let mut o = OrderBy::from_node(col(target, c));
            if *desc {
                o.ordering = Ordering::Desc;
            }
            o
        })
        .collect()
}
