//! The schema model: plain data describing what a database (or a set of models) defines, in
//! the form PostgreSQL itself prints it (`format_type`, `pg_get_expr`, `pg_get_constraintdef`,
//! `pg_get_indexdef`), so two schemas compare by value. No IO: reflection
//! ([`reflect`](crate::reflect)) fills it from a live database.
//!
//! Everything is ordered (`BTreeMap`s keyed by name, columns in table order), so equal schemas
//! are equal values and print identically.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A schema-qualified name: `schema.name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    /// The schema (`public` unless the object lives elsewhere).
    pub schema: String,
    /// The object's name.
    pub name: String,
}

impl QualifiedName {
    /// `schema.name`.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Everything the schema model covers in a database, plus what it saw and does not cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// The schemas (namespaces) it covers: the ones reflected, or the ones the models use.
    pub schemas: BTreeSet<String>,
    /// Extensions installed in these schemas (`citext`, `hstore`, ...). The diff
    /// creates the ones `to` has and `from` lacks, and never drops one.
    pub extensions: BTreeSet<String>,
    /// Ordinary and partitioned tables.
    pub tables: BTreeMap<QualifiedName, Table>,
    /// Enum types, with their labels in order.
    pub enums: BTreeMap<QualifiedName, EnumType>,
    /// Composite types (`CREATE TYPE ... AS (...)`), with their attributes in order.
    pub composites: BTreeMap<QualifiedName, CompositeType>,
    /// Sequences not owned by an identity column.
    pub sequences: BTreeMap<QualifiedName, Sequence>,
    /// Views and materialized views (name and definition): the diff leaves them alone or
    /// reports them.
    pub views: BTreeMap<QualifiedName, View>,
    /// Domains, functions, procedures, aggregates and triggers, carried as the server's own
    /// definitions, by [`ObjectKey`].
    pub objects: BTreeMap<ObjectKey, Object>,
    /// Objects seen but not modelled (rules, policies, foreign tables): reported,
    /// never silently dropped.
    pub unsupported: Vec<Unsupported>,
}

/// What an [`Object`] is; the order is the order they are created in, relative to tables and
/// views (see [`diff`](crate::diff)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// `CREATE DOMAIN`: before the tables whose columns use it.
    Domain,
    /// `CREATE FUNCTION` / `CREATE PROCEDURE`: after the tables (an SQL-language body is checked
    /// against them), before the views.
    Function,
    /// `CREATE AGGREGATE`: after its functions.
    Aggregate,
    /// `CREATE TRIGGER`: last.
    Trigger,
}

impl ObjectKind {
    /// `domain`, `function`, `aggregate`, `trigger`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Domain => "domain",
            ObjectKind::Function => "function",
            ObjectKind::Aggregate => "aggregate",
            ObjectKind::Trigger => "trigger",
        }
    }
}

/// An object's identity: its kind and its name (`public.year`; a function with its argument
/// types, `public.last_day(timestamp with time zone)`; a trigger as `schema.table.trigger`).
pub type ObjectKey = (ObjectKind, String);

/// An object the schema carries as SQL: compared by its definition, created and dropped whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name, as in its [`ObjectKey`].
    pub name: String,
    /// The statement creating it, as the server prints it (`pg_get_functiondef`,
    /// `pg_get_triggerdef`) or rebuilt from the catalog (domains, aggregates).
    pub create: String,
    /// The statement dropping it.
    pub drop: String,
    /// For a domain, the names of its constraints PostgreSQL holds `NOT VALID` (added with
    /// `ALTER DOMAIN ... ADD CONSTRAINT ... NOT VALID` and not validated since:
    /// `pg_constraint.convalidated`). [`create`](Object::create) holds them like the others,
    /// without the `NOT VALID` that `CREATE DOMAIN` cannot say, so a domain created from it has
    /// them validated. As for a table's [`Check::validated`]: the diff validates one
    /// (`ALTER DOMAIN ... VALIDATE CONSTRAINT`) when the target's is validated, and a validated
    /// one satisfies a target that holds it `NOT VALID`. Empty for every other object.
    pub not_valid: BTreeSet<String>,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Its name.
    pub name: QualifiedName,
    /// Columns, in table order.
    pub columns: Vec<Column>,
    /// The primary key.
    pub primary_key: Option<PrimaryKey>,
    /// Foreign keys, by constraint name.
    pub foreign_keys: BTreeMap<String, ForeignKey>,
    /// Unique constraints, by constraint name.
    pub uniques: BTreeMap<String, Unique>,
    /// Check constraints, by constraint name.
    pub checks: BTreeMap<String, Check>,
    /// Exclusion constraints, by constraint name.
    pub exclusions: BTreeMap<String, Exclusion>,
    /// Indexes that do not back a constraint, by index name.
    pub indexes: BTreeMap<String, Index>,
    /// `PARTITION BY ...` of a partitioned table.
    pub partition_by: Option<String>,
    /// For a partition: its parent and bound (`FOR VALUES ...`).
    pub partition_of: Option<(QualifiedName, String)>,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
}

