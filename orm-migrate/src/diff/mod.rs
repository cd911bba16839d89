//! Autogenerate: the [operations](crate::op::Op) that turn one [schema](crate::schema) into
//! another, in an order the server accepts. No IO.
//!
//! Tables and columns are matched by name, and through the renames the models declare
//! (`#[model(renamed_from = "...")]`), which become `RENAME` instead of a drop and an add.
//! Constraints and indexes are matched by what they are (their columns, expression, target),
//! not by name, so a database whose constraints PostgreSQL named differently from the models
//! still compares equal. Expressions (defaults, checks, index predicates) compare through
//! [`normalize_expr`], which forgives the parentheses and casts the server adds.
//!
//! A [`Filter`] ([`DiffOptions::filter`]) leaves objects out of both schemas before they are
//! compared: tables the models do not describe (another application's, an extension's
//! installed by script), which the diff would drop otherwise.
//!
//! An [open expand/contract](OpenExpansion) ([`DiffOptions::expansions`]) keeps its two columns
//! as the database has them until its contract: the sync trigger reads both, so dropping the
//! old one (which PostgreSQL allows: a PL/pgSQL body creates no dependency) would make every
//! write to the table fail. The diff warns, naming the expand and the contract to write.
//!
//! An index PostgreSQL holds INVALID (a failed `CREATE INDEX CONCURRENTLY` left it) counts as
//! no index: the database's is dropped, with a warning, and built again when the target has
//! it (the downgrade does not bring the broken one back); the target's is neither compared nor
//! created. A foreign key or check the database holds `NOT VALID` (added so and never
//! validated) matches the target's: when the target's is validated, the diff validates it
//! (`VALIDATE CONSTRAINT`; the downgrade has nothing to undo); a validated one satisfies a
//! target that holds it `NOT VALID`, and one added for such a target is added `NOT VALID`.
//!
//! When a dropped and an added column (or table) look alike, the diff does not guess: it keeps
//! the drop and the add, and writes the rename as a commented suggestion in the script and a
//! warning ([`Migration::suggestions`], [`Migration::warnings`]).
//!
//! The order: schemas; drops of views (those that change, and those reading a column whose
//! type changes); renames; new enums and enum values; new and altered composite types; drops of foreign keys,
//! indexes and constraints that go or change; new sequences; new tables (parents before their
//! partitions); new and altered columns; sequence owners; new constraints and indexes; new
//! foreign keys; dropped columns, tables (partitions first) and sequences; dropped composite
//! types; enums recreated or dropped; dropped schemas; new views; comments.
//!
//! The operations come in their plain forms: one script, one transaction (unless an enum
//! gains a label), what `diff --from --to` prints and `revision --autogenerate --single`
//! writes. [`Migration::phases`] rewrites them for tables that already have rows, the way
//! `revision --autogenerate` writes them: up to three revisions (before, main, after) so that
//! no statement locks a table against writes while PostgreSQL reads its rows.

use std::borrow::Cow;
use std::collections::BTreeSet;

mod composites;
mod expansions;
mod filter;
mod phases;
mod readers;
mod renames;
mod table;

use crate::expr::normalize_expr;
use crate::model_schema::Renames;
use crate::op::{Dependent, EnumUse, Op};
use crate::render::qualified;
use crate::schema::{Object, ObjectKind, QualifiedName, Schema, Sequence, Table, View};
pub use expansions::OpenExpansion;
use expansions::hold_open;
pub use filter::{Filter, FilterKind, Pattern};
pub use phases::{Phase, PhaseKind};
use readers::readers;
use renames::{apply_renames, rename_word, suggest_column_renames, suggest_table_renames};
use table::diff_table;

/// What the diff compares, and how it writes what it finds.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// The renames the models declare.
    pub renames: Renames,
    /// The target describes only models (the derive knows no views, free-standing sequences,
    /// functions or triggers): leave the database's views, sequences and schemas alone instead
    /// of dropping them. Off for a diff between two databases.
    pub models: bool,
    /// What is compared: the objects it leaves out (of both schemas) are neither created,
    /// altered nor dropped. Everything by default.
    pub filter: Filter,
    /// The expand/contract moves the database is in the middle of
    /// ([`OpenExpansion::open`], [`Migrator::open_expansions`](crate::Migrator::open_expansions)):
    /// their two columns stay as the database has them (neither dropped nor altered, with what
    /// depends on them) until the contract, with a warning naming the expand.
    pub expansions: Vec<OpenExpansion>,
}

