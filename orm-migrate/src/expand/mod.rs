//! Expand / contract: renaming a column or changing its type while the running release keeps
//! using it, in two revisions, as pgroll and reshape do. No IO here: this module writes the
//! revisions; the [runner](crate::runner) runs their batched backfills.
//!
//! An `ALTER TABLE ... RENAME COLUMN` or `ALTER COLUMN ... TYPE` breaks every running process
//! that still names the old column, and a type change rewrites the table under an exclusive
//! lock. Instead:
//!
//! 1. **Expand** (a revision written with [`ColumnChange::expand_revision`], or
//!    `orm-migrate revision --expand public.users.name:full_name`). The new column is added
//!    (nullable, no default: instant), a trigger keeps the two columns in sync both ways, the
//!    rows already there are **backfilled** in batches, then the new column gets what the old
//!    one had: `NOT NULL` (through a `NOT VALID` check, validated, so no long lock), its
//!    indexes and unique constraints (built `CONCURRENTLY`). From then on the old release and
//!    the new one can run side by side: deploy the new release.
//! 2. **Contract** (written later with [`ColumnChange::contract_revision`], or
//!    `revision --contract <expand id>`, once no running code reads the old column). The
//!    trigger and its function are dropped, then the old column; the new column takes the old
//!    one's default. Its downgrade expands again the other way round (the old column added
//!    back and backfilled from the new one), ending where the expand ended.
//!
//! A **type change** is the same move with a conversion (`using`, e.g.
//! `price_cents::numeric / 100`) and, for rows the new release writes, a reverse conversion
//! (`reverse`, e.g. `(price * 100)::integer`). Without a reverse conversion the old column is
//! left as the new release writes it (`NULL`; a `NOT NULL` old column loses its `NOT NULL` in
//! the expand) and the contract cannot be downgraded. The new column has a name of its own;
//! to end with the old name, rename it later, when nothing else is deployed
//! (`ALTER TABLE ... RENAME COLUMN` is instant; deploy code that reads the new name first, or
//! do a second expand/contract back to the old name).
//!
//! # The sync trigger
//! `BEFORE INSERT OR UPDATE FOR EACH ROW`, a PL/pgSQL function named
//! `<table>_<old>_<new>_sync`:
//! - `INSERT`: when the new column is `NULL` (an old-release writer, who does not know it: it
//!   has no default during the overlap, precisely so that this can be told) it is computed
//!   from the row; otherwise the old one is computed from the new (the reverse conversion).
//! - `UPDATE`: if the old column changed (`IS DISTINCT FROM`), the new one is computed; else
//!   if the new one changed, the old one is; else, if the new one is `NULL`, it is computed
//!   (that is what the backfill's no-op `UPDATE` asks for). A statement that writes both
//!   columns at once has the old one win.
//! - Conversions are SQL expressions over the row's columns by their bare names, evaluated as
//!   `(SELECT expr FROM (SELECT NEW.*) AS r)`.
//!
//! # The backfill
//! A `-- @backfill schema.table.column key id` line in the script marks where the runner fills
//! the rows already there, in batches of bounded size, each one statement and one short
//! transaction, pausing between them, walking the primary key and skipping rows that other
//! transactions hold: see [`backfill`](crate::backfill). Batch size and pause come from the revision's
//! `-- backfill: batch 1000, pause 100ms` header line, overridden by
//! [`Migrator::backfill_batch`](crate::Migrator::backfill_batch) and
//! [`Migrator::backfill_pause`](crate::Migrator::backfill_pause) (the CLI's
//! `--backfill-batch`, `--backfill-pause`); the defaults are [`DEFAULT_BATCH`] rows and
//! [`DEFAULT_PAUSE`]. The runner reports each batch to its
//! [`Progress`](crate::runner::Progress) (rows done out of an estimate).
//!
//! # The files
//! Both revisions are ordinary revision directories, checksummed like any other, with
//! `-- transaction: false` (batches commit one by one) and header keys saying what they are:
//!
//! ```sql
//! -- message: expand public.accounts.balance_cents into balance
//! -- parents: 20260301120000
//! -- transaction: false
//! -- expand: public.accounts.balance_cents -> balance
//! -- using: balance_cents::numeric / 100
//! -- reverse: (balance * 100)::integer
//! -- backfill: batch 1000, pause 100ms
//! ```
//!
//! ```sql
//! -- message: contract public.accounts.balance_cents into balance
//! -- parents: 20260301130000
//! -- transaction: false
//! -- contract: 20260301130000
//! ```
//!
//! The contract's file is generated from the expand's header and the database (the old
//! column's type, default, indexes), so edit the header's `using:` and `reverse:` together with
//! the trigger function if you change a conversion by hand.
//!
//! # Interrupted runs
//! Outside a transaction, a failure leaves the statements before it done and the revision
//! unrecorded. Every statement is written to run again: `ADD COLUMN IF NOT EXISTS`,
//! `CREATE OR REPLACE FUNCTION`, `DO` blocks that create the trigger or a constraint only when
//! missing, `CREATE INDEX CONCURRENTLY IF NOT EXISTS` after dropping an invalid index a failed
//! build left. Rerunning `upgrade` runs the revision again from its first statement; the
//! backfill then updates only the rows still `NULL`.
//!
//! # What is not copied
//! Foreign keys and check constraints on the old column (each revision says so in a `note:`
//! comment), views, rules, policies, privileges, statistics targets, and other triggers. An
//! index whose expression, operator class or predicate on the old column may not fit a new
//! type is not copied either (a rename copies every index). A contract fails (and changes
//! nothing) while a view or another table's foreign key still uses the old column. Primary-key,
//! identity, generated and `serial` columns, and partitioned tables, are refused.
//!
//! # Phases
//! [`phases`](fn@phases) reads the graph and the applied revisions: for each expand revision, whether it
//! is pending, expanded (its contract not written or not applied), or contracted.
//! While one is expanded, autogenerate leaves its two columns as they are
//! ([`diff::OpenExpansion`](crate::diff::OpenExpansion)): models that already name only the new
//! column do not drop the old one the sync trigger reads.

