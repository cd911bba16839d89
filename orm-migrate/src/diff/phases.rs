//! The safe form of a migration: its operations split into up to three revisions (see
//! [`Migration::phases`] for what goes where, and why). No IO.

use std::collections::BTreeSet;

use crate::op::{Dependent, EnumUse, Op, SafeOp};
use crate::render::{ident, qualified};
use crate::schema::{Check, Column, Exclusion, Index, QualifiedName};

use super::Migration;
use super::renames::rename_word;

/// Which revision of a migration's safe form a [`Phase`] is; they run in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PhaseKind {
    /// Outside a transaction, before the main phase: new enum labels, indexes dropped
    /// `CONCURRENTLY`.
    Before,
    /// One transaction: everything else, in the plain forms.
    Main,
    /// Outside a transaction, after the main phase: indexes built `CONCURRENTLY`, constraints
    /// validated without blocking writes.
    After,
}

impl PhaseKind {
    /// `before`, `main`, `after`.
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseKind::Before => "before",
            PhaseKind::Main => "main",
            PhaseKind::After => "after",
        }
    }

    /// The comment at the top of its up script, saying how it runs (none for the main phase).
    fn header(self) -> &'static str {
        match self {
            PhaseKind::Before => {
                "-- Runs outside a transaction, before the main revision: new enum labels are\n\
                 -- committed before anything uses them, and indexes that go are dropped\n\
                 -- CONCURRENTLY, without blocking writes.\n\n"
            }
            PhaseKind::Main => "",
            PhaseKind::After => {
                "-- Runs outside a transaction, after the main revision, each statement committing\n\
                 -- on its own: indexes are built CONCURRENTLY and constraints are added NOT VALID,\n\
                 -- then validated, so writes to the tables go on while their rows are read.\n\
                 -- A failure leaves the statements before it done and this revision not applied;\n\
                 -- each step first drops what a failed run left (IF EXISTS), so fix the cause\n\
                 -- (the data the error names) and upgrade again, or downgrade.\n\n"
            }
        }
    }
}

/// One revision of a migration's [safe form](Migration::phases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    /// Which one.
    pub kind: PhaseKind,
    /// What the revision's message starts with: `"before: "`, `"after: "`, or nothing for
    /// the main phase and for a phase that is alone. (A prefix, so that the directory names,
    /// whose slug is cut after 40 characters, tell the phases apart.)
    pub message_prefix: &'static str,
    /// Its operations; the main phase (or, without one, the first) carries the warnings and
    /// suggestions.
    pub migration: Migration,
}

impl Phase {
    /// Whether its revision runs in a transaction: only the main phase's does (unless it holds
    /// a step that cannot, which only hand-built operations do).
    pub fn transactional(&self) -> bool {
        self.kind == PhaseKind::Main && self.migration.transactional()
    }

    /// Whether its revision's downgrade runs in a transaction: when every operation's inverse
    /// can ([`Migration::down_transactional`]), whatever its upgrade does.
    pub fn down_transactional(&self) -> bool {
        self.migration.down_transactional()
    }

    /// The revision's message: the [prefix](Phase::message_prefix), then `message`.
    pub fn message(&self, message: &str) -> String {
        format!("{}{message}", self.message_prefix)
    }

    /// The upgrade script: a comment saying how it runs (before and after phases), then
    /// [`Migration::up_sql`] of its operations.
    pub fn up_sql(&self) -> String {
        format!("{}{}", self.kind.header(), self.migration.up_sql())
    }

    /// The downgrade script: [`Migration::down_sql`] of its operations.
    pub fn down_sql(&self) -> String {
        self.migration.down_sql()
    }
}

