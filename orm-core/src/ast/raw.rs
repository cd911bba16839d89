//! Raw SQL fragments: text written into a statement as given, with named bound parameters.

use std::fmt;

use super::Param;
use crate::error::Error;
use crate::types::SqlType;

/// A raw SQL fragment and the values of its `:name` parameters.
#[derive(Clone)]
pub struct RawSql {
    pub(crate) sql: &'static str,
    pub(crate) binds: Vec<(&'static str, Param)>,
    /// An error to report when the fragment is compiled (for expressions that could not be
    /// built, e.g. a relationship whose foreign key does not resolve).
    pub(crate) error: Option<String>,
}

impl fmt::Debug for RawSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSql")
            .field("sql", &self.sql)
            .field(
                "binds",
                &self.binds.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl RawSql {
    /// A fragment with no values bound yet.
    pub fn new(sql: &'static str) -> Self {
        RawSql {
            sql,
            binds: Vec::new(),
            error: None,
        }
    }

    /// A fragment that fails with `error` when the statement is compiled.
    pub fn failing(error: Error) -> Self {
        RawSql {
            sql: "",
            binds: Vec::new(),
            error: Some(error.to_string()),
        }
    }

    /// Binds `:name` to `value`.
    pub fn bind<T: SqlType>(mut self, name: &'static str, value: T) -> Self {
        let value = crate::types::param_of(value);
        // Bound again: the last value wins, as a builder's setter does.
        match self.binds.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.binds.push((name, value)),
        }
        self
    }
}
