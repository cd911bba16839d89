//! A revision: one step of a migration, as read from the migrations directory (or embedded in
//! the binary), and its file format. No IO here; reading the directory is the
//! [`files`](crate::files) module, and both it and [`embed_migrations!`](crate::embed_migrations)
//! parse with [`Revision::parse`].
//!
//! # The file format
//!
//! A `migrations/` directory holds one directory per revision, named `<id>_<slug>`, with two
//! plain SQL files, `up.sql` (apply) and `down.sql` (revert):
//!
//! ```text
//! migrations/
//!   README.md                              (optional; hidden files are ignored too)
//!   20261201090000_create_users/
//!     up.sql
//!     down.sql
//!   20261203141500_add_tutorial_model/
//!     up.sql
//!     down.sql
//! ```
//!
//! - `<id>` is a 14-digit UTC timestamp `YYYYMMDDHHMMSS` taken when the revision was created,
//!   so ids sort by creation. It is unique in the graph; wherever a revision is named (a parent,
//!   a target) a unique prefix of its id will do on the command line, but files always hold
//!   full ids.
//! - `<slug>` is the message in lowercase ASCII, words joined by `_`, at most
//!   [`SLUG_MAX`] characters (see [`slug`]). Only the id matters: renaming the slug is harmless.
//! - `up.sql` starts with a header of `-- key: value` comment lines. The header ends at the
//!   first line that is not of that form; a blank line right after it belongs to the header (it
//!   is how the header is written), everything after is the up script, run as written.
//!
//!   ```sql
//!   -- message: Add Tutorial model
//!   -- parents: 20261201090000
//!   -- depends_on: 20261130120000
//!   -- transaction: false
//!   -- run: seed_tutorials
//!
//!   CREATE TABLE tutorial (id bigint PRIMARY KEY, title text NOT NULL);
//!   ```
//!
//!   | key | value | default |
//!   |-----|-------|---------|
//!   | `message` | the one-line message it was created with (**required**) | |
//!   | `parents` | comma-separated ids of the revisions it follows: none for a root, two or more for a merge | none (a root) |
//!   | `depends_on` | comma-separated ids of revisions on other branches that must be applied first | none |
//!   | `transaction` | `true` or `false`; `false` runs it outside a transaction (`CREATE INDEX CONCURRENTLY`, `ALTER TYPE ... ADD VALUE` on old servers), up and down; per direction, `up false` or `down false` (or both, comma-separated: `up false, down true`), a direction not named running in one | `true` |
//!   | `run` | the name of a Rust function registered with the migrator, run after the SQL in the same transaction (with `transaction: false`, in the transaction that records the revision) | none |
//!   | `expand`, `using`, `reverse` | an [expand revision](crate::expand): `schema.table.old -> new`, the conversion to the new column, the conversion back | none |
//!   | `contract` | a [contract revision](crate::expand): the id of the expand revision it completes | none |
//!   | `backfill` | `batch <rows>, pause <duration>` for the revision's `-- @backfill` lines | the migrator's |
//!
//! - `down.sql` is the downgrade script, with no header. It must exist; it may be empty.
//! - In either script, a line `-- @backfill schema.table.column key id` between statements
//!   marks a batched backfill the runner performs there (see [`expand`](crate::expand)); it
//!   needs `transaction: false`.
//!
//! Strictness: an unknown key, a key given twice, a bad value (`transaction: maybe`, an id that
//! is not 14 digits), a missing `message`, a missing `down.sql`, or an up script with nothing
//! but whitespace and comments (unless the revision is a merge or has `run:`) is a
//! [`MigrateError::Malformed`] naming the file and, for the header, the line. Note that a
//! comment such as `-- note: ...` directly under the header reads as an (unknown) header key:
//! leave a blank line after the header, as [`Revision::to_files`] does.
//!
//! Line ends: `\r\n` is read as `\n` (and a leading byte-order mark is dropped), in both files,
//! so a checkout with Windows line ends has the same scripts and the same
//! [checksum](Revision::checksum).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::backfill::backfills;
use crate::error::{MigrateError, Result};
use crate::phase::{self, PhaseKeys};

/// The length of a revision id: a UTC timestamp `YYYYMMDDHHMMSS`.
pub const ID_LEN: usize = 14;

/// The longest slug [`slug`] makes.
pub const SLUG_MAX: usize = 40;

/// The name of the upgrade script in a revision's directory.
pub const UP_FILE: &str = "up.sql";

/// The name of the downgrade script in a revision's directory.
pub const DOWN_FILE: &str = "down.sql";