impl Table {
    /// A table called `name` with nothing in it yet: no columns, keys, constraints, indexes,
    /// partitioning or comment (fill in the rest with `Table { columns, ..Table::new(name) }`).
    pub fn new(name: QualifiedName) -> Table {
        Table {
            name,
            columns: Vec::new(),
            primary_key: None,
            foreign_keys: BTreeMap::new(),
            uniques: BTreeMap::new(),
            checks: BTreeMap::new(),
            exclusions: BTreeMap::new(),
            indexes: BTreeMap::new(),
            partition_by: None,
            partition_of: None,
            comment: None,
        }
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type as `format_type` prints it: `bigint`, `character varying(80)`, `text[]`,
    /// `numeric(10,2)`, `public.mpaa_rating`, ...
    pub data_type: String,
    /// Whether it accepts `NULL`.
    pub nullable: bool,
    /// `DEFAULT` expression, as the server prints it (`nextval(...)` included).
    pub default: Option<String>,
    /// `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY`.
    pub identity: Option<Identity>,
    /// `GENERATED ALWAYS AS (expr) STORED`: the expression.
    pub generated: Option<String>,
    /// A collation other than the type's default.
    pub collation: Option<String>,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
}

/// How an identity column generates values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// `GENERATED ALWAYS AS IDENTITY`
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`
    ByDefault,
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryKey {
    /// The constraint's name.
    pub name: String,
    /// Its columns, in key order.
    pub columns: Vec<String>,
}

/// What a foreign key does when the referenced row changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FkAction {
    /// `NO ACTION` (the default)
    NoAction,
    /// `RESTRICT`
    Restrict,
    /// `CASCADE`
    Cascade,
    /// `SET NULL`
    SetNull,
    /// `SET DEFAULT`
    SetDefault,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The constraint's name.
    pub name: String,
    /// Its columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: QualifiedName,
    /// The referenced columns, matching `columns`.
    pub referenced_columns: Vec<String>,
    /// `ON DELETE`.
    pub on_delete: FkAction,
    /// `ON UPDATE`.
    pub on_update: FkAction,
    /// `DEFERRABLE`.
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`.
    pub initially_deferred: bool,
    /// `false` for a key added `NOT VALID` and not validated since (`pg_constraint.convalidated`):
    /// see [`Check::validated`].
    pub validated: bool,
}

/// A unique constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unique {
    /// The constraint's name.
    pub name: String,
    /// Its columns.
    pub columns: Vec<String>,
    /// `UNIQUE NULLS NOT DISTINCT` (PostgreSQL 15): rows whose columns are all `NULL` collide
    /// too (by default they never do). Part of what the constraint is: a difference drops it
    /// and adds it again.
    pub nulls_not_distinct: bool,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The constraint's name.
    pub name: String,
    /// The condition as `pg_get_constraintdef` prints it: `CHECK ((age >= 0))` (without the
    /// `NOT VALID` it appends for an unvalidated one: that is [`validated`](Check::validated)).
    pub definition: String,
    /// `false` for a constraint added `NOT VALID` and not validated since
    /// (`pg_constraint.convalidated`): new rows are checked, the rows before may break it. The
    /// diff validates it (`VALIDATE CONSTRAINT`) when the target's is validated; a validated
    /// constraint satisfies a target that holds it `NOT VALID`, and one the diff adds is added
    /// `NOT VALID` when the target's is.
    pub validated: bool,
}

