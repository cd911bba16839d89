//! The lint before an upgrade: the revisions the upgrade would apply, read against the
//! database as it is (its tables, column types and enum labels, reflected; its version).

use orm_postgres::{Database, Executor};

use crate::error::Result;
use crate::graph::Target;
use crate::lint::{LintOptions, Report, lint_scripts};
use crate::reflect::{ReflectOptions, reflect};
use crate::revision::Revision;
use crate::schema::Schema;

use super::Migrator;
use super::table::{Sql, ids};

/// Lints the up scripts of revisions that run in this order (an upgrade plan), each finding
/// with the line in its file: [`lint_scripts`] over [`Revision::lint_script`].
pub fn lint_revisions(revisions: &[&Revision], options: &LintOptions) -> Report {
    let scripts: Vec<_> = revisions.iter().map(|r| r.lint_script()).collect();
    lint_scripts(&scripts, options)
}

impl Migrator {
    /// Whether [`upgrade`](Self::upgrade) lints the revisions it is about to apply and stops
    /// on an unsilenced error. Default: on.
    pub fn lint(mut self, on: bool) -> Self {
        self.lint = on;
        self
    }

    /// The schema the current models map ([`schema_of`](crate::model_schema::schema_of)):
    /// the lint then reports revisions that drop or rename away what the models still use.
    pub fn lint_models(mut self, models: Schema) -> Self {
        self.lint_models = Some(models);
        self
    }

    /// What the lint knows of this database: its schema (reflected), its version, the run's
    /// `lock_timeout`, the models given to [`lint_models`](Self::lint_models). Read on the
    /// primary, whatever replicas `db` has: the schema the revisions will change.
    pub async fn lint_options(&self, db: &Database) -> Result<LintOptions> {
        let db = &db.on_primary();
        let schema = reflect(db, &ReflectOptions::default()).await?;
        let version = db
            .fetch_one(Sql::<String>::new(
                "SELECT current_setting('server_version_num')".to_string(),
            ))
            .await?;
        Ok(LintOptions {
            schema: Some(schema),
            models: self.lint_models.clone(),
            server_version: version.parse().ok(),
            lock_timeout: self.lock_timeout.is_some(),
        })
    }

    /// Lints the revisions an upgrade to `target` would apply now (none: an empty report).
    /// Takes no lock and changes nothing.
    pub async fn lint_pending(&self, db: &Database, target: &Target) -> Result<Report> {
        let applied = ids(&self.applied(db).await?);
        let plan = self.graph.upgrade_plan(&applied, target)?;
        if plan.is_empty() {
            return Ok(Report::default());
        }
        Ok(lint_revisions(&plan, &self.lint_options(db).await?))
    }
}
