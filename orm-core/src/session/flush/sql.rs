//! The SQL text of a flush: `INSERT ... SELECT ... FROM unnest(...)`, `UPDATE ... FROM
//! unnest(...)`, `DELETE ... USING unnest(...)` — one statement per table and column set, its
//! parameters one array per column — and the cache that writes each text once per process.

use std::any::TypeId;
use std::sync::{Arc, LazyLock, RwLock};

use crate::compile::{self, CompiledQuery, SqlWriter};
use crate::error::{Error, Result};
use crate::expr::Param;
use crate::meta::Table;
use crate::session::columns::ColumnSet;
use crate::session::fxhash::FxHashMap;
use crate::session::persist::Persist;
use crate::types::ColumnType;

/// The texts of the flush statements, by model, kind (insert, update, delete, and the
/// subtype-table kinds of a joined-table model) and column set: the SQL depends only on
/// that, so each text is written once per process, whatever the session, and each statement
/// borrows it.
type SqlCache = FxHashMap<(TypeId, u8, ColumnSet), &'static str>;

static FLUSH_SQL: LazyLock<RwLock<SqlCache>> = LazyLock::new(Default::default);

/// The most texts [`FLUSH_SQL`] keeps: an application flushes a few column sets per model, but
/// the sets of changed columns are many in theory, and past this the texts are written each
/// time rather than kept forever.
const MAX_CACHED: usize = 4096;

/// The statement of `key` with these parameters: its SQL text from the cache, or written by
/// `build` (which pushes the parameters in the same order) the first time.
pub(crate) fn cached_query(
    key: (TypeId, u8, ColumnSet),
    params: Vec<Param>,
    build: impl FnOnce(Vec<Param>) -> Result<CompiledQuery>,
) -> Result<CompiledQuery> {
    // A poisoned lock still holds whole entries (each is inserted in one call).
    let cached = FLUSH_SQL
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .copied();
    if let Some(sql) = cached {
        return Ok(CompiledQuery::new(sql, params));
    }
    let order: Vec<*const ()> = params.iter().map(|p| Arc::as_ptr(p) as *const ()).collect();
    let query = build(params)?;
    // The next statements of this key bind their arrays in the same order (see
    // `compile::write_array_rows`); a text that numbers them otherwise is not cached.
    let same_order = query.params.len() == order.len()
        && query
            .params
            .iter()
            .zip(&order)
            .all(|(p, o)| Arc::as_ptr(p) as *const () == *o);
    debug_assert!(
        same_order,
        "a flush statement numbers its arrays out of order: {}",
        query.sql
    );
    if !same_order {
        return Ok(query);
    }
    let mut cache = FLUSH_SQL.write().unwrap_or_else(|p| p.into_inner());
    if cache.len() < MAX_CACHED {
        // Kept for the life of the process (bounded by `MAX_CACHED`): each statement borrows it.
        cache.insert(key, compile::intern_text(&query.sql));
    }
    Ok(query)
}

/// The rows a flush statement reads, as parameters in the order `write_array_rows` takes them:
/// one array per column (the SQL the same for any number of rows), an array column flattened
/// (see [`ColumnArray`](crate::types::ColumnArray)). The columns from `old_from` on come from
/// `old` (the key and the version as the database has them).
pub(crate) fn row_arrays<P: Persist>(
    rows: &[&P],
    old: &[&P],
    cols: &[usize],
    old_from: usize,
) -> Result<Vec<Param>> {
    let table = P::TABLE;
    let mut arrays = Vec::with_capacity(cols.len());
    let mut types = Vec::with_capacity(cols.len());
    for (i, &c) in cols.iter().enumerate() {
        let from = if i < old_from { rows } else { old };
        arrays
            .push(P::column_array(from, c).ok_or_else(|| {
                Error::object_state(format!("no column #{c} in {}", table.model))
            })?);
        types.push(&table.columns[c].ty);
    }
    compile::array_params(arrays, &types)
}