/// The header keys, in the order [`Revision::render_header`] writes them (then the
/// [expand/contract keys](phase::KEYS)).
const KEYS: [&str; 5] = ["message", "parents", "depends_on", "transaction", "run"];

/// One revision: an id, a message, its parents, and the SQL that applies and reverts it.
///
/// Read one with [`Revision::parse`] (or [`files::read_dir`](crate::files::read_dir)); make a
/// new one with [`Revision::new`] and the `with_*` methods, and write it with
/// [`Revision::to_files`] (or [`files::write_revision`](crate::files::write_revision)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Its id (unique in the graph).
    pub id: String,
    /// The one-line message it was created with.
    pub message: String,
    /// The revisions it follows: none for a root, two or more for a merge.
    pub parents: Vec<String>,
    /// Revisions of other branches that must be applied first (`depends_on`).
    pub depends_on: Vec<String>,
    /// The upgrade script (without its header).
    pub up: String,
    /// The downgrade script.
    pub down: String,
    /// Whether its up script runs in a transaction with its version row (the default).
    /// `false` for `CREATE INDEX CONCURRENTLY` or `ALTER TYPE ... ADD VALUE` on old servers.
    pub transactional: bool,
    /// Whether its down script runs in a transaction with the removal of its version row: the
    /// same as [`transactional`](Self::transactional) unless the header names the directions
    /// (`-- transaction: up false`: a label added with `ADD VALUE`, undone by recreating the
    /// type, which a transaction keeps all-or-nothing).
    pub down_transactional: bool,
    /// A Rust function registered with the migrator, run after `up` in the same transaction.
    pub run: Option<String>,
    /// Its [expand/contract](crate::expand) keys (`expand`, `using`, `reverse`, `contract`,
    /// `backfill`); all empty for an ordinary revision.
    pub phase: PhaseKeys,
    /// Where it came from (the up script's path), for error messages.
    pub source: std::path::PathBuf,
    /// The header of the up script as on disk (with `\n` line ends, and the blank line that
    /// ends it, if any), so that the [checksum](Self::checksum) covers every byte of `up.sql`.
    /// [`Revision::new`] and the `with_*` methods keep it equal to
    /// [`render_header`](Self::render_header); after changing the fields by hand, set it again.
    pub header: String,
}

/// The two files of a revision, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionFiles {
    /// `up.sql`: the header, then the up script.
    pub up: String,
    /// `down.sql`: the down script.
    pub down: String,
}

impl Revision {
    /// A new root revision with an empty up and down script, in a transaction, with no
    /// function to run. Control characters in `message` (a newline) become spaces, and it is
    /// trimmed, so that it fits its header line. Its `source` is `<id>_<slug>/up.sql`.
    ///
    /// Give it an up script ([`with_up`](Self::with_up)): unless it is a merge or runs a
    /// function, its files do not parse back while the up script is empty.
    pub fn new(id: impl Into<String>, message: &str) -> Revision {
        let message: String = message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut revision = Revision {
            id: id.into(),
            message: message.trim().to_owned(),
            parents: Vec::new(),
            depends_on: Vec::new(),
            up: String::new(),
            down: String::new(),
            transactional: true,
            down_transactional: true,
            run: None,
            phase: PhaseKeys::default(),
            source: PathBuf::new(),
            header: String::new(),
        };
        revision.source = PathBuf::from(revision.dir_name()).join(UP_FILE);
        revision.header = revision.render_header();
        revision
    }

