//! `INSERT`, `UPDATE`, `DELETE`.

use super::expr::{write_list, write_node, write_type};
use super::select::write_query;
use super::{CompiledQuery, SqlWriter, finish};
use crate::error::{Error, Result};
use crate::expr::Node;
use crate::meta::TableRef;
use crate::stmt::{Delete, Insert, InsertSource, Update};

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

/// Compiles an `INSERT`.
pub fn insert<M, O>(stmt: &Insert<M, O>) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
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
        InsertSource::Query(q) => {
            w.push(" ");
            write_query(&mut w, q);
        }
    }
    write_returning(&mut w, &stmt.returning);
    w.pop_scope();
    finish(w)
}

/// Compiles an `UPDATE`.
pub fn update<M, O>(stmt: &Update<M, O>) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    if stmt.sets.is_empty() {
        w.fail(Error::invalid_statement(
            "an UPDATE needs at least one SET column",
        ));
    }
    w.push_scope(vec![stmt.table.name]);
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
    w.pop_scope();
    finish(w)
}

/// Compiles a `DELETE`.
pub fn delete<M, O>(stmt: &Delete<M, O>) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    w.push_scope(vec![stmt.table.name]);
    w.push("DELETE FROM ");
    write_table(&mut w, &stmt.table);
    write_where(&mut w, stmt.filter.as_ref());
    write_returning(&mut w, &stmt.returning);
    w.pop_scope();
    finish(w)
}
