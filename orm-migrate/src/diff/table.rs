//! One table of both schemas compared: its columns (added, dropped, altered; generated ones
//! dropped and added again when their expression or the type of a column they read changes,
//! with the indexes and constraints on them), foreign keys, unique, check and exclusion
//! constraints and indexes (matched by what they are, not by name), comment and partitioning.

use std::collections::{BTreeMap, BTreeSet};

use super::readers::{index_reads, readers};
use super::{Plan, suggest_column_renames};
use crate::expand::mentions;
use crate::expr::normalize_expr;
use crate::op::{Op, storage_parameters};
use crate::schema::{Column, ForeignKey, Index, QualifiedName, Table};

pub(super) fn same_expr(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || normalize_expr(a) == normalize_expr(b),
        _ => false,
    }
}

/// Whether two columns (of the same name) differ in anything `ALTER COLUMN` changes.
fn same_column(a: &Column, b: &Column) -> bool {
    a.data_type == b.data_type
        && a.nullable == b.nullable
        && same_expr(a.default.as_deref(), b.default.as_deref())
        && a.identity == b.identity
        && a.collation == b.collation
        && a.comment == b.comment
}

fn fk_signature(fk: &ForeignKey) -> impl Ord + '_ {
    (
        &fk.columns,
        &fk.references,
        &fk.referenced_columns,
        format!("{:?}{:?}", fk.on_delete, fk.on_update),
        fk.deferrable,
        fk.initially_deferred,
    )
}

/// An index key with its options (collation, operator class, ordering) in a normal form: the
/// ordering PostgreSQL does not print as it is the default (`ASC`, `NULLS LAST` after `ASC`,
/// `NULLS FIRST` after `DESC`) left out, so `at ASC NULLS LAST` is `at` and `at DESC NULLS
/// FIRST` is `at DESC`.
fn index_key(key: &str) -> String {
    let normal = normalize_expr(key);
    let mut words: Vec<&str> = normal.split(' ').collect();
    let nulls_first = match words.as_slice() {
        [.., "nulls", last @ ("first" | "last")] => {
            let first = *last == "first";
            words.truncate(words.len() - 2);
            Some(first)
        }
        _ => None,
    };
    let descending = match words.as_slice() {
        [_, .., order @ ("asc" | "desc")] => {
            let desc = *order == "desc";
            words.pop();
            desc
        }
        _ => false,
    };
    let mut out = words.join(" ");
    if descending {
        out.push_str(" desc");
    }
    match (descending, nulls_first) {
        (false, Some(true)) => out.push_str(" nulls first"),
        (true, Some(false)) => out.push_str(" nulls last"),
        _ => {}
    }
    out
}

/// What an index is, to match it: everything but its name, its storage parameters (which
/// `ALTER INDEX` changes in place) and its validity.
fn index_signature(i: &Index) -> (bool, String, Vec<String>, Vec<String>, bool, Option<String>) {
    (
        i.unique,
        i.method.clone(),
        i.keys.iter().map(|k| index_key(k)).collect(),
        i.include.clone(),
        i.nulls_not_distinct,
        i.predicate.as_deref().map(normalize_expr),
    )
}

/// Items of `from` and `to` matched by signature.
struct Matching<'a, T> {
    /// In `from` only.
    gone: Vec<&'a T>,
    /// In `to` only.
    added: Vec<&'a T>,
    /// In both: `(from's, to's)`.
    kept: Vec<(&'a T, &'a T)>,
}

/// Items of `from` and `to` matched by signature. Duplicates count.
fn matching<'a, T, K: Ord>(
    from: impl Iterator<Item = &'a T>,
    to: impl Iterator<Item = &'a T>,
    key: impl Fn(&'a T) -> K,
) -> Matching<'a, T> {
    let mut pool: BTreeMap<K, Vec<&'a T>> = BTreeMap::new();
    for f in from {
        pool.entry(key(f)).or_default().push(f);
    }
    let mut added = Vec::new();
    let mut kept = Vec::new();
    for t in to {
        match pool.get_mut(&key(t)).and_then(Vec::pop) {
            Some(f) => kept.push((f, t)),
            None => added.push(t),
        }
    }
    let gone = pool.into_values().flatten().collect();
    Matching { gone, added, kept }
}

