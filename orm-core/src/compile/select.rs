//! Queries: `SELECT`, set operations, `FROM` items, joins and CTEs.

use std::sync::Arc;

use super::SqlWriter;
use super::expr::{write_list, write_node, write_order_by, write_window_spec};
use crate::ast::{BinOp, ColumnRef, Node};
use crate::ast::{
    CompoundCore, Cte, Distinct, FromItem, JoinKind, JoinOn, LockStrength, LockWait, Query,
    SelectCore,
};
use crate::error::Error;
use crate::meta::Table;

/// Writes any query.
pub(crate) fn write_query(w: &mut SqlWriter, q: &Query) {
    match q {
        Query::Select(core) => write_select(w, core),
        Query::Compound(c) => write_compound(w, c),
    }
}

/// Whether an operand of a set operation needs parentheses (its own ORDER BY / LIMIT, or a
/// nested set operation, which would otherwise associate differently).
fn needs_parens(q: &Query) -> bool {
    match q {
        Query::Select(s) => {
            !s.order_by.is_empty() || s.limit.is_some() || s.offset.is_some() || s.lock.is_some()
        }
        Query::Compound(_) => true,
    }
}

fn write_operand_query(w: &mut SqlWriter, q: &Query) {
    if needs_parens(q) {
        w.push("(");
        write_query(w, q);
        w.push(")");
    } else {
        write_query(w, q);
    }
}

fn write_compound(w: &mut SqlWriter, c: &CompoundCore) {
    // A left-nested chain of the same operator needs no parentheses: a UNION b UNION c.
    match &c.left {
        Query::Compound(inner)
            if inner.op == c.op
                && inner.order_by.is_empty()
                && inner.limit.is_none()
                && inner.offset.is_none() =>
        {
            write_compound(w, inner)
        }
        other => write_operand_query(w, other),
    }
    w.push(" ");
    w.push(c.op.as_sql());
    w.push(" ");
    write_operand_query(w, &c.right);
    if !c.order_by.is_empty() {
        w.push(" ORDER BY ");
        write_order_by(w, &c.order_by, true);
    }
    write_limit(w, c.limit.as_ref(), c.offset.as_ref());
}

fn write_limit(w: &mut SqlWriter, limit: Option<&Node>, offset: Option<&Node>) {
    if let Some(l) = limit {
        w.push(" LIMIT ");
        write_node(w, l);
    }
    if let Some(o) = offset {
        w.push(" OFFSET ");
        write_node(w, o);
    }
}

/// The names columns of this query may be qualified by (a joined-table model's subtype tables
/// too).
fn qualifiers(s: &SelectCore) -> Vec<&'static str> {
    let items = || s.from.iter().chain(s.joins.iter().map(|j| &j.item));
    let mut out: Vec<&'static str> = items().map(FromItem::qualifier).collect();
    for item in items() {
        if let FromItem::Table { table, .. } = item {
            out.extend(
                table
                    .joined
                    .iter()
                    .flat_map(|j| j.parts.iter().map(|p| p.name)),
            );
        }
    }
    out
}

/// The joined-table enums this query reads through `LEFT JOIN`s of their subtype tables, if any
/// (their filters' null tests of subtype columns are guarded, `subtype_nulls.rs`).
fn outer_joined(s: &SelectCore) -> Option<Vec<&'static Table>> {
    let enums: Vec<&'static Table> = s
        .from
        .iter()
        .chain(s.joins.iter().map(|j| &j.item))
        .filter_map(|item| match item {
            FromItem::Table { table, .. } if table.joined.is_some_and(|j| j.outer) => Some(*table),
            _ => None,
        })
        .collect();
    (!enums.is_empty()).then_some(enums)
}

