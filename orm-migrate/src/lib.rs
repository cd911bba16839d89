//! Migrations for `orm-postgres`, Alembic's workflow made for Rust.
//!
//! Built so far: the [schema model](schema) (plain data, no IO), [reflection](reflect) of a
//! live database from `pg_catalog` into it, [revisions](revision) (the file format, parsed and
//! written, and their checksums), the [migrations directory](files), the [revision
//! graph](graph) (heads, branches, merges, `depends_on`, and the plans of an upgrade or a
//! downgrade), [embedding](embed) a migrations directory into the binary with
//! [`embed_migrations!`], the [runner] ([`Migrator`]: version table, advisory lock, one
//! transaction per revision, offline SQL) and, with the default feature `cli`, the
//! command-line interface (the `orm-migrate` binary and `cli::main_with` for a project's own
//! migrate binary). To come (issue 11): the schema of a set of models, the diff between two
//! schemas, and operations rendering upgrade and downgrade SQL.
//!
//! The no-IO parts (schema model, diff, operations, rendering, graph) never touch a server; only
//! reflection and the runner do, through `orm-postgres`.
//!
//! # Features
//! | feature | default | enables |
//! |---|---|---|
//! | `cli` | yes | the `cli` module and the `orm-migrate` binary (clap, indicatif) |

#![warn(missing_docs)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod diff;
pub mod embed;
pub mod error;
pub mod expr;
pub mod files;
pub mod graph;
pub mod model_schema;
pub mod op;
pub mod reflect;
pub mod render;
pub mod revision;
pub mod runner;
pub mod schema;

pub use embed::{Embedded, EmbeddedEntry};
pub use error::{MigrateError, Result};
pub use graph::{Graph, Target};
pub use orm_macros::embed_migrations;
pub use revision::Revision;
pub use runner::Migrator;
