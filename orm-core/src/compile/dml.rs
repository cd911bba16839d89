//! `INSERT`, `UPDATE`, `DELETE`.

use super::expr::{write_list, write_node, write_type};
use super::select::{write_from_item, write_query};
use super::{
    CompiledQuery, SqlWriter, array_params, finish, needs_row_numbers, write_array_column,
    write_array_rows,
};
use crate::ast::{
    ConflictAction, ConflictTarget, DeleteCore, FromItem, InsertCore, InsertSource, Node,
    OnConflict, UpdateCore,
};
use crate::error::{Error, Result};
use crate::meta::{Table, TableRef};
use crate::types::{ColumnArray, ColumnType, TypeMod};

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

/// Enters the scope of a DML statement: its target table and the `FROM`/`USING` items. A name
/// given twice is an error (PostgreSQL refuses it: "table name specified more than once").
fn push_dml_scope(w: &mut SqlWriter, target: &TableRef, items: &[FromItem], clause: &str) {
    let mut names = Vec::with_capacity(items.len() + 1);
    names.push(target.name);
    for item in items {
        let name = item.qualifier();
        if names.contains(&name) {
            w.fail(Error::invalid_statement(format!(
                "{name:?} appears twice in the {clause} list of the statement; use an alias (`alias!`) for the second one"
            )));
        }
        names.push(name);
    }
    w.push_scope(names);
}

/// ` FROM a, b` / ` USING a, b`.
fn write_sources(w: &mut SqlWriter, keyword: &str, items: &[FromItem]) {
    for (i, item) in items.iter().enumerate() {
        w.push(if i == 0 { keyword } else { ", " });
        write_from_item(w, item);
    }
}

/// `SET "a" = x, "b" = y`.
fn write_sets(w: &mut SqlWriter, sets: &[(&'static str, Node)]) {
    w.push(" SET ");
    for (i, (col, value)) in sets.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_ident(col);
        w.push(" = ");
        write_node(w, value);
    }
}

/// Compiles an `INSERT`; without its `RETURNING` clause unless `returning`.
pub fn insert(stmt: &InsertCore, returning: bool) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    if let Some(model) = stmt.joined {
        w.fail(Error::invalid_statement(format!(
            "`{}` is stored in several tables (joined-table inheritance): insert it through a session (`Session::add`), which inserts the base row and then the subtype row",
            model.model
        )));
    }
    w.push_scope(vec![stmt.table.name]);
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
                w.fail(Error::invalid_statement("an INSERT needs at least one row"));
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
        InsertSource::Unnest(arrays) => write_unnest_source(&mut w, arrays),
        InsertSource::Query(q) => {
            w.push(" ");
            write_query(&mut w, q);
        }
    }
    if let Some(oc) = &stmt.on_conflict {
        write_on_conflict(&mut w, oc);
    }
    if returning {
        write_returning(&mut w, &stmt.returning);
    }
    w.pop_scope();
    finish(w)
}

/// `ON CONFLICT [target] DO NOTHING | DO UPDATE SET ... [WHERE ...]`.
fn write_on_conflict(w: &mut SqlWriter, oc: &OnConflict) {
    w.push(" ON CONFLICT");
    match &oc.target {
        ConflictTarget::Any => {}
        ConflictTarget::Columns(columns) => {
            if columns.is_empty() {
                w.fail(Error::invalid_statement(
                    "ON CONFLICT (columns) needs at least one column",
                ));
            }
            w.push(" (");
            for (i, c) in columns.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.push_ident(c);
            }
            w.push(")");
        }
        ConflictTarget::Constraint(name) => {
            w.push(" ON CONSTRAINT ");
            w.push_ident(name);
        }
    }
    if let Some(pred) = &oc.target_filter {
        if !matches!(oc.target, ConflictTarget::Columns(_)) {
            w.fail(Error::invalid_statement(
                "an ON CONFLICT index predicate (.where_ before .do_...) needs a column target: use .on_conflict(columns), not .on_constraint(name)",
            ));
        }
        // The server infers the arbiter index when it plans the statement; a generic plan
        // (used after a few executions of a prepared statement) cannot see parameter values,
        // so a predicate with one would stop matching the index after the fifth run.
        let mut probe = SqlWriter::new();
        write_node(&mut probe, pred);
        if probe.finish().is_ok_and(|(_, params)| !params.is_empty()) {
            w.fail(Error::invalid_statement(
                "an ON CONFLICT index predicate cannot hold bound values (the server infers the index when planning, before values are known): write constants with raw::text(\"...\") or compare columns only",
            ));
        }
        w.push(" WHERE ");
        write_node(w, pred);
    }
    match &oc.action {
        ConflictAction::Nothing => w.push(" DO NOTHING"),
        ConflictAction::Update { sets, filter } => {
            if matches!(oc.target, ConflictTarget::Any) {
                w.fail(Error::invalid_statement(
                    "ON CONFLICT DO UPDATE needs a conflict target",
                ));
            }
            if sets.is_empty() {
                w.fail(Error::invalid_statement(
                    "ON CONFLICT DO UPDATE needs at least one SET column; use .do_nothing() to skip conflicting rows",
                ));
            }
            w.push(" DO UPDATE");
            write_sets(w, sets);
            write_where(w, filter.as_ref());
        }
    }
}

