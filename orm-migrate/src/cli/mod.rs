//! The command-line interface (feature `cli`, on by default): the `orm-migrate` binary, and the
//! entry point a project's own migrate binary calls with its models.
//!
//! ```text
//! orm-migrate init                              create migrations/ with a README
//! orm-migrate revision -m "add tutorials"       a new revision to fill in (parent: the head)
//! orm-migrate revision -m "..." --autogenerate  generated from the models (needs your models):
//!                                               up to three chained revisions in the safe
//!                                               form; --single for one plain revision
//! orm-migrate upgrade [head|heads|ID|+N]        apply (default: head)
//! orm-migrate upgrade head --sql [--from REV]   print the SQL instead (no database)
//! orm-migrate downgrade ID|-N|base [--sql]      revert
//! orm-migrate current | history | heads | branches
//! orm-migrate stamp ID|head|base                record without running SQL (repairs checksums)
//! orm-migrate merge -m "merge" [REV...]         a revision joining heads (default: all)
//! orm-migrate check                             exit 3 when the database is behind, differs
//!                                               from the models, or ran a revision edited
//!                                               since (for CI; needs your models)
//! orm-migrate diff --from URL --to URL          the migration turning one database into another
//!            [--ignore-table PATTERN]...         (leaving out the tables PATTERN matches)
//! orm-migrate revision --expand users.name:full_name [--type T] [--using EXPR] [--reverse EXPR]
//!                                               expand: new column, sync trigger, batched backfill
//! orm-migrate revision --contract REV           contract: the trigger and the old column go
//! orm-migrate phases                            each expand: pending, expanded or contracted
//! ```
//!
//! Global options: `--database-url` (or `DATABASE_URL`), `--dir` (default `migrations`),
//! `--version-table` (default `public.orm_migrations`), `--lock-timeout` (default `10s`),
//! `--statement-timeout` (default `0`, off), `--lock-wait` (default `60s`), `--allow-edited`,
//! `--backfill-batch` and `--backfill-pause` (every backfill of the run; default: each
//! revision's `-- backfill:` header, else 1000 rows and 100ms).
//!
//! # Exit codes
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | an error (printed on stderr) |
//! | 2 | a usage error (clap's message on stderr) |
//! | 3 | `check` found drift (or `diff --exit-code` a difference) |
//!
//! # Output
//! Results go to stdout, errors to stderr. Colours only when stdout is a terminal and
//! `NO_COLOR` is unset; a progress bar (on stderr) only when stderr is a terminal; otherwise
//! plain lines, one per revision, that scripts can read.
//!
//! # Your models: a three-line binary
//! `revision --autogenerate` and `check` compare the database with your models, which the
//! standalone binary does not have. Add this binary to your project and run it with
//! `cargo run --bin migrate -- <command>`:
//!
//! ```no_run
//! // src/bin/migrate.rs
//! # mod my_app { use orm_postgres::prelude::*;
//! #   #[derive(Model)] pub struct Tutorial { #[model(primary_key, generated)] pub id: i64 }
//! #   #[derive(Model)] pub struct Author { #[model(primary_key, generated)] pub id: i64 } }
//! use orm_postgres::Model;
//! fn main() -> std::process::ExitCode {
//!     orm_migrate::cli::main_with(orm_migrate::cli::Models::new(&[
//!         my_app::Tutorial::TABLE,
//!         my_app::Author::TABLE,
//!     ]))
//! }
//! ```
//!
//! `Models::new` reads the derive's metadata: every table, column, key, index, check and enum
//! type, and the renames declared with `#[model(renamed_from = "...")]`.
//!
//! Tables of the database the models do not describe (another application's, an extension's
//! installed by script such as PostGIS's `spatial_ref_sys`) are dropped by the next revision,
//! unless the comparison leaves them out:
//! `Models::new(&[...]).ignore_tables(["spatial_ref_sys", "legacy_*"])` (patterns `name` or
//! `schema.name`, `*` for any run of characters), or
//! [`Models::with_filter`] for other kinds of objects and predicates
//! ([`diff::Filter`](crate::diff::Filter)). `diff --from --to` takes `--ignore-table PATTERN`.
//!
//! # What `revision --autogenerate` writes
//! The difference between the database and the models, as up to three chained revisions,
//! each a directory of its own ([`diff::Migration::phases`](crate::diff::Migration::phases)):
//! `before: <message>` (outside a transaction: new enum labels, indexes dropped
//! `CONCURRENTLY`), `<message>` (one transaction: everything else) and `after: <message>`
//! (outside a transaction: on tables that already existed, indexes built `CONCURRENTLY`,
//! foreign keys and checks added `NOT VALID` then validated, `SET NOT NULL` proved by a
//! validated check, unique constraints and primary keys added `USING INDEX`). A change that
//! needs only one writes one, with the message as given. `--single` writes one revision in the
//! plain forms instead, in one transaction (unless an enum gains a label), which locks tables
//! with rows while their rows are read: for an empty database or a maintenance window. `check`
//! prints what `--autogenerate` would write; `diff --from --to` prints one plain script.
//!
//! Between an applied `revision --expand` and its contract, both commands leave the expand's
//! two columns as the database has them (the old one is not dropped, the new one not
//! altered, nor what depends on them), warning with the expand's id and the contract to
//! write: see [`diff::OpenExpansion`](crate::diff::OpenExpansion).

mod args;
mod commands;
mod expand;
mod hooks;
mod lint;
mod output;
mod setup;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::error::MigrateError;

pub use hooks::{
    Migration, Models, database_schema, models_migration, models_migration_with, schemas_migration,
};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error.
pub const EXIT_ERROR: u8 = 1;
/// Exit code: a usage error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: `check` found drift.
pub const EXIT_DRIFT: u8 = 3;

/// An error of a CLI command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// From the library.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// A message for the user.
    #[error("{0}")]
    Message(String),
}

impl From<orm_postgres::Error> for CliError {
    fn from(e: orm_postgres::Error) -> Self {
        CliError::Migrate(MigrateError::Database(e))
    }
}

/// The standalone `orm-migrate` binary: every command that needs no models.
pub fn main() -> ExitCode {
    ExitCode::from(run(std::env::args_os(), None))
}

/// A project's migrate binary: every command, with its models.
pub fn main_with(models: Models) -> ExitCode {
    ExitCode::from(run(std::env::args_os(), Some(&models)))
}

/// Runs a command line (the first item is the program's name) on a runtime of its own and
/// returns the exit code. Do not call it from inside an async runtime: use [`run_async`].
pub fn run<I, T>(args: I, models: Option<&Models>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            output::err(&format!("error: cannot start the async runtime: {e}"));
            return EXIT_ERROR;
        }
    };
    runtime.block_on(run_async(args, models))
}

/// [`run`] on the caller's runtime.
pub async fn run_async<I, T>(args: I, models: Option<&Models>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.exit_code() {
                0 => EXIT_OK,
                _ => EXIT_USAGE,
            };
        }
    };
    let style = output::Style::detect();
    match commands::dispatch(cli, models, style).await {
        Ok(code) => code,
        Err(e) => {
            let style = output::Style::detect_stderr();
            output::err(&format!("{} {e}", style.error("error:")));
            EXIT_ERROR
        }
    }
}
