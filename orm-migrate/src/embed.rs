//! Revisions compiled into the binary by [`embed_migrations!`](crate::embed_migrations), so a
//! deployed service migrates itself at startup without its migrations directory.
//!
//! ```
//! use orm_migrate::{embed_migrations, Embedded};
//!
//! // The path is relative to the crate's Cargo.toml; `embed_migrations!()` means "migrations".
//! static MIGRATIONS: Embedded = embed_migrations!("tests/fixtures/migrations");
//!
//! let graph = MIGRATIONS.graph()?;
//! assert_eq!(graph.heads().len(), 1);
//! # Ok::<(), orm_migrate::MigrateError>(())
//! ```
//!
//! The macro lists the directory when the crate compiles and includes each `up.sql` and
//! `down.sql` with `include_str!`, so editing a revision recompiles the crate. Parsing and every
//! check happen at run time, in [`Embedded::revisions`], with the same code and the same rules
//! as [`files::read_dir`](crate::files::read_dir): an embedded directory gives exactly the
//! revisions (and the errors) that reading it would, except for what stops it from being
//! embedded at all: a name or a file that is not UTF-8 is a compile error.
//!
//! Adding or removing a revision directory is not something `include_str!` sees: to have cargo
//! rebuild then, add a build script to the crate that embeds them:
//!
//! ```text
//! // build.rs
//! fn main() {
//!     println!("cargo:rerun-if-changed=migrations");
//! }
//! ```
//!
//! A directory that does not exist is a compile error:
//!
//! ```compile_fail
//! static MIGRATIONS: orm_migrate::Embedded = orm_migrate::embed_migrations!("no/such/dir");
//! ```

use std::path::Path;

use crate::error::Result;
use crate::files::{is_revision_entry, parse_revision};
use crate::graph::Graph;
use crate::revision::Revision;

/// A migrations directory compiled into the binary: what
/// [`embed_migrations!`](crate::embed_migrations) expands to.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// The directory as given to the macro (relative to the crate's `Cargo.toml`): the
    /// revisions' [`source`](Revision::source) paths start with it.
    pub dir: &'static str,
    /// Every entry of the directory, by name.
    pub entries: &'static [EmbeddedEntry],
}

/// One entry of an embedded migrations directory.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedEntry {
    /// Its file name.
    pub name: &'static str,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// The text of its `up.sql`, for a directory that has one.
    pub up: Option<&'static str>,
    /// The text of its `down.sql`, for a directory that has one.
    pub down: Option<&'static str>,
}

impl Embedded {
    /// Parses the embedded revisions, sorted by directory name (so by id), exactly as
    /// [`files::read_dir`](crate::files::read_dir) reads a directory: README files and hidden
    /// entries are skipped, anything else that is not a revision directory is
    /// [`MigrateError::Malformed`](crate::MigrateError::Malformed), and so is a revision that
    /// does not parse.
    pub fn revisions(&self) -> Result<Vec<Revision>> {
        let dir = Path::new(self.dir);
        let mut entries: Vec<&EmbeddedEntry> = self.entries.iter().collect();
        entries.sort_by_key(|e| e.name);
        let mut revisions = Vec::new();
        for entry in entries {
            if is_revision_entry(dir, entry.name, entry.is_dir)? {
                revisions.push(parse_revision(&dir.join(entry.name), entry.up, entry.down)?);
            }
        }
        Ok(revisions)
    }

    /// The embedded revisions' [`Graph`], checked.
    pub fn graph(&self) -> Result<Graph> {
        Graph::new(self.revisions()?)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::MigrateError;

    const fn entry(
        name: &'static str,
        up: Option<&'static str>,
        down: Option<&'static str>,
    ) -> EmbeddedEntry {
        EmbeddedEntry {
            name,
            is_dir: true,
            up,
            down,
        }
    }

    fn malformed(embedded: Embedded) -> (PathBuf, String) {
        match embedded.revisions() {
            Err(MigrateError::Malformed { path, message }) => (path, message),
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn parses_sorted_and_skips_readme_and_hidden() {
        static ENTRIES: [EmbeddedEntry; 4] = [
            entry(
                "20261201090000_b",
                Some("-- message: b\n-- parents: 20261130120000\n\nSELECT 2;"),
                Some("SELECT -2;"),
            ),
            EmbeddedEntry {
                name: "README.md",
                is_dir: false,
                up: None,
                down: None,
            },
            entry(".hidden", None, None),
            entry(
                "20261130120000_a",
                Some("-- message: a\n\nSELECT 1;"),
                Some(""),
            ),
        ];
        let embedded = Embedded {
            dir: "migrations",
            entries: &ENTRIES,
        };
        let revisions = embedded.revisions().expect("parses");
        let ids: Vec<&str> = revisions.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["20261130120000", "20261201090000"]);
        assert_eq!(
            revisions[1].source,
            Path::new("migrations/20261201090000_b/up.sql")
        );
        assert_eq!(revisions[1].up, "SELECT 2;");
        assert_eq!(revisions[1].down, "SELECT -2;");
        let graph = embedded.graph().expect("a graph");
        assert_eq!(graph.heads()[0].id, "20261201090000");
    }

    #[test]
    fn errors_name_the_embedded_path() {
        static STRAY: [EmbeddedEntry; 1] = [EmbeddedEntry {
            name: "notes.sql",
            is_dir: false,
            up: None,
            down: None,
        }];
        let (path, message) = malformed(Embedded {
            dir: "migrations",
            entries: &STRAY,
        });
        assert_eq!(path, Path::new("migrations/notes.sql"));
        assert!(message.starts_with("not a revision directory"), "{message}");

        static NO_DOWN: [EmbeddedEntry; 1] = [entry(
            "20261130120000_a",
            Some("-- message: a\n\nSELECT 1;"),
            None,
        )];
        let (path, message) = malformed(Embedded {
            dir: "migrations",
            entries: &NO_DOWN,
        });
        assert_eq!(path, Path::new("migrations/20261130120000_a/down.sql"));
        assert!(message.starts_with("missing"), "{message}");

        static NO_UP: [EmbeddedEntry; 1] = [entry("20261130120000_a", None, Some(""))];
        let (path, _) = malformed(Embedded {
            dir: "migrations",
            entries: &NO_UP,
        });
        assert_eq!(path, Path::new("migrations/20261130120000_a/up.sql"));

        static BAD_KEY: [EmbeddedEntry; 1] = [entry(
            "20261130120000_a",
            Some("-- message: a\n-- parnets: 20261130110000\n\nSELECT 1;"),
            Some(""),
        )];
        let (path, message) = malformed(Embedded {
            dir: "migrations",
            entries: &BAD_KEY,
        });
        assert_eq!(path, Path::new("migrations/20261130120000_a/up.sql"));
        assert!(
            message.starts_with("line 2: unknown header key `parnets`"),
            "{message}"
        );
    }
}