/// The result of a diff: the operations, and what a person should know before running them.
///
/// As it is, one script in the plain forms (one transaction, unless an enum gains a label):
/// [`up_sql`](Migration::up_sql), [`down_sql`](Migration::down_sql). Split into
/// [`phases`](Migration::phases), the same changes in the forms that keep tables with rows
/// writable while PostgreSQL reads them, as up to three revisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    /// The operations, in the order they run.
    pub ops: Vec<Op>,
    /// Warnings: data an operation loses, possible renames, objects not compared.
    pub warnings: Vec<String>,
    /// Renames the diff suspects but did not make: SQL for a person to use instead of a drop and
    /// an add.
    pub suggestions: Vec<String>,
    /// The partitioned tables (of either schema). PostgreSQL builds no index `CONCURRENTLY` on
    /// them, nor adds a foreign key `NOT VALID`: [`phases`](Migration::phases) leaves their
    /// changes in their plain forms.
    pub partitioned: BTreeSet<QualifiedName>,
}

impl Migration {
    /// Whether the two schemas matched.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Whether every operation can run in a transaction.
    pub fn transactional(&self) -> bool {
        self.ops.iter().all(Op::transactional)
    }

    /// Whether every operation's inverse can run in a transaction: the downgrade of a label
    /// added with `ADD VALUE` (which cannot) recreates the type (which can), so a revision
    /// whose upgrade runs outside a transaction may have its downgrade run in one, all or
    /// nothing (`-- transaction: up false`).
    pub fn down_transactional(&self) -> bool {
        self.ops.iter().all(|op| op.inverse().transactional())
    }

    /// The upgrade script: each operation's statements under a comment naming it, after the
    /// warnings and suggested renames (as comments).
    pub fn up_sql(&self) -> String {
        let mut out = String::new();
        for w in &self.warnings {
            out.push_str(&format!("-- WARNING: {w}\n"));
        }
        for s in &self.suggestions {
            for line in s.lines() {
                out.push_str(&format!("-- {line}\n"));
            }
        }
        if !out.is_empty() {
            out.push('\n');
        }
        for op in &self.ops {
            push_statements(&mut out, &op.describe(), &op.up());
        }
        out
    }

    /// The downgrade script: the inverse of each operation, last first. Labels added one by
    /// one to an enum (which PostgreSQL cannot drop) go in one recreation of the type, not one
    /// per label: each recreation rewrites every column that uses it.
    pub fn down_sql(&self) -> String {
        // Each inverse, whether its operation lost data, and whether it undoes an added label.
        let mut inverses: Vec<(Op, bool, bool)> = Vec::new();
        for op in self.ops.iter().rev() {
            let inverse = op.inverse();
            let added_label = matches!(op, Op::AddEnumValue { .. });
            if let (
                Some((Op::RecreateEnum { name, to, uses, .. }, loses_data, true)),
                Op::RecreateEnum {
                    name: next,
                    from,
                    to: next_to,
                    uses: next_uses,
                },
                true,
            ) = (inverses.last_mut(), &inverse, added_label)
            {
                // The next label's removal starts where this one ends: one recreation from the
                // labels after both to the labels before both.
                if name == next && to == from && uses == next_uses {
                    *to = next_to.clone();
                    *loses_data |= op.loses_data();
                    continue;
                }
            }
            inverses.push((inverse, op.loses_data(), added_label));
        }
        let mut out = String::new();
        for (inverse, loses_data, _) in inverses {
            let mut what = inverse.describe();
            if loses_data {
                what.push_str(
                    "\n-- (the upgrade dropped its data: this brings back the schema, empty; \
                     a NOT NULL column without a default cannot come back on a table with rows)",
                );
            }
            push_statements(&mut out, &what, &inverse.up());
        }
        out
    }
}

fn push_statements(out: &mut String, what: &str, statements: &[String]) {
    out.push_str(&format!("-- {what}\n"));
    for s in statements {
        out.push_str(s);
        out.push_str(";\n");
    }
    out.push('\n');
}

