//! Raw SQL fragments: each `:name` becomes a `$n` bound to the name's value.

use super::SqlWriter;
use crate::ast::RawSql;
use crate::error::Error;
use crate::lex;

/// Writes the fragment, turning each `:name` into a `$n` bound to the name's value (a name
/// used twice is one placeholder, used twice).
pub(crate) fn write_raw(w: &mut SqlWriter, raw: &RawSql) {
    w.note_opaque();
    if let Some(e) = &raw.error {
        w.fail(Error::invalid_statement(e.clone()));
        return;
    }
    // Only code is scanned: strings, quoted identifiers, dollar quotes and comments are copied
    // as they are, whatever `:name` they hold (PostgreSQL's lexical rules, `crate::lex`).
    let sql: &str = raw.sql;
    let mut start = 0;
    let mut used = vec![false; raw.binds.len()];
    for region in lex::regions(sql) {
        if region.kind != lex::Kind::Code {
            continue;
        }
        let bytes = sql.as_bytes();
        let mut i = region.start;
        while i < region.end {
            match bytes[i] {
                // A `::` cast.
                b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
                b':' if i + 1 < region.end
                    && (bytes[i + 1].is_ascii_alphabetic() || bytes[i + 1] == b'_') =>
                {
                    let name_start = i + 1;
                    let mut end = name_start;
                    while end < region.end
                        && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                    {
                        end += 1;
                    }
                    let name = &sql[name_start..end];
                    w.push(&sql[start..i]);
                    match raw.binds.iter().position(|(n, _)| *n == name) {
                        Some(at) => {
                            used[at] = true;
                            w.push_param(raw.binds[at].1.clone());
                        }
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
    }
    w.push(&sql[start..]);
    // A value bound to a name the text never uses is a misspelled name, or a parameter inside
    // a string or comment: refused rather than dropped.
    if let Some((name, _)) = raw
        .binds
        .iter()
        .zip(&used)
        .find(|(_, u)| !**u)
        .map(|(b, _)| b)
    {
        w.fail(Error::invalid_statement(format!(
            "raw SQL binds :{name}, which its text does not use as a parameter"
        )));
    }
}