mod phases;
mod rewrite;
mod sql;

pub use crate::backfill::{Backfill, DEFAULT_BATCH, DEFAULT_PAUSE};
pub use crate::phase::{BackfillOptions, ColumnMove, ColumnPath, KEYS, PhaseKeys};
pub use phases::{Phase, PhaseEntry, phases};
pub use rewrite::{mentions, replace_column};

use crate::error::{MigrateError, Result};
use crate::render::ident;
use crate::revision::Revision;
use crate::schema::{Column, Index, Schema, Table, Unique};

/// One column moved to a new column (renamed, or converted to another type) in two phases:
/// what the expand and contract revisions are written from.
///
/// ```
/// use orm_migrate::expand::{ColumnChange, ColumnPath};
/// use orm_migrate::schema::{Column, PrimaryKey, QualifiedName, Schema, Table};
///
/// # let column = |name: &str, ty: &str, nullable| Column { name: name.into(),
/// #     data_type: ty.into(), nullable, default: None, identity: None, generated: None,
/// #     collation: None, comment: None };
/// # let name = QualifiedName::new("public", "accounts");
/// # let mut schema = Schema::default();
/// # schema.tables.insert(name.clone(), Table {
/// #     columns: vec![column("id", "bigint", false), column("balance_cents", "integer", false)],
/// #     primary_key: Some(PrimaryKey { name: "accounts_pkey".into(), columns: vec!["id".into()] }),
/// #     ..Table::new(name.clone()) });
/// // `schema` is the database's, from `orm_migrate::reflect::reflect`.
/// let change = ColumnChange::new(&schema, &ColumnPath::parse("accounts.balance_cents")?, "balance")?
///     .with_type("numeric(12,2)")
///     .with_using("balance_cents::numeric / 100")
///     .with_reverse("(balance * 100)::integer");
/// let (expand, notes) = change.expand_revision("20260301130000", "balance in numeric")?;
/// assert!(expand.up.contains("-- @backfill public.accounts.balance key id"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnChange {
    /// The table, as the database has it.
    pub table: Table,
    /// The old column's name.
    pub old: String,
    /// The new column's name.
    pub new: String,
    /// The new column's type (`format_type` spelling); the old column's for a rename.
    pub new_type: String,
    /// The conversion from a row to the new column's value; `None`: the old column as it is.
    pub using: Option<String>,
    /// The conversion from a row to the old column's value; `None`: the new column as it is
    /// when `using` is `None` too, no reverse conversion otherwise.
    pub reverse: Option<String>,
    /// Batch size and pause written into the expand revision's header.
    pub backfill: BackfillOptions,
}

fn refuse(message: String) -> MigrateError {
    MigrateError::Expand(message)
}

