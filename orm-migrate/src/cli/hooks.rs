//! Where autogenerate plugs into the CLI: the user's models ([`Models`]), the schema of a
//! database as the diff sees it, and the two hook functions that turn a pair of schemas into a
//! migration, [`models_migration_with`] (`revision --autogenerate`, `check`) and
//! [`schemas_migration`] (`diff --from --to`).

use orm_postgres::Database;
use orm_postgres::meta;

use crate::diff::{DiffOptions, Filter, OpenExpansion, Phase, diff};
use crate::error::MigrateError;
use crate::model_schema::{Renames, renames_of, schema_of};
use crate::reflect::{ReflectOptions, reflect};
use crate::schema::{QualifiedName, Schema};

use super::CliError;

/// The user's models, for the commands that compare them with a database
/// (`revision --autogenerate`, `check`). The standalone `orm-migrate` binary has none; a
/// project's own `src/bin/migrate.rs` passes its models to [`main_with`](super::main_with).
pub struct Models {
    schema: Box<dyn Fn() -> Schema + Send + Sync>,
    renames: Renames,
    filter: Filter,
    ignored_tables: Vec<String>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models").finish_non_exhaustive()
    }
}

impl Models {
    /// The models of these derived tables (`&[Author::TABLE, Book::TABLE]`), in the `public`
    /// schema unless they name another, with the renames they declare.
    pub fn new(tables: &[&'static meta::Table]) -> Models {
        Models::in_schema(tables, "public")
    }

    /// [`Models::new`] with another default schema for the tables that name none.
    pub fn in_schema(tables: &[&'static meta::Table], default_schema: &str) -> Models {
        Models::from_schema(schema_of(tables, default_schema))
            .with_renames(renames_of(tables, default_schema))
    }

    /// Models whose schema `schema` builds (called once per command that needs it).
    pub fn from_fn(schema: impl Fn() -> Schema + Send + Sync + 'static) -> Models {
        Models {
            schema: Box::new(schema),
            renames: Renames::default(),
            filter: Filter::new(),
            ignored_tables: Vec::new(),
        }
    }

    /// Models with this schema.
    pub fn from_schema(schema: Schema) -> Models {
        Models::from_fn(move || schema.clone())
    }

    /// The renames the models declare (`#[model(renamed_from = "...")]`).
    pub fn with_renames(mut self, renames: Renames) -> Models {
        self.renames = renames;
        self
    }

    /// Leaves the tables matching these [patterns](crate::diff::Pattern) out of the comparison
    /// (`revision --autogenerate` and `check` neither drop nor create them): `name` in any
    /// schema or `schema.name`, `*` for any run of characters.
    ///
    /// ```no_run
    /// # mod my_app { use orm_postgres::prelude::*;
    /// #   #[derive(Model)] pub struct Place { #[model(primary_key, generated)] pub id: i64 } }
    /// use orm_postgres::Model;
    /// fn main() -> std::process::ExitCode {
    ///     orm_migrate::cli::main_with(
    ///         orm_migrate::cli::Models::new(&[my_app::Place::TABLE])
    ///             .ignore_tables(["spatial_ref_sys", "legacy_*"]),
    ///     )
    /// }
    /// ```
    ///
    /// A malformed pattern makes those commands fail, naming it ([`Models::filter`]).
    pub fn ignore_tables<I, S>(mut self, patterns: I) -> Models
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignored_tables
            .extend(patterns.into_iter().map(Into::into));
        self
    }

    /// Compares only what `filter` lets through (together with
    /// [`ignore_tables`](Models::ignore_tables)): for other kinds of objects, or a predicate.
    pub fn with_filter(mut self, filter: Filter) -> Models {
        self.filter = filter;
        self
    }

    /// The filter of the comparison: [`with_filter`](Models::with_filter)'s, ignoring the
    /// tables of [`ignore_tables`](Models::ignore_tables); a malformed pattern is an error.
    pub fn filter(&self) -> Result<Filter, MigrateError> {
        self.filter.clone().ignore_tables(&self.ignored_tables)
    }

    /// The schema the models describe.
    pub fn schema(&self) -> Schema {
        (self.schema)()
    }

    /// The renames the models declare.
    pub fn renames(&self) -> &Renames {
        &self.renames
    }
}

/// A migration computed by autogenerate, in both forms: one plain script (`up`, `down`:
/// `revision --autogenerate --single`, `diff --from --to`) and the safe [`phases`] (what
/// `revision --autogenerate` writes, one revision each).
///
/// [`phases`]: Migration::phases
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    /// The upgrade SQL, as one script in the plain forms.
    pub up: String,
    /// The downgrade SQL of `up`.
    pub down: String,
    /// How many operations it holds; zero when the two schemas match.
    pub operations: usize,
    /// Whether `up` can run in a transaction (`false` when it holds `ALTER TYPE ... ADD
    /// VALUE`).
    pub transactional: bool,
    /// Whether `down` can run in a transaction (also when `up` cannot: an added label's
    /// downgrade recreates the type).
    pub down_transactional: bool,
    /// Warnings for the terminal (a drop that may be a rename, data that would be lost).
    pub warnings: Vec<String>,
    /// The same changes as up to three revisions (before, main, after) in the forms that keep
    /// tables with rows writable: see [`diff::Migration::phases`](crate::diff::Migration::phases).
    /// Empty when the two schemas match.
    pub phases: Vec<Phase>,
}

