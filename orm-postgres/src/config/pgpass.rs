//! Passwords from a `.pgpass` file, with libpq's format and rules.
//!
//! The file is `passfile` (connection parameter), else `PGPASSFILE`, else `~/.pgpass`. Each
//! line is `hostname:port:database:username:password`; `*` in one of the first four fields
//! matches anything; `\:` and `\\` stand for `:` and `\`; lines starting with `#` are
//! comments; the first matching line wins. A Unix-domain socket matches its directory, or
//! `localhost` when it is the default one (`/var/run/postgresql`, `/run/postgresql`, `/tmp`).
//! As libpq does, a file that is not a plain file, or that the group or others may read, is
//! ignored with a warning.

use std::path::{Path, PathBuf};

use super::redact::Secret;
use super::{DEFAULT_SOCKET_DIRS, Env, Host, Target};

/// The `.pgpass` file to read: the `passfile` parameter (or `PGPASSFILE`, which gives it when
/// the connection string does not), else `~/.pgpass`.
pub(crate) fn path(passfile: Option<&Path>, env: &dyn Env) -> Option<PathBuf> {
    match passfile {
        Some(p) => Some(p.to_owned()),
        None => env.home().map(|h| h.join(".pgpass")),
    }
}

/// What a lookup wants to match.
#[derive(Debug)]
pub(crate) struct Wanted<'a> {
    pub target: &'a Target,
    /// The database name the server will use (the user name when none is given).
    pub dbname: &'a str,
    pub user: &'a str,
}

impl Wanted<'_> {
    /// The host field's values that match this target.
    fn host_matches(&self, field: &str) -> bool {
        match &self.target.host {
            Host::Tcp(name) => field == name,
            Host::Unix(dir) => {
                let dir = dir.to_string_lossy();
                let dir = dir.trim_end_matches('/');
                field == dir || (field == "localhost" && DEFAULT_SOCKET_DIRS.contains(&dir))
            }
        }
    }
}

/// Looks a password up in the file at `path`. `Ok(None)`: no file, or no matching line.
/// `Err`: a warning to log (the file was ignored); it never holds file contents.
pub(crate) fn lookup(path: &Path, wanted: &Wanted<'_>) -> Result<Option<Secret>, String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read password file {}: {e}", path.display())),
    };
    if !meta.is_file() {
        return Err(format!(
            "password file {} is not a plain file",
            path.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "password file {} has group or world access; permissions should be u=rw \
                 (0600) or less",
                path.display()
            ));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read password file {}: {e}", path.display()))?;
    Ok(find(&text, wanted))
}

/// The password of the first line of `text` that matches.
fn find(text: &str, wanted: &Wanted<'_>) -> Option<Secret> {
    let port = wanted.target.port.to_string();
    text.lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .find_map(|line| {
            let fields = split(line)?;
            let [host, p, db, user, password] = fields;
            let matches = |field: &Field, value: &str| field.any || field.text == value;
            let host_ok = host.any || wanted.host_matches(&host.text);
            (host_ok
                && matches(&p, &port)
                && matches(&db, wanted.dbname)
                && matches(&user, wanted.user))
            .then(|| Secret::new(password.text))
        })
}

/// One field of a line: `*` alone matches anything.
struct Field {
    text: String,
    any: bool,
}

/// A line's five fields, unescaped; `None` for a line with fewer (libpq skips it). The
/// password is the rest of the line, colons included.
fn split(line: &str) -> Option<[Field; 5]> {
    let mut fields = Vec::with_capacity(5);
    let mut current = String::new();
    let mut escaped_any = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                escaped_any = true;
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ':' if fields.len() < 4 => {
                let any = current == "*" && !escaped_any;
                fields.push(Field {
                    text: std::mem::take(&mut current),
                    any,
                });
                escaped_any = false;
            }
            c => current.push(c),
        }
    }
    if fields.len() < 4 {
        return None;
    }
    fields.push(Field {
        text: current,
        any: false,
    });
    fields.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::{Wanted, find};
    use crate::config::{Host, Target};

    fn target(host: Host, port: u16) -> Target {
        Target {
            host,
            hostaddr: None,
            port,
        }
    }

    fn password(text: &str, target: &Target, db: &str, user: &str) -> Option<String> {
        let wanted = Wanted {
            target,
            dbname: db,
            user,
        };
        find(text, &wanted).map(|s| s.expose().to_owned())
    }

    #[test]
    fn first_matching_line_wins_with_wildcards() {
        let file = "# comment\n\
                    db.example:5432:app:alice:first\n\
                    *:*:app:alice:second\n\
                    *:*:*:*:fallback\n";
        let db = target(Host::Tcp("db.example".into()), 5432);
        let other = target(Host::Tcp("other".into()), 6543);
        assert_eq!(
            password(file, &db, "app", "alice").as_deref(),
            Some("first")
        );
        assert_eq!(
            password(file, &other, "app", "alice").as_deref(),
            Some("second")
        );
        assert_eq!(
            password(file, &other, "x", "bob").as_deref(),
            Some("fallback")
        );
        assert_eq!(
            password("db.example:5432:app:alice:p", &db, "app", "bob"),
            None
        );
    }

    #[test]
    fn escapes_and_colons_in_the_password() {
        let file = "h\\:x:5432:d\\\\b:u:pa\\:ss:with:colons\\\\\n";
        let t = target(Host::Tcp("h:x".into()), 5432);
        assert_eq!(
            password(file, &t, "d\\b", "u").as_deref(),
            Some("pa:ss:with:colons\\")
        );
        // An escaped star is a literal star.
        let t = target(Host::Tcp("other".into()), 5432);
        assert_eq!(password("\\*:*:*:*:p", &t, "d", "u"), None);
    }

    #[test]
    fn sockets_match_their_directory_or_localhost_for_the_default_one() {
        let file = "/srv/pg:5432:*:*:dir\nlocalhost:5432:*:*:local\n";
        let srv = target(Host::Unix("/srv/pg".into()), 5432);
        let run = target(Host::Unix("/var/run/postgresql".into()), 5432);
        let tmp = target(Host::Unix("/home/me/sock".into()), 5432);
        assert_eq!(password(file, &srv, "d", "u").as_deref(), Some("dir"));
        assert_eq!(password(file, &run, "d", "u").as_deref(), Some("local"));
        assert_eq!(password(file, &tmp, "d", "u"), None);
    }

    #[test]
    fn short_lines_are_skipped() {
        let t = target(Host::Tcp("h".into()), 5432);
        assert_eq!(
            password("h:5432:d\n*:*:*:*:p", &t, "d", "u").as_deref(),
            Some("p")
        );
    }
}
