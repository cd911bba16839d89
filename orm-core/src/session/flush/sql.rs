//! The SQL text of a flush: `INSERT ... SELECT ... FROM unnest(...)`, `UPDATE ... FROM
//! unnest(...)`, `DELETE ... USING unnest(...)` — one statement per table and column set, its
//! parameters one array per column — and the cache that writes each text once per session.

use std::any::TypeId;

use crate::compile::{self, CompiledQuery, SqlWriter};
use crate::error::{Error, Result};
use crate::expr::Param;
use crate::meta::Table;
use crate::session::columns::ColumnSet;
use crate::session::job::SqlCache;
use crate::session::persist::Persist;

/// The statement of `key` with these parameters: its SQL text from the cache, or written by
/// `build` (which pushes the parameters in the same order) the first time.
pub(crate) fn cached_query(
    cache: &mut SqlCache,
    key: (TypeId, u8, ColumnSet),
    params: Vec<Param>,
    build: impl FnOnce(Vec<Param>) -> Result<CompiledQuery>,
) -> Result<CompiledQuery> {
    if let Some(sql) = cache.get(&key) {
        return Ok(CompiledQuery {
            sql: sql.clone(),
            params,
        });
    }
    let query = build(params)?;
    cache.insert(key, query.sql.clone());
    Ok(query)
}

/// The rows a flush statement reads: one array per column for `unnest` (the SQL the same for
/// any number of rows), or, when a column is itself an array (which `unnest` would flatten),
/// one parameter per row and column as `VALUES`.
pub(crate) enum RowSource {
    /// One array parameter per column.
    Arrays(Vec<Param>),
    /// One parameter per column, for each row.
    Rows(Vec<Vec<Param>>),
}

impl RowSource {
    /// The rows of `cols` over `rows` (`old` supplies the columns from `old_from` on: the key
    /// and the version as the database has them).
    pub(crate) fn of<P: Persist>(
        rows: &[&P],
        old: &[&P],
        cols: &[usize],
        old_from: usize,
    ) -> Result<RowSource> {
        let table = P::TABLE;
        let pick = |i: usize| if i < old_from { rows } else { old };
        let is_array = |c: usize| table.columns.get(c).is_some_and(|d| d.ty.is_array());
        if !cols.iter().any(|&c| is_array(c)) {
            let mut arrays = Vec::with_capacity(cols.len());
            for (i, &c) in cols.iter().enumerate() {
                arrays.extend(key_arrays(pick(i), &[c])?);
            }
            return Ok(RowSource::Arrays(arrays));
        }
        (0..rows.len())
            .map(|r| {
                cols.iter()
                    .enumerate()
                    .map(|(i, &c)| {
                        pick(i)[r].column_param(c).ok_or_else(|| {
                            Error::object_state(format!("no column #{c} in {}", table.model))
                        })
                    })
                    .collect()
            })
            .collect::<Result<_>>()
            .map(RowSource::Rows)
    }
}

/// `INSERT INTO t (c...) SELECT ... FROM unnest(...) WITH ORDINALITY ... ORDER BY n [RETURNING]`.
pub(crate) fn insert_sql<T: Persist>(
    insert_cols: &[usize],
    arrays: RowSource,
    write_returning: &dyn Fn(&mut SqlWriter),
) -> Result<CompiledQuery> {
    let table = T::TABLE;
    let defs: Vec<_> = insert_cols.iter().map(|&c| &table.columns[c]).collect();
    let columns: Vec<&str> = defs.iter().map(|c| c.name).collect();
    let mut names: Vec<String> = (0..insert_cols.len()).map(|i| format!("c{i}")).collect();
    let mut w = SqlWriter::new();
    w.push("INSERT INTO ");
    w.push_qualified(table.schema, table.name);
    w.push(" (");
    write_idents(&mut w, &columns);
    // ORDER BY the position: rows are inserted, and returned, in the objects' order.
    w.push(") SELECT ");
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push("\"orm_v\".");
        w.push_ident(n);
    }
    w.push(" FROM ");
    names.push("n".into());
    write_rows(&mut w, arrays, &defs, &names, true);
    w.push(" ORDER BY \"orm_v\".\"n\"");
    write_returning(&mut w);
    compile::finish(w)
}

/// `UPDATE t SET a = v.v0, ... FROM unnest(...) AS v WHERE t.k = v.k0 [AND t.version = v.ver]`.
pub(crate) fn update_sql<T: Persist>(
    set: &[usize],
    pk: &[usize],
    arrays: RowSource,
    returning: &[usize],
) -> Result<CompiledQuery> {
    let table = T::TABLE;
    let mut defs = Vec::new();
    let mut names = Vec::new();
    for (i, &c) in set.iter().enumerate() {
        defs.push(&table.columns[c]);
        names.push(format!("v{i}"));
    }
    for (i, &c) in pk.iter().enumerate() {
        defs.push(&table.columns[c]);
        names.push(format!("k{i}"));
    }
    if let Some(v) = T::VERSION {
        defs.push(&table.columns[v]);
        names.push("ver".into());
    }
    let mut w = SqlWriter::new();
    w.push("UPDATE ");
    w.push_qualified(table.schema, table.name);
    w.push(" SET ");
    for (i, &c) in set.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_ident(table.columns[c].name);
        w.push(&format!(" = \"orm_v\".\"v{i}\""));
    }
    w.push(" FROM ");
    write_rows(&mut w, arrays, &defs, &names, false);
    w.push(" WHERE ");
    let pk_names: Vec<&str> = pk.iter().map(|&c| table.columns[c].name).collect();
    write_matches(
        &mut w,
        table,
        &pk_names,
        &names[set.len()..set.len() + pk.len()],
    );
    if let Some(v) = T::VERSION {
        w.push(" AND ");
        w.push_qualified(table.schema, table.name);
        w.push(".");
        w.push_ident(table.columns[v].name);
        w.push(" = \"orm_v\".\"ver\"");
    }
    if !returning.is_empty() {
        w.push(" RETURNING ");
        for (i, &c) in returning.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.push_qualified(table.schema, table.name);
            w.push(".");
            w.push_ident(table.columns[c].name);
        }
    }
    compile::finish(w)
}

