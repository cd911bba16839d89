use super::Reads;
use crate::ast::Param;
use crate::error::{Error, Result};
use crate::meta::Table;

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
    /// Names columns may be qualified by, innermost query last (outer ones stay visible to
    /// correlated subqueries).
    scopes: Vec<Vec<&'static str>>,
    /// Parameter numbers by value identity: an expression used twice (e.g. in the select list
    /// and in `GROUP BY`, by cloning it) binds its values once and repeats the same `$n`, which
    /// is what lets the server see the two as the same expression.
    param_numbers: std::collections::HashMap<usize, usize>,
    /// CTE definitions met so far, dependencies first: (name, identity, `name AS (...)` text).
    ctes: Vec<(&'static str, usize, String)>,
    recursive: bool,
    /// The tables written in `FROM`/`JOIN` items so far, at any depth (subqueries, CTEs).
    reads: Reads,
}

impl SqlWriter {
    /// An empty writer.
    pub fn new() -> Self {
        SqlWriter {
            sql: String::with_capacity(128),
            ..SqlWriter::default()
        }
    }

    /// Appends SQL text written by the library (keywords, operators, punctuation).
    pub fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Appends a quoted identifier: `"name"`, with embedded `"` doubled. Empty names, names with
    /// a NUL byte and names over 63 bytes are rejected.
    pub fn push_ident(&mut self, name: &str) {
        // One pass over the bytes decides both whether the name is valid (no NUL, not empty,
        // at most 63 bytes) and whether it holds a quote to double.
        let mut has_quote = false;
        let mut has_nul = false;
        for &b in name.as_bytes() {
            has_quote |= b == b'"';
            has_nul |= b == 0;
        }
        if has_nul || name.is_empty() || name.len() > MAX_IDENTIFIER_BYTES {
            if let Err(e) = check_identifier(name) {
                self.error.get_or_insert(e);
            }
        }
        self.sql.push('"');
        if has_quote {
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

    /// Appends `$n` and records the value; the same value (the same `Arc`, as in a cloned
    /// expression) gets the same `$n`.
    pub fn push_param(&mut self, value: Param) {
        let n = self.number(value);
        self.sql.push('$');
        push_decimal(&mut self.sql, n);
    }

    /// Numbers these values in their order (those not numbered yet), writing nothing: the
    /// statement then binds them as `$n` in that order wherever its text names them first.
    pub(crate) fn number_params(&mut self, values: &[Param]) {
        for v in values {
            self.number(v.clone());
        }
    }

    /// The `$n` of `value`: the number it already has, or the next one.
    fn number(&mut self, value: Param) -> usize {
        let identity = |p: &Param| std::sync::Arc::as_ptr(p) as *const () as usize;
        // Few parameters: a scan, no allocation. Many (a large VALUES list): a map, built once
        // the scan would cost more than the hashing.
        const SCAN_LIMIT: usize = 16;
        let known = if self.params.len() < SCAN_LIMIT {
            self.params
                .iter()
                .position(|p| std::sync::Arc::ptr_eq(p, &value))
                .map(|i| i + 1)
        } else {
            if self.param_numbers.is_empty() {
                for (i, p) in self.params.iter().enumerate() {
                    self.param_numbers.insert(identity(p), i + 1);
                }
            }
            self.param_numbers.get(&identity(&value)).copied()
        };
        match known {
            Some(n) => n,
            None => {
                if !self.param_numbers.is_empty() {
                    self.param_numbers
                        .insert(identity(&value), self.params.len() + 1);
                }
                self.params.push(value);
                self.params.len()
            }
        }
    }

    /// Records a table read by the statement (a `FROM` or `JOIN` item).
    pub(crate) fn note_read(&mut self, table: &'static Table) {
        if !self.reads.tables.iter().any(|t| std::ptr::eq(*t, table)) {
            self.reads.tables.to_mut().push(table);
        }
    }

    /// Records raw SQL in the statement: it may read tables the writer cannot see.
    pub(crate) fn note_opaque(&mut self) {
        self.reads.opaque = true;
    }

    /// The tables read so far (see [`Reads`]).
    pub fn reads(&self) -> &Reads {
        &self.reads
    }

    /// The finished statement: the SQL, the parameters and the tables read.
    pub fn finish_query(mut self) -> Result<super::CompiledQuery> {
        let reads = std::mem::take(&mut self.reads);
        let (sql, params) = self.finish()?;
        Ok(super::CompiledQuery {
            sql: sql.into(),
            params,
            reads,
        })
    }

    /// The SQL (prefixed by the `WITH` clause of the CTEs met) and parameters, or the first
    /// error recorded.
    pub fn finish(self) -> Result<(String, Vec<Param>)> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.ctes.is_empty() {
            return Ok((self.sql, self.params));
        }
        let mut sql = String::with_capacity(self.sql.len() + 64);
        sql.push_str(if self.recursive {
            "WITH RECURSIVE "
        } else {
            "WITH "
        });
        for (i, (_, _, def)) in self.ctes.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(def);
        }
        sql.push(' ');
        sql.push_str(&self.sql);
        Ok((sql, self.params))
    }