/// The types of the given columns.
fn column_types(table: &'static Table, cols: &[usize]) -> Vec<&'static ColumnType> {
    cols.iter().map(|&c| &table.columns[c].ty).collect()
}

/// `INSERT INTO t (c...) SELECT ... FROM unnest(...) [WITH ORDINALITY ... ORDER BY n] [RETURNING]`
/// (numbered and sorted only when array or composite columns join the rows to their elements):
/// `insert_cols` are positions in `T::TABLE.columns`, written into table `into` (`T::TABLE`, or
/// one of the tables of a joined-table model).
pub(crate) fn insert_sql<T: Persist>(
    into: &'static Table,
    insert_cols: &[usize],
    params: Vec<Param>,
    write_returning: &dyn Fn(&mut SqlWriter),
) -> Result<CompiledQuery> {
    let table = T::TABLE;
    let types = column_types(table, insert_cols);
    let columns: Vec<&str> = insert_cols.iter().map(|&c| table.columns[c].name).collect();
    let names: Vec<String> = (0..insert_cols.len()).map(|i| format!("c{i}")).collect();
    let mut w = SqlWriter::new();
    w.push("INSERT INTO ");
    w.push_qualified(into.schema, into.name);
    w.push(" (");
    write_idents(&mut w, &columns);
    // Rows are inserted, and returned, in the objects' order: `unnest` reads its arrays in
    // order, and `INSERT … SELECT` writes (and returns) the rows in the order the `SELECT` gives
    // them (what the `RETURNING` sink relies on to match keys to objects). A plain `unnest` is
    // one function scan, in order; a join is sorted back by the row number.
    w.push(") SELECT ");
    for (i, (ty, n)) in types.iter().zip(&names).enumerate() {
        if i > 0 {
            w.push(", ");
        }
        compile::write_array_column(&mut w, ty, n, i);
    }
    w.push(" FROM ");
    let joined = compile::needs_row_numbers(&types);
    compile::write_array_rows(&mut w, params, &types, &names, false);
    if joined {
        // Array and composite columns join the rows to their elements: put them back in the
        // objects' order.
        w.push(" ORDER BY \"orm_v\".\"n\"");
    }
    write_returning(&mut w);
    compile::finish(w)
}

/// `UPDATE t SET a = v.v0, ... FROM unnest(...) AS v WHERE t.k = v.k0 [AND t.version = v.ver]`:
/// `set`, `pk`, `version` (the version column checked, when `target` holds it) and
/// `returning` are positions in `T::TABLE.columns`; the table updated is `target`
/// (`T::TABLE`, or one of the tables of a joined-table model).
pub(crate) fn update_sql<T: Persist>(
    target: &'static Table,
    set: &[usize],
    pk: &[usize],
    version: Option<usize>,
    params: Vec<Param>,
    returning: &[usize],
) -> Result<CompiledQuery> {
    let columns = T::TABLE;
    let mut cols: Vec<usize> = set.to_vec();
    cols.extend(pk);
    cols.extend(version);
    let types = column_types(columns, &cols);
    let mut names: Vec<String> = (0..set.len()).map(|i| format!("v{i}")).collect();
    names.extend((0..pk.len()).map(|i| format!("k{i}")));
    if version.is_some() {
        names.push("ver".into());
    }
    let mut w = SqlWriter::new();
    w.push("UPDATE ");
    w.push_qualified(target.schema, target.name);
    w.push(" SET ");
    for (i, &c) in set.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_ident(columns.columns[c].name);
        w.push(" = ");
        compile::write_array_column(&mut w, types[i], &names[i], i);
    }
    w.push(" FROM ");
    compile::write_array_rows(&mut w, params, &types, &names, false);
    w.push(" WHERE ");
    let pk_names: Vec<&str> = pk.iter().map(|&c| columns.columns[c].name).collect();
    write_matches(
        &mut w,
        target,
        &pk_names,
        &names[set.len()..set.len() + pk.len()],
    );
    if let Some(v) = version {
        w.push(" AND ");
        w.push_qualified(target.schema, target.name);
        w.push(".");
        w.push_ident(columns.columns[v].name);
        w.push(" = \"orm_v\".\"ver\"");
    }
    if !returning.is_empty() {
        w.push(" RETURNING ");
        for (i, &c) in returning.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.push_qualified(target.schema, target.name);
            w.push(".");
            w.push_ident(columns.columns[c].name);
        }
    }
    compile::finish(w)
}

/// Arrays of the given columns over the objects.
pub(crate) fn key_arrays<P: Persist>(rows: &[&P], cols: &[usize]) -> Result<Vec<Param>> {
    if let Some(c) = cols.iter().find(|&&c| P::TABLE.columns[c].ty.is_array()) {
        return Err(Error::invalid_statement(format!(
            "`{}.{}` is an array column: the session cannot match rows by it",
            P::TABLE.model,
            P::TABLE.columns[*c].name
        )));
    }
    row_arrays(rows, rows, cols, cols.len())
}

