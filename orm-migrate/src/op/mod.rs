//! Operations: the steps a migration is made of, each rendering its upgrade SQL and, through
//! its [inverse](Op::inverse), its downgrade SQL. No IO.
//!
//! Every operation carries what its inverse needs (a dropped table keeps its definition, an
//! altered column both its old and new definitions), so a downgrade is the inverses of the
//! upgrade's operations in reverse order. Dropping a column or a table is reversed by creating
//! it again, empty: the downgrade restores the schema, not the data, and says so in a comment.

mod ddl;
mod describe;
mod enums;
mod inverse;
mod safe;
mod upgrade;

use crate::schema::{
    Check, Column, CompositeAttribute, CompositeType, EnumType, Exclusion, ForeignKey, Index,
    Object, PrimaryKey, QualifiedName, Sequence, Table, Unique, View,
};
pub(crate) use ddl::{constraint_index_sql, index_options_sql, storage_parameters};
pub use ddl::{create_index_sql, foreign_key_clause};
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
}
