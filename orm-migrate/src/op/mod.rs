//! Operations: the steps a migration is made of, each rendering its upgrade SQL and, through
//! its [inverse](Op::inverse), its downgrade SQL. No IO.
//!
//! Every operation carries what its inverse needs (a dropped table keeps its definition, an
//! altered column both its old and new definitions), so a downgrade is the inverses of the
//! upgrade's operations in reverse order. Dropping a column or a table is reversed by creating
//! it again, empty: the downgrade restores the schema, not the data, and says so in a comment.

mod ddl;
mod enums;
mod safe;

use crate::render::{column_definition, ident, idents, literal, qualified};
use crate::schema::{
    Check, Column, CompositeAttribute, CompositeType, EnumType, Exclusion, ForeignKey, Index,
    Object, ObjectKind, PrimaryKey, QualifiedName, Sequence, Table, Unique, View,
};
use ddl::{
    alter, alter_column_sql, comment, create_enum_sql, create_table_sql, drop_index_sql, not_valid,
    storage_parameters_sql, unique_clause, view_kind,
};
pub(crate) use ddl::{constraint_index_sql, index_options_sql, storage_parameters};
pub use ddl::{create_index_sql, foreign_key_clause};
use enums::recreate_enum_sql;
pub use enums::{Dependent, EnumUse};
pub use safe::{SafeOp, not_null_check_name};

