//! Rows passed as column arrays (see [`ColumnArray`]): `unnest($1::t1[], ...) AS "orm_v"(...)`,
//! and for each array column, its flattened arrays put back together per row. What
//! `insert_many` and the session's flush read their rows from; the SQL depends only on the
//! columns' types, never on the number of rows.

use super::{SqlWriter, write_type};
use crate::error::{Error, Result};
use crate::expr::Param;
use crate::types::{ColumnArray, ColumnType, TypeMod};

/// The parameters of `arrays` in the order [`write_array_rows`] writes them: the main arrays
/// (a flat column's values, an array column's lengths) in column order, then each array
/// column's row numbers and elements. An array column (by its type) must come flattened.
pub(crate) fn array_params(arrays: Vec<ColumnArray>, types: &[&ColumnType]) -> Result<Vec<Param>> {
    let mut main = Vec::with_capacity(arrays.len());
    let mut nested = Vec::new();
    for (array, ty) in arrays.into_iter().zip(types) {
        match (array, ty.is_array()) {
            (ColumnArray::Flat(p), false) => main.push(p),
            (
                ColumnArray::Nested {
                    lengths,
                    owners,
                    elements,
                },
                true,
            ) => {
                main.push(lengths);
                nested.push(owners);
                nested.push(elements);
            }
            // An array column whose values come one per row, not flattened: an inheritance
            // enum's rows whose variants hold it as different Rust types (see
            // `enum_column_array`), or a `Deferred` array.
            (ColumnArray::Flat(_), true) => {
                return Err(Error::invalid_statement(format!(
                    "a multi-row statement cannot carry this array column ({ty:?}) one value per row: an inheritance enum's variants holding it as different Rust types, or a `Deferred` array, cannot be flattened; declare it as the same type in every variant, or insert these rows one at a time"
                )));
            }
            (ColumnArray::Nested { .. }, false) => {
                return Err(Error::invalid_statement(format!(
                    "the values of a column of type {ty:?} came flattened"
                )));
            }
        }
    }
    main.extend(nested);
    Ok(main)
}

/// Whether rows of these column types need [`write_array_rows`]'s row numbers: an array
/// column is put back together by row, and a composite column read by row (see there).
pub(crate) fn needs_row_numbers(types: &[&ColumnType]) -> bool {
    types.iter().any(|t| t.is_array() || is_composite(t))
}

/// A composite (not an array of one): `unnest` would spread its attributes over several
/// columns, so its array is subscripted by row number instead.
fn is_composite(ty: &ColumnType) -> bool {
    matches!(ty, ColumnType::Composite(_))
}