/// Compiles an `UPDATE`.
pub fn update(stmt: &UpdateCore) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    if stmt.sets.is_empty() {
        w.fail(Error::invalid_statement(
            "an UPDATE needs at least one SET column",
        ));
    }
    if let Some(model) = stmt.joined {
        let target = joined_target(&mut w, model, &stmt.sets);
        let target_ref = TableRef {
            schema: target.schema,
            name: target.name,
            criteria: target.criteria,
        };
        push_dml_scope(&mut w, &target_ref, &stmt.from, "UPDATE ... FROM");
        w.push("UPDATE ");
        write_table(&mut w, &target_ref);
        write_sets(&mut w, &stmt.sets);
        write_joined_rows(&mut w, model, target, &stmt.from, stmt.filter.as_ref());
        write_returning(&mut w, &stmt.returning);
        w.pop_scope();
        return finish(w);
    }
    push_dml_scope(&mut w, &stmt.table, &stmt.from, "UPDATE ... FROM");
    w.push("UPDATE ");
    write_table(&mut w, &stmt.table);
    write_sets(&mut w, &stmt.sets);
    write_sources(&mut w, " FROM ", &stmt.from);
    write_where(&mut w, stmt.filter.as_ref());
    write_returning(&mut w, &stmt.returning);
    w.pop_scope();
    finish(w)
}

/// Compiles a `DELETE`.
pub fn delete(stmt: &DeleteCore) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    if let Some(model) = stmt.joined {
        // The base rows: the subtype rows go with them (their key's `ON DELETE CASCADE`).
        let base = model.joined.map_or(model, |j| j.base);
        push_dml_scope(&mut w, &stmt.table, &[], "DELETE ... USING");
        w.push("DELETE FROM ");
        write_table(&mut w, &stmt.table);
        write_joined_rows(&mut w, model, base, &stmt.using, stmt.filter.as_ref());
        write_returning(&mut w, &stmt.returning);
        w.pop_scope();
        return finish(w);
    }
    push_dml_scope(&mut w, &stmt.table, &stmt.using, "DELETE ... USING");
    w.push("DELETE FROM ");
    write_table(&mut w, &stmt.table);
    write_sources(&mut w, " USING ", &stmt.using);
    write_where(&mut w, stmt.filter.as_ref());
    write_returning(&mut w, &stmt.returning);
    w.pop_scope();
    finish(w)
}

/// The table of a joined-table model that an `UPDATE` of columns `sets` writes: the one table
/// holding all of them (their [`home`](crate::meta::ColumnDef::home), or the base table).
fn joined_target(
    w: &mut SqlWriter,
    model: &'static Table,
    sets: &[(&'static str, Node)],
) -> &'static Table {
    let Some(joined) = model.joined else {
        return model;
    };
    let mut homes = sets
        .iter()
        .map(|(name, _)| model.column(name).and_then(|c| c.home));
    let first = homes.next().flatten();
    if homes.any(|h| h != first) {
        w.fail(Error::invalid_statement(format!(
            "an UPDATE of `{}` sets columns of several tables (joined-table inheritance): one UPDATE per table, or change the objects in a session",
            model.model
        )));
    }
    match first {
        Some(home) => joined
            .parts
            .iter()
            .copied()
            .find(|p| p.name == home)
            .unwrap_or(joined.base),
        None => joined.base,
    }
}

/// ` WHERE (target.key) IN (SELECT base.key FROM base JOIN part ... WHERE filter)`: the rows of a
/// joined-table model the filter selects (its columns may be any of the model's tables').
fn write_joined_rows(
    w: &mut SqlWriter,
    model: &'static Table,
    target: &'static Table,
    sources: &[FromItem],
    filter: Option<&Node>,
) {
    if !sources.is_empty() {
        w.fail(Error::invalid_statement(format!(
            "`{}` is stored in several tables (joined-table inheritance): its UPDATE/DELETE takes no FROM/USING list; filter with a subquery (`exists`, `in_subquery`)",
            model.model
        )));
    }
    let key: Vec<&'static str> = model.primary_key().map(|c| c.name).collect();
    w.push(" WHERE (");
    for (i, k) in key.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_qualified(target.schema, target.name);
        w.push(".");
        w.push_ident(k);
    }
    w.push(") IN (");
    let rows = crate::ast::SelectCore {
        columns: key
            .iter()
            .map(|k| {
                Node::Column(crate::ast::ColumnRef {
                    table: model.name,
                    name: k,
                })
            })
            .collect(),
        from: vec![FromItem::Table {
            table: model,
            alias: None,
        }],
        filter: filter.cloned(),
        ..Default::default()
    };
    super::select::write_select(w, &rows);
    w.push(")");
}

/// `SELECT * FROM unnest($1::t1[], ...)`; with array columns, each put back together per row
/// (see [`write_array_rows`]).
fn write_unnest_source(w: &mut SqlWriter, arrays: &[(ColumnArray, ColumnType)]) {
    let types: Vec<&ColumnType> = arrays.iter().map(|(_, t)| t).collect();
    let params = match array_params(arrays.iter().map(|(a, _)| a.clone()).collect(), &types) {
        Ok(p) => p,
        Err(e) => return w.fail(e),
    };
    if !needs_row_numbers(&types) {
        w.push(" SELECT * FROM unnest(");
        for (i, (p, ty)) in params.into_iter().zip(&types).enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.push_param(p);
            w.push("::");
            write_type(w, ty, TypeMod::NONE);
            w.push("[]");
        }
        w.push(")");
        return;
    }
    let names: Vec<String> = (0..types.len()).map(|i| format!("c{i}")).collect();
    w.push(" SELECT ");
    for (i, (ty, name)) in types.iter().zip(&names).enumerate() {
        if i > 0 {
            w.push(", ");
        }
        write_array_column(w, ty, name, i);
    }
    w.push(" FROM ");
    write_array_rows(w, params, &types, &names, false);
    // The join that puts the arrays back together keeps the rows' order only by luck: say it.
    w.push(" ORDER BY \"orm_v\".\"n\"");
}