/// One step of a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `CREATE SCHEMA`
    CreateSchema(String),
    /// `DROP SCHEMA`
    DropSchema(String),
    /// `CREATE EXTENSION IF NOT EXISTS`
    CreateExtension(String),
    /// `DROP EXTENSION IF EXISTS` (the downgrade of a created extension)
    DropExtension(String),
    /// `CREATE TYPE ... AS ENUM`
    CreateEnum(EnumType),
    /// `DROP TYPE`
    DropEnum(EnumType),
    /// `ALTER TYPE ... ADD VALUE` (which cannot run in a transaction with statements that
    /// use the new value: a revision holding it runs outside a transaction).
    AddEnumValue {
        /// The enum.
        name: QualifiedName,
        /// The new label.
        label: String,
        /// The label it goes before, or `None` to go last.
        before: Option<String>,
        /// The labels before the addition (the downgrade recreates the type with them).
        previous: Vec<String>,
        /// The columns using the type when the downgrade runs.
        uses: Vec<EnumUse>,
    },
    /// `ALTER TYPE ... RENAME VALUE`
    RenameEnumValue {
        /// The enum.
        name: QualifiedName,
        /// The old label.
        from: String,
        /// The new label.
        to: String,
    },
    /// Recreates an enum type with other labels (PostgreSQL cannot drop a label): renames the
    /// old type away, creates the new one, converts every column through `text` (the checks,
    /// exclusions and indexes that read a column dropped before and created again after: see
    /// [`Dependent`]) and drops the old type. Fails loudly when a row holds a label that goes.
    RecreateEnum {
        /// The enum.
        name: QualifiedName,
        /// Its labels before.
        from: Vec<String>,
        /// Its labels after.
        to: Vec<String>,
        /// The columns using it.
        uses: Vec<EnumUse>,
    },
    /// `CREATE TYPE ... AS (...)`
    CreateComposite(CompositeType),
    /// `DROP TYPE` of a composite type.
    DropComposite(CompositeType),
    /// `ALTER TYPE ... ADD ATTRIBUTE` (appended after the last attribute).
    AddAttribute {
        /// The composite type.
        name: QualifiedName,
        /// The attribute.
        attribute: CompositeAttribute,
    },
    /// `ALTER TYPE ... DROP ATTRIBUTE`: the values of the attribute are lost.
    DropAttribute {
        /// The composite type.
        name: QualifiedName,
        /// The attribute.
        attribute: CompositeAttribute,
    },
    /// `ALTER TYPE ... ALTER ATTRIBUTE ... TYPE` (which PostgreSQL refuses while a table
    /// column uses the type).
    AlterAttribute {
        /// The composite type.
        name: QualifiedName,
        /// The attribute before.
        from: CompositeAttribute,
        /// The attribute after (same name).
        to: CompositeAttribute,
    },
    /// `CREATE SEQUENCE`
    CreateSequence(Sequence),
    /// `DROP SEQUENCE`
    DropSequence(Sequence),
    /// `ALTER SEQUENCE ... OWNED BY`
    SetSequenceOwner {
        /// The sequence.
        name: QualifiedName,
        /// The owning column before.
        from: Option<(QualifiedName, String)>,
        /// The owning column after.
        to: Option<(QualifiedName, String)>,
    },
    /// `CREATE TABLE` with its columns, primary key, unique and check constraints, indexes and
    /// comments (foreign keys are operations of their own, so tables can reference each other
    /// in any order).
    CreateTable(Table),
    /// `DROP TABLE`; the downgrade creates it again, empty.
    DropTable(Table),
    /// `ALTER TABLE ... RENAME TO`
    RenameTable {
        /// The old name.
        from: QualifiedName,
        /// The new name (same schema).
        to: QualifiedName,
    },
    /// `ALTER TABLE ... ADD COLUMN`
    AddColumn {
        /// The table.
        table: QualifiedName,
        /// The column.
        column: Column,
    },
    /// `ALTER TABLE ... DROP COLUMN`; the downgrade adds it again, empty.
    DropColumn {
        /// The table.
        table: QualifiedName,
        /// The column as it was.
        column: Column,
    },
    /// `ALTER TABLE ... RENAME COLUMN`
    RenameColumn {
        /// The table.
        table: QualifiedName,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ALTER TABLE ... ALTER COLUMN`: type (with a `USING` cast), collation, nullability,
    /// default, identity and comment, as many as differ.
    AlterColumn {
        /// The table.
        table: QualifiedName,
        /// The column before.
        from: Column,
        /// The column after (same name).
        to: Column,
    },
    /// `ADD CONSTRAINT ... PRIMARY KEY`
    AddPrimaryKey {
        /// The table.
        table: QualifiedName,
        /// The key.
        key: PrimaryKey,
    },
    /// `DROP CONSTRAINT` of a primary key.
    DropPrimaryKey {
        /// The table.
        table: QualifiedName,
        /// The key.
        key: PrimaryKey,
    },
    /// `ADD CONSTRAINT ... FOREIGN KEY`
    AddForeignKey {
        /// The table.
        table: QualifiedName,
        /// The key.
        key: ForeignKey,
    },
    /// `DROP CONSTRAINT` of a foreign key.
    DropForeignKey {
        /// The table.
        table: QualifiedName,
        /// The key.
        key: ForeignKey,
    },
    /// `ADD CONSTRAINT ... UNIQUE`
    AddUnique {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        unique: Unique,
    },
    /// `DROP CONSTRAINT` of a unique constraint.
    DropUnique {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        unique: Unique,
    },
    /// `ADD CONSTRAINT ... CHECK`
    AddCheck {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        check: Check,
    },
    /// `DROP CONSTRAINT` of a check constraint.
    DropCheck {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        check: Check,
    },
    /// `ALTER TABLE ... VALIDATE CONSTRAINT`: a foreign key or check added `NOT VALID` and
    /// never validated (a safe step that failed part-way, or one written by hand) reads the
    /// rows it has not checked, under a lock that lets reads and writes go on. Its downgrade
    /// does nothing: the constraint stays validated, which satisfies a schema that holds it
    /// `NOT VALID`.
    ValidateConstraint {
        /// The table.
        table: QualifiedName,
        /// The constraint's name.
        name: String,
    },
    /// `ALTER DOMAIN ... VALIDATE CONSTRAINT`: a domain's check added `NOT VALID` and never
    /// validated ([`Object::not_valid`]) is checked against the values of every column of the
    /// domain (PostgreSQL reads those tables under a `SHARE` lock: writes to them wait). As for
    /// [`ValidateConstraint`](Op::ValidateConstraint), its downgrade does nothing.
    ValidateDomainConstraint {
        /// The domain.
        domain: QualifiedName,
        /// The constraint's name.
        name: String,
    },
    /// `ADD CONSTRAINT ... EXCLUDE`
    AddExclusion {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        exclusion: Exclusion,
    },
    /// `DROP CONSTRAINT` of an exclusion constraint.
    DropExclusion {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        exclusion: Exclusion,
    },
    /// `CREATE INDEX`, or `CREATE INDEX CONCURRENTLY` (then outside a transaction, after
    /// `DROP INDEX CONCURRENTLY IF EXISTS`, which removes the invalid index a failed concurrent
    /// build leaves, so the step can run again).
    CreateIndex {
        /// The table.
        table: QualifiedName,
        /// The index.
        index: Index,
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `DROP INDEX`, or `DROP INDEX CONCURRENTLY IF EXISTS` (then outside a transaction, and
    /// rerunnable).
    DropIndex {
        /// The table.
        table: QualifiedName,
        /// The index.
        index: Index,
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `ALTER INDEX ... SET (...)` and `RESET (...)`: an index that differs from the target
    /// only in its [storage parameters](Index::with). Instant (`fillfactor` takes a `SHARE
    /// UPDATE EXCLUSIVE` lock and rebuilds nothing: the pages already written keep their old
    /// fill until a `REINDEX`).
    SetIndexStorage {
        /// The table.
        table: QualifiedName,
        /// The index's name.
        index: String,
        /// Its parameters before, as [`Index::with`].
        from: Vec<String>,
        /// Its parameters after.
        to: Vec<String>,
    },
    /// `CREATE [MATERIALIZED] VIEW`
    CreateView(View),
    /// `DROP [MATERIALIZED] VIEW`
    DropView(View),
    /// Creates a domain, function, aggregate or trigger from its definition.
    CreateObject(Object),
    /// Drops a domain, function, aggregate or trigger.
    DropObject(Object),
    /// `COMMENT ON TABLE`
    SetTableComment {
        /// The table.
        table: QualifiedName,
        /// The comment before.
        from: Option<String>,
        /// The comment after.
        to: Option<String>,
    },
    /// A step in its [safe form](SafeOp) for a table with rows: `NOT VALID` then `VALIDATE`,
    /// or a constraint on an index built `CONCURRENTLY` (outside a transaction).
    Safe(SafeOp),
    /// No statement, only this comment in the script: the [inverse](Op::inverse) of a step
    /// that leaves nothing to undo (dropping an INVALID index, which nothing should bring
    /// back).
    Note(String),
}