/// `"employees" [AS a] LEFT JOIN "managers" ON "managers"."id" = "employees"."id" ...`: a table
/// and, for joined-table inheritance, its subtype tables joined on the shared key.
pub(crate) fn write_table_source(w: &mut SqlWriter, table: &'static Table, alias: Option<&str>) {
    w.note_read(table);
    w.push_qualified(table.schema, table.name);
    if let Some(a) = alias {
        w.push(" AS ");
        w.push_ident(a);
    }
    let Some(joined) = table.joined else {
        return;
    };
    for part in joined.parts {
        w.note_read(part);
        w.push(if joined.outer {
            " LEFT JOIN "
        } else {
            " JOIN "
        });
        w.push_qualified(part.schema, part.name);
        w.push(" ON ");
        for (i, key) in table.primary_key().enumerate() {
            if i > 0 {
                w.push(" AND ");
            }
            w.push_ident(part.name);
            w.push(".");
            w.push_ident(key.name);
            w.push(" = ");
            match alias {
                Some(a) => w.push_ident(a),
                None => w.push_qualified(table.schema, table.name),
            }
            w.push(".");
            w.push_ident(key.name);
        }
    }
}

pub(crate) fn write_select(w: &mut SqlWriter, s: &SelectCore) {
    w.push_scope(qualifiers(s));
    w.push("SELECT ");
    match &s.distinct {
        Distinct::None => {}
        Distinct::All => w.push("DISTINCT "),
        Distinct::On(keys) => {
            w.push("DISTINCT ON (");
            write_list(w, keys);
            w.push(") ");
        }
    }
    write_list(w, &s.columns);
    if !s.from.is_empty() {
        w.push(" FROM ");
        for (i, item) in s.from.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            write_from_item(w, item);
        }
    }
    for (i, join) in s.joins.iter().enumerate() {
        w.push(join.kind.as_sql());
        match &join.item {
            // A joined-table model as the right side: its own joins in parentheses.
            FromItem::Table { table, alias } if table.joined.is_some() => {
                w.push("(");
                write_table_source(w, table, *alias);
                w.push(")");
            }
            item => write_from_item(w, item),
        }
        match &join.on {
            JoinOn::On(cond) => {
                w.push(" ON ");
                write_node(w, cond);
            }
            JoinOn::ForeignKey => {
                let earlier: Vec<&FromItem> = s
                    .from
                    .iter()
                    .chain(s.joins[..i].iter().map(|j| &j.item))
                    .collect();
                match fk_condition(&join.item, &earlier) {
                    Ok(cond) => {
                        w.push(" ON ");
                        write_node(w, &cond);
                    }
                    Err(e) => w.fail(e),
                }
            }
            JoinOn::None if join.kind != JoinKind::Cross => w.push(" ON TRUE"),
            JoinOn::None => {}
        }
    }
    if let Some(f) = &s.filter {
        w.push(" WHERE ");
        match outer_joined(s) {
            Some(enums) => {
                let mut f = f.clone();
                for model in enums {
                    super::guard_subtype_nulls(&mut f, model);
                }
                write_node(w, &f);
            }
            None => write_node(w, f),
        }
    }
    if !s.group_by.is_empty() {
        w.push(" GROUP BY ");
        write_list(w, &s.group_by);
    }
    if let Some(h) = &s.having {
        w.push(" HAVING ");
        write_node(w, h);
    }
    if !s.windows.is_empty() {
        w.push(" WINDOW ");
        for (i, (name, spec)) in s.windows.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.push_ident(name);
            w.push(" AS (");
            write_window_spec(w, spec);
            w.push(")");
        }
    }
    if !s.order_by.is_empty() {
        w.push(" ORDER BY ");
        write_order_by(w, &s.order_by, false);
    }
    write_limit(w, s.limit.as_ref(), s.offset.as_ref());
    if let Some(lock) = &s.lock {
        let strength = match lock.strength {
            Some(LockStrength::Update) => " FOR UPDATE",
            Some(LockStrength::NoKeyUpdate) => " FOR NO KEY UPDATE",
            Some(LockStrength::Share) => " FOR SHARE",
            Some(LockStrength::KeyShare) => " FOR KEY SHARE",
            None => {
                w.fail(Error::invalid_statement(
                    "`of`, `nowait` and `skip_locked` modify a row lock: add `for_update()` (or `for_share()`, ...)",
                ));
                ""
            }
        };
        w.push(strength);
        if !lock.of.is_empty() {
            w.push(" OF ");
            for (i, name) in lock.of.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.push_ident(name);
            }
        }
        match lock.wait {
            LockWait::Wait => {}
            LockWait::NoWait => w.push(" NOWAIT"),
            LockWait::SkipLocked => w.push(" SKIP LOCKED"),
        }
    }
    w.pop_scope();
}