/// `VALIDATE CONSTRAINT` of a constraint `from` holds `NOT VALID` and `to` validated (the
/// other way round there is nothing to do: a validated constraint satisfies a `NOT VALID`
/// one).
fn validate(table: &QualifiedName, name: &str, from: bool, to: bool) -> Option<Op> {
    (!from && to).then(|| Op::ValidateConstraint {
        table: table.clone(),
        name: name.to_owned(),
    })
}

/// The generated columns of both `f` and `t` that must be dropped and added again: those whose
/// expression changes (or that stop or start being generated), and those whose type changes
/// or whose expression reads a column whose type or collation changes. An expression that
/// names no column of the table is not understood: rebuilt.
fn rebuilt_generated(f: &Table, t: &Table) -> BTreeSet<String> {
    let retyped: Vec<&str> = t
        .columns
        .iter()
        .filter(|c| {
            f.column(&c.name)
                .is_some_and(|o| o.data_type != c.data_type || o.collation != c.collation)
        })
        .map(|c| c.name.as_str())
        .collect();
    let reads_retyped = |old: &Column, new: &Column| {
        !retyped.is_empty()
            && [&old.generated, &new.generated]
                .into_iter()
                .flatten()
                .any(|expr| {
                    retyped.iter().any(|r| mentions(expr, r))
                        || !f.columns.iter().any(|c| mentions(expr, &c.name))
                })
    };
    t.columns
        .iter()
        .filter(|c| {
            f.column(&c.name).is_some_and(|old| {
                !same_expr(old.generated.as_deref(), c.generated.as_deref())
                    || (old.generated.is_some()
                        && c.generated.is_some()
                        && (retyped.contains(&c.name.as_str()) || reads_retyped(old, c)))
            })
        })
        .map(|c| c.name.clone())
        .collect()
}

/// `f` without what reads a column of `rebuilt` (which the column's drop takes with it),
/// pushing its drops, before the columns': the target's, matched against nothing, is created
/// again after the columns are added. An INVALID index goes the same way, and comes back only
/// if the target has it.
fn without_readers_of(f: &Table, rebuilt: &BTreeSet<String>, plan: &mut Plan) -> Table {
    let mut rest = f.clone();
    let name = &f.name;
    for column in rebuilt {
        let r = readers(f, column);
        let invalid = f
            .indexes
            .values()
            .filter(|i| !i.valid && index_reads(i, column));
        for index in r.indexes.into_iter().chain(invalid) {
            if rest.indexes.remove(&index.name).is_some() {
                plan.drop_constraints.push(Op::DropIndex {
                    table: name.clone(),
                    index: index.clone(),
                    concurrently: false,
                });
            }
        }
        for unique in r.uniques {
            if rest.uniques.remove(&unique.name).is_some() {
                plan.drop_constraints.push(Op::DropUnique {
                    table: name.clone(),
                    unique: unique.clone(),
                });
            }
        }
        for check in r.checks {
            if rest.checks.remove(&check.name).is_some() {
                plan.drop_constraints.push(Op::DropCheck {
                    table: name.clone(),
                    check: check.clone(),
                });
            }
        }
        for exclusion in r.exclusions {
            if rest.exclusions.remove(&exclusion.name).is_some() {
                plan.drop_constraints.push(Op::DropExclusion {
                    table: name.clone(),
                    exclusion: exclusion.clone(),
                });
            }
        }
        for key in r.foreign_keys {
            if rest.foreign_keys.remove(&key.name).is_some() {
                plan.drop_keys.push(Op::DropForeignKey {
                    table: name.clone(),
                    key: key.clone(),
                });
            }
        }
    }
    rest
}