impl Op {
    /// The upgrade statements, without trailing semicolons.
    pub fn up(&self) -> Vec<String> {
        match self {
            Op::CreateSchema(s) => vec![format!("CREATE SCHEMA IF NOT EXISTS {}", ident(s))],
            Op::CreateExtension(e) => vec![format!("CREATE EXTENSION IF NOT EXISTS {}", ident(e))],
            Op::DropExtension(e) => vec![format!("DROP EXTENSION IF EXISTS {}", ident(e))],
            Op::DropSchema(s) => vec![format!("DROP SCHEMA {}", ident(s))],
            Op::CreateEnum(e) => vec![create_enum_sql(&e.name, &e.labels)],
            Op::DropEnum(e) => vec![format!("DROP TYPE {}", qualified(&e.name))],
            Op::AddEnumValue {
                name,
                label,
                before,
                ..
            } => {
                let mut s = format!(
                    "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}",
                    qualified(name),
                    literal(label)
                );
                if let Some(b) = before {
                    s.push_str(&format!(" BEFORE {}", literal(b)));
                }
                vec![s]
            }
            Op::RenameEnumValue { name, from, to } => vec![format!(
                "ALTER TYPE {} RENAME VALUE {} TO {}",
                qualified(name),
                literal(from),
                literal(to)
            )],
            Op::RecreateEnum { name, to, uses, .. } => recreate_enum_sql(name, to, uses),
            Op::CreateComposite(c) => {
                let attributes: Vec<String> = c
                    .attributes
                    .iter()
                    .map(|a| format!("{} {}", ident(&a.name), a.data_type))
                    .collect();
                vec![format!(
                    "CREATE TYPE {} AS ({})",
                    qualified(&c.name),
                    attributes.join(", ")
                )]
            }
            Op::DropComposite(c) => vec![format!("DROP TYPE {}", qualified(&c.name))],
            Op::AddAttribute { name, attribute } => vec![format!(
                "ALTER TYPE {} ADD ATTRIBUTE {} {}",
                qualified(name),
                ident(&attribute.name),
                attribute.data_type
            )],
            Op::DropAttribute { name, attribute } => vec![format!(
                "ALTER TYPE {} DROP ATTRIBUTE {}",
                qualified(name),
                ident(&attribute.name)
            )],
            Op::AlterAttribute { name, to, .. } => vec![format!(
                "ALTER TYPE {} ALTER ATTRIBUTE {} TYPE {}",
                qualified(name),
                ident(&to.name),
                to.data_type
            )],
            Op::CreateSequence(s) => vec![format!(
                "CREATE SEQUENCE {} AS {}",
                qualified(&s.name),
                s.data_type
            )],
            Op::DropSequence(s) => vec![format!("DROP SEQUENCE IF EXISTS {}", qualified(&s.name))],
            Op::SetSequenceOwner { name, to, .. } => vec![format!(
                "ALTER SEQUENCE {} OWNED BY {}",
                qualified(name),
                to.as_ref().map_or_else(
                    || "NONE".to_owned(),
                    |(t, c)| format!("{}.{}", qualified(t), ident(c))
                )
            )],
            Op::CreateTable(t) => create_table_sql(t),
            Op::DropTable(t) => vec![format!("DROP TABLE {}", qualified(&t.name))],
            Op::RenameTable { from, to } => {
                vec![format!("{} RENAME TO {}", alter(from), ident(&to.name))]
            }
            Op::AddColumn { table, column } => {
                let mut out = vec![format!(
                    "{} ADD COLUMN {}",
                    alter(table),
                    column_definition(column)
                )];
                if let Some(c) = &column.comment {
                    out.push(format!(
                        "COMMENT ON COLUMN {}.{} IS {}",
                        qualified(table),
                        ident(&column.name),
                        literal(c)
                    ));
                }
                out
            }
            Op::DropColumn { table, column } => vec![format!(
                "{} DROP COLUMN {}",
                alter(table),
                ident(&column.name)
            )],
            Op::RenameColumn { table, from, to } => vec![format!(
                "{} RENAME COLUMN {} TO {}",
                alter(table),
                ident(from),
                ident(to)
            )],
            Op::AlterColumn { table, from, to } => alter_column_sql(table, from, to),
            Op::AddPrimaryKey { table, key } => vec![format!(
                "{} ADD CONSTRAINT {} PRIMARY KEY ({})",
                alter(table),
                ident(&key.name),
                idents(&key.columns)
            )],
            Op::AddForeignKey { table, key } => vec![format!(
                "{} ADD CONSTRAINT {} {}{}",
                alter(table),
                ident(&key.name),
                foreign_key_clause(key),
                not_valid(key.validated)
            )],
            Op::AddUnique { table, unique } => vec![format!(
                "{} ADD CONSTRAINT {} {}",
                alter(table),
                ident(&unique.name),
                unique_clause(unique)
            )],
            Op::AddCheck {
                table,
                check:
                    Check {
                        name,
                        definition,
                        validated,
                    },
            } => vec![format!(
                "{} ADD CONSTRAINT {} {definition}{}",
                alter(table),
                ident(name),
                not_valid(*validated)
            )],
            Op::ValidateConstraint { table, name } => vec![format!(
                "{} VALIDATE CONSTRAINT {}",
                alter(table),
                ident(name)
            )],
            Op::ValidateDomainConstraint { domain, name } => vec![format!(
                "ALTER DOMAIN {} VALIDATE CONSTRAINT {}",
                qualified(domain),
                ident(name)
            )],
            Op::AddExclusion {
                table,
                exclusion: Exclusion { name, definition },
            } => vec![format!(
                "{} ADD CONSTRAINT {} {}",
                alter(table),
                ident(name),
                definition
            )],
            Op::DropPrimaryKey {
                table,
                key: PrimaryKey { name, .. },
            }
            | Op::DropForeignKey {
                table,
                key: ForeignKey { name, .. },
            }
            | Op::DropUnique {
                table,
                unique: Unique { name, .. },
            }
            | Op::DropCheck {
                table,
                check: Check { name, .. },
            }
            | Op::DropExclusion {
                table,
                exclusion: Exclusion { name, .. },
            } => vec![format!("{} DROP CONSTRAINT {}", alter(table), ident(name))],
            Op::CreateIndex {
                table,
                index,
                concurrently,
            } => {
                let create = create_index_sql(table, index, *concurrently);
                if *concurrently {
                    vec![drop_index_sql(table, index, true), create]
                } else {
                    vec![create]
                }
            }
            Op::DropIndex {
                table,
                index,
                concurrently,
            } => vec![drop_index_sql(table, index, *concurrently)],
            Op::SetIndexStorage {
                table,
                index,
                from,
                to,
            } => {
                let target = qualified(&QualifiedName::new(table.schema.clone(), index.clone()));
                let (from, to) = (storage_parameters(from), storage_parameters(to));
                let set: Vec<String> = to
                    .iter()
                    .filter(|(name, value)| from.get(*name) != Some(*value))
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect();
                let reset: Vec<&str> = from
                    .keys()
                    .filter(|name| !to.contains_key(*name))
                    .map(String::as_str)
                    .collect();
                let mut out = Vec::new();
                if !set.is_empty() {
                    out.push(format!(
                        "ALTER INDEX {target} SET ({})",
                        storage_parameters_sql(&set)
                    ));
                }
                if !reset.is_empty() {
                    out.push(format!("ALTER INDEX {target} RESET ({})", reset.join(", ")));
                }
                out
            }
            Op::CreateView(v) => vec![format!(
                "CREATE {} {} AS\n{}",
                view_kind(v),
                qualified(&v.name),
                v.definition.trim().trim_end_matches(';')
            )],
            Op::DropView(v) => vec![format!("DROP {} {}", view_kind(v), qualified(&v.name))],
            // As pg_dump does: a function body may call one created after it.
            Op::CreateObject(o) if o.kind == ObjectKind::Function => vec![
                "SET LOCAL check_function_bodies = off".to_owned(),
                o.create.clone(),
            ],
            Op::CreateObject(o) => vec![o.create.clone()],
            Op::DropObject(o) => vec![o.drop.clone()],
            Op::SetTableComment { table, to, .. } => vec![format!(
                "COMMENT ON TABLE {} IS {}",
                qualified(table),
                comment(to.as_deref())
            )],
            Op::Safe(s) => s.up(),
            Op::Note(_) => Vec::new(),
        }
    }