    /// With these parents (two or more make a merge).
    pub fn with_parents<I>(mut self, parents: I) -> Revision
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.parents = parents.into_iter().map(Into::into).collect();
        self.header = self.render_header();
        self
    }

    /// With these cross-branch dependencies.
    pub fn with_depends_on<I>(mut self, depends_on: I) -> Revision
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.depends_on = depends_on.into_iter().map(Into::into).collect();
        self.header = self.render_header();
        self
    }

    /// Run in a transaction (the default) or not, up and down.
    pub fn with_transactional(mut self, transactional: bool) -> Revision {
        self.transactional = transactional;
        self.down_transactional = transactional;
        self.header = self.render_header();
        self
    }

    /// Run the down script in a transaction or not, whatever the up script does (after
    /// [`with_transactional`](Self::with_transactional), which sets both).
    pub fn with_down_transactional(mut self, transactional: bool) -> Revision {
        self.down_transactional = transactional;
        self.header = self.render_header();
        self
    }

    /// Run the Rust function registered under `name` after the up script.
    pub fn with_run(mut self, name: impl Into<String>) -> Revision {
        self.run = Some(name.into());
        self.header = self.render_header();
        self
    }

    /// With these expand/contract keys.
    pub fn with_phase(mut self, phase: PhaseKeys) -> Revision {
        self.phase = phase;
        self.header = self.render_header();
        self
    }

    /// With this up script (the SQL after the header).
    pub fn with_up(mut self, up: impl Into<String>) -> Revision {
        self.up = up.into();
        self
    }

    /// With this down script.
    pub fn with_down(mut self, down: impl Into<String>) -> Revision {
        self.down = down.into();
        self
    }

    /// Whether it is a merge: two or more parents.
    pub fn is_merge(&self) -> bool {
        self.parents.len() >= 2
    }

    /// The name of its directory for a new revision: `<id>_<slug of the message>`.
    pub fn dir_name(&self) -> String {
        format!("{}_{}", self.id, slug(&self.message))
    }

    /// The header these fields are written with: `message` always, the other keys only when
    /// they differ from their defaults, then a blank line.
    pub fn render_header(&self) -> String {
        let mut out = format!("-- message: {}\n", self.message);
        if !self.parents.is_empty() {
            out.push_str("-- parents: ");
            out.push_str(&self.parents.join(", "));
            out.push('\n');
        }
        if !self.depends_on.is_empty() {
            out.push_str("-- depends_on: ");
            out.push_str(&self.depends_on.join(", "));
            out.push('\n');
        }
        match (self.transactional, self.down_transactional) {
            (true, true) => {}
            (false, false) => out.push_str("-- transaction: false\n"),
            (false, true) => out.push_str("-- transaction: up false\n"),
            (true, false) => out.push_str("-- transaction: down false\n"),
        }
        if let Some(run) = &self.run {
            out.push_str("-- run: ");
            out.push_str(run);
            out.push('\n');
        }
        self.phase.render(&mut out);
        out.push('\n');
        out
    }

    /// The text of its two files: `up.sql` is [`render_header`](Self::render_header) and the up
    /// script, `down.sql` the down script. [`Revision::parse`] reads them back as the same
    /// revision.
    pub fn to_files(&self) -> RevisionFiles {
        let mut up = self.render_header();
        up.push_str(&self.up);
        RevisionFiles {
            up,
            down: self.down.clone(),
        }
    }

    /// Its up script for the [lint](crate::lint::lint_scripts), with lines counted in the file
    /// (below the header), named by [`source_name`](Self::source_name).
    pub fn lint_script(&self) -> crate::lint::Script<'_> {
        crate::lint::Script {
            source: self.source_name(),
            sql: &self.up,
            transactional: self.transactional,
            lines_above: self.header.matches('\n').count(),
        }
    }

    /// Where its up script comes from: the path it was read from, or `<dir>/up.sql`.
    pub fn source_name(&self) -> String {
        if self.source.as_os_str().is_empty() {
            format!("{}/{UP_FILE}", self.dir_name())
        } else {
            self.source.display().to_string()
        }
    }

    /// The hex SHA-256 of `up.sql` as on disk (its header and its script, with `\r\n` read as
    /// `\n`): editing any part of the file changes it. The runner records it when the revision
    /// is applied and refuses to run when an applied revision's checksum changed.
    pub fn checksum(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.header.as_bytes());
        hasher.update(self.up.as_bytes());
        let mut out = String::with_capacity(64);
        for byte in hasher.finalize().iter() {
            let _ = write!(out, "{byte:02x}");
        }
        out
    }

    /// Parses a revision from its directory's path (whose last component is `<id>_<slug>`, the
    /// id coming from it) and the text of its `up.sql` and `down.sql` (`None` when missing).
    /// `source` becomes `dir/up.sql`. Errors are [`MigrateError::Malformed`] naming the file
    /// (and the line, in the header).
    pub fn parse(dir: &Path, up: &str, down: Option<&str>) -> Result<Revision> {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some((id, _slug)) = split_dir_name(name) else {
            return Err(malformed(
                dir,
                "not a revision directory: expected `<id>_<slug>`, the id being 14 digits \
                 (a UTC timestamp YYYYMMDDHHMMSS)",
            ));
        };
        let source = dir.join(UP_FILE);
        let up = normalize(up);
        let (header_len, fields) = parse_header(&up, &source)?;
        let (header, body) = up.split_at(header_len);
        let revision = Revision {
            id: id.to_owned(),
            message: fields.message,
            parents: fields.parents,
            depends_on: fields.depends_on,
            up: body.to_owned(),
            down: String::new(),
            transactional: fields.transactional,
            down_transactional: fields.down_transactional,
            run: fields.run,
            phase: fields.phase,
            source,
            header: header.to_owned(),
        };
        if is_blank_sql(&revision.up) && !revision.is_merge() && revision.run.is_none() {
            return Err(malformed(
                &revision.source,
                "the up script is empty (nothing but whitespace and comments after the header): \
                 only a merge (two or more parents) or a revision with `-- run:` may be empty",
            ));
        }
        let Some(down) = down else {
            return Err(malformed(
                &dir.join(DOWN_FILE),
                "missing: every revision has a down.sql (it may be empty)",
            ));
        };
        let revision = Revision {
            down: normalize(down),
            ..revision
        };
        if let Err((in_down, message)) = check_phase(&revision) {
            let path = if in_down {
                dir.join(DOWN_FILE)
            } else {
                revision.source.clone()
            };
            return Err(malformed(&path, message));
        }
        Ok(revision)
    }
}

