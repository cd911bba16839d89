//! Call-site tags: a [sqlcommenter](https://google.github.io/sqlcommenter/spec/) comment
//! appended to each statement, naming the Rust code that sent it (`file`, `line`, through
//! `#[track_caller]`) and the tags the application set on its database handle
//! ([`Database::tagged`](crate::Database::tagged)), so server logs and `pg_stat_statements`
//! show where a slow statement comes from.
//!
//! The comment depends only on the call site and the tags, never on values, so each call site
//! and statement shape is one prepared statement. Keys and values are percent-encoded (all but
//! `A-Z a-z 0-9 - _ . ~`), which leaves no `'`, `*` or `/` in them: no tag can end the comment
//! or the quoted value. Keys are sorted, as the spec asks.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// Where a statement was sent from in the application (the caller of a `#[track_caller]`
/// method), for [call-site tags](crate::DatabaseBuilder::call_site_tags).
pub(crate) type Site = &'static std::panic::Location<'static>;

/// The tags of a database handle, sorted by key (each key once).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tags(Vec<(String, String)>);

impl Tags {
    /// These tags with `key` set to `value`.
    pub(crate) fn with(tags: Option<&Arc<Tags>>, key: &str, value: &str) -> Arc<Tags> {
        let mut all = tags.map(|t| t.0.clone()).unwrap_or_default();
        match all.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            Ok(i) => all[i].1 = value.to_owned(),
            Err(i) => all.insert(i, (key.to_owned(), value.to_owned())),
        }
        Arc::new(Tags(all))
    }
}

/// ` /*file='src%2Fmain.rs',line='42',route='%2Fusers'*/`: the call site and the tags, keys
/// sorted (a tag named `file` or `line` gives way to the call site's).
pub(crate) fn comment(site: Site, tags: Option<&Tags>) -> String {
    let line = site.line().to_string();
    let mut pairs: Vec<(&str, &str)> = vec![("file", site.file()), ("line", &line)];
    for (k, v) in tags.map_or(&[][..], |t| &t.0) {
        if k != "file" && k != "line" {
            pairs.push((k, v));
        }
    }
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(64);
    out.push_str(" /*");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        encode(&mut out, k);
        out.push_str("='");
        encode(&mut out, v);
        out.push('\'');
    }
    out.push_str("*/");
    out
}

/// Percent-encodes every byte but the unreserved ones.
fn encode(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// The tags of a statement's trailing sqlcommenter comment (`file`, `line` and the
/// application's), decoded; empty when it has none.
///
/// ```
/// use orm_postgres::parse_tags;
///
/// let tags = parse_tags("SELECT 1 /*file='src%2Fmain.rs',line='42',route='%2Fusers'*/");
/// assert_eq!(tags["file"], "src/main.rs");
/// assert_eq!(tags["route"], "/users");
/// ```
pub fn parse_tags(sql: &str) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    let trimmed = sql.trim_end();
    let Some(body) = trimmed.strip_suffix("*/") else {
        return tags;
    };
    let Some(start) = body.rfind("/*") else {
        return tags;
    };
    for pair in body[start + 2..].split(',') {
        let Some((k, v)) = pair.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('\'').replace("\\'", "'");
        tags.insert(decode(k.trim()), decode(&v));
    }
    tags
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_sorted_encoded_and_cannot_be_ended_by_a_tag() {
        let site = Location::caller();
        let tags = Tags::with(None, "route", "/users/{id}");
        let tags = Tags::with(Some(&tags), "app", "it's */ DROP TABLE x; --");
        let c = comment(site, Some(&tags));
        assert!(c.starts_with(" /*app='it%27s%20%2A%2F%20DROP%20TABLE%20x%3B%20--',file='"));
        assert!(c.ends_with(&format!(
            ",line='{}',route='%2Fusers%2F%7Bid%7D'*/",
            site.line()
        )));
        // Nothing between the comment's ends can close it.
        assert!(!c[3..c.len() - 2].contains("*/"));
        let parsed = parse_tags(&format!("SELECT 1{c}"));
        assert_eq!(parsed["app"], "it's */ DROP TABLE x; --");
        assert_eq!(parsed["route"], "/users/{id}");
        assert_eq!(parsed["file"], site.file());
    }

    use std::panic::Location;
}