    /// The operation that undoes this one.
    pub fn inverse(&self) -> Op {
        match self.clone() {
            Op::CreateSchema(s) => Op::DropSchema(s),
            Op::CreateExtension(e) => Op::DropExtension(e),
            Op::DropExtension(e) => Op::CreateExtension(e),
            Op::DropSchema(s) => Op::CreateSchema(s),
            Op::CreateEnum(e) => Op::DropEnum(e),
            Op::DropEnum(e) => Op::CreateEnum(e),
            Op::AddEnumValue {
                name,
                label,
                before,
                previous,
                uses,
            } => {
                let mut labels = previous.clone();
                let at = before
                    .and_then(|b| labels.iter().position(|l| *l == b))
                    .unwrap_or(labels.len());
                labels.insert(at, label);
                Op::RecreateEnum {
                    name,
                    from: labels,
                    to: previous,
                    uses,
                }
            }
            Op::RenameEnumValue { name, from, to } => Op::RenameEnumValue {
                name,
                from: to,
                to: from,
            },
            Op::RecreateEnum {
                name,
                from,
                to,
                uses,
            } => Op::RecreateEnum {
                name,
                from: to,
                to: from,
                uses,
            },
            Op::CreateComposite(c) => Op::DropComposite(c),
            Op::DropComposite(c) => Op::CreateComposite(c),
            Op::AddAttribute { name, attribute } => Op::DropAttribute { name, attribute },
            Op::DropAttribute { name, attribute } => Op::AddAttribute { name, attribute },
            Op::AlterAttribute { name, from, to } => Op::AlterAttribute {
                name,
                from: to,
                to: from,
            },
            Op::CreateSequence(s) => Op::DropSequence(s),
            Op::DropSequence(s) => Op::CreateSequence(s),
            Op::SetSequenceOwner { name, from, to } => Op::SetSequenceOwner {
                name,
                from: to,
                to: from,
            },
            Op::CreateTable(t) => Op::DropTable(t),
            Op::DropTable(t) => Op::CreateTable(t),
            Op::RenameTable { from, to } => Op::RenameTable { from: to, to: from },
            Op::AddColumn { table, column } => Op::DropColumn { table, column },
            Op::DropColumn { table, column } => Op::AddColumn { table, column },
            Op::RenameColumn { table, from, to } => Op::RenameColumn {
                table,
                from: to,
                to: from,
            },
            Op::AlterColumn { table, from, to } => Op::AlterColumn {
                table,
                from: to,
                to: from,
            },
            Op::AddPrimaryKey { table, key } => Op::DropPrimaryKey { table, key },
            Op::DropPrimaryKey { table, key } => Op::AddPrimaryKey { table, key },
            Op::AddForeignKey { table, key } => Op::DropForeignKey { table, key },
            Op::DropForeignKey { table, key } => Op::AddForeignKey { table, key },
            Op::AddUnique { table, unique } => Op::DropUnique { table, unique },
            Op::DropUnique { table, unique } => Op::AddUnique { table, unique },
            Op::AddCheck { table, check } => Op::DropCheck { table, check },
            Op::DropCheck { table, check } => Op::AddCheck { table, check },
            Op::ValidateConstraint { table, name } => Op::Note(format!(
                "nothing to undo: constraint {name} on {table} stays validated"
            )),
            Op::ValidateDomainConstraint { domain, name } => Op::Note(format!(
                "nothing to undo: constraint {name} of domain {domain} stays validated"
            )),
            Op::AddExclusion { table, exclusion } => Op::DropExclusion { table, exclusion },
            Op::DropExclusion { table, exclusion } => Op::AddExclusion { table, exclusion },
            Op::CreateIndex {
                table,
                index,
                concurrently,
            } => Op::DropIndex {
                table,
                index,
                concurrently,
            },
            Op::DropIndex { table, index, .. } if !index.valid => Op::Note(format!(
                "nothing to undo: index {} on {table} was INVALID, and is not built again",
                index.name
            )),
            Op::DropIndex {
                table,
                index,
                concurrently,
            } => Op::CreateIndex {
                table,
                index,
                concurrently,
            },
            Op::SetIndexStorage {
                table,
                index,
                from,
                to,
            } => Op::SetIndexStorage {
                table,
                index,
                from: to,
                to: from,
            },
            Op::CreateView(v) => Op::DropView(v),
            Op::DropView(v) => Op::CreateView(v),
            Op::CreateObject(o) => Op::DropObject(o),
            Op::DropObject(o) => Op::CreateObject(o),
            Op::SetTableComment { table, from, to } => Op::SetTableComment {
                table,
                from: to,
                to: from,
            },
            Op::Safe(s) => s.inverse(),
            Op::Note(n) => Op::Note(n),
        }
    }