/// The operations buckets, in the order they run.
#[derive(Default)]
struct Plan {
    schemas: Vec<Op>,
    extensions: Vec<Op>,
    renames: Vec<Op>,
    enums: Vec<Op>,
    drop_views: Vec<Op>,
    create_domains: Vec<Op>,
    create_routines: Vec<Op>,
    create_triggers: Vec<Op>,
    drop_routines: Vec<Op>,
    drop_domains: Vec<Op>,
    drop_keys: Vec<Op>,
    drop_constraints: Vec<Op>,
    create_sequences: Vec<Op>,
    create_tables: Vec<Op>,
    columns: Vec<Op>,
    owners: Vec<Op>,
    add_constraints: Vec<Op>,
    add_keys: Vec<Op>,
    drop_columns: Vec<Op>,
    drop_tables: Vec<Op>,
    drop_sequences: Vec<Op>,
    drop_composites: Vec<Op>,
    late_enums: Vec<Op>,
    drop_schemas: Vec<Op>,
    create_views: Vec<Op>,
    comments: Vec<Op>,
}

impl Plan {
    fn into_ops(self) -> Vec<Op> {
        [
            self.schemas,
            self.extensions,
            self.drop_views,
            self.renames,
            self.enums,
            self.create_domains,
            self.drop_keys,
            self.drop_constraints,
            self.create_sequences,
            self.create_tables,
            self.columns,
            self.owners,
            self.add_constraints,
            self.add_keys,
            self.create_routines,
            self.drop_columns,
            self.drop_tables,
            self.drop_sequences,
            self.drop_routines,
            self.drop_domains,
            self.drop_composites,
            self.late_enums,
            self.drop_schemas,
            self.create_views,
            self.create_triggers,
            self.comments,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The migration that turns `from` into `to`.
///
/// ```
/// use orm_migrate::diff::{DiffOptions, diff};
/// use orm_migrate::model_schema::schema_of;
/// use orm_migrate::schema::Schema;
/// use orm_postgres::prelude::*;
///
/// #[derive(Model)]
/// struct Tutorial {
///     #[model(primary_key, generated)]
///     id: i64,
///     title: String,
/// }
///
/// let models = schema_of(&[Tutorial::TABLE], "public");
/// let m = diff(&Schema::default(), &models, &DiffOptions::default());
/// assert!(m.up_sql().contains("CREATE TABLE public.tutorial (\n    id bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,"));
/// assert!(m.down_sql().contains("DROP TABLE public.tutorial;"));
/// assert!(diff(&models, &models, &DiffOptions::default()).is_empty());
/// ```
pub fn diff(from: &Schema, to: &Schema, options: &DiffOptions) -> Migration {
    // What the filter leaves out is in neither schema.
    let (from, to) = (&*options.filter.apply(from), &*options.filter.apply(to));
    let mut plan = Plan::default();
    let mut warnings = Vec::new();
    let mut suggestions = Vec::new();

    // Schemas first: everything else may live in a new one.
    for s in to.schemas.difference(&from.schemas) {
        if s != "public" {
            plan.schemas.push(Op::CreateSchema(s.clone()));
        }
    }
    // Extensions next: types, domains and tables may use theirs. Never dropped.
    for e in to.extensions.difference(&from.extensions) {
        plan.extensions.push(Op::CreateExtension(e.clone()));
    }
    if !options.models {
        for s in from.schemas.difference(&to.schemas) {
            if s != "public" {
                plan.drop_schemas.push(Op::DropSchema(s.clone()));
            }
        }
    }

    // An INVALID index of the target is no index: nothing creates one.
    let to = &*valid_indexes_only(to, &mut warnings);
    // The columns of an open expand/contract stay as they are until the contract.
    let to = &*hold_open(from, to, &options.expansions, &mut warnings);

    // Renames, then everything compares against `from` as it is after them.
    let mut from = apply_renames(from, to, &options.renames, &mut plan.renames);

    diff_enums(&from, to, &mut plan);
    rename_enum_values_in_defaults(&mut from, &plan.enums);
    let composites = composites::diff_composites(&from, to);
    plan.enums.extend(composites.create);
    plan.drop_composites.extend(composites.drop);
    warnings.extend(composites.warnings);

    if options.models {
        diff_model_domains(&from, to, &mut plan, &mut warnings);
    } else {
        diff_objects(&from, to, &mut plan);
        diff_views(&from, to, &retyped_tables(&from, to, &plan), &mut plan);
        diff_sequences(&from, to, &mut plan);
        let unsupported: BTreeSet<_> = from.unsupported.iter().chain(&to.unsupported).collect();
        for u in unsupported {
            warnings.push(format!(
                "{} {} is not compared (the schema model does not cover it)",
                u.kind, u.name
            ));
        }
    }

    // Tables.
    let mut created: Vec<&Table> = Vec::new();
    let mut dropped: Vec<&Table> = Vec::new();
    for t in to.tables.values() {
        match from.tables.get(&t.name) {
            Some(f) => diff_table(f, t, &mut plan, &mut warnings, &mut suggestions),
            None => created.push(t),
        }
    }
    for f in from.tables.values() {
        if !to.tables.contains_key(&f.name) {
            dropped.push(f);
        }
    }
    created.sort_by_key(|t| (t.partition_of.is_some(), t.name.clone()));
    for t in &created {
        let mut bare = (*t).clone();
        let fks = std::mem::take(&mut bare.foreign_keys);
        plan.create_tables.push(Op::CreateTable(bare));
        for key in fks.into_values() {
            plan.add_keys.push(Op::AddForeignKey {
                table: t.name.clone(),
                key,
            });
        }
    }
    dropped.sort_by_key(|t| (t.partition_of.is_none(), t.name.clone()));
    for t in &dropped {
        let mut bare = (*t).clone();
        // Its downgrade builds its indexes again, but not the INVALID ones.
        bare.indexes.retain(|_, i| i.valid);
        let fks = std::mem::take(&mut bare.foreign_keys);
        for key in fks.into_values() {
            plan.drop_keys.push(Op::DropForeignKey {
                table: t.name.clone(),
                key,
            });
        }
        warnings.push(format!("drop table {} loses its data", t.name));
        plan.drop_tables.push(Op::DropTable(bare));
    }
    suggest_table_renames(&dropped, &created, &mut warnings, &mut suggestions);

    let partitioned = from
        .tables
        .values()
        .chain(to.tables.values())
        .filter(|t| t.partition_by.is_some())
        .map(|t| t.name.clone())
        .collect();
    Migration {
        ops: plan.into_ops(),
        warnings,
        suggestions,
        partitioned,
    }
}

/// `schema` without its INVALID indexes (see [`Index::valid`](crate::schema::Index::valid)),
/// each reported: the target of a diff holds no index to build from them.
fn valid_indexes_only<'a>(schema: &'a Schema, warnings: &mut Vec<String>) -> Cow<'a, Schema> {
    let invalid = |t: &Table| t.indexes.values().any(|i| !i.valid);
    if !schema.tables.values().any(invalid) {
        return Cow::Borrowed(schema);
    }
    let mut out = schema.clone();
    for t in out.tables.values_mut() {
        t.indexes.retain(|_, i| {
            if !i.valid {
                warnings.push(format!(
                    "index {} on {} is INVALID in the target: not compared, not created",
                    i.name, t.name
                ));
            }
            i.valid
        });
    }
    Cow::Owned(out)
}

/// The columns of `schema` whose type is the enum `name` (or an array of it), each with the
/// checks, exclusions and indexes that read it (which must be rebuilt around a recreation).
fn enum_uses(schema: &Schema, name: &QualifiedName) -> Vec<EnumUse> {
    let ty = qualified(name);
    let array = format!("{ty}[]");
    let mut out = Vec::new();
    for t in schema.tables.values() {
        if t.partition_of.is_some() {
            continue;
        }
        for c in &t.columns {
            if c.data_type == ty || c.data_type == array {
                let readers = readers(t, &c.name);
                let dependents = (readers.checks.into_iter().cloned().map(Dependent::Check))
                    .chain(
                        readers
                            .exclusions
                            .into_iter()
                            .cloned()
                            .map(Dependent::Exclusion),
                    )
                    .chain(readers.indexes.into_iter().cloned().map(Dependent::Index))
                    .collect();
                out.push(EnumUse {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    array: c.data_type == array,
                    default: c.default.clone(),
                    dependents,
                });
            }
        }
    }
    out
}

fn diff_enums(from: &Schema, to: &Schema, plan: &mut Plan) {
    for e in to.enums.values() {
        let Some(f) = from.enums.get(&e.name) else {
            plan.enums.push(Op::CreateEnum(e.clone()));
            continue;
        };
        if f.labels == e.labels {
            continue;
        }
        if is_subsequence(&f.labels, &e.labels) {
            // Only additions: `ADD VALUE`, each before the next label that already exists.
            let mut labels = f.labels.clone();
            let uses = enum_uses(from, &e.name);
            for (i, label) in e.labels.iter().enumerate() {
                if labels.contains(label) {
                    continue;
                }
                let before = e.labels[i + 1..]
                    .iter()
                    .find(|l| labels.contains(l))
                    .cloned();
                plan.enums.push(Op::AddEnumValue {
                    name: e.name.clone(),
                    label: label.clone(),
                    before: before.clone(),
                    previous: labels.clone(),
                    uses: uses.clone(),
                });
                let at = before
                    .and_then(|b| labels.iter().position(|l| *l == b))
                    .unwrap_or(labels.len());
                labels.insert(at, label.clone());
            }
        } else if f.labels.len() == e.labels.len()
            && f.labels
                .iter()
                .zip(&e.labels)
                .all(|(a, b)| a == b || (!e.labels.contains(a) && !f.labels.contains(b)))
        {
            // Same places, other names: `RENAME VALUE`.
            for (a, b) in f.labels.iter().zip(&e.labels) {
                if a != b {
                    plan.enums.push(Op::RenameEnumValue {
                        name: e.name.clone(),
                        from: a.clone(),
                        to: b.clone(),
                    });
                }
            }
        } else {
            plan.late_enums.push(Op::RecreateEnum {
                name: e.name.clone(),
                from: f.labels.clone(),
                to: e.labels.clone(),
                uses: enum_uses(to, &e.name),
            });
        }
    }
    for f in from.enums.values() {
        if !to.enums.contains_key(&f.name) {
            plan.late_enums.push(Op::DropEnum(f.clone()));
        }
    }
}

/// Defaults naming a renamed enum value print the new name once the value is renamed (the
/// server stores the value, not its label): rewrite `from` the same way.
fn rename_enum_values_in_defaults(from: &mut Schema, ops: &[Op]) {
    for op in ops {
        let Op::RenameEnumValue {
            name,
            from: old,
            to,
        } = op
        else {
            continue;
        };
        let ty = qualified(name);
        let (old, new) = (crate::render::literal(old), crate::render::literal(to));
        for t in from.tables.values_mut() {
            for c in &mut t.columns {
                if c.data_type == ty
                    && let Some(d) = &mut c.default
                    && d.starts_with(&old)
                {
                    *d = format!("{new}{}", &d[old.len()..]);
                }
            }
        }
    }
}

fn is_subsequence(short: &[String], long: &[String]) -> bool {
    let mut it = long.iter();
    short.iter().all(|s| it.any(|l| l == s))
}

fn same_view(a: &View, b: &View) -> bool {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    a.materialized == b.materialized && words(&a.definition) == words(&b.definition)
}

/// Domains, functions, aggregates and triggers: compared by definition; one that changes is
/// dropped and created again.
fn diff_objects(from: &Schema, to: &Schema, plan: &mut Plan) {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let same = |a: &Object, b: &Object| words(&a.create) == words(&b.create);
    // Aggregates go before the functions they use, triggers before everything: drop in reverse
    // kind order.
    for (key, f) in from.objects.iter().rev() {
        if !to.objects.get(key).is_some_and(|t| same(f, t)) {
            let op = Op::DropObject(f.clone());
            match f.kind {
                ObjectKind::Trigger => plan.drop_views.insert(0, op),
                ObjectKind::Domain => plan.drop_domains.push(op),
                ObjectKind::Function | ObjectKind::Aggregate => plan.drop_routines.push(op),
            }
        }
    }
    for (key, t) in &to.objects {
        if let Some(f) = from.objects.get(key).filter(|f| same(f, t)) {
            validate_domain(f, t, plan);
        } else {
            let op = Op::CreateObject(t.clone());
            match t.kind {
                ObjectKind::Trigger => plan.create_triggers.push(op),
                ObjectKind::Domain => plan.create_domains.push(op),
                ObjectKind::Function | ObjectKind::Aggregate => plan.create_routines.push(op),
            }
        }
    }
}

/// The domains models declare: created when missing. One that exists with another definition
/// is reported, not recreated (dropping a domain drops what uses it): change it by hand.
/// Definitions compare as expressions, so the server's way of printing a check
/// (`CHECK (((VALUE >= 1) AND (VALUE <= 9)))`) matches the model's.
fn diff_model_domains(from: &Schema, to: &Schema, plan: &mut Plan, warnings: &mut Vec<String>) {
    let domains = to
        .objects
        .iter()
        .filter(|(key, _)| key.0 == ObjectKind::Domain);
    for (key, t) in domains {
        match from.objects.get(key) {
            None => plan.create_domains.push(Op::CreateObject(t.clone())),
            Some(f) if normalize_expr(&f.create) != normalize_expr(&t.create) => warnings.push(format!(
                "domain {} differs from the model's (database: {}; model: {}): change it by hand",
                t.name, f.create, t.create
            )),
            Some(f) => validate_domain(f, t, plan),
        }
    }
}

/// `ALTER DOMAIN ... VALIDATE CONSTRAINT` of each constraint the domain `f` holds `NOT VALID`
/// and `t` (the same domain, with the same definition) validated: see
/// [`Object::not_valid`]. The other way round there is nothing to do.
fn validate_domain(f: &Object, t: &Object, plan: &mut Plan) {
    let Some(domain) = domain_name(&f.create) else {
        return;
    };
    for name in f.not_valid.difference(&t.not_valid) {
        plan.create_domains.push(Op::ValidateDomainConstraint {
            domain: domain.clone(),
            name: name.clone(),
        });
    }
}

/// The name of the domain a `CREATE DOMAIN schema.name AS ...` statement creates.
fn domain_name(create: &str) -> Option<QualifiedName> {
    let (mut parts, _) = crate::phase::parse_path(create.strip_prefix("CREATE DOMAIN ")?).ok()?;
    let name = parts.pop()?;
    let schema = parts.pop()?;
    parts.is_empty().then(|| QualifiedName::new(schema, name))
}

/// The tables with a column whose type changes (directly, or through an enum recreated):
/// PostgreSQL refuses to change the type of a column a view reads, so their views are dropped
/// and created again around the change.
fn retyped_tables(from: &Schema, to: &Schema, plan: &Plan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in to.tables.values() {
        if let Some(f) = from.tables.get(&t.name)
            && t.columns.iter().any(|c| {
                f.column(&c.name)
                    .is_some_and(|o| o.data_type != c.data_type || o.collation != c.collation)
            })
        {
            out.insert(t.name.name.clone());
        }
    }
    for op in plan.enums.iter().chain(&plan.late_enums) {
        if let Op::AddEnumValue { uses, .. } | Op::RecreateEnum { uses, .. } = op {
            out.extend(uses.iter().map(|u| u.table.name.clone()));
        }
    }
    out
}

/// Whether `sql` holds `word` as a whole word.
fn mentions(sql: &str, word: &str) -> bool {
    rename_word(sql, word, "\u{0}") != sql
}

fn diff_views(from: &Schema, to: &Schema, retyped: &BTreeSet<String>, plan: &mut Plan) {
    let reads_retyped = |v: &View| retyped.iter().any(|t| mentions(&v.definition, t));
    for v in from.views.values() {
        if !to
            .views
            .get(&v.name)
            .is_some_and(|t| same_view(v, t) && !reads_retyped(v))
        {
            plan.drop_views.push(Op::DropView(v.clone()));
        }
    }
    for v in to.views.values() {
        if !from
            .views
            .get(&v.name)
            .is_some_and(|f| same_view(f, v) && !reads_retyped(f))
        {
            plan.create_views.push(Op::CreateView(v.clone()));
        }
    }
}

fn diff_sequences(from: &Schema, to: &Schema, plan: &mut Plan) {
    for s in to.sequences.values() {
        let owner_before = match from.sequences.get(&s.name) {
            Some(f) => f.owned_by.clone(),
            None => {
                plan.create_sequences.push(Op::CreateSequence(Sequence {
                    owned_by: None,
                    ..s.clone()
                }));
                None
            }
        };
        if owner_before != s.owned_by {
            plan.owners.push(Op::SetSequenceOwner {
                name: s.name.clone(),
                from: owner_before,
                to: s.owned_by.clone(),
            });
        }
    }
    for f in from.sequences.values() {
        if !to.sequences.contains_key(&f.name) {
            if f.owned_by.is_some() {
                plan.owners.push(Op::SetSequenceOwner {
                    name: f.name.clone(),
                    from: f.owned_by.clone(),
                    to: None,
                });
            }
            plan.drop_sequences.push(Op::DropSequence(Sequence {
                owned_by: None,
                ..f.clone()
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsequences() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert!(is_subsequence(&s(&["a", "c"]), &s(&["a", "b", "c"])));
        assert!(!is_subsequence(&s(&["c", "a"]), &s(&["a", "b", "c"])));
    }
}