/// An exclusion constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// The constraint's name.
    pub name: String,
    /// The constraint as `pg_get_constraintdef` prints it:
    /// `EXCLUDE USING gist (room WITH =, during WITH &&)`.
    pub definition: String,
}

/// An index that does not back a constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// `UNIQUE`.
    pub unique: bool,
    /// The access method: `btree`, `gin`, `gist`, `brin`, `hash`, ...
    pub method: String,
    /// The key items: column names, or expressions as the server prints them, each with its
    /// collation, operator class and ordering when not the defaults, as `CREATE INDEX` takes
    /// them (`lower(email::text)`, `name COLLATE "C" text_pattern_ops`, `created_at DESC`,
    /// `at NULLS FIRST`). They compare with these options; an ordering that is the default
    /// (`ASC`, `NULLS LAST` after `ASC`, `NULLS FIRST` after `DESC`) is the same as none.
    pub keys: Vec<String>,
    /// `INCLUDE (...)` columns, by name (not quoted), in order. A different list is a different
    /// index: the diff drops it and creates it again.
    pub include: Vec<String>,
    /// `NULLS NOT DISTINCT` of a unique index (PostgreSQL 15; `pg_index.indnullsnotdistinct`):
    /// keys that are all `NULL` collide too. Part of what the index is: a difference drops it
    /// and creates it again.
    pub nulls_not_distinct: bool,
    /// Storage parameters (`WITH (fillfactor = 70)`) as `pg_class.reloptions` holds them:
    /// `fillfactor=70`, `deduplicate_items=off`. They compare as a set of parameters (names in
    /// any case, values as written); an index that differs only in them is kept, and its
    /// parameters set and reset with `ALTER INDEX` (which rebuilds nothing: pages already
    /// written keep their old fill until a `REINDEX`).
    pub with: Vec<String>,
    /// The partial index's `WHERE` predicate.
    pub predicate: Option<String>,
    /// The whole `CREATE INDEX` statement as `pg_get_indexdef` prints it.
    pub definition: String,
    /// `false` for an index PostgreSQL holds INVALID (`pg_index.indisvalid`): one a failed
    /// `CREATE INDEX CONCURRENTLY` (or `REINDEX CONCURRENTLY`) left behind, or a partitioned
    /// table's index some partition lacks. Queries do not use it and it may miss rows, so
    /// the diff counts it as no index: it drops the database's, and creates none from it.
    pub valid: bool,
}

/// An enum type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    /// Its name.
    pub name: QualifiedName,
    /// Its labels, in sort order.
    pub labels: Vec<String>,
}

/// A composite type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeType {
    /// Its name.
    pub name: QualifiedName,
    /// Its attributes, in order.
    pub attributes: Vec<CompositeAttribute>,
}

/// An attribute of a composite type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeAttribute {
    /// Its name.
    pub name: String,
    /// Its type, as `format_type` prints it.
    pub data_type: String,
}

/// A sequence not owned by an identity column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Its name.
    pub name: QualifiedName,
    /// Its type (`bigint`, `integer`, ...).
    pub data_type: String,
    /// The column owning it (`serial` columns), if any: `(table, column)`.
    pub owned_by: Option<(QualifiedName, String)>,
}

/// A view or materialized view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// Its name.
    pub name: QualifiedName,
    /// `MATERIALIZED VIEW`.
    pub materialized: bool,
    /// The query, as `pg_get_viewdef` prints it.
    pub definition: String,
}

/// An object the model does not cover, so the diff can say so instead of ignoring it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unsupported {
    /// What it is: `domain`, `trigger`, `function`, ...
    pub kind: String,
    /// Its name (qualified; for a trigger `table.trigger`).
    pub name: String,
}