impl ColumnChange {
    /// A rename of `old` (a column of `schema`'s tables) to `new`, to refine with
    /// [`with_type`](Self::with_type), [`with_using`](Self::with_using) and
    /// [`with_reverse`](Self::with_reverse). [`MigrateError::Expand`] when the table or the
    /// column is missing, or cannot be moved this way: no primary key to walk, a primary-key,
    /// identity, generated or `serial` column, a partitioned table or a partition.
    pub fn new(schema: &Schema, old: &ColumnPath, new: &str) -> Result<ColumnChange> {
        let table = schema
            .tables
            .get(&old.table)
            .ok_or_else(|| refuse(format!("the database has no table {}", old.table)))?;
        let column = table
            .column(&old.column)
            .ok_or_else(|| refuse(format!("table {} has no column {}", old.table, old.column)))?;
        let Some(pk) = &table.primary_key else {
            return Err(refuse(format!(
                "table {} has no primary key: the backfill walks the table by it",
                old.table
            )));
        };
        let why = if pk.columns.contains(&old.column) {
            Some("is part of the primary key")
        } else if column.identity.is_some() {
            Some("is an identity column")
        } else if column.generated.is_some() {
            Some("is a generated column")
        } else if column
            .default
            .as_deref()
            .is_some_and(|d| d.contains("nextval("))
        {
            Some("takes its default from a sequence (serial)")
        } else if table.partition_by.is_some() || table.partition_of.is_some() {
            Some("belongs to a partitioned table or a partition")
        } else if new.is_empty() || new == old.column {
            Some("needs a new name of its own")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(refuse(format!(
                "{}.{} {why}: expand/contract does not cover it",
                old.table, old.column
            )));
        }
        Ok(ColumnChange {
            table: table.clone(),
            old: old.column.clone(),
            new: new.to_owned(),
            new_type: column.data_type.clone(),
            using: None,
            reverse: None,
            backfill: BackfillOptions::default(),
        })
    }

    /// The change an expand revision made, read from its header (`expand:`, `using:`,
    /// `reverse:`) and the database as it is after the expand (for the contract).
    pub fn from_expand(schema: &Schema, expand: &Revision) -> Result<ColumnChange> {
        let Some(m) = &expand.phase.expand else {
            return Err(refuse(format!(
                "revision {} is not an expand revision (its header has no `expand:` line)",
                expand.id
            )));
        };
        let mut change = ColumnChange::new(schema, &m.from, &m.to)?;
        let new = change.table.column(&m.to).ok_or_else(|| {
            refuse(format!(
                "table {} has no column {} yet: apply the expand revision {} first",
                m.from.table, m.to, expand.id
            ))
        })?;
        change.new_type = new.data_type.clone();
        change.using = expand.phase.using.clone();
        change.reverse = expand.phase.reverse.clone();
        Ok(change)
    }

    /// With this type for the new column.
    pub fn with_type(mut self, data_type: impl Into<String>) -> Self {
        self.new_type = data_type.into();
        self
    }

    /// With this conversion to the new column (an SQL expression over the row's columns).
    pub fn with_using(mut self, expr: impl Into<String>) -> Self {
        self.using = Some(expr.into());
        self
    }

    /// With this conversion back to the old column, for rows the new release writes.
    pub fn with_reverse(mut self, expr: impl Into<String>) -> Self {
        self.reverse = Some(expr.into());
        self
    }

    /// With this batch size and pause in the expand revision's header.
    pub fn with_backfill(mut self, options: BackfillOptions) -> Self {
        self.backfill = options;
        self
    }

    /// Whether it is a plain rename: same type, no conversion.
    pub fn is_rename(&self) -> bool {
        self.using.is_none()
            && self
                .old_column()
                .is_some_and(|c| c.data_type == self.new_type)
    }

    /// The conversion to the new column: `using`, or a cast of the old column when only the
    /// type changes, or the old column itself.
    pub fn conversion(&self) -> String {
        match &self.using {
            Some(u) => u.clone(),
            None if self.is_rename() => ident(&self.old),
            None => format!("CAST({} AS {})", ident(&self.old), self.new_type),
        }
    }

    /// The conversion back to the old column, if there is one: `reverse`, or, without `using`,
    /// the new column itself (a rename) or a cast back (a type change).
    pub fn reverse_conversion(&self) -> Option<String> {
        match (&self.reverse, &self.using) {
            (Some(r), _) => Some(r.clone()),
            (None, Some(_)) => None,
            (None, None) if self.is_rename() => Some(ident(&self.new)),
            (None, None) => self
                .old_column()
                .map(|c| format!("CAST({} AS {})", ident(&self.new), c.data_type)),
        }
    }

    /// The header keys of its expand revision.
    pub fn expand_keys(&self) -> PhaseKeys {
        let conversions = self.using.is_some() || !self.is_rename();
        PhaseKeys {
            expand: Some(ColumnMove {
                from: ColumnPath::new(self.table.name.clone(), self.old.clone()),
                to: self.new.clone(),
            }),
            using: conversions.then(|| self.conversion()),
            reverse: if conversions || self.reverse.is_some() {
                self.reverse_conversion()
            } else {
                None
            },
            contract: None,
            backfill: self.backfill,
        }
    }