    /// The downgrade statements: the inverse's upgrade.
    pub fn down(&self) -> Vec<String> {
        self.inverse().up()
    }

    /// Whether it can run inside a transaction (`ADD VALUE` and `CONCURRENTLY` cannot; a
    /// [safe form](SafeOp) must not, its validation needing the lock of its `NOT VALID` step
    /// released).
    pub fn transactional(&self) -> bool {
        !matches!(
            self,
            Op::AddEnumValue { .. }
                | Op::Safe(_)
                | Op::CreateIndex {
                    concurrently: true,
                    ..
                }
                | Op::DropIndex {
                    concurrently: true,
                    ..
                }
        )
    }

    /// Whether the upgrade loses data (a dropped table or column): its downgrade brings the
    /// schema back, empty.
    pub fn loses_data(&self) -> bool {
        matches!(
            self,
            Op::DropTable(_) | Op::DropColumn { .. } | Op::DropAttribute { .. }
        )
    }

    /// One line saying what it does, for comments and progress: `create table public.author`.
    pub fn describe(&self) -> String {
        match self {
            Op::CreateSchema(s) => format!("create schema {s}"),
            Op::CreateExtension(e) => format!("create extension {e}"),
            Op::DropExtension(e) => format!("drop extension {e}"),
            Op::DropSchema(s) => format!("drop schema {s}"),
            Op::CreateEnum(e) => format!("create enum {}", e.name),
            Op::DropEnum(e) => format!("drop enum {}", e.name),
            Op::AddEnumValue { name, label, .. } => format!("add value {label:?} to enum {name}"),
            Op::RenameEnumValue { name, from, to } => {
                format!("rename value {from:?} of enum {name} to {to:?}")
            }
            Op::RecreateEnum { name, to, .. } => {
                format!("recreate enum {name} with labels {}", to.join(", "))
            }
            Op::CreateComposite(c) => format!("create composite type {}", c.name),
            Op::DropComposite(c) => format!("drop composite type {}", c.name),
            Op::AddAttribute { name, attribute } => {
                format!("add attribute {} to type {name}", attribute.name)
            }
            Op::DropAttribute { name, attribute } => {
                format!("drop attribute {} of type {name}", attribute.name)
            }
            Op::AlterAttribute { name, to, .. } => {
                format!("alter attribute {} of type {name}", to.name)
            }
            Op::CreateSequence(s) => format!("create sequence {}", s.name),
            Op::DropSequence(s) => format!("drop sequence {}", s.name),
            Op::SetSequenceOwner { name, .. } => format!("set the owner of sequence {name}"),
            Op::CreateTable(t) => format!("create table {}", t.name),
            Op::DropTable(t) => format!("drop table {}", t.name),
            Op::RenameTable { from, to } => format!("rename table {from} to {}", to.name),
            Op::AddColumn { table, column } => format!("add column {table}.{}", column.name),
            Op::DropColumn { table, column } => format!("drop column {table}.{}", column.name),
            Op::RenameColumn { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            Op::AlterColumn { table, to, .. } => format!("alter column {table}.{}", to.name),
            Op::AddPrimaryKey { table, key } => format!("add primary key {} on {table}", key.name),
            Op::DropPrimaryKey { table, key } => {
                format!("drop primary key {} on {table}", key.name)
            }
            Op::AddForeignKey { table, key } => format!("add foreign key {} on {table}", key.name),
            Op::DropForeignKey { table, key } => {
                format!("drop foreign key {} on {table}", key.name)
            }
            Op::AddUnique { table, unique } => {
                format!("add unique constraint {} on {table}", unique.name)
            }
            Op::DropUnique { table, unique } => {
                format!("drop unique constraint {} on {table}", unique.name)
            }
            Op::AddCheck { table, check } => {
                format!("add check constraint {} on {table}", check.name)
            }
            Op::DropCheck { table, check } => {
                format!("drop check constraint {} on {table}", check.name)
            }
            Op::ValidateConstraint { table, name } => {
                format!("validate constraint {name} on {table}")
            }
            Op::ValidateDomainConstraint { domain, name } => {
                format!("validate constraint {name} of domain {domain}")
            }
            Op::AddExclusion { table, exclusion } => {
                format!("add exclusion constraint {} on {table}", exclusion.name)
            }
            Op::DropExclusion { table, exclusion } => {
                format!("drop exclusion constraint {} on {table}", exclusion.name)
            }
            Op::CreateIndex { table, index, .. } => {
                format!("create index {} on {table}", index.name)
            }
            Op::DropIndex { table, index, .. } if !index.valid => {
                format!("drop invalid index {} on {table}", index.name)
            }
            Op::DropIndex { table, index, .. } => format!("drop index {} on {table}", index.name),
            Op::SetIndexStorage { table, index, .. } => {
                format!("set storage parameters of index {index} on {table}")
            }
            Op::CreateView(v) => format!("create view {}", v.name),
            Op::DropView(v) => format!("drop view {}", v.name),
            Op::CreateObject(o) => format!("create {} {}", o.kind.as_str(), o.name),
            Op::DropObject(o) => format!("drop {} {}", o.kind.as_str(), o.name),
            Op::SetTableComment { table, .. } => format!("comment on table {table}"),
            Op::Safe(s) => s.describe(),
            Op::Note(n) => n.clone(),
        }
    }
}
