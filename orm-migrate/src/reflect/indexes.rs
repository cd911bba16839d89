//! Reflecting indexes that back no constraint, each key with its options.
//!
//! `pg_get_indexdef(index, k, true)` prints key `k` alone, without what follows it in the
//! statement: collation, operator class, `DESC`, `NULLS FIRST | LAST`. Those are printed, only
//! when not the defaults, in the whole statement (`pg_get_indexdef(index, 0, true)`, the same
//! pretty form): its key list is cut into items at its top-level commas, and each item, which
//! starts with the key alone, is the key with its options (`created_at DESC`,
//! `name COLLATE "C" text_pattern_ops`, `lower(email) DESC NULLS LAST`).
//!
//! Each index comes with its `INCLUDE` columns (their names, as everywhere else in the schema:
//! not quoted the way `pg_get_indexdef` prints them), its `NULLS NOT DISTINCT` and its storage
//! parameters (`pg_class.reloptions`).

use orm_postgres::raw::query;
use orm_postgres::{Executor, FromRow, Result, Transaction};

use crate::schema::{Index, QualifiedName, Schema};

#[derive(FromRow)]
struct IndexRow {
    schema: String,
    table: String,
    name: String,
    unique: bool,
    method: String,
    keys: Vec<String>,
    include: Vec<String>,
    nulls_not_distinct: bool,
    with: Vec<String>,
    predicate: Option<String>,
    definition: String,
    valid: bool,
    pretty: String,
}

pub(super) async fn reflect_indexes(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    let rows = db
        .fetch_all(
            query::<IndexRow>(concat!(
                "SELECT n.nspname::text, c.relname::text, ic.relname::text, ix.indisunique, \
                        am.amname::text, \
                        ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) \
                              FROM generate_series(1, ix.indnkeyatts::int) k ORDER BY k), \
                        ARRAY(SELECT a.attname::text \
                              FROM generate_series(ix.indnkeyatts::int + 1, ix.indnatts::int) k \
                              JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = ix.indkey[k - 1] \
                              ORDER BY k), \
                        ", nulls_not_distinct!("ix"), ", coalesce(ic.reloptions, '{}'::text[]), \
                        pg_get_expr(ix.indpred, ix.indrelid, true), pg_get_indexdef(ix.indexrelid), \
                        ix.indisvalid, pg_get_indexdef(ix.indexrelid, 0, true) \
                 FROM pg_index ix \
                 JOIN pg_class ic ON ic.oid = ix.indexrelid \
                 JOIN pg_class c ON c.oid = ix.indrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_am am ON am.oid = ic.relam \
                 WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(:schemas) \
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint con \
                                   WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x')) \
                   AND NOT EXISTS (SELECT 1 FROM pg_inherits pi WHERE pi.inhrelid = ix.indexrelid) \
                 ORDER BY 1, 2, 3",
            ))
            .bind("schemas", schemas.to_vec()),
        )
        .await?;
    for r in rows {
        let Some(table) = out.tables.get_mut(&QualifiedName::new(r.schema, r.table)) else {
            continue;
        };
        let keys = keys_with_options(&r.keys, &r.pretty);
        table.indexes.insert(
            r.name.clone(),
            Index {
                name: r.name,
                unique: r.unique,
                method: r.method,
                keys,
                include: r.include,
                nulls_not_distinct: r.nulls_not_distinct,
                with: r.with,
                predicate: r.predicate,
                definition: r.definition,
                valid: r.valid,
            },
        );
    }
    Ok(())
}

/// Each key of `keys` (printed alone) with the options the whole statement `definition`
/// prints after it. A key whose item does not start with it (which the server never prints)
/// stays as it is.
fn keys_with_options(keys: &[String], definition: &str) -> Vec<String> {
    let items = key_items(definition).filter(|items| items.len() == keys.len());
    match items {
        Some(items) => keys
            .iter()
            .zip(items)
            .map(|(key, item)| {
                if item.starts_with(key.as_str()) {
                    item
                } else {
                    key.clone()
                }
            })
            .collect(),
        None => keys.to_vec(),
    }
}

/// The items of the key list of a `CREATE INDEX` statement (the first parenthesis outside
/// quotes opens it), cut at its top-level commas; `None` when the list does not close.
fn key_items(definition: &str) -> Option<Vec<String>> {
    let mut items = Vec::new();
    let mut item = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in definition.chars() {
        if let Some(q) = quote {
            // A doubled quote closes and opens again: the same text either way.
            if c == q {
                quote = None;
            }
        } else if c == '\'' || c == '"' {
            quote = Some(c);
        } else if c == '(' {
            depth += 1;
            if depth == 1 {
                continue;
            }
        } else if c == ')' {
            match depth {
                0 => return None,
                1 => {
                    items.push(item.trim().to_owned());
                    return Some(items);
                }
                _ => depth -= 1,
            }
        } else if c == ',' && depth == 1 {
            items.push(std::mem::take(&mut item).trim().to_owned());
            continue;
        }
        if depth >= 1 {
            item.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_key_list_is_cut_at_its_top_level_commas() {
        let def = r#"CREATE INDEX "a (b, c" ON t USING btree (at DESC, lower(name) DESC NULLS LAST, "x,)" COLLATE "C" text_pattern_ops, (a + ','::text)) INCLUDE (p) WHERE a > 0"#;
        assert_eq!(
            key_items(def),
            Some(strings(&[
                "at DESC",
                "lower(name) DESC NULLS LAST",
                r#""x,)" COLLATE "C" text_pattern_ops"#,
                "(a + ','::text)"
            ]))
        );
        assert_eq!(key_items("CREATE INDEX i ON t USING btree (a"), None);
        assert_eq!(key_items("no list"), None);
    }

    #[test]
    fn each_key_gets_its_options() {
        let keys = strings(&["created_at", "lower(name)", "(a + p)"]);
        let def = "CREATE INDEX i ON t USING btree (created_at DESC, lower(name) NULLS FIRST, \
                   (a + p) int4_ops)";
        assert_eq!(
            keys_with_options(&keys, def),
            [
                "created_at DESC",
                "lower(name) NULLS FIRST",
                "(a + p) int4_ops"
            ]
        );
        // What cannot be read as the keys leaves them as they are.
        assert_eq!(keys_with_options(&keys, "CREATE INDEX i ON t (a, b)"), keys);
        assert_eq!(
            keys_with_options(&strings(&["a"]), "CREATE INDEX i ON t (b DESC)"),
            ["a"]
        );
    }
}