impl Migration {
    /// The same changes as up to three revisions, in the forms that keep tables with rows
    /// writable while PostgreSQL reads them: what `revision --autogenerate` writes. Phases
    /// without operations are left out; an empty migration has none.
    ///
    /// 1. **Before** (outside a transaction), only when needed: `ALTER TYPE ... ADD VALUE` (a new
    ///    label must be committed before a statement uses it), and `DROP INDEX CONCURRENTLY` of the
    ///    indexes that go from tables that stay.
    /// 2. **Main** (one transaction): everything else, in its plain form.
    /// 3. **After** (outside a transaction, each statement committing on its own), on tables that
    ///    existed before the migration: `CREATE INDEX CONCURRENTLY`; foreign keys and checks
    ///    `NOT VALID`, then `VALIDATE CONSTRAINT`; `VALIDATE CONSTRAINT` of those the database
    ///    holds `NOT VALID` (a domain's too); `SET NOT NULL` proved first by a validated
    ///    `CHECK (col IS NOT NULL)`; unique constraints and primary keys `USING INDEX` of a
    ///    unique index built `CONCURRENTLY` (see [`SafeOp`]).
    ///
    /// Tables created by the migration keep the plain forms in the main phase: they are empty, and
    /// nobody else uses them yet. So do partitioned tables (PostgreSQL refuses `CONCURRENTLY` and
    /// foreign keys `NOT VALID` on them), and the few steps whose plain order matters: a unique
    /// index that a foreign key dropped in the same migration relies on is dropped in the main
    /// phase after the key; a column that becomes `NOT NULL` and an identity at once stays plain
    /// (`ADD GENERATED ... AS IDENTITY` needs the `NOT NULL` first). A foreign key that references
    /// a unique constraint or primary key the after phase adds goes to the after phase too. An
    /// enum recreated in the main phase rebuilds the checks and indexes reading its columns
    /// that exist then, not those the after phase builds (with the new type already).
    ///
    /// Each phase's downgrade is the inverse of its operations, last first; downgrading the phases
    /// in reverse order (after, main, before) returns the schema to where it started. A
    /// downgrade runs in a transaction when every inverse can
    /// ([`Phase::down_transactional`]): the before phase's labels are undone by recreating
    /// the type, all or nothing, unless the phase also drops an index (whose inverse is built
    /// `CONCURRENTLY`). The steps the
    /// before phase takes are named as they were before the main phase's renames, since its
    /// downgrade runs after the main phase's has undone them. Views are not moved: a migration
    /// between two databases whose views read a column of an enum that gains a label is best
    /// written as one script.
    ///
    /// ```
    /// use orm_migrate::diff::{PhaseKind, diff, DiffOptions};
    /// use orm_migrate::schema::{Index, QualifiedName};
    /// # use orm_postgres::prelude::*;
    /// # #[derive(Model)] struct Tutorial { #[model(primary_key, generated)] id: i64, title: String }
    /// # let before = orm_migrate::model_schema::schema_of(&[Tutorial::TABLE], "public");
    /// let mut after = before.clone();
    /// let table = QualifiedName::new("public", "tutorial");
    /// let t = after.tables.get_mut(&table).unwrap();
    /// t.indexes.insert("ix_tutorial_title".into(), Index {
    ///     name: "ix_tutorial_title".into(),
    ///     unique: false,
    ///     method: "btree".into(),
    ///     keys: vec!["title".into()],
    ///     include: vec![],
    ///     nulls_not_distinct: false,
    ///     with: vec![],
    ///     predicate: None,
    ///     definition: String::new(),
    ///     valid: true,
    /// });
    /// let phases = diff(&before, &after, &DiffOptions::default()).phases();
    /// assert_eq!(phases.len(), 1);
    /// assert_eq!(phases[0].kind, PhaseKind::After);
    /// assert!(!phases[0].transactional());
    /// assert!(phases[0].up_sql().contains(
    ///     "CREATE INDEX CONCURRENTLY ix_tutorial_title ON public.tutorial USING btree (title);"
    /// ));
    /// ```
    pub fn phases(&self) -> Vec<Phase> {
        let created: BTreeSet<&QualifiedName> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::CreateTable(t) => Some(&t.name),
                _ => None,
            })
            .collect();
        let dropped: BTreeSet<&QualifiedName> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::DropTable(t) => Some(&t.name),
                _ => None,
            })
            .collect();
        // Tables with rows, where the safe forms apply.
        let existing = |t: &QualifiedName| !created.contains(t) && !self.partitioned.contains(t);
        // A unique index a dropped foreign key relies on must go after the key.
        let referenced_by_dropped_key: BTreeSet<&QualifiedName> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::DropForeignKey { key, .. } => Some(&key.references),
                _ => None,
            })
            .collect();
        // Tables whose new unique constraint or primary key the after phase adds: the foreign
        // keys referencing them wait for it.
        let keyed_after: BTreeSet<&QualifiedName> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::AddUnique { table, .. } | Op::AddPrimaryKey { table, .. }
                    if existing(table) =>
                {
                    Some(table)
                }
                _ => None,
            })
            .collect();
        let renames: Vec<&Op> = self
            .ops
            .iter()
            .filter(|op| matches!(op, Op::RenameTable { .. } | Op::RenameColumn { .. }))
            .collect();
        // The checks and indexes the after phase builds, which do not exist while the main
        // phase runs (nor after its downgrade, which runs after the after phase's).
        let built_after: Vec<(&QualifiedName, Dependent)> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::CreateIndex { table, index, .. } if existing(table) => {
                    Some((table, Dependent::Index(index.clone())))
                }
                Op::AddCheck { table, check } if existing(table) => {
                    Some((table, Dependent::Check(check.clone())))
                }
                _ => None,
            })
            .collect();

        let (mut before, mut main, mut after) = (Vec::new(), Vec::new(), Vec::new());
        for op in &self.ops {
            match op {
                // An enum recreated in the main phase rebuilds what reads its columns then,
                // not what the after phase builds (with the new type already).
                Op::RecreateEnum {
                    name,
                    from,
                    to,
                    uses,
                } => main.push(Op::RecreateEnum {
                    name: name.clone(),
                    from: from.clone(),
                    to: to.clone(),
                    uses: uses
                        .iter()
                        .map(|u| {
                            let mut u = u.clone();
                            u.dependents.retain(|d| {
                                !built_after.iter().any(|(t, b)| **t == u.table && b == d)
                            });
                            u
                        })
                        .collect(),
                }),
                Op::AddEnumValue {
                    name,
                    label,
                    before: position,
                    previous,
                    uses,
                } => before.push(Op::AddEnumValue {
                    name: name.clone(),
                    label: label.clone(),
                    before: position.clone(),
                    previous: previous.clone(),
                    // Its downgrade runs after the main phase's has undone the renames.
                    uses: uses
                        .iter()
                        .map(|u| use_before_renames(&renames, u))
                        .collect(),
                }),
                Op::DropIndex { table, index, .. }
                    if existing(table)
                        && !dropped.contains(table)
                        && !(index.unique && referenced_by_dropped_key.contains(table)) =>
                {
                    let (table, index) = index_before_renames(&renames, table, index);
                    before.push(Op::DropIndex {
                        table,
                        index,
                        concurrently: true,
                    });
                }
                Op::CreateIndex { table, index, .. } if existing(table) => {
                    after.push(Op::CreateIndex {
                        table: table.clone(),
                        index: index.clone(),
                        concurrently: true,
                    });
                }
                Op::AddForeignKey { table, key }
                    if existing(table) || keyed_after.contains(&key.references) =>
                {
                    after.push(if self.partitioned.contains(table) {
                        op.clone()
                    } else {
                        Op::Safe(SafeOp::ForeignKey {
                            table: table.clone(),
                            key: key.clone(),
                        })
                    });
                }
                Op::AddCheck { table, check } if existing(table) => {
                    after.push(Op::Safe(SafeOp::Check {
                        table: table.clone(),
                        check: check.clone(),
                    }));
                }
                Op::AddUnique { table, unique } if existing(table) => {
                    after.push(Op::Safe(SafeOp::Unique {
                        table: table.clone(),
                        unique: unique.clone(),
                    }));
                }
                Op::AddPrimaryKey { table, key } if existing(table) => {
                    after.push(Op::Safe(SafeOp::PrimaryKey {
                        table: table.clone(),
                        key: key.clone(),
                    }));
                }
                Op::AlterColumn { table, from, to }
                    if existing(table)
                        && from.nullable
                        && !to.nullable
                        && !(from.identity.is_none() && to.identity.is_some()) =>
                {
                    let relaxed = Column {
                        nullable: true,
                        ..to.clone()
                    };
                    if *from != relaxed {
                        main.push(Op::AlterColumn {
                            table: table.clone(),
                            from: from.clone(),
                            to: relaxed,
                        });
                    }
                    after.push(Op::Safe(SafeOp::NotNull {
                        table: table.clone(),
                        column: to.clone(),
                    }));
                }
                Op::Safe(_)
                | Op::ValidateConstraint { .. }
                | Op::ValidateDomainConstraint { .. } => after.push(op.clone()),
                _ => main.push(op.clone()),
            }
        }

        let parts: Vec<(PhaseKind, Vec<Op>)> = [
            (PhaseKind::Before, before),
            (PhaseKind::Main, main),
            (PhaseKind::After, after),
        ]
        .into_iter()
        .filter(|(_, ops)| !ops.is_empty())
        .collect();
        let alone = parts.len() == 1;
        let notes_go_to = parts
            .iter()
            .position(|(kind, _)| *kind == PhaseKind::Main)
            .unwrap_or(0);
        parts
            .into_iter()
            .enumerate()
            .map(|(i, (kind, ops))| {
                let (warnings, suggestions) = if i == notes_go_to {
                    (self.warnings.clone(), self.suggestions.clone())
                } else {
                    (Vec::new(), Vec::new())
                };
                Phase {
                    kind,
                    message_prefix: match kind {
                        _ if alone => "",
                        PhaseKind::Before => "before: ",
                        PhaseKind::Main => "",
                        PhaseKind::After => "after: ",
                    },
                    migration: Migration {
                        ops,
                        warnings,
                        suggestions,
                        partitioned: self.partitioned.clone(),
                    },
                }
            })
            .collect()
    }
}

