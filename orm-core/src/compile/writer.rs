use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::expr::Param;

/// The longest identifier PostgreSQL keeps (NAMEDATALEN - 1); longer ones would be truncated
/// silently by the server, so they are rejected instead.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Accumulates SQL text and parameters. Writing never fails: an invalid identifier is recorded
/// and reported once by [`finish`](SqlWriter::finish).
#[derive(Default)]
pub struct SqlWriter {
    sql: String,
    params: Vec<Param>,
    error: Option<Error>,
}

impl SqlWriter {
    /// An empty writer.
    pub fn new() -> Self {
        SqlWriter {
            sql: String::with_capacity(128),
            params: Vec::new(),
            error: None,
        }
    }

    /// Appends SQL text written by the library (keywords, operators, punctuation).
    pub fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Appends a quoted identifier: `"name"`, with embedded `"` doubled. Empty names, names with
    /// a NUL byte and names over 63 bytes are rejected.
    pub fn push_ident(&mut self, name: &str) {
        if let Err(e) = check_identifier(name) {
            self.error.get_or_insert(e);
        }
        self.sql.push('"');
        if name.contains('"') {
            for c in name.chars() {
                if c == '"' {
                    self.sql.push('"');
                }
                self.sql.push(c);
            }
        } else {
            self.sql.push_str(name);
        }
        self.sql.push('"');
    }

    /// Appends `"schema"."name"` or `"name"`.
    pub fn push_qualified(&mut self, schema: Option<&str>, name: &str) {
        if let Some(schema) = schema {
            self.push_ident(schema);
            self.sql.push('.');
        }
        self.push_ident(name);
    }

    /// Appends `$n` and records the value.
    pub fn push_param(&mut self, value: Param) {
        self.params.push(value);
        // Writing to a String cannot fail.
        let _ = write!(self.sql, "${}", self.params.len());
    }

    /// The SQL and parameters, or the first identifier error.
    pub fn finish(self) -> Result<(String, Vec<Param>)> {
        match self.error {
            Some(e) => Err(e),
            None => Ok((self.sql, self.params)),
        }
    }

    /// Records an error to report from [`finish`](SqlWriter::finish).
    pub fn fail(&mut self, error: Error) {
        self.error.get_or_insert(error);
    }
}

/// Checks that `name` can be used as an identifier.
///
/// ```
/// use orm_core::compile::check_identifier;
///
/// assert!(check_identifier("users").is_ok());
/// assert!(check_identifier("Order \"Items\"").is_ok());
/// assert!(check_identifier("").is_err());
/// assert!(check_identifier(&"x".repeat(64)).is_err());
/// ```
pub fn check_identifier(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid_identifier(
            name,
            "identifiers cannot be empty",
        ));
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(Error::invalid_identifier(
            name,
            "longer than 63 bytes; PostgreSQL would truncate it",
        ));
    }
    if name.contains('\0') {
        return Err(Error::invalid_identifier(
            name,
            "identifiers cannot contain a NUL byte",
        ));
    }
    Ok(())
}