    /// The expand revision `id`, a root (give it parents with
    /// [`Revision::with_parents`]), and notes on what it does not copy (also written in the
    /// file). [`MigrateError::Expand`] when the new column exists already, or when the
    /// backfill's pause is over the hour its header can hold.
    pub fn expand_revision(&self, id: &str, message: &str) -> Result<(Revision, Vec<String>)> {
        if self.table.column(&self.new).is_some() {
            return Err(refuse(format!(
                "table {} has a column {} already",
                self.table.name, self.new
            )));
        }
        // What the header cannot hold would make the written revision, and so the whole
        // directory, fail to read.
        if self
            .backfill
            .pause
            .is_some_and(|p| p > crate::phase::MAX_PAUSE)
        {
            return Err(refuse("a backfill's pause is at most 1h".to_owned()));
        }
        let mut keys = self.expand_keys();
        // A conversion written into the header is read back exactly by the contract.
        keys.using = keys.using.map(|u| one_line(&u));
        keys.reverse = keys.reverse.map(|r| one_line(&r));
        let (up, notes) = self.expand_up();
        let revision = Revision::new(id, message)
            .with_transactional(false)
            .with_phase(keys)
            .with_up(up)
            .with_down(self.expand_down());
        Ok((revision, notes))
    }

    /// The contract revision `id` of the expand revision `expand_id` (give it parents with
    /// [`Revision::with_parents`]: the expand must be among its ancestors), and notes.
    /// [`MigrateError::Expand`] when the new column does not exist (the expand is not applied).
    pub fn contract_revision(
        &self,
        id: &str,
        message: &str,
        expand_id: &str,
    ) -> Result<(Revision, Vec<String>)> {
        if self.table.column(&self.new).is_none() {
            return Err(refuse(format!(
                "table {} has no column {}: apply the expand revision first",
                self.table.name, self.new
            )));
        }
        let (up, notes) = self.contract_up();
        let keys = PhaseKeys {
            contract: Some(expand_id.to_owned()),
            ..PhaseKeys::default()
        };
        let revision = Revision::new(id, message)
            .with_transactional(false)
            .with_phase(keys)
            .with_up(up)
            .with_down(self.contract_down());
        Ok((revision, notes))
    }

    pub(crate) fn old_column(&self) -> Option<&Column> {
        self.table.column(&self.old)
    }

    pub(crate) fn key(&self) -> Vec<String> {
        self.table
            .primary_key
            .as_ref()
            .map(|pk| pk.columns.clone())
            .unwrap_or_default()
    }

    pub(crate) fn collation_clause(&self) -> String {
        match self.old_column() {
            Some(c) if self.is_rename() => self.collation_clause_of(c),
            _ => String::new(),
        }
    }

    pub(crate) fn collation_clause_of(&self, column: &Column) -> String {
        column
            .collation
            .as_ref()
            .map_or_else(String::new, |c| format!(" COLLATE {}", ident(c)))
    }

    /// The table's indexes (not backing a constraint) that use the old column.
    pub(crate) fn old_indexes(&self) -> Vec<&Index> {
        let old = &self.old;
        self.table
            .indexes
            .values()
            .filter(|i| {
                i.keys.iter().any(|k| mentions(k, old))
                    || i.include.contains(old)
                    || i.predicate.as_deref().is_some_and(|p| mentions(p, old))
            })
            .collect()
    }

    /// The table's unique constraints on the old column.
    pub(crate) fn old_uniques(&self) -> Vec<&Unique> {
        self.table
            .uniques
            .values()
            .filter(|u| u.columns.contains(&self.old))
            .collect()
    }

    /// What the expand does not copy: foreign keys and checks on the old column.
    pub(crate) fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for fk in self.table.foreign_keys.values() {
            if fk.columns.contains(&self.old) {
                notes.push(format!(
                    "foreign key {} on {} is not copied to {}: add it yourself (NOT VALID, then \
                     VALIDATE); it goes with {} at the contract",
                    fk.name, self.old, self.new, self.old
                ));
            }
        }
        for check in self.table.checks.values() {
            if mentions(&check.definition, &self.old) {
                notes.push(format!(
                    "check {} on {} is not copied to {}: add it yourself (NOT VALID, then \
                     VALIDATE); it goes with {} at the contract",
                    check.name, self.old, self.new, self.old
                ));
            }
        }
        notes
    }
}

/// `text` on one line (a header value): line ends and runs of spaces as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A name from parts joined by `_`, with `suffix`, at most 63 bytes: a longer one is cut and
/// ends with a hash of the whole, so that two long names stay apart.
pub(crate) fn short_name(parts: &[&str], suffix: &str) -> String {
    let mut name = parts.join("_");
    if !suffix.is_empty() {
        name.push('_');
        name.push_str(suffix);
    }
    if name.len() <= 63 {
        return name;
    }
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let mut cut = 63 - 9;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{h:08x}", &name[..cut])
}

#[cfg(test)]
mod tests;
