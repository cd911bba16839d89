//! Keeping passwords out of every output: [`Secret`] holds one with a `Debug` that prints
//! `***`, and [`redact`] rewrites a connection string with its secrets replaced.

use std::fmt;

use super::pairs;

/// A password (or the passphrase of a key). `Debug` never shows it; only the code that
/// authenticates reads it, through [`expose`](Secret::expose).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself: for the server's authentication exchange only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What stands in for a secret in redacted output.
pub(crate) const REDACTED: &str = "***";

/// Whether the value of the parameter `key` is secret. A `dbname` that is itself a connection
/// string (libpq's "expanded dbname", which this library refuses) may hold a password too.
fn is_secret(key: &str, value: &str) -> bool {
    match key {
        "password" | "sslpassword" => true,
        "dbname" => value.contains('=') || value.contains("://"),
        _ => false,
    }
}

/// `conninfo` with every secret value replaced by `***`, in the form the user wrote it (URL or
/// key-value). A string that does not parse is not shown at all, since there is no telling
/// where its password is.
pub(crate) fn redact(conninfo: &str) -> String {
    let Ok(pairs) = pairs(conninfo) else {
        return "<invalid connection string>".to_owned();
    };
    let mut spans: Vec<_> = pairs
        .iter()
        .filter(|p| is_secret(&p.key, &p.value))
        .map(|p| p.span.clone())
        .collect();
    spans.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(conninfo.len());
    let mut at = 0;
    for span in spans {
        if span.start < at || span.end > conninfo.len() {
            // Overlapping or out of range: cannot happen for spans from the parser, but never
            // risk printing a secret.
            return "<invalid connection string>".to_owned();
        }
        out.push_str(conninfo.get(at..span.start).unwrap_or_default());
        out.push_str(REDACTED);
        at = span.end;
    }
    out.push_str(conninfo.get(at..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact("postgres://app:s%40cret@db:5432/app?sslmode=require"),
            "postgres://app:***@db:5432/app?sslmode=require"
        );
        assert_eq!(
            redact("postgresql://app@db/app?password=s3cret&sslpassword=k3y&application_name=x"),
            "postgresql://app@db/app?password=***&sslpassword=***&application_name=x"
        );
        assert_eq!(redact("postgres://app@db/app"), "postgres://app@db/app");
    }

    #[test]
    fn key_value_strings_lose_their_passwords() {
        assert_eq!(
            redact("host=db password='it''s secret' user=app"),
            "<invalid connection string>"
        );
        assert_eq!(
            redact("host=db password='it\\'s secret' user=app"),
            "host=db password=*** user=app"
        );
        assert_eq!(
            redact("host=db password = s3cret dbname='host=x password=y'"),
            "host=db password = *** dbname=***"
        );
    }

    #[test]
    fn unparsable_strings_are_not_shown() {
        assert_eq!(
            redact("postgres://app:s3cret@db/app?password"),
            "<invalid connection string>"
        );
        assert_eq!(redact("s3cret"), "<invalid connection string>");
    }
}