/// Checks a revision's expand/contract parts as it is read: its header keys together, its
/// `-- @backfill` lines, and that a revision with any runs outside a transaction. The message
/// of the first problem, and whether it is in the down script.
fn check_phase(revision: &Revision) -> std::result::Result<(), (bool, String)> {
    revision.phase.check().map_err(|m| (false, m))?;
    for (down, script, transactional) in [
        (false, &revision.up, revision.transactional),
        (true, &revision.down, revision.down_transactional),
    ] {
        let markers = backfills(script).map_err(|m| (down, m))?;
        if !markers.is_empty() && transactional {
            return Err((
                down,
                format!(
                    "a `-- @backfill` runs in batches, each committed on its own: the {} \
                     script must run outside a transaction (`-- transaction: false` in the \
                     header)",
                    if down { "down" } else { "up" }
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `s` is a revision id: exactly [`ID_LEN`] ASCII digits.
pub fn is_id(s: &str) -> bool {
    s.len() == ID_LEN && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits a revision directory's name `<id>_<slug>` into its id and slug, or `None` when it is
/// not one: the id must be 14 digits, the slug non-empty ASCII letters, digits, `_` and `-`.
pub fn split_dir_name(name: &str) -> Option<(&str, &str)> {
    let (id, slug) = name.split_at_checked(ID_LEN)?;
    let slug = slug.strip_prefix('_')?;
    let slug_ok = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    (is_id(id) && slug_ok).then_some((id, slug))
}

/// The slug of a message, for a revision's directory name: its ASCII letters and digits in
/// lowercase, words (runs of them) joined by `_`, cut at a word boundary to at most
/// [`SLUG_MAX`] characters (a single longer word is cut short). `revision` when the message
/// has no ASCII letter or digit.
pub fn slug(message: &str) -> String {
    let mut out = String::new();
    for word in message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let sep = usize::from(!out.is_empty());
        if out.len() + sep + word.len() > SLUG_MAX {
            if out.is_empty() {
                out.extend(word.chars().take(SLUG_MAX));
            }
            break;
        }
        if sep == 1 {
            out.push('_');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        return "revision".to_owned();
    }
    out.make_ascii_lowercase();
    out
}

/// `\r\n` as `\n`, without a leading byte-order mark.
fn normalize(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.replace("\r\n", "\n")
}

fn malformed(path: &Path, message: impl Into<String>) -> MigrateError {
    MigrateError::Malformed {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The values of a header.
struct Header {
    message: String,
    parents: Vec<String>,
    depends_on: Vec<String>,
    transactional: bool,
    down_transactional: bool,
    run: Option<String>,
    phase: PhaseKeys,
}

/// A header line `-- key: value` (`key` lowercase letters and `_`), as its key and trimmed
/// value.
fn header_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("--")?.trim_start_matches([' ', '\t']);
    let (key, value) = rest.split_once(':')?;
    let is_key = !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    is_key.then_some((key, value.trim()))
}

/// Reads the header of a normalized up script: its length in bytes (with the blank line that
/// ends it) and its values.
fn parse_header(up: &str, path: &Path) -> Result<(usize, Header)> {
    let mut header = Header {
        message: String::new(),
        parents: Vec::new(),
        depends_on: Vec::new(),
        transactional: true,
        down_transactional: true,
        run: None,
        phase: PhaseKeys::default(),
    };
    let mut seen = [false; KEYS.len() + phase::KEYS.len()];
    let mut len = 0;
    for (number, line) in (1..).zip(up.split_inclusive('\n')) {
        let text = line.strip_suffix('\n').unwrap_or(line);
        if text.is_empty() {
            len += line.len();
            break;
        }
        let Some((key, value)) = header_line(text) else {
            break;
        };
        let at = |message: String| malformed(path, format!("line {number}: {message}"));
        let Some(slot) = KEYS.iter().chain(&phase::KEYS).position(|k| *k == key) else {
            return Err(at(format!(
                "unknown header key `{key}` (the keys are {}, {}); a comment under the header \
                 needs a blank line before it",
                KEYS.join(", "),
                phase::KEYS.join(", ")
            )));
        };
        if std::mem::replace(&mut seen[slot], true) {
            return Err(at(format!("header key `{key}` given twice")));
        }
        match key {
            "message" => header.message = value.to_owned(),
            "parents" => header.parents = parse_ids(value).map_err(at)?,
            "depends_on" => header.depends_on = parse_ids(value).map_err(at)?,
            "transaction" => {
                (header.transactional, header.down_transactional) =
                    parse_transaction(value).map_err(at)?;
            }
            _ if slot >= KEYS.len() => header.phase.set(key, value).map_err(at)?,
            _ => {
                let ok = value
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
                if !ok {
                    return Err(at(format!(
                        "`run: {value}`: the value is the name of a registered Rust function"
                    )));
                }
                header.run = Some(value.to_owned());
            }
        }
        len += line.len();
    }
    if !seen[0] {
        return Err(malformed(
            path,
            "line 1: the header has no `-- message: ...` line (up.sql starts with a header of \
             `-- key: value` lines: message, parents, depends_on, transaction, run)",
        ));
    }
    Ok((len, header))
}

/// The value of `transaction:`: whether the up and the down script run in a transaction.
/// `true` or `false` for both, or per direction, comma-separated: `up false`, `down false`,
/// `up false, down true` (a direction not named runs in one).
fn parse_transaction(value: &str) -> std::result::Result<(bool, bool), String> {
    let bad = |why: &str| {
        format!(
            "`transaction: {value}`: {why}the value is `true` or `false` (both directions), \
             or per direction `up false`, `down false`, `up false, down true`"
        )
    };
    match value {
        "true" => return Ok((true, true)),
        "false" => return Ok((false, false)),
        _ if !value.contains(char::is_whitespace) && !value.contains(',') => return Err(bad("")),
        _ => {}
    }
    let (mut up, mut down) = (None, None);
    for part in value.split(',').map(str::trim) {
        let mut words = part.split_whitespace();
        let (Some(direction), Some(word), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad(&format!(
                "`{part}` is not `<direction> <true|false>`; "
            )));
        };
        let slot = match direction {
            "up" => &mut up,
            "down" => &mut down,
            other => {
                return Err(bad(&format!(
                    "`{other}` is not a direction (`up`, `down`); "
                )));
            }
        };
        let on = match word {
            "true" => true,
            "false" => false,
            other => return Err(bad(&format!("`{other}` is not `true` or `false`; "))),
        };
        if slot.replace(on).is_some() {
            return Err(bad(&format!("`{direction}` is given twice; ")));
        }
    }
    Ok((up.unwrap_or(true), down.unwrap_or(true)))
}

/// Comma-separated revision ids; an empty value is none.
fn parse_ids(value: &str) -> std::result::Result<Vec<String>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<String> = Vec::new();
    for id in value.split(',').map(str::trim) {
        if !is_id(id) {
            return Err(format!(
                "`{id}` is not a revision id (14 digits, a UTC timestamp YYYYMMDDHHMMSS)"
            ));
        }
        if ids.iter().any(|seen| seen == id) {
            return Err(format!("revision {id} is listed twice"));
        }
        ids.push(id.to_owned());
    }
    Ok(ids)
}

/// Whether a script holds nothing but whitespace and SQL comments (`-- ...` and nested
/// `/* ... */`).
fn is_blank_sql(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if rest.starts_with("/*") {
            let mut depth = 0usize;
            let mut chars = rest.char_indices().peekable();
            let mut end = rest.len();
            while let Some((i, c)) = chars.next() {
                match (c, chars.peek().map(|&(_, n)| n)) {
                    ('/', Some('*')) => {
                        depth += 1;
                        chars.next();
                    }
                    ('*', Some('/')) => {
                        depth = depth.saturating_sub(1);
                        chars.next();
                        if depth == 0 {
                            end = i + 2;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &rest[end..];
        } else {
            return rest.is_empty();
        }
    }
}

#[cfg(test)]
#[path = "revision_tests.rs"]
mod tests;
