//! Migrations for `orm-postgres`, Alembic's workflow made for Rust.
//!
//! The parts, from data to IO:
//! - the [schema model](schema) (plain data) and [expression normalisation](expr);
//! - [the schema of derived models](model_schema) (`schema_of`, and the renames they declare);
//! - [the diff](diff) between two schemas: ordered [operations](op), each rendering its upgrade
//!   and downgrade SQL (identifiers quoted by [render]), as one plain script or split into
//!   [phases](diff::Migration::phases) whose statements keep tables with rows writable
//!   (`CONCURRENTLY`, `NOT VALID` then `VALIDATE`: [`op::SafeOp`]);
//! - [revisions](revision) (the file format, checksums), the [migrations directory](files), the
//!   [revision graph](graph) (heads, branches, merges, `depends_on`, plans) and
//!   [embedding](embed) with [`embed_migrations!`];
//! - [the lint](lint): what each statement of a revision does to a live database (locks,
//!   rewrites, scans), run after autogenerate and before every live upgrade;
//! - [expand / contract](expand): zero-downtime renames and type changes in two revisions (a
//!   sync trigger, a batched backfill the runner performs, then the old column dropped), with
//!   their [header keys](phase) and the [backfill step](backfill);
//! - [reflection](reflect) of a live database from `pg_catalog`, and the [runner]
//!   ([`Migrator`]: version table, advisory lock, one transaction per revision, offline SQL);
//! - with the default feature `cli`, the command-line interface (the `orm-migrate` binary, and
//!   `cli::main_with` for a project's own migrate binary with its models).
//!
//! The no-IO parts (schema model, diff, operations, rendering, graph, lint) never touch a server; only
//! reflection and the runner do, through `orm-postgres`.
//!
//! # Features
//! | feature | default | enables |
//! |---|---|---|
//! | `cli` | yes | the `cli` module and the `orm-migrate` binary (clap, indicatif) |

#![warn(missing_docs)]

pub mod backfill;
#[cfg(feature = "cli")]
pub mod cli;
pub mod diff;
pub mod embed;
pub mod error;
pub mod expand;
pub mod expr;
pub mod files;
pub mod graph;
pub mod lint;
pub mod model_schema;
pub mod op;
pub mod phase;
pub mod reflect;
pub mod render;
pub mod revision;
pub mod runner;
pub mod schema;
mod split;

pub use embed::{Embedded, EmbeddedEntry};
pub use error::{MigrateError, Result};
pub use graph::{Graph, Target};
pub use orm_macros::embed_migrations;
pub use revision::Revision;
pub use runner::Migrator;