    /// Runs `f` with a fresh text buffer (sharing the parameters) and returns what it wrote.
    pub(crate) fn capture(&mut self, f: impl FnOnce(&mut SqlWriter)) -> String {
        let saved = std::mem::take(&mut self.sql);
        f(self);
        std::mem::replace(&mut self.sql, saved)
    }

    /// Whether a CTE of this name is already defined (for the same CTE) or being defined.
    /// Records a conflict when another CTE has the name.
    pub(crate) fn cte_known(&mut self, name: &'static str, id: usize) -> bool {
        match self.ctes.iter().find(|(n, _, _)| *n == name) {
            Some((_, existing, _)) => {
                if *existing != id {
                    self.fail(Error::invalid_statement(format!(
                        "two different CTEs are named {name:?} in one statement"
                    )));
                }
                true
            }
            None => false,
        }
    }

    /// Reserves a CTE's place (so a reference inside its own body does not define it again).
    pub(crate) fn reserve_cte(&mut self, name: &'static str, id: usize) -> usize {
        self.ctes.push((name, id, String::new()));
        self.ctes.len() - 1
    }

    /// Stores a CTE's definition text; keeps dependencies (defined while writing its body)
    /// before it.
    pub(crate) fn define_cte(&mut self, slot: usize, def: String, recursive: bool) {
        let entry = self.ctes.remove(slot);
        self.ctes.push((entry.0, entry.1, def));
        self.recursive |= recursive;
    }

    /// Enters a query whose `FROM`/`JOIN` items are `names`.
    pub(crate) fn push_scope(&mut self, names: Vec<&'static str>) {
        self.scopes.push(names);
    }

    /// Leaves the innermost query.
    pub(crate) fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    /// Records an error unless `qualifier` names a table of this query or an enclosing one.
    pub(crate) fn check_qualifier(&mut self, qualifier: &str, column: &str) {
        if self.scopes.is_empty() || self.scopes.iter().any(|s| s.contains(&qualifier)) {
            return;
        }
        self.fail(Error::invalid_statement(format!(
            "column \"{qualifier}\".\"{column}\" refers to {qualifier:?}, which is not in the FROM or JOIN list of the query (or of an enclosing one)"
        )));
    }

    /// Records an error to report from [`finish`](SqlWriter::finish).
    pub fn fail(&mut self, error: Error) {
        self.error.get_or_insert(error);
    }
}

/// Appends `n` in decimal: what `write!(sql, "{n}")` does, without the formatting machinery
/// (about 250 instructions a parameter, callgrind, issue 17).
fn push_decimal(sql: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // `n % 10` is a single digit: the cast cannot truncate.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    sql.extend(digits[start..].iter().map(|&d| char::from(d)));
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

#[cfg(test)]
mod tests {
    use super::push_decimal;

    #[test]
    fn push_decimal_writes_what_format_writes() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, usize::MAX] {
            let mut sql = String::from("$");
            push_decimal(&mut sql, n);
            assert_eq!(sql, format!("${n}"));
        }
    }
}