/// `unnest($1::t1[], $2::t2[]) AS "orm_v"("k0", "k1")`: rows of key columns.
pub(crate) fn write_unnest(
    w: &mut SqlWriter,
    arrays: Vec<Param>,
    columns: &[&'static crate::meta::ColumnDef],
    names: &[String],
) {
    let types: Vec<&ColumnType> = columns.iter().map(|c| &c.ty).collect();
    compile::write_array_rows(w, arrays, &types, names, false);
}

/// ` RETURNING "a", "b"` (nothing for no columns).
pub(crate) fn write_returning(w: &mut SqlWriter, columns: &[&str]) {
    if !columns.is_empty() {
        w.push(" RETURNING ");
        write_idents(w, columns);
    }
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
    let mut w = SqlWriter::new();
    w.push("DELETE FROM ");
    w.push_qualified(table.schema, table.name);
    w.push(" USING ");
    write_keyed_rows(&mut w, table, cols, arrays)?;
    compile::finish(w)
}

/// `unnest(...) AS "orm_v"(k0, ...) WHERE t.c0 = "orm_v".k0 AND ...`: the rows of `table`
/// whose columns `cols` match one of the arrays' rows.
fn write_keyed_rows(
    w: &mut SqlWriter,
    table: &'static Table,
    cols: &[&'static str],
    arrays: Vec<Param>,
) -> Result<()> {
    let defs = column_defs(table, cols)?;
    let names: Vec<String> = (0..cols.len()).map(|i| format!("k{i}")).collect();
    write_unnest(w, arrays, &defs, &names);
    w.push(" WHERE ");
    write_matches(w, table, cols, &names);
    Ok(())
}

/// `UPDATE t SET "a" = NULL, ... FROM unnest(...) AS "orm_v"(k0, ...) WHERE t.k = "orm_v".k0
/// AND ...`: the columns `set` of the rows whose key columns `key` match one of the arrays'
/// rows set to `NULL` (a cycle between tables broken before their `DELETE`s).
pub(crate) fn null_sql(
    table: &'static Table,
    set: &[&'static str],
    key: &[&'static str],
    arrays: Vec<Param>,
) -> Result<CompiledQuery> {
    let mut w = SqlWriter::new();
    w.push("UPDATE ");
    w.push_qualified(table.schema, table.name);
    w.push(" SET ");
    for (i, c) in set.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_ident(c);
        w.push(" = NULL");
    }
    w.push(" FROM ");
    write_keyed_rows(&mut w, table, key, arrays)?;
    compile::finish(w)
}

/// The tables storing a model's rows: its own, or a joined-table model's base table and
/// subtype tables.
pub(crate) fn storage_tables(table: &'static Table) -> Vec<&'static Table> {
    match table.joined {
        Some(j) => std::iter::once(j.base)
            .chain(j.parts.iter().copied())
            .collect(),
        None => vec![table],
    }
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

/// `SELECT <every column>, <every column property> FROM t JOIN unnest(<keys>) AS "orm_v"(...) ON
/// <keys match> [WHERE <condition>]`: the rows of these objects' primary keys, decodable as the
/// model (one SQL text for any number), among those `condition` (the session's criteria on
/// the table, written over its name) lets through.
pub(crate) fn select_by_keys<P: Persist>(
    rows: &[&P],
    condition: Option<crate::expr::Node>,
) -> Result<CompiledQuery> {
    let table = P::TABLE;
    let pk: Vec<usize> = (0..table.columns.len())
        .filter(|&i| table.columns[i].primary_key)
        .collect();
    let arrays = key_arrays(rows, &pk)?;
    let defs: Vec<&'static crate::meta::ColumnDef> =
        pk.iter().map(|&c| &table.columns[c]).collect();
    let names: Vec<String> = (0..pk.len()).map(|i| format!("k{i}")).collect();
    let mut w = SqlWriter::new();
    w.push("SELECT ");
    for (i, c) in table.columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        match c.home {
            Some(home) => w.push_qualified(table.schema, home),
            None => w.push_qualified(table.schema, table.name),
        }
        w.push(".");
        w.push_ident(c.name);
    }
    // The column properties, which the model decodes after its columns (their expressions
    // name the table and a joined-table enum's subtype tables, which the FROM list below has).
    if !table.properties.is_empty() {
        let parts = table.joined.map_or(&[][..], |j| j.parts);
        w.push_scope(
            std::iter::once(table.name)
                .chain(parts.iter().map(|p| p.name))
                .collect(),
        );
        for node in crate::stmt::property_nodes(table) {
            w.push(", ");
            compile::write_node(&mut w, &node);
        }
        w.pop_scope();
    }
    w.push(" FROM ");
    compile::write_table_source(&mut w, table, None);
    w.push(" JOIN ");
    write_unnest(&mut w, arrays, &defs, &names);
    w.push(" ON ");
    let pk_names: Vec<&str> = defs.iter().map(|c| c.name).collect();
    write_matches(&mut w, table, &pk_names, &names);
    if let Some(condition) = condition {
        w.push(" WHERE ");
        w.push_scope(vec![table.name]);
        compile::write_node(&mut w, &condition);
        w.pop_scope();
    }
    compile::finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past `MAX_CACHED` texts the cache stops growing: a new key's text is written each time.
    #[test]
    fn the_process_cache_of_statement_texts_is_bounded() {
        let built = std::cell::Cell::new(0);
        let query = |kind: u8, column: usize| {
            let key = (TypeId::of::<()>(), kind, ColumnSet::empty().with(column));
            cached_query(key, Vec::new(), |params| {
                built.set(built.get() + 1);
                Ok(CompiledQuery::new(format!("-- {kind} {column}"), params))
            })
            .expect("a text")
        };
        // 33 kinds x 128 columns: more keys than the cache keeps.
        for i in 0..(33 * 128) {
            let q = query(200 + (i / 128) as u8, i % 128);
            assert_eq!(q.sql, format!("-- {} {}", 200 + i / 128, i % 128));
        }
        assert_eq!(built.get(), 33 * 128);
        let kept = FLUSH_SQL.read().expect("not poisoned").len();
        assert!(kept <= MAX_CACHED, "{kept} texts kept");
        // The first key is kept (read back, not written again); the last one is not.
        assert_eq!(query(200, 0).sql, "-- 200 0");
        assert_eq!(query(232, 127).sql, "-- 232 127");
        assert_eq!(built.get(), 33 * 128 + 1);
    }
}
