//! Migrations for `orm-postgres`, Alembic's workflow made for Rust.
//!
//! Built so far: the [schema model](schema) (plain data, no IO) and [reflection](reflect) of a
//! live database from `pg_catalog` into it. To come (issue 11): the schema of a set of models,
//! the diff between two schemas, operations rendering upgrade and downgrade SQL, revision files
//! and their graph, the runner (version table, advisory lock, one transaction per revision) and
//! the CLI.
//!
//! The no-IO parts (schema model, diff, operations, rendering, graph) never touch a server; only
//! reflection and the runner do, through `orm-postgres`.

#![warn(missing_docs)]

pub mod error;
pub mod reflect;
pub mod revision;
pub mod schema;

pub use error::{MigrateError, Result};
pub use revision::Revision;