/// An enum's use as named before the migration's renames (`renames` in the order they run),
/// with what reads it.
fn use_before_renames(renames: &[&Op], u: &EnumUse) -> EnumUse {
    let mut out = u.clone();
    for d in &mut out.dependents {
        match d {
            Dependent::Index(index) => *index = index_before_renames(renames, &u.table, index).1,
            Dependent::Check(Check { definition, .. })
            | Dependent::Exclusion(Exclusion { definition, .. }) => {
                let mut table = u.table.clone();
                for op in renames.iter().rev() {
                    match op {
                        Op::RenameColumn { table: t, from, to } if *t == table => {
                            *definition = rename_word(definition, &ident(to), &ident(from));
                        }
                        Op::RenameTable { from, to } if *to == table => table = from.clone(),
                        _ => {}
                    }
                }
            }
        }
    }
    for op in renames.iter().rev() {
        match op {
            Op::RenameColumn { table, from, to } if *table == out.table && *to == out.column => {
                out.column.clone_from(from);
            }
            Op::RenameTable { from, to } if *to == out.table => out.table = from.clone(),
            _ => {}
        }
    }
    out
}

/// An index and its table as named before the migration's renames: its downgrade (creating
/// it again) runs after the main phase's has undone them.
fn index_before_renames(
    renames: &[&Op],
    table: &QualifiedName,
    index: &Index,
) -> (QualifiedName, Index) {
    let (mut table, mut index) = (table.clone(), index.clone());
    for op in renames.iter().rev() {
        match op {
            Op::RenameColumn { table: t, from, to } if *t == table => {
                let (new, old) = (ident(to), ident(from));
                for k in index.keys.iter_mut() {
                    *k = rename_word(k, &new, &old);
                }
                // `INCLUDE` holds column names, not SQL.
                for c in index.include.iter_mut().filter(|c| *c == to) {
                    c.clone_from(from);
                }
                if let Some(p) = &mut index.predicate {
                    *p = rename_word(p, &new, &old);
                }
                index.definition = rename_word(&index.definition, &new, &old);
            }
            Op::RenameTable { from, to } if *to == table => {
                index.definition = rename_word(&index.definition, &qualified(to), &qualified(from));
                table = from.clone();
            }
            _ => {}
        }
    }
    (table, index)
}

#[cfg(test)]
#[path = "phases_tests.rs"]
mod tests;
