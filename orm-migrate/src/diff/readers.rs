//! What of a table reads one of its columns: the indexes, unique, check, exclusion and
//! foreign-key constraints that name it. A change to the column that PostgreSQL cannot carry
//! them through (a generated column dropped and added again, an enum type recreated, a column
//! an open expand keeps) drops them and creates them again, or keeps them. No IO.
//!
//! Expressions are read by PostgreSQL's lexical rules ([`mentions`]): a name inside a string,
//! after `::` (a type) or before `(` (a function) is no column. An expression that names the
//! column anywhere else counts as reading it: when unsure, rebuild.

use crate::expand::mentions;
use crate::schema::{Check, Exclusion, ForeignKey, Index, Table, Unique};

/// The parts of a table that read a column (see [`readers`]).
#[derive(Debug, Default)]
pub(super) struct Readers<'a> {
    /// Indexes (valid ones) with the column in a key, an `INCLUDE` or the predicate.
    pub indexes: Vec<&'a Index>,
    /// Unique constraints on the column.
    pub uniques: Vec<&'a Unique>,
    /// Check constraints naming the column.
    pub checks: Vec<&'a Check>,
    /// Exclusion constraints naming the column.
    pub exclusions: Vec<&'a Exclusion>,
    /// Foreign keys from the column.
    pub foreign_keys: Vec<&'a ForeignKey>,
}

/// What of `table` reads `column`.
pub(super) fn readers<'a>(table: &'a Table, column: &str) -> Readers<'a> {
    Readers {
        indexes: table
            .indexes
            .values()
            .filter(|i| i.valid && index_reads(i, column))
            .collect(),
        uniques: table
            .uniques
            .values()
            .filter(|u| u.columns.iter().any(|c| c == column))
            .collect(),
        checks: table
            .checks
            .values()
            .filter(|c| mentions(&c.definition, column))
            .collect(),
        exclusions: table
            .exclusions
            .values()
            .filter(|x| mentions(&x.definition, column))
            .collect(),
        foreign_keys: table
            .foreign_keys
            .values()
            .filter(|k| k.columns.iter().any(|c| c == column))
            .collect(),
    }
}

/// Whether `index` has `column` in a key, an `INCLUDE` or its predicate.
pub(super) fn index_reads(index: &Index, column: &str) -> bool {
    index.keys.iter().any(|k| mentions(k, column))
        || index.include.iter().any(|c| c == column)
        || index
            .predicate
            .as_deref()
            .is_some_and(|p| mentions(p, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_read_a_column_by_name_not_inside_strings_or_types() {
        let index = |keys: &[&str], predicate: Option<&str>| Index {
            name: "i".into(),
            unique: false,
            method: "btree".into(),
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            include: Vec::new(),
            nulls_not_distinct: false,
            with: Vec::new(),
            predicate: predicate.map(Into::into),
            definition: String::new(),
            valid: true,
        };
        assert!(index_reads(&index(&["status"], None), "status"));
        assert!(index_reads(&index(&["lower(name)"], None), "name"));
        assert!(index_reads(
            &index(&["id"], Some("(status = 'active'::status)")),
            "status"
        ));
        assert!(!index_reads(
            &index(&["id"], Some("(kind = 'status'::kind)")),
            "status"
        ));
        assert!(!index_reads(&index(&["status_at"], None), "status"));
        assert!(!index_reads(&index(&["\"Status\""], None), "status"));
    }
}
