//! Renames: the ones the models declare, applied to `from` (with `RENAME` operations) so the
//! rest of the diff compares like with like; and the ones a drop and an add only suggest, written
//! as warnings and commented SQL, never made.

use std::collections::BTreeSet;

use crate::model_schema::Renames;
use crate::op::Op;
use crate::render::{ident, qualified};
use crate::schema::{Column, QualifiedName, Schema, Table};

/// `from` with the declared renames applied, pushing the `RENAME` operations; foreign keys,
/// indexes and checks that name a renamed table or column are rewritten the way the server
/// rewrites them.
pub(super) fn apply_renames(
    from: &Schema,
    to: &Schema,
    renames: &Renames,
    ops: &mut Vec<Op>,
) -> Schema {
    let mut out = from.clone();
    for (new, old) in &renames.tables {
        let old_name = QualifiedName::new(new.schema.clone(), old.clone());
        if !to.tables.contains_key(new)
            || out.tables.contains_key(new)
            || to.tables.contains_key(&old_name)
        {
            continue;
        }
        let Some(mut table) = out.tables.remove(&old_name) else {
            continue;
        };
        ops.push(Op::RenameTable {
            from: old_name.clone(),
            to: new.clone(),
        });
        table.name = new.clone();
        for i in table.indexes.values_mut() {
            i.definition = rename_word(&i.definition, &qualified(&old_name), &qualified(new));
        }
        out.tables.insert(new.clone(), table);
        for t in out.tables.values_mut() {
            for fk in t.foreign_keys.values_mut() {
                if fk.references == old_name {
                    fk.references = new.clone();
                }
            }
            if let Some((parent, _)) = &mut t.partition_of
                && *parent == old_name
            {
                *parent = new.clone();
            }
        }
    }
    for ((table, new), old) in &renames.columns {
        let Some(target) = to.tables.get(table) else {
            continue;
        };
        if target.column(old).is_some() {
            continue;
        }
        let Some(t) = out.tables.get_mut(table) else {
            continue;
        };
        if t.column(new).is_some() {
            continue;
        }
        let Some(c) = t.columns.iter_mut().find(|c| c.name == *old) else {
            continue;
        };
        c.name = new.clone();
        ops.push(Op::RenameColumn {
            table: table.clone(),
            from: old.clone(),
            to: new.clone(),
        });
        rename_column_in(t, old, new);
        for other in out.tables.values_mut() {
            for fk in other.foreign_keys.values_mut() {
                if fk.references == *table {
                    for c in &mut fk.referenced_columns {
                        if c == old {
                            c.clone_from(new);
                        }
                    }
                }
            }
        }
    }
    out
}

/// Rewrites a renamed column everywhere in its table: keys, checks, indexes.
fn rename_column_in(t: &mut Table, old: &str, new: &str) {
    let swap = |cols: &mut Vec<String>| {
        for c in cols {
            if c == old {
                *c = new.to_owned();
            }
        }
    };
    if let Some(pk) = &mut t.primary_key {
        swap(&mut pk.columns);
    }
    for u in t.uniques.values_mut() {
        swap(&mut u.columns);
    }
    for fk in t.foreign_keys.values_mut() {
        swap(&mut fk.columns);
    }
    let (old_ident, new_ident) = (ident(old), ident(new));
    for c in t.checks.values_mut() {
        c.definition = rename_word(&c.definition, &old_ident, &new_ident);
    }
    for i in t.indexes.values_mut() {
        for k in i.keys.iter_mut() {
            *k = rename_word(k, &old_ident, &new_ident);
        }
        // `INCLUDE` holds column names, not SQL.
        swap(&mut i.include);
        if let Some(p) = &mut i.predicate {
            *p = rename_word(p, &old_ident, &new_ident);
        }
        i.definition = rename_word(&i.definition, &old_ident, &new_ident);
    }
}

