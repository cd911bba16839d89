//! Finding the directory that holds `initdb`, `pg_ctl` and `postgres`: `ORM_PG_BIN`, then `PATH`,
//! then the Debian/Ubuntu layout.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::{BIN_DIR_ENV, ClusterError};

/// What to do when no server binaries are found.
const INSTALL_HINT: &str = "install the PostgreSQL server binaries: `apt-get install postgresql` \
                            on Debian/Ubuntu, or set DATABASE_URL to a running server";

/// The binaries the cluster needs, all in one directory.
const SERVER_BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// Where the Debian and Ubuntu packages install the server binaries: `<root>/<version>/bin`.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The server binaries' directory of this machine; see [`find_bin_dir`].
pub(crate) fn server_bin_dir() -> Result<PathBuf, ClusterError> {
    find_bin_dir(
        env::var_os(BIN_DIR_ENV),
        env::var_os("PATH"),
        Path::new(DEBIAN_ROOT),
    )
}

/// Finds the directory holding `initdb`, `pg_ctl` and `postgres`: `ORM_PG_BIN`, then `PATH`, then
/// `<debian_root>/<version>/bin`, newest version first.
fn find_bin_dir(
    env_dir: Option<OsString>,
    path: Option<OsString>,
    debian_root: &Path,
) -> Result<PathBuf, ClusterError> {
    if let Some(dir) = env_dir.filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        if has_server_binaries(&dir) {
            return Ok(dir);
        }
        return Err(ClusterError::NoServerBinaries {
            message: format!(
                "{BIN_DIR_ENV}={} does not contain all of `initdb`, `pg_ctl` and `postgres`; \
                 point it to the bin directory of a PostgreSQL installation, or unset it and \
                 {INSTALL_HINT}",
                dir.display()
            ),
        });
    }
    if let Some(path) = path {
        for dir in env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if !is_executable(&initdb) {
                continue;
            }
            // Follow a symbolic link to the real installation, where pg_ctl finds postgres.
            if let Some(real) = fs::canonicalize(&initdb)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
            {
                if has_server_binaries(&real) {
                    return Ok(real);
                }
            }
            if has_server_binaries(&dir) {
                return Ok(dir);
            }
        }
    }
    for dir in debian_bin_dirs(debian_root) {
        if has_server_binaries(&dir) {
            return Ok(dir);
        }
    }
    Err(ClusterError::NoServerBinaries {
        message: format!(
            "no PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`) found in \
             ${BIN_DIR_ENV}, on PATH or under {}/*/bin; {INSTALL_HINT}",
            debian_root.display()
        ),
    })
}

/// `<root>/<version>/bin` for every version directory, newest version first.
fn debian_bin_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (version_key(&name), entry.path().join("bin"))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// `"9.6"` -> `[9, 6]`; a name that is not a version sorts last.
fn version_key(name: &str) -> Vec<u32> {
    name.split('.')
        .map(|part| part.parse::<u32>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .unwrap_or_default()
}

/// All of `initdb`, `pg_ctl` and `postgres` in `dir`.
fn has_server_binaries(dir: &Path) -> bool {
    SERVER_BINARIES
        .iter()
        .all(|name| is_executable(&dir.join(name)))
}

/// A regular file with an execute bit.
pub(crate) fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_say_what_to_install() {
        let empty = env::temp_dir().join(format!("orm-postgres-test-empty-{}", std::process::id()));
        fs::create_dir_all(&empty).expect("mkdir");
        let err = find_bin_dir(None, Some(OsString::from(&empty)), &empty).expect_err("no bins");
        assert!(matches!(err, ClusterError::NoServerBinaries { .. }));
        assert!(
            err.to_string().contains("apt-get install postgresql"),
            "{err}"
        );
        let err = find_bin_dir(Some(empty.clone().into_os_string()), None, &empty)
            .expect_err("env dir without bins");
        assert!(err.to_string().contains(BIN_DIR_ENV), "{err}");
        fs::remove_dir_all(&empty).expect("rmdir");
    }

    #[test]
    fn debian_versions_newest_first() {
        let root =
            env::temp_dir().join(format!("orm-postgres-test-versions-{}", std::process::id()));
        for v in ["9.6", "15", "10", "16", "notes"] {
            fs::create_dir_all(root.join(v).join("bin")).expect("mkdir");
        }
        let dirs: Vec<String> = debian_bin_dirs(&root)
            .iter()
            .map(|d| {
                d.parent()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .expect("name")
            })
            .collect();
        assert_eq!(dirs, ["16", "15", "10", "9.6", "notes"]);
        fs::remove_dir_all(&root).expect("rmdir");
    }
}
