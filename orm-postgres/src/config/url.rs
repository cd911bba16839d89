//! `postgres://` URLs, as libpq reads them:
//! `postgresql://[user[:password]@][host[:port][,host[:port]...]][/dbname][?key=value&...]`.
//!
//! Every part is percent-decoded (`%2Ftmp` is the socket directory `/tmp`, `p%40ss` the
//! password `p@ss`); an IPv6 address is written in brackets (`[::1]:5432`); the query takes
//! any parameter of a key-value string, and a query parameter wins over the same setting in
//! the authority (`postgres:///db?host=/run/postgresql`). Error messages name the part that
//! is wrong but never quote it, since it may be the password.

use super::{ConfigError, Pair};

/// The two schemes libpq accepts.
const SCHEMES: [&str; 2] = ["postgresql://", "postgres://"];

/// Whether `s` is a URL rather than a key-value string.
pub(crate) fn is_url(s: &str) -> bool {
    SCHEMES.iter().any(|scheme| s.starts_with(scheme))
}

fn invalid(reason: impl Into<String>) -> ConfigError {
    ConfigError::InvalidUrl {
        reason: reason.into(),
    }
}

/// The URL's settings as key-value pairs, each with the span of its raw value in `s`.
pub(crate) fn parse(s: &str) -> Result<Vec<Pair>, ConfigError> {
    let start = SCHEMES
        .iter()
        .find(|scheme| s.starts_with(*scheme))
        .map(|scheme| scheme.len())
        .ok_or_else(|| invalid("it must start with postgresql:// or postgres://"))?;
    let mut pairs = Vec::new();
    let rest = &s[start..];
    let authority_len = rest.find(['/', '?']).unwrap_or(rest.len());
    // A `/` or `?` left unencoded in the password ends the authority early: the password's
    // start would be read as a host and port (and quoted by their errors), its rest as the
    // database name. Its `@` then comes after the authority, before any query value.
    let tail = &rest[authority_len..];
    if tail[..tail.find('=').unwrap_or(tail.len())].contains('@') {
        return Err(invalid(
            "an `@` comes after the host: percent-encode `/`, `?` and `@` in the user name, \
             password or database name (`%2F`, `%3F`, `%40`)",
        ));
    }
    let authority_end = start + authority_len;
    let authority = &s[start..authority_end];
    let hosts_start = match authority.rfind('@') {
        Some(at) => {
            userinfo(s, start, start + at, &mut pairs)?;
            start + at + 1
        }
        None => start,
    };
    host_list(s, hosts_start, authority_end, &mut pairs)?;
    let mut at = authority_end;
    if s[at..].starts_with('/') {
        let end = s[at..].find('?').map_or(s.len(), |q| at + q);
        let dbname = decode(&s[at + 1..end], "the database name")?;
        if !dbname.is_empty() {
            pairs.push(Pair::new("dbname", dbname, at + 1..end));
        }
        at = end;
    }
    if s[at..].starts_with('?') {
        query(s, at + 1, &mut pairs)?;
    }
    Ok(pairs)
}

/// `user[:password]` in `s[start..end]`.
fn userinfo(s: &str, start: usize, end: usize, pairs: &mut Vec<Pair>) -> Result<(), ConfigError> {
    let info = &s[start..end];
    let (user_end, password) = match info.find(':') {
        Some(colon) => (start + colon, Some(start + colon + 1..end)),
        None => (end, None),
    };
    let user = decode(&s[start..user_end], "the user name")?;
    if !user.is_empty() {
        pairs.push(Pair::new("user", user, start..user_end));
    }
    // As in libpq, an empty user name or password is no setting: the environment's (`PGUSER`,
    // `PGPASSWORD`) still applies.
    if let Some(span) = password {
        let password = decode(&s[span.clone()], "the password")?;
        if !password.is_empty() {
            pairs.push(Pair::new("password", password, span));
        }
    }
    Ok(())
}

/// `host[:port][,host[:port]...]` in `s[start..end]`, as one `host` and one `port` pair
/// holding comma-separated lists (an entry without a port has an empty one).
fn host_list(s: &str, start: usize, end: usize, pairs: &mut Vec<Pair>) -> Result<(), ConfigError> {
    if start == end {
        return Ok(());
    }
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    let mut at = start;
    for entry in s[start..end].split(',') {
        let entry_end = at + entry.len();
        let (host, port) = if let Some(inner) = entry.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or_else(|| invalid("an IPv6 address lacks its closing \"]\""))?;
            let after = &inner[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(port) => port,
                None if after.is_empty() => "",
                None => return Err(invalid("unexpected text after an IPv6 address")),
            };
            (inner[..close].to_owned(), port)
        } else {
            let (host, port) = match entry.find(':') {
                Some(colon) => (&entry[..colon], &entry[colon + 1..]),
                None => (entry, ""),
            };
            (decode(host, "a host name")?, port)
        };
        if host.contains(',') {
            return Err(invalid("a host name holds an encoded comma"));
        }
        hosts.push(host);
        ports.push(decode(port, "a port")?);
        at = entry_end + 1;
    }
    pairs.push(Pair::new("host", hosts.join(","), start..end));
    // As in libpq, a list of several hosts gives a port list even when every entry is empty
    // (`postgres://a,b/db` is port `,`: the default port for both, whatever `PGPORT` says).
    if ports.len() > 1 || ports.iter().any(|p| !p.is_empty()) {
        pairs.push(Pair::new("port", ports.join(","), start..end));
    }
    Ok(())
}

