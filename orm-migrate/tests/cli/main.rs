//! The `orm-migrate` binary against a real PostgreSQL: exit codes, plain output when stdout is
//! not a terminal, `--sql`, creating revisions and merges, twenty processes migrating at
//! once, and a runner killed with SIGKILL mid-revision.
//!
//! Each test writes its revisions into a temporary directory and gives the binary the URL of
//! a fresh test database.

mod autogenerate;
mod commands;
mod enum_downgrade;
mod expand;
mod lint;
mod open_expand;
mod processes;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use orm_migrate::{Revision, files};
use orm_testing::TestDatabase;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_orm-migrate");

/// A temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory.
    #[allow(clippy::new_without_default)]
    pub fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "orm-migrate-cli-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    /// Its `migrations` subdirectory.
    pub fn migrations(&self) -> PathBuf {
        self.0.join("migrations")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The URL of a test database, for a child process.
pub fn url(t: &TestDatabase) -> String {
    let admin = t.admin_url();
    let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
    let cut = base.rfind('/').expect("a path in the URL");
    let mut url = format!("{}/{}", &base[..cut], t.name());
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// The in-process CLI's arguments for `cmd`: `migrate --dir <dir> --database-url <t's URL>`
/// first.
pub fn args_for(dir: &Path, t: &TestDatabase, cmd: &[&str]) -> Vec<String> {
    let mut v = vec![
        "migrate".to_owned(),
        "--dir".into(),
        dir.display().to_string(),
        "--database-url".into(),
        url(t),
    ];
    v.extend(cmd.iter().map(|s| (*s).to_owned()));
    v
}

/// The id of test revision `n`.
pub fn id(n: u32) -> String {
    format!("202601010000{n:02}")
}

/// Revision `n` following `n - 1` (a root for 1).
pub fn rev(n: u32, up: &str, down: &str) -> Revision {
    let parents = if n > 1 { vec![id(n - 1)] } else { Vec::new() };
    Revision::new(id(n), &format!("rev {n}"))
        .with_parents(parents)
        .with_up(up)
        .with_down(down)
}

/// Writes revisions into `dir`.
pub fn write(dir: &Path, revisions: &[Revision]) {
    for r in revisions {
        files::write_revision(dir, r).expect("write revision");
    }
}

/// A chain of three revisions creating tables t1, t2, t3.
pub fn chain() -> Vec<Revision> {
    (1..=3)
        .map(|n| {
            rev(
                n,
                &format!("CREATE TABLE t{n} (id int);\n"),
                &format!("DROP TABLE t{n};\n"),
            )
        })
        .collect()
}

/// The binary with `--dir dir`, no `DATABASE_URL` from the environment, no colours forced.
pub fn cli(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--dir")
        .arg(dir)
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR");
    c
}

/// Runs the binary and returns its exit code, stdout and stderr; asserts there is no escape
/// code in either (pipes are not terminals: plain output).
pub fn run(c: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("run the binary");
    let stdout = String::from_utf8(stdout).expect("utf-8");
    let stderr = String::from_utf8(stderr).expect("utf-8");
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "plain output expected:\n{stdout}\n{stderr}"
    );
    (status.code().unwrap_or(-1), stdout, stderr)
}
