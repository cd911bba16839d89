//! Where autogenerate plugs into the CLI: the user's models ([`Models`]), the schema of a
//! database as the diff sees it, and the two hook functions that turn a pair of schemas into a
//! migration, [`models_migration`] (`revision --autogenerate`, `check`) and
//! [`schemas_migration`] (`diff --from --to`).
//!
//! The hooks are the only functions here that need the diff, the operations and their
//! rendering; until those exist they report that autogenerate is not available, and every
//! other command works.

use orm_postgres::Database;

use crate::reflect::{ReflectOptions, reflect};
use crate::schema::{QualifiedName, Schema};

use super::CliError;

/// The user's models, for the commands that compare them with a database
/// (`revision --autogenerate`, `check`). The standalone `orm-migrate` binary has none; a
/// project's own `src/bin/migrate.rs` passes its models to [`main_with`](super::main_with).
pub struct Models {
    schema: Box<dyn Fn() -> Schema + Send + Sync>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models").finish_non_exhaustive()
    }
}

impl Models {
    /// Models whose schema `schema` builds (called once per command that needs it).
    pub fn from_fn(schema: impl Fn() -> Schema + Send + Sync + 'static) -> Models {
        Models {
            schema: Box::new(schema),
        }
    }

    /// Models with this schema.
    pub fn from_schema(schema: Schema) -> Models {
        Models::from_fn(move || schema.clone())
    }

    /// The schema the models describe.
    pub fn schema(&self) -> Schema {
        (self.schema)()
    }
}

/// A migration computed by autogenerate: a revision's scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    /// The upgrade SQL.
    pub up: String,
    /// The downgrade SQL (a step that cannot be reversed renders as a statement that raises).
    pub down: String,
    /// How many operations it holds; zero when the two schemas match.
    pub operations: usize,
    /// Whether it can run in a transaction (`false` when it holds `ALTER TYPE ... ADD VALUE`
    /// or `CREATE INDEX CONCURRENTLY`).
    pub transactional: bool,
    /// Warnings for the terminal (a drop that may be a rename, data that would be lost).
    pub warnings: Vec<String>,
}

/// The message of the hooks until autogenerate exists.
const UNAVAILABLE: &str = "autogenerate (the schema diff and its rendering) is not available \
                           in this version of orm-migrate";

/// HOOK (autogenerate, check): the migration that turns the database's schema (`database`,
/// from [`database_schema`]) into the one the models describe.
pub fn models_migration(models: &Models, database: &Schema) -> Result<Migration, CliError> {
    let _ = (models.schema(), database);
    Err(CliError::Message(UNAVAILABLE.into()))
}

/// HOOK (diff): the migration that turns the schema `from` into `to` (two databases, both
/// from [`database_schema`]).
pub fn schemas_migration(from: &Schema, to: &Schema) -> Result<Migration, CliError> {
    let _ = (from, to);
    Err(CliError::Message(UNAVAILABLE.into()))
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