/// Arrays of the given columns over the objects.
pub(crate) fn key_arrays<P: Persist>(rows: &[&P], cols: &[usize]) -> Result<Vec<Param>> {
    cols.iter()
        .map(|&c| {
            P::column_array(rows, c)
                .ok_or_else(|| Error::object_state(format!("no column #{c} in {}", P::TABLE.model)))
        })
        .collect()
}

/// `unnest($1::t1[], $2::t2[]) AS "orm_v"("k0", "k1")`.
pub(crate) fn write_unnest(
    w: &mut SqlWriter,
    arrays: Vec<Param>,
    types: &[&'static crate::meta::ColumnDef],
    names: &[String],
) {
    write_unnest_with(w, arrays, types, names, false);
}

/// [`write_unnest`], optionally `WITH ORDINALITY` (then `names` ends with the ordinal's name).
pub(crate) fn write_unnest_with(
    w: &mut SqlWriter,
    arrays: Vec<Param>,
    types: &[&'static crate::meta::ColumnDef],
    names: &[String],
    ordinality: bool,
) {
    w.push("unnest(");
    for (i, (a, c)) in arrays.into_iter().zip(types).enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_param(a);
        w.push("::");
        compile::write_type(w, &c.ty, None);
        w.push("[]");
    }
    w.push(if ordinality {
        ") WITH ORDINALITY AS \"orm_v\"("
    } else {
        ") AS \"orm_v\"("
    });
    write_idents(w, names);
    w.push(")");
}

/// The rows of a [`RowSource`]: `unnest(...)`, or `(VALUES ($1::t1, $2::t2[, 1]), ...)`, as
/// `"orm_v"(names)`; with `ordinality`, numbered (and `names` ends with the number's name).
fn write_rows(
    w: &mut SqlWriter,
    source: RowSource,
    types: &[&'static crate::meta::ColumnDef],
    names: &[String],
    ordinality: bool,
) {
    let rows = match source {
        RowSource::Arrays(arrays) => return write_unnest_with(w, arrays, types, names, ordinality),
        RowSource::Rows(rows) => rows,
    };
    w.push("(VALUES ");
    for (n, row) in rows.into_iter().enumerate() {
        if n > 0 {
            w.push(", ");
        }
        w.push("(");
        for (i, (p, c)) in row.into_iter().zip(types).enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.push_param(p);
            w.push("::");
            compile::write_type(w, &c.ty, None);
        }
        if ordinality {
            w.push(&format!(", {}", n + 1));
        }
        w.push(")");
    }
    w.push(") AS \"orm_v\"(");
    write_idents(w, names);
    w.push(")");
}

/// `"a", "b", "c"`.
pub(crate) fn write_idents<S: AsRef<str>>(w: &mut SqlWriter, names: &[S]) {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_ident(n.as_ref());
    }
}

/// `"t"."c1" = "orm_v"."n1" AND "t"."c2" = "orm_v"."n2"`: a row of the table matched with a
/// row of the `unnest` alias.
pub(crate) fn write_matches(
    w: &mut SqlWriter,
    table: &'static Table,
    cols: &[&str],
    names: &[String],
) {
    for (i, (c, n)) in cols.iter().zip(names).enumerate() {
        if i > 0 {
            w.push(" AND ");
        }
        w.push_qualified(table.schema, table.name);
        w.push(".");
        w.push_ident(c);
        w.push(" = \"orm_v\".");
        w.push_ident(n);
    }
}

/// `DELETE FROM t USING unnest(...) AS "orm_v"(k0, ...) WHERE t.c0 = "orm_v".k0 AND ...`: one
/// statement deleting the rows whose `cols` match one of the arrays' rows.
pub(crate) fn delete_using(
    table: &'static Table,
    cols: &[&'static str],
    arrays: Vec<Param>,
) -> Result<CompiledQuery> {
    let defs = column_defs(table, cols)?;
    let names: Vec<String> = (0..cols.len()).map(|i| format!("k{i}")).collect();
    let mut w = SqlWriter::new();
    w.push("DELETE FROM ");
    w.push_qualified(table.schema, table.name);
    w.push(" USING ");
    write_unnest(&mut w, arrays, &defs, &names);
    w.push(" WHERE ");
    write_matches(&mut w, table, cols, &names);
    compile::finish(w)
}

pub(crate) fn column_defs(
    table: &'static Table,
    names: &[&'static str],
) -> Result<Vec<&'static crate::meta::ColumnDef>> {
    names
        .iter()
        .map(|n| {
            table.column(n).ok_or_else(|| {
                Error::invalid_statement(format!("no column {n:?} in {:?}", table.name))
            })
        })
        .collect()
}

/// The SQL text and parameters of a query.
pub(crate) fn compile_query(q: &crate::ast::Query) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    compile::write_query(&mut w, q);
    compile::finish(w)
}
