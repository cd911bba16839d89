//! Raw SQL fragments: each `:name` becomes a `$n` bound to the name's value.

use super::SqlWriter;
use crate::ast::RawSql;
use crate::error::Error;

/// Writes the fragment, turning each `:name` into a `$n` bound to the name's value (a name
/// used twice gets two placeholders with the same value).
pub(crate) fn write_raw(w: &mut SqlWriter, raw: &RawSql) {
    if let Some(e) = &raw.error {
        w.fail(Error::invalid_statement(e.clone()));
        return;
    }
    let bytes = raw.sql.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                // Skip a quoted literal or identifier (doubled quotes stay inside).
                let quote = b;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        if i + 1 < bytes.len() && bytes[i + 1] == quote {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
            b':' if bytes
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                let name_start = i + 1;
                let mut end = name_start;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                let name = &raw.sql[name_start..end];
                w.push(&raw.sql[start..i]);
                match raw.binds.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => w.push_param(value.clone()),
                    None => w.fail(Error::invalid_statement(format!(
                        "raw SQL parameter :{name} has no value; call .bind(\"{name}\", value)"
                    ))),
                }
                i = end;
                start = end;
            }
            _ => i += 1,
        }
    }
    w.push(&raw.sql[start..]);
}
