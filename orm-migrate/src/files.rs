//! The migrations directory: reading every revision in it, writing a new one, and choosing a
//! new revision's id. The format is described in [`revision`](crate::revision).
//!
//! Reading is strict: every entry of the directory is a revision directory `<id>_<slug>/`
//! holding `up.sql` and `down.sql`, except hidden entries (`.gitkeep`) and README files
//! (`README`, `README.md`, ...), which are left alone. Anything else is a
//! [`MigrateError::Malformed`] naming it, so that a misnamed revision is never silently
//! skipped. [`embed_migrations!`](crate::embed_migrations) applies the same rules, through the
//! same functions, at run time.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{MigrateError, Result};
use crate::revision::{DOWN_FILE, ID_LEN, Revision, UP_FILE, split_dir_name};

/// Reads every revision of a migrations directory, sorted by directory name (so by id).
/// Errors: [`MigrateError::Io`] with the path when something cannot be read,
/// [`MigrateError::Malformed`] naming the file for an entry that is not a revision directory
/// or a revision that does not parse. Duplicate ids and dangling parents are left to
/// [`Graph::new`](crate::Graph::new).
pub fn read_dir(path: impl AsRef<Path>) -> Result<Vec<Revision>> {
    let path = path.as_ref();
    let mut names = Vec::new();
    for entry in fs::read_dir(path).map_err(io(path))? {
        names.push(entry.map_err(io(path))?.file_name());
    }
    names.sort();
    let mut revisions = Vec::new();
    for name in names {
        let entry = path.join(&name);
        let Some(name) = name.to_str() else {
            return Err(MigrateError::Malformed {
                path: entry,
                message: "the name is not UTF-8".to_owned(),
            });
        };
        let is_dir = fs::metadata(&entry).map_err(io(&entry))?.is_dir();
        if !is_revision_entry(path, name, is_dir)? {
            continue;
        }
        let up = read_optional(&entry.join(UP_FILE))?;
        let down = read_optional(&entry.join(DOWN_FILE))?;
        revisions.push(parse_revision(&entry, up.as_deref(), down.as_deref())?);
    }
    Ok(revisions)
}

/// Whether an entry of a migrations directory is a revision directory (`true`) or is left
/// alone (`false`: hidden, or a README); an error for anything else. Shared with
/// [`Embedded`](crate::Embedded).
pub(crate) fn is_revision_entry(dir: &Path, name: &str, is_dir: bool) -> Result<bool> {
    if name.starts_with('.') || name.to_ascii_lowercase().starts_with("readme") {
        return Ok(false);
    }
    if is_dir && split_dir_name(name).is_some() {
        return Ok(true);
    }
    let what = if is_dir { "directory" } else { "file" };
    Err(MigrateError::Malformed {
        path: dir.join(name),
        message: format!(
            "not a revision directory: a migrations directory holds only `<id>_<slug>/` \
             directories (the id being 14 digits, a UTC timestamp YYYYMMDDHHMMSS), README files \
             and hidden files, and this {what} is none of them"
        ),
    })
}

/// Parses a revision directory's files, `None` for a missing one. Shared with
/// [`Embedded`](crate::Embedded).
pub(crate) fn parse_revision(dir: &Path, up: Option<&str>, down: Option<&str>) -> Result<Revision> {
    let Some(up) = up else {
        return Err(MigrateError::Malformed {
            path: dir.join(UP_FILE),
            message: "missing: every revision has an up.sql".to_owned(),
        });
    };
    Revision::parse(dir, up, down)
}

/// The text of a file, `None` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> MigrateError + '_ {
    move |source| MigrateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a new revision into the migrations directory `dir` (created if missing), as
/// `<id>_<slug>/up.sql` and `down.sql` with the text of [`Revision::to_files`], and returns
/// the revision's directory. Never overwrites: a revision directory of the same name is a
/// [`MigrateError::Io`] (already exists), another directory with the same id a
/// [`MigrateError::Graph`] naming it. The revision is not checked: one written with an empty
/// up script (a template for the user to fill in) stops [`read_dir`] until it is filled in.
pub fn write_revision(dir: impl AsRef<Path>, revision: &Revision) -> Result<PathBuf> {
    let dir = dir.as_ref();
    fs::create_dir_all(dir).map_err(io(dir))?;
    let target = dir.join(revision.dir_name());
    let prefix = format!("{}_", revision.id);
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let name = entry.map_err(io(dir))?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && dir.join(&*name) != target {
            return Err(MigrateError::Graph {
                path: dir.join(&*name),
                message: format!("revision id {} is taken by this revision", revision.id),
            });
        }
    }
    fs::create_dir(&target).map_err(io(&target))?;
    let files = revision.to_files();
    for (name, text) in [(UP_FILE, &files.up), (DOWN_FILE, &files.down)] {
        let path = target.join(name);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io(&path))?;
        file.write_all(text.as_bytes()).map_err(io(&path))?;
    }
    Ok(target)
}

/// The id of a revision created at `now` in the migrations directory `dir`: `now` in UTC as
/// `YYYYMMDDHHMMSS` ([`id_at`]), a second later for each id already taken there (ids of
/// entries named `<14 digits>_...`). A missing directory takes no id.
pub fn new_id(dir: impl AsRef<Path>, now: SystemTime) -> Result<String> {
    let dir = dir.as_ref();
    let mut taken = BTreeSet::new();
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let name = entry.map_err(io(dir))?.file_name();
                let name = name.to_string_lossy();
                if let Some((id, _)) = split_dir_name(&name) {
                    taken.insert(id.to_owned());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(dir)(e)),
    }
    let mut seconds = unix_seconds(now);
    loop {
        let id = id_from_unix(seconds);
        if !taken.contains(&id) {
            return Ok(id);
        }
        seconds = seconds.saturating_add(1);
    }
}

/// A time in UTC as a revision id, `YYYYMMDDHHMMSS`. Times before 1970 read as 1970; after
/// the year 9999, as its last second.
pub fn id_at(now: SystemTime) -> String {
    id_from_unix(unix_seconds(now))
}

fn unix_seconds(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The last second of the year 9999.
const MAX_SECONDS: u64 = 253_402_300_799;

fn id_from_unix(seconds: u64) -> String {
    let seconds = seconds.min(MAX_SECONDS);
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let id = format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    debug_assert_eq!(id.len(), ID_LEN);
    id
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