/// `key=value&...` from `s[start..]`.
fn query(s: &str, start: usize, pairs: &mut Vec<Pair>) -> Result<(), ConfigError> {
    let mut at = start;
    for item in s[start..].split('&') {
        let item_start = at;
        at += item.len() + 1;
        if item.is_empty() {
            continue;
        }
        let eq = item.find('=').ok_or_else(|| {
            invalid("a query parameter has no \"=\" (expected ?key=value&key=value)")
        })?;
        let key = decode(&item[..eq], "a query parameter name")?;
        let value_span = item_start + eq + 1..item_start + item.len();
        let value = decode(&s[value_span.clone()], "a query parameter value")?;
        if key == "ssl" {
            // The JDBC spelling, which libpq accepts too.
            if value != "true" {
                return Err(invalid(
                    "ssl=true is the only value of ssl (or use sslmode)",
                ));
            }
            pairs.push(Pair::new("sslmode", "require".to_owned(), value_span));
            continue;
        }
        pairs.push(Pair::new(&key, value, value_span));
    }
    Ok(())
}

/// Percent-decoding into UTF-8. `part` names what is decoded for the error message, which
/// never quotes the text (it may be a password).
fn decode(raw: &str, part: &str) -> Result<String, ConfigError> {
    if !raw.contains('%') {
        return Ok(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid(format!("invalid percent-encoding in {part}")))?;
            if hex == 0 {
                return Err(invalid(format!("{part} holds an encoded NUL byte (%00)")));
            }
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid(format!("{part} is not UTF-8 once decoded")))
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::config::ConfigError;

    fn kv(s: &str) -> Vec<(String, String)> {
        crate::config::key_values(parse(s).expect("parses"))
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_parts_of_a_url() {
        assert_eq!(
            kv(
                "postgresql://app:p%40ss%3Aw0rd@db.example:6543/my%20db?sslmode=verify-full&application_name=a%26b"
            ),
            pairs(&[
                ("user", "app"),
                ("password", "p@ss:w0rd"),
                ("host", "db.example"),
                ("port", "6543"),
                ("dbname", "my db"),
                ("sslmode", "verify-full"),
                ("application_name", "a&b"),
            ])
        );
        assert_eq!(kv("postgres://"), pairs(&[]));
        assert_eq!(kv("postgres://db"), pairs(&[("host", "db")]));
        assert_eq!(kv("postgres://app@"), pairs(&[("user", "app")]));
    }

    #[test]
    fn host_lists_sockets_and_ipv6() {
        assert_eq!(
            kv("postgres://a:5432,b,[::1]:5433/db?target_session_attrs=read-write"),
            pairs(&[
                ("host", "a,b,::1"),
                ("port", "5432,,5433"),
                ("dbname", "db"),
                ("target_session_attrs", "read-write"),
            ])
        );
        assert_eq!(
            kv("postgresql://%2Ftmp/db"),
            pairs(&[("host", "/tmp"), ("dbname", "db")])
        );
        assert_eq!(
            kv("postgres:///db?host=/run/postgresql"),
            pairs(&[("dbname", "db"), ("host", "/run/postgresql")])
        );
    }

    #[test]
    fn query_values_are_decoded_and_ssl_true_means_require() {
        assert_eq!(
            kv("postgres://h/d?options=-c%20search_path%3Dapp,public&ssl=true"),
            pairs(&[
                ("host", "h"),
                ("dbname", "d"),
                ("options", "-c search_path=app,public"),
                ("sslmode", "require"),
            ])
        );
    }

    #[test]
    fn malformed_urls_are_typed_errors_that_never_quote_the_password() {
        for (url, needle) in [
            (
                "postgres://u:s3cr%zzet@h/d",
                "percent-encoding in the password",
            ),
            ("postgres://[::1/d", "closing"),
            ("postgres://h/d?sslmode", "no \"=\""),
            ("postgres://u:s3cr%00et@h/d", "NUL"),
        ] {
            let err = parse(url).expect_err("fails");
            assert!(matches!(err, ConfigError::InvalidUrl { .. }), "{url}");
            let text = err.to_string();
            assert!(text.contains(needle), "{url}: {text}");
            assert!(!text.contains("s3cr"), "{url}: {text}");
        }
    }
}
