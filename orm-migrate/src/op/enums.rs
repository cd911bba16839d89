//! Recreating an enum type with other labels (PostgreSQL cannot drop one): the columns that
//! use it, and what reads them with the type bound into an expression. No IO.

use super::Op;
use super::ddl::{alter, create_enum_sql};
use crate::render::{ident, qualified};
use crate::schema::{Check, Exclusion, Index, QualifiedName};

/// A column whose type is an enum (or an array of it): what recreating the enum must convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumUse {
    /// The table.
    pub table: QualifiedName,
    /// The column.
    pub column: String,
    /// Whether the column is an array of the enum.
    pub array: bool,
    /// The column's default, which must be dropped and set again around the conversion.
    pub default: Option<String>,
    /// What of the table reads the column in an expression: dropped before the conversion and
    /// created again after it (see [`Dependent`]).
    pub dependents: Vec<Dependent>,
}

/// A constraint or index whose expression reads an enum column, such as
/// `CHECK (status <> 'archived')` or `WHERE status = 'active'`. PostgreSQL stores the label
/// typed (`'archived'::status`), so once the type is renamed away it compares the new column
/// with the old type and converting the column fails ("operator does not exist"): recreating
/// the enum drops it first and creates it again, from its definition, once the columns have
/// the new type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependent {
    /// A check constraint.
    Check(Check),
    /// An exclusion constraint.
    Exclusion(Exclusion),
    /// An index that backs no constraint.
    Index(Index),
}

impl Dependent {
    /// The operation creating it on `table` (its inverse drops it).
    pub fn create(&self, table: &QualifiedName) -> Op {
        let table = table.clone();
        match self.clone() {
            Dependent::Check(check) => Op::AddCheck { table, check },
            Dependent::Exclusion(exclusion) => Op::AddExclusion { table, exclusion },
            Dependent::Index(index) => Op::CreateIndex {
                table,
                index,
                concurrently: false,
            },
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Dependent::Check(c) => &c.name,
            Dependent::Exclusion(x) => &x.name,
            Dependent::Index(i) => &i.name,
        }
    }
}

/// The statements recreating `name` with `labels`: the type renamed away, the new one
/// created, what reads the columns in an expression dropped, each column converted through
/// `text` (its default dropped and set again), what was dropped created again, the old type
/// dropped.
pub(super) fn recreate_enum_sql(
    name: &QualifiedName,
    labels: &[String],
    uses: &[EnumUse],
) -> Vec<String> {
    let old = QualifiedName::new(name.schema.clone(), format!("{}__old", name.name));
    // Each once, though it reads two of the columns.
    let mut dependents: Vec<Op> = Vec::new();
    for u in uses {
        for d in &u.dependents {
            let op = d.create(&u.table);
            if !dependents.contains(&op) {
                dependents.push(op);
            }
        }
    }
    let mut out = vec![
        format!(
            "ALTER TYPE {} RENAME TO {}",
            qualified(name),
            ident(&old.name)
        ),
        create_enum_sql(name, labels),
    ];
    out.extend(dependents.iter().flat_map(|op| op.inverse().up()));
    for u in uses {
        let col = format!("{} ALTER COLUMN {}", alter(&u.table), ident(&u.column));
        if u.default.is_some() {
            out.push(format!("{col} DROP DEFAULT"));
        }
        let (ty, via) = if u.array {
            (format!("{}[]", qualified(name)), "text[]")
        } else {
            (qualified(name), "text")
        };
        out.push(format!(
            "{col} TYPE {ty} USING {}::{via}::{ty}",
            ident(&u.column)
        ));
        if let Some(d) = &u.default {
            out.push(format!("{col} SET DEFAULT {d}"));
        }
    }
    out.extend(dependents.iter().flat_map(Op::up));
    out.push(format!("DROP TYPE {}", qualified(&old)));
    out
}
