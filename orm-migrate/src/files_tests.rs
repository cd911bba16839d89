//! Tests of the migrations directory, each in its own temporary directory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;
use crate::Graph;

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "orm-migrate-files-{}-{n}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create the temporary directory");
        TempDir(path)
    }

    /// Writes `text` at `relative` (creating its directories).
    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create directories");
        }
        fs::write(&path, text).expect("write");
        path
    }

    /// Writes a revision's two files.
    fn revision(&self, dir: &str, up: &str, down: &str) {
        self.write(&format!("{dir}/up.sql"), up);
        self.write(&format!("{dir}/down.sql"), down);
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn malformed(result: Result<Vec<Revision>>) -> (PathBuf, String) {
    match result {
        Err(MigrateError::Malformed { path, message }) => (path, message),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// Seconds since the epoch as a `SystemTime`.
fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

#[test]
fn reads_revisions_in_id_order_and_skips_readme_and_hidden() {
    let tmp = TempDir::new("read");
    tmp.revision(
        "20261201090000_add_tutorial",
        "-- message: Add tutorial\n-- parents: 20261130120000\n\nCREATE TABLE tutorial ();\n",
        "DROP TABLE tutorial;\n",
    );
    tmp.revision(
        "20261130120000_init",
        "-- message: init\n\nCREATE TABLE a ();\n",
        "DROP TABLE a;\n",
    );
    tmp.write("README.md", "# Migrations\n");
    tmp.write(".gitkeep", "");
    tmp.write(
        "20261201090000_add_tutorial/notes.txt",
        "extra files are ignored",
    );
    let revisions = read_dir(&tmp.0).expect("reads");
    let ids: Vec<&str> = revisions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["20261130120000", "20261201090000"]);
    let tutorial = &revisions[1];
    assert_eq!(tutorial.message, "Add tutorial");
    assert_eq!(tutorial.parents, ["20261130120000"]);
    assert_eq!(tutorial.up, "CREATE TABLE tutorial ();\n");
    assert_eq!(tutorial.down, "DROP TABLE tutorial;\n");
    assert_eq!(
        tutorial.source,
        tmp.0.join("20261201090000_add_tutorial").join("up.sql")
    );
    let graph = Graph::new(revisions).expect("a graph");
    assert_eq!(graph.heads()[0].id, "20261201090000");
}

#[test]
fn write_then_read_gives_the_same_revision() {
    let tmp = TempDir::new("write");
    let dir = tmp.0.join("migrations");
    let root = Revision::new("20261130120000", "Create users")
        .with_up("CREATE TABLE users (id bigint PRIMARY KEY);\n")
        .with_down("DROP TABLE users;\n");
    let child = Revision::new("20261201090000", "Index users, concurrently")
        .with_parents([root.id.clone()])
        .with_transactional(false)
        .with_up("CREATE INDEX CONCURRENTLY users_id ON users (id);\n")
        .with_down("DROP INDEX CONCURRENTLY users_id;\n");
    let written = write_revision(&dir, &root).expect("writes");
    assert_eq!(written, dir.join("20261130120000_create_users"));
    write_revision(&dir, &child).expect("writes");
    assert_eq!(
        fs::read_to_string(dir.join("20261201090000_index_users_concurrently/up.sql"))
            .expect("up.sql"),
        "-- message: Index users, concurrently\n-- parents: 20261130120000\n\
         -- transaction: false\n\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n"
    );
    let read = read_dir(&dir).expect("reads");
    let expected: Vec<Revision> = [root, child]
        .into_iter()
        .map(|r| Revision {
            source: dir.join(r.dir_name()).join("up.sql"),
            ..r
        })
        .collect();
    assert_eq!(read, expected);
    assert_eq!(read[1].checksum(), expected[1].checksum());
}

#[test]
fn write_refuses_to_overwrite() {
    let tmp = TempDir::new("overwrite");
    let r = Revision::new("20261130120000", "init").with_up("SELECT 1;");
    write_revision(&tmp.0, &r).expect("first write");
    match write_revision(&tmp.0, &r.clone().with_up("SELECT 2;")) {
        Err(MigrateError::Io { path, source }) => {
            assert_eq!(path, tmp.0.join("20261130120000_init"));
            assert_eq!(source.kind(), std::io::ErrorKind::AlreadyExists);
        }
        other => panic!("{other:?}"),
    }
    // The first file is untouched.
    let read = read_dir(&tmp.0).expect("reads");
    assert_eq!(read[0].up, "SELECT 1;");
    // The same id under another slug.
    match write_revision(&tmp.0, &Revision::new("20261130120000", "other")) {
        Err(MigrateError::Graph { path, message }) => {
            assert_eq!(path, tmp.0.join("20261130120000_init"));
            assert_eq!(
                message,
                "revision id 20261130120000 is taken by this revision"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stray_file_or_misnamed_directory_is_malformed() {
    let tmp = TempDir::new("stray");
    tmp.revision("20261130120000_init", "-- message: m\n\nSELECT 1;", "");
    tmp.write("notes.sql", "SELECT 1;");
    let (path, message) = malformed(read_dir(&tmp.0));
    assert_eq!(path, tmp.0.join("notes.sql"));
    assert!(message.starts_with("not a revision directory"), "{message}");
    assert!(message.ends_with("this file is none of them"), "{message}");
    fs::remove_file(&path).expect("remove");

    tmp.revision("2026113012_short", "-- message: m\n\nSELECT 1;", "");
    let (path, message) = malformed(read_dir(&tmp.0));
    assert_eq!(path, tmp.0.join("2026113012_short"));
    assert!(
        message.ends_with("this directory is none of them"),
        "{message}"
    );
}

#[test]
fn missing_up_or_down_is_malformed() {
    let tmp = TempDir::new("missing");
    tmp.write("20261130120000_init/down.sql", "");
    let (path, message) = malformed(read_dir(&tmp.0));
    assert_eq!(path, tmp.0.join("20261130120000_init/up.sql"));
    assert_eq!(message, "missing: every revision has an up.sql");

    fs::remove_file(tmp.0.join("20261130120000_init/down.sql")).expect("remove");
    tmp.write("20261130120000_init/up.sql", "-- message: m\n\nSELECT 1;");
    let (path, message) = malformed(read_dir(&tmp.0));
    assert_eq!(path, tmp.0.join("20261130120000_init/down.sql"));
    assert_eq!(
        message,
        "missing: every revision has a down.sql (it may be empty)"
    );
}

#[test]
fn header_errors_name_the_file_and_line() {
    let tmp = TempDir::new("header");
    tmp.revision(
        "20261130120000_init",
        "-- message: m\n-- transaction: maybe\n\nSELECT 1;",
        "",
    );
    let err = read_dir(&tmp.0).expect_err("bad value");
    let up = tmp.0.join("20261130120000_init/up.sql");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: line 2: `transaction: maybe`: the value is `true` or `false` (both directions), or per direction `up false`, `down false`, `up false, down true`",
            up.display()
        )
    );
    tmp.revision("20261130120000_init", "-- message: m\n-- colour: red\n", "");
    let (path, message) = malformed(read_dir(&tmp.0));
    assert_eq!(path, up);
    assert!(
        message.starts_with("line 2: unknown header key `colour`"),
        "{message}"
    );
    tmp.revision(
        "20261130120000_init",
        "-- message: m\n\n-- nothing yet\n",
        "",
    );
    let (path, message) = malformed(read_dir(&tmp.0));
    assert_eq!(path, up);
    assert!(message.starts_with("the up script is empty"), "{message}");
}

#[test]
fn graph_errors_name_files_in_the_directory() {
    let tmp = TempDir::new("graph");
    tmp.revision("20261130120000_init", "-- message: m\n\nSELECT 1;", "");
    tmp.revision(
        "20261201090000_next",
        "-- message: n\n-- parents: 20261130110000\n\nSELECT 2;",
        "",
    );
    let err = Graph::new(read_dir(&tmp.0).expect("reads")).expect_err("missing parent");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: revision 20261201090000: parent 20261130110000 is not in the migrations directory",
            tmp.0.join("20261201090000_next/up.sql").display()
        )
    );
    tmp.revision("20261201090000_again", "-- message: n\n\nSELECT 3;", "");
    match Graph::new(read_dir(&tmp.0).expect("reads")) {
        Err(MigrateError::Graph { path, message }) => {
            assert_eq!(path, tmp.0.join("20261201090000_next/up.sql"));
            assert_eq!(
                message,
                format!(
                    "duplicate revision id 20261201090000: {} has it too",
                    tmp.0.join("20261201090000_again/up.sql").display()
                )
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_directory_is_an_io_error_with_its_path() {
    let tmp = TempDir::new("absent");
    let absent = tmp.0.join("nope");
    match read_dir(&absent) {
        Err(MigrateError::Io { path, source }) => {
            assert_eq!(path, absent);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ids_are_utc_timestamps() {
    assert_eq!(id_at(at(1_796_115_600)), "20261201090000");
    assert_eq!(id_at(at(1_709_251_199)), "20240229235959");
    assert_eq!(id_at(at(978_307_199)), "20001231235959");
    assert_eq!(id_at(UNIX_EPOCH), "19700101000000");
    assert_eq!(id_at(UNIX_EPOCH - Duration::from_secs(5)), "19700101000000");
    assert_eq!(id_at(at(u64::MAX / 2)), "99991231235959");
}

#[test]
fn new_id_skips_ids_taken_in_the_directory() {
    let tmp = TempDir::new("new-id");
    let now = at(1_796_115_600);
    assert_eq!(new_id(&tmp.0, now).expect("id"), "20261201090000");
    tmp.revision("20261201090000_a", "-- message: a\n\nSELECT 1;", "");
    tmp.revision("20261201090001_b", "-- message: b\n\nSELECT 1;", "");
    assert_eq!(new_id(&tmp.0, now).expect("id"), "20261201090002");
    assert_eq!(
        new_id(tmp.0.join("absent"), now).expect("id"),
        "20261201090000"
    );
}
