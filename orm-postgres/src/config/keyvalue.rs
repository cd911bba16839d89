//! libpq's key-value connection strings: `host=db.example port=5432 dbname=app`.
//!
//! Pairs are separated by whitespace, and spaces around `=` are allowed. A value is either a
//! bare word, or single-quoted to hold spaces (`options='-c search_path=app'`); inside either,
//! a backslash takes the next character literally (`\'`, `\\`). Error messages name the
//! parameter but never quote a value, since it may be the password.

use super::{ConfigError, Pair};

fn invalid(reason: String) -> ConfigError {
    ConfigError::InvalidKeyValue { reason }
}

/// The string's pairs, each with the span of its raw value (quotes included) in `s`.
pub(crate) fn parse(s: &str) -> Result<Vec<Pair>, ConfigError> {
    let mut pairs = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(key_start, _)) = chars.peek() else {
            break;
        };
        let mut key_end = s.len();
        while let Some(&(i, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                key_end = i;
                break;
            }
            chars.next();
        }
        let key = &s[key_start..key_end];
        if key.is_empty() {
            return Err(invalid("a \"=\" has no parameter name before it".into()));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|&(_, c)| c == '=').is_none() {
            // Not quoted: a stray word may be a password that lost its `password=`.
            return Err(invalid(
                "a word is not followed by \"=\" (expected key=value pairs)".into(),
            ));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let value_start = chars.peek().map_or(s.len(), |&(i, _)| i);
        let mut value = String::new();
        let quoted = chars.next_if(|&(_, c)| c == '\'').is_some();
        let mut closed = !quoted;
        let mut value_end = s.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => {
                        return Err(invalid(format!(
                            "the value of {key:?} ends in a lone backslash"
                        )));
                    }
                },
                '\'' if quoted => {
                    closed = true;
                    value_end = i + 1;
                    break;
                }
                c if !quoted && c.is_whitespace() => {
                    value_end = i;
                    break;
                }
                c => value.push(c),
            }
        }
        if !closed {
            return Err(invalid(format!(
                "the quoted value of {key:?} lacks its closing quote"
            )));
        }
        if quoted && chars.peek().is_some_and(|&(_, c)| !c.is_whitespace()) {
            return Err(invalid(format!(
                "text right after the closing quote of {key:?}"
            )));
        }
        pairs.push(Pair::new(key, value, value_start..value_end));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::config::ConfigError;

    fn kv(s: &str) -> Vec<(String, String)> {
        crate::config::key_values(parse(s).expect("parses"))
    }

    #[test]
    fn bare_and_quoted_values() {
        assert_eq!(
            kv(
                "host=db port = 5432\tdbname='my db' options='-c search_path=app' password=a\\ b\\'c application_name=''"
            ),
            [
                ("host", "db"),
                ("port", "5432"),
                ("dbname", "my db"),
                ("options", "-c search_path=app"),
                ("password", "a b'c"),
                ("application_name", ""),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(kv("  "), vec![]);
        assert_eq!(
            kv("password='it\\'s'"),
            [("password".to_string(), "it's".to_string())]
        );
    }

    #[test]
    fn spans_cover_the_raw_values() {
        let s = "host=db password='s 3' user=u";
        let p = parse(s).expect("parses");
        assert_eq!(&s[p[1].span.clone()], "'s 3'");
        assert_eq!(&s[p[2].span.clone()], "u");
    }

    #[test]
    fn malformed_strings_are_typed_errors_that_never_quote_a_value() {
        for s in [
            "host=db password",
            "host=db s3cret",
            "host=db password='s3cret",
            "=s3cret",
            "password='s3cret'x",
            "password=s3cret\\",
        ] {
            let err = parse(s).expect_err("fails");
            assert!(matches!(err, ConfigError::InvalidKeyValue { .. }), "{s}");
            assert!(!err.to_string().contains("s3cret"), "{s}: {err}");
        }
    }
}