pub(super) fn diff_table(
    f: &Table,
    t: &Table,
    plan: &mut Plan,
    warnings: &mut Vec<String>,
    suggestions: &mut Vec<String>,
) {
    let name = &t.name;
    // A generated column's expression cannot be altered, nor the type of a column it reads:
    // when either changes, it is dropped first and added again after the other columns change.
    // What reads it (indexes, constraints) goes with it: dropped before, created again after.
    let rebuilt = rebuilt_generated(f, t);
    let rest = without_readers_of(f, &rebuilt, plan);
    let f = &rest;
    // Columns.
    let mut added = Vec::new();
    let mut dropped = Vec::new();
    for c in &t.columns {
        match f.column(&c.name) {
            None => added.push(c),
            Some(old) if rebuilt.contains(&c.name) => {
                plan.drop_constraints.push(Op::DropColumn {
                    table: name.clone(),
                    column: old.clone(),
                });
                added.push(c);
            }
            Some(old) if !same_column(old, c) => plan.columns.push(Op::AlterColumn {
                table: name.clone(),
                from: old.clone(),
                to: c.clone(),
            }),
            Some(_) => {}
        }
    }
    for c in &f.columns {
        if t.column(&c.name).is_none() {
            dropped.push(c);
        }
    }
    for c in &added {
        plan.columns.push(Op::AddColumn {
            table: name.clone(),
            column: (*c).clone(),
        });
    }
    for c in &dropped {
        warnings.push(format!("drop column {name}.{} loses its data", c.name));
        plan.drop_columns.push(Op::DropColumn {
            table: name.clone(),
            column: (*c).clone(),
        });
    }
    suggest_column_renames(name, &dropped, &added, warnings, suggestions);

    // Primary key.
    let pk_cols = |t: &Table| t.primary_key.as_ref().map(|k| k.columns.clone());
    if pk_cols(f) != pk_cols(t) {
        if let Some(key) = &f.primary_key {
            plan.drop_constraints.push(Op::DropPrimaryKey {
                table: name.clone(),
                key: key.clone(),
            });
        }
        if let Some(key) = &t.primary_key {
            plan.add_constraints.push(Op::AddPrimaryKey {
                table: name.clone(),
                key: key.clone(),
            });
        }
    }

    // Foreign keys.
    let Matching {
        gone,
        added: new,
        kept,
    } = matching(
        f.foreign_keys.values(),
        t.foreign_keys.values(),
        fk_signature,
    );
    plan.add_keys.extend(
        kept.iter()
            .filter_map(|(a, b)| validate(name, &a.name, a.validated, b.validated)),
    );
    for key in gone {
        plan.drop_keys.push(Op::DropForeignKey {
            table: name.clone(),
            key: key.clone(),
        });
    }
    for key in new {
        plan.add_keys.push(Op::AddForeignKey {
            table: name.clone(),
            key: key.clone(),
        });
    }

    // Unique and check constraints.
    let Matching {
        gone, added: new, ..
    } = matching(f.uniques.values(), t.uniques.values(), |u| {
        (u.columns.clone(), u.nulls_not_distinct)
    });
    for unique in gone {
        plan.drop_constraints.push(Op::DropUnique {
            table: name.clone(),
            unique: unique.clone(),
        });
    }
    for unique in new {
        plan.add_constraints.push(Op::AddUnique {
            table: name.clone(),
            unique: unique.clone(),
        });
    }
    let Matching {
        gone,
        added: new,
        kept,
    } = matching(f.checks.values(), t.checks.values(), |c| {
        normalize_expr(&c.definition)
    });
    plan.add_constraints.extend(
        kept.iter()
            .filter_map(|(a, b)| validate(name, &a.name, a.validated, b.validated)),
    );
    for check in gone {
        plan.drop_constraints.push(Op::DropCheck {
            table: name.clone(),
            check: check.clone(),
        });
    }
    for check in new {
        plan.add_constraints.push(Op::AddCheck {
            table: name.clone(),
            check: check.clone(),
        });
    }

    let Matching {
        gone, added: new, ..
    } = matching(f.exclusions.values(), t.exclusions.values(), |x| {
        x.definition.clone()
    });
    for exclusion in gone {
        plan.drop_constraints.push(Op::DropExclusion {
            table: name.clone(),
            exclusion: exclusion.clone(),
        });
    }
    for exclusion in new {
        plan.add_constraints.push(Op::AddExclusion {
            table: name.clone(),
            exclusion: exclusion.clone(),
        });
    }

    // Indexes. An INVALID one (a failed concurrent build left it) matches nothing: it is
    // dropped, and the target's index, if it has one, is built again.
    let Matching {
        mut gone,
        added: new,
        kept,
    } = matching(
        f.indexes.values().filter(|i| i.valid),
        t.indexes.values(),
        index_signature,
    );
    for (a, b) in kept {
        if storage_parameters(&a.with) != storage_parameters(&b.with) {
            plan.add_constraints.push(Op::SetIndexStorage {
                table: name.clone(),
                index: a.name.clone(),
                from: a.with.clone(),
                to: b.with.clone(),
            });
        }
    }
    for index in f.indexes.values().filter(|i| !i.valid) {
        warnings.push(format!(
            "index {} on {name} is INVALID (left by a failed CREATE INDEX CONCURRENTLY, or \
             missing on a partition): dropped, and built again if the target has it",
            index.name
        ));
        gone.push(index);
    }
    for index in gone {
        plan.drop_constraints.push(Op::DropIndex {
            table: name.clone(),
            index: index.clone(),
            concurrently: false,
        });
    }
    for index in new {
        plan.add_constraints.push(Op::CreateIndex {
            table: name.clone(),
            index: index.clone(),
            concurrently: false,
        });
    }

    if f.comment != t.comment {
        plan.comments.push(Op::SetTableComment {
            table: name.clone(),
            from: f.comment.clone(),
            to: t.comment.clone(),
        });
    }
    if f.partition_by != t.partition_by || f.partition_of != t.partition_of {
        warnings.push(format!(
            "table {name} changes its partitioning, which ALTER TABLE cannot do: \
             write this step by hand"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::{index_key, rebuilt_generated};
    use crate::schema::{Column, QualifiedName, Table};

    fn table(columns: &[(&str, &str, Option<&str>)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(name, ty, generated)| Column {
                    name: (*name).into(),
                    data_type: (*ty).into(),
                    nullable: true,
                    default: None,
                    identity: None,
                    generated: generated.map(Into::into),
                    collation: None,
                    comment: None,
                })
                .collect(),
            ..Table::new(QualifiedName::new("public", "t"))
        }
    }

    #[test]
    fn only_the_generated_columns_reading_a_retyped_column_are_rebuilt() {
        let cols = |price: &'static str, total: &'static str| {
            table(&[
                ("price", price, None),
                ("qty", "integer", None),
                ("total", total, Some("((price)::numeric * 1.2)")),
                ("double", "integer", Some("(qty * 2)")),
                ("quoted", "integer", Some("(\"qty\" + 1)")),
                ("constant", "integer", Some("42")),
                ("named", "text", Some("('price'::text)")),
            ])
        };
        let rebuilt =
            |a: &Table, b: &Table| rebuilt_generated(a, b).into_iter().collect::<Vec<_>>();
        let (a, b) = (cols("integer", "numeric"), cols("bigint", "numeric"));
        // `named` holds the word only in a string, and reads no column at all: not understood,
        // rebuilt; so is `constant`.
        assert_eq!(rebuilt(&a, &b), ["constant", "named", "total"]);
        assert!(
            rebuilt(&a, &a).is_empty(),
            "nothing retyped, nothing rebuilt"
        );
        // A generated column whose own type changes is rebuilt.
        let c = cols("integer", "double precision");
        assert_eq!(rebuilt(&a, &c), ["constant", "named", "total"]);
        let mut d = cols("integer", "numeric");
        d.columns[1].data_type = "bigint".into();
        assert_eq!(rebuilt(&a, &d), ["constant", "double", "named", "quoted"]);
    }

    #[test]
    fn index_keys_compare_with_their_options_and_without_the_default_ordering() {
        for (a, b) in [
            ("at", "at ASC"),
            ("at", "at ASC NULLS LAST"),
            ("at", "at NULLS LAST"),
            ("at DESC", "at DESC NULLS FIRST"),
            ("at NULLS FIRST", "at ASC NULLS FIRST"),
            ("lower(name) DESC", "lower((name)::text) DESC"),
            ("\"desc\"", "\"desc\""),
        ] {
            assert_eq!(index_key(a), index_key(b), "{a} / {b}");
        }
        for (a, b) in [
            ("at", "at DESC"),
            ("at", "at NULLS FIRST"),
            ("at DESC", "at DESC NULLS LAST"),
            ("name", "name text_pattern_ops"),
            ("name", "name COLLATE \"C\""),
            ("desc", "\"desc\" DESC"),
        ] {
            assert_ne!(index_key(a), index_key(b), "{a} / {b}");
        }
    }
}