impl From<crate::diff::Migration> for Migration {
    fn from(m: crate::diff::Migration) -> Self {
        Migration {
            up: m.up_sql(),
            down: m.down_sql(),
            operations: m.ops.len(),
            transactional: m.transactional(),
            down_transactional: m.down_transactional(),
            phases: m.phases(),
            warnings: m.warnings,
        }
    }
}

/// The migration that turns the database's schema (`database`, from [`database_schema`])
/// into the one the models describe (`revision --autogenerate`, `check`). Only the schemas the
/// models use are compared, and in them only what the models' [filter](Models::filter) lets
/// through; the database's views and free-standing sequences are left alone.
///
/// It knows of no expand/contract in progress: [`models_migration_with`] is the same, keeping
/// what the open ones need.
pub fn models_migration(models: &Models, database: &Schema) -> Result<Migration, CliError> {
    models_migration_with(models, database, &[])
}

/// [`models_migration`] for a database in the middle of the expand/contract moves
/// `expansions` ([`Migrator::open_expansions`](crate::Migrator::open_expansions)): their
/// columns stay as the database has them until each contract, with a warning naming the
/// expand (see [`DiffOptions::expansions`]). What `revision --autogenerate` and `check` do.
pub fn models_migration_with(
    models: &Models,
    database: &Schema,
    expansions: &[OpenExpansion],
) -> Result<Migration, CliError> {
    let filter = models.filter()?;
    let target = models.schema();
    let mut database = database.clone();
    database.schemas.retain(|s| target.schemas.contains(s));
    database
        .tables
        .retain(|name, _| target.schemas.contains(&name.schema));
    database
        .enums
        .retain(|name, _| target.schemas.contains(&name.schema));
    let options = DiffOptions {
        renames: models.renames().clone(),
        models: true,
        filter,
        expansions: expansions.to_vec(),
    };
    Ok(diff(&database, &target, &options).into())
}

/// The migration that turns the schema `from` into `to` (two databases, both from
/// [`database_schema`]): `diff --from --to`.
pub fn schemas_migration(from: &Schema, to: &Schema) -> Result<Migration, CliError> {
    Ok(diff(from, to, &DiffOptions::default()).into())
}

/// The schema of a database as the diff sees it: every user schema, reflected, without the
/// version table (which no model describes).
pub async fn database_schema(
    db: &Database,
    version_table: &QualifiedName,
) -> Result<Schema, CliError> {
    let mut schema = reflect(db, &ReflectOptions::default()).await?;
    schema.tables.remove(version_table);
    Ok(schema)
}