/// `unnest($1::t1[], ...) [WITH ORDINALITY] AS "orm_v"(names[, "n"])`, followed for each
/// array column `i` by `LEFT JOIN (SELECT "r", array_agg("x" ORDER BY "o") AS "a" FROM
/// unnest($r::int8[], $x::elem[]) WITH ORDINALITY ... GROUP BY "r") AS "orm_a<i>" ON
/// "orm_a<i>"."r" = "orm_v"."n"`, and for each composite column `i` (which `unnest` would
/// spread over one column per attribute) by `CROSS JOIN LATERAL (SELECT
/// ($c::type[])["orm_v"."n"::INTEGER] AS "x") AS "orm_c<i>"`. `params` as [`array_params`]
/// orders them. With an array or composite column the rows are always numbered (`n` is
/// appended to `names`), otherwise only with `ordinality`. Read each column with
/// [`write_array_column`].
pub(crate) fn write_array_rows(
    w: &mut SqlWriter,
    params: Vec<Param>,
    types: &[&ColumnType],
    names: &[String],
    ordinality: bool,
) {
    // Numbered in the arrays' order, not in the order the text names them (an array of
    // composites names its elements before their owners, a composite column comes last):
    // the flush caches the text and binds the next rows' arrays in that order.
    w.number_params(&params);
    let mut params = params.into_iter();
    let numbered = ordinality || needs_row_numbers(types);
    let mut composites = Vec::new();
    let mut first = true;
    w.push("unnest(");
    for (i, ty) in types.iter().enumerate() {
        let param = params.next();
        if is_composite(ty) {
            composites.push((i, *ty, param));
            continue;
        }
        if !first {
            w.push(", ");
        }
        first = false;
        push_param(w, param);
        w.push("::");
        if ty.is_array() {
            w.push("INTEGER");
        } else {
            write_type(w, ty, TypeMod::NONE);
        }
        w.push("[]");
    }
    if first {
        // Only composite columns: a series of the first one's subscripts numbers the rows.
        if let Some((_, ty, Some(p))) = composites.first() {
            w.push("array_fill(0, ARRAY[cardinality(");
            w.push_param(p.clone());
            w.push("::");
            write_type(w, ty, TypeMod::NONE);
            w.push("[])])");
        }
    }
    w.push(if numbered {
        ") WITH ORDINALITY AS \"orm_v\"("
    } else {
        ") AS \"orm_v\"("
    });
    let mut first = true;
    for (n, ty) in names.iter().zip(types) {
        if is_composite(ty) {
            continue;
        }
        if !first {
            w.push(", ");
        }
        first = false;
        w.push_ident(n);
    }
    if first {
        w.push("\"orm_none\"");
    }
    if numbered {
        w.push(", \"n\"");
    }
    w.push(")");
    for (i, ty) in types.iter().enumerate() {
        let ColumnType::Array(element) = ty else {
            continue;
        };
        let (owners, elements) = (params.next(), params.next());
        if is_composite(element) {
            // `unnest` would spread the elements' attributes: subscript them by position.
            w.push(" LEFT JOIN (SELECT \"orm_e\".\"r\", array_agg((");
            push_param(w, elements);
            w.push("::");
            write_type(w, element, TypeMod::NONE);
            w.push("[])[\"orm_e\".\"o\"::INTEGER] ORDER BY \"orm_e\".\"o\") AS \"a\" FROM unnest(");
            push_param(w, owners);
            w.push("::BIGINT[]) WITH ORDINALITY AS \"orm_e\"(\"r\", \"o\") GROUP BY \"orm_e\".\"r\") AS ");
        } else {
            w.push(" LEFT JOIN (SELECT \"orm_e\".\"r\", array_agg(\"orm_e\".\"x\" ORDER BY \"orm_e\".\"o\") AS \"a\" FROM unnest(");
            push_param(w, owners);
            w.push("::BIGINT[], ");
            push_param(w, elements);
            w.push("::");
            write_type(w, element, TypeMod::NONE);
            w.push(
                "[]) WITH ORDINALITY AS \"orm_e\"(\"r\", \"x\", \"o\") GROUP BY \"orm_e\".\"r\") AS ",
            );
        }
        w.push_ident(&format!("orm_a{i}"));
        w.push(" ON ");
        w.push_ident(&format!("orm_a{i}"));
        w.push(".\"r\" = \"orm_v\".\"n\"");
    }
    for (i, ty, param) in composites {
        w.push(" CROSS JOIN LATERAL (SELECT (");
        push_param(w, param);
        w.push("::");
        write_type(w, ty, TypeMod::NONE);
        w.push("[])[\"orm_v\".\"n\"::INTEGER] AS \"x\") AS ");
        w.push_ident(&format!("orm_c{i}"));
    }
}

fn push_param(w: &mut SqlWriter, p: Option<Param>) {
    match p {
        Some(p) => w.push_param(p),
        None => w.fail(Error::invalid_statement("fewer column arrays than columns")),
    }
}

/// Column `i` (named `name` in [`write_array_rows`]) of the rows: `"orm_v"."name"`, for a
/// composite column `"orm_c<i>"."x"`, or for an array column its array put back together
/// (`NULL` stays `NULL`, no elements is `'{}'`).
pub(crate) fn write_array_column(w: &mut SqlWriter, ty: &ColumnType, name: &str, i: usize) {
    if is_composite(ty) {
        w.push_ident(&format!("orm_c{i}"));
        w.push(".\"x\"");
        return;
    }
    if !ty.is_array() {
        w.push("\"orm_v\".");
        w.push_ident(name);
        return;
    }
    w.push("CASE WHEN \"orm_v\".");
    w.push_ident(name);
    w.push(" IS NULL THEN NULL ELSE COALESCE(");
    w.push_ident(&format!("orm_a{i}"));
    w.push(".\"a\", '{}'::");
    write_type(w, ty, TypeMod::NONE);
    w.push(") END");
}