/// Writes a `FROM` item; a CTE is written by name and its definition is collected for the
/// statement's `WITH` clause.
pub(crate) fn write_from_item(w: &mut SqlWriter, item: &FromItem) {
    match item {
        FromItem::Table { table, alias } => write_table_source(w, table, *alias),
        FromItem::Subquery {
            query,
            alias,
            lateral,
        } => {
            if *lateral {
                w.push("LATERAL ");
            }
            w.push("(");
            write_query(w, query);
            w.push(") AS ");
            w.push_ident(alias);
        }
        FromItem::Cte(cte) => {
            define_cte(w, cte);
            w.push_ident(cte.name);
        }
        FromItem::CteRef(name) => w.push_ident(name),
        FromItem::Function(call, alias) => {
            super::expr::write_node(w, call);
            w.push(" AS ");
            w.push_ident(alias);
        }
    }
}

/// Collects a CTE's definition (once per statement; CTEs it uses come first).
fn define_cte(w: &mut SqlWriter, cte: &Arc<Cte>) {
    let id = Arc::as_ptr(cte) as usize;
    if w.cte_known(cte.name, id) {
        return;
    }
    let slot = w.reserve_cte(cte.name, id);
    let def = w.capture(|w| {
        w.push_ident(cte.name);
        if !cte.columns.is_empty() {
            w.push("(");
            for (i, c) in cte.columns.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.push_ident(c);
            }
            w.push(")");
        }
        w.push(" AS (");
        write_query(w, &cte.query);
        w.push(")");
    });
    w.define_cte(slot, def, cte.recursive);
}

/// The join condition from the one declared foreign key between `joined` and an earlier table.
pub(crate) fn fk_condition(joined: &FromItem, earlier: &[&FromItem]) -> Result<Node, Error> {
    let FromItem::Table { table: jt, .. } = joined else {
        return Err(Error::invalid_statement(
            "a join on a foreign key needs a table, not a subquery or CTE",
        ));
    };
    let jq = joined.qualifier();
    let mut found: Vec<Node> = Vec::new();
    for item in earlier {
        let FromItem::Table { table: et, .. } = item else {
            continue;
        };
        let eq = item.qualifier();
        // joined -> earlier
        found.extend(fk_pairs(jt, et).map(|(from, to)| eq_node(jq, from, eq, to)));
        // earlier -> joined (skip self-reference counted twice)
        if !std::ptr::eq(*jt, *et) || jq != eq {
            found.extend(fk_pairs(et, jt).map(|(from, to)| eq_node(eq, from, jq, to)));
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::invalid_statement(format!(
            "no foreign key between {:?} and the tables already in the query; give the join condition",
            jt.name
        ))),
        n => Err(Error::invalid_statement(format!(
            "{n} foreign keys could join {:?}; give the join condition",
            jt.name
        ))),
    }
}

/// Column pairs (from, to) of the foreign keys of `from` that reference `to`.
fn fk_pairs<'a>(
    from: &'a Table,
    to: &'a Table,
) -> impl Iterator<Item = (&'static str, &'static str)> + 'a {
    from.columns.iter().filter_map(move |c| {
        let fk = c.references.as_ref()?;
        let same_schema = fk.schema.or(from.schema) == to.schema;
        (fk.table == to.name && same_schema).then_some((c.name, fk.column))
    })
}

fn eq_node(lt: &'static str, lc: &'static str, rt: &'static str, rc: &'static str) -> Node {
    Node::Binary(
        BinOp::Eq,
        Box::new(Node::Column(ColumnRef {
            table: lt,
            name: lc,
        })),
        Box::new(Node::Column(ColumnRef {
            table: rt,
            name: rc,
        })),
    )
}