/// `sql` with every whole-word `old` outside string literals replaced by `new`.
pub(super) fn rename_word(sql: &str, old: &str, new: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(sql.len());
    let mut in_literal = false;
    let mut i = 0;
    let bytes = sql.as_bytes();
    while i < sql.len() {
        let rest = &sql[i..];
        let c = rest.chars().next().unwrap_or(' ');
        if c == '\'' {
            in_literal = !in_literal;
        }
        if !in_literal
            && rest.starts_with(old)
            && !sql[..i].chars().next_back().is_some_and(is_word)
            && !rest[old.len()..].chars().next().is_some_and(is_word)
            && (i == 0 || bytes[i - 1] != b'.' || old.contains('.'))
        {
            out.push_str(new);
            i += old.len();
            continue;
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Levenshtein distance, for "similar names".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Whether two names look like one renamed: one holds the other, or they are at most half
/// their length apart in edits.
fn similar(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    a.contains(&b) || b.contains(&a) || distance(&a, &b) * 2 <= a.len().max(b.len())
}

pub(super) fn suggest_column_renames(
    table: &QualifiedName,
    dropped: &[&Column],
    added: &[&Column],
    warnings: &mut Vec<String>,
    suggestions: &mut Vec<String>,
) {
    let mut taken = BTreeSet::new();
    for d in dropped {
        let candidate = added.iter().find(|a| {
            !taken.contains(&a.name)
                && a.name != d.name
                && a.data_type == d.data_type
                && similar(&a.name, &d.name)
        });
        if let Some(a) = candidate {
            taken.insert(a.name.clone());
            warnings.push(format!(
                "column {table}.{} is dropped and {} added with the same type: if it is a rename, \
                 declare #[model(renamed_from = {:?})] on the field, or use the suggested RENAME \
                 in the script",
                d.name, a.name, d.name
            ));
            suggestions.push(format!(
                "Did you rename {table}.{} to {}? To keep its data, replace its DROP COLUMN and \
                 ADD COLUMN below with:\n  ALTER TABLE {} RENAME COLUMN {} TO {};",
                d.name,
                a.name,
                qualified(table),
                ident(&d.name),
                ident(&a.name)
            ));
        }
    }
}

pub(super) fn suggest_table_renames(
    dropped: &[&Table],
    created: &[&Table],
    warnings: &mut Vec<String>,
    suggestions: &mut Vec<String>,
) {
    fn columns(t: &Table) -> BTreeSet<(&str, &str)> {
        t.columns
            .iter()
            .map(|c| (c.name.as_str(), c.data_type.as_str()))
            .collect()
    }
    // Each created table's columns, collected once: not once per dropped table (hundreds of
    // each in a large refactor).
    let created_columns: Vec<_> = created.iter().map(|c| columns(c)).collect();
    let mut taken = BTreeSet::new();
    for d in dropped {
        let dc = columns(d);
        let candidate = created.iter().zip(&created_columns).find(|(c, cc)| {
            if taken.contains(&c.name) || c.name.schema != d.name.schema {
                return false;
            }
            let common = dc.intersection(cc).count();
            common * 2 > dc.len().max(cc.len())
                || (common > 0 && similar(&c.name.name, &d.name.name))
        });
        if let Some((c, _)) = candidate {
            taken.insert(c.name.clone());
            warnings.push(format!(
                "table {} is dropped and {} created with alike columns: if it is a rename, \
                 declare #[model(renamed_from = {:?})] on the model, or use the suggested RENAME \
                 in the script",
                d.name, c.name, d.name.name
            ));
            suggestions.push(format!(
                "Did you rename table {} to {}? To keep its data, replace its DROP TABLE and \
                 CREATE TABLE below with:\n  ALTER TABLE {} RENAME TO {};",
                d.name,
                c.name,
                qualified(&d.name),
                ident(&c.name.name)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_renamed_outside_literals_only() {
        assert_eq!(
            rename_word("CHECK ((name <> 'name'::text))", "name", "title"),
            "CHECK ((title <> 'name'::text))"
        );
        assert_eq!(
            rename_word("names + name_x + name", "name", "t"),
            "names + name_x + t"
        );
        assert_eq!(rename_word("a.name", "name", "t"), "a.name");
        assert_eq!(
            rename_word("ON public.old USING btree (x)", "public.old", "public.new"),
            "ON public.new USING btree (x)"
        );
    }

    #[test]
    fn similar_names() {
        assert!(similar("name", "full_name"));
        assert!(similar("colour", "color"));
        assert!(!similar("email", "created_at"));
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
