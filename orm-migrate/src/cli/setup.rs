//! What every command starts from: the graph of the migrations directory, a migrator with the
//! command line's options, a connection.

use std::time::Duration;

use orm_postgres::Database;

use crate::files;
use crate::graph::Graph;
use crate::runner::Migrator;
use crate::schema::QualifiedName;

use super::CliError;
use super::args::Global;

type Result<T> = std::result::Result<T, CliError>;

/// `[schema.]name`.
pub(crate) fn version_table(g: &Global) -> QualifiedName {
    match g.version_table.split_once('.') {
        Some((schema, name)) => QualifiedName::new(schema, name),
        None => QualifiedName::new("public", g.version_table.as_str()),
    }
}

pub(crate) fn off_when_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// The revisions of the migrations directory.
pub(crate) fn graph(g: &Global) -> Result<Graph> {
    if !g.dir.is_dir() {
        return Err(CliError::Message(format!(
            "no migrations directory at {}: create it with `orm-migrate init` (or pass --dir)",
            g.dir.display()
        )));
    }
    Ok(Graph::new(files::read_dir(&g.dir)?)?)
}

pub(crate) fn migrator(g: &Global) -> Result<Migrator> {
    let table = version_table(g);
    Ok(Migrator::new(graph(g)?)
        .version_table(table.schema, table.name)
        .lock_timeout(off_when_zero(g.lock_timeout))
        .statement_timeout(off_when_zero(g.statement_timeout))
        .lock_wait(g.lock_wait)
        .allow_edited(g.allow_edited)
        .backfill_batch(g.backfill_batch)
        .backfill_pause(g.backfill_pause))
}

pub(crate) async fn connect_to(url: &str) -> Result<Database> {
    Ok(Database::builder(url)
        .max_connections(2)
        .application_name("orm-migrate")
        .connect()
        .await?)
}

pub(crate) async fn connect(g: &Global) -> Result<Database> {
    match &g.database_url {
        Some(url) => connect_to(url).await,
        None => Err(CliError::Message(
            "no database: pass --database-url postgres://user:password@host:port/database, \
             or set DATABASE_URL"
                .into(),
        )),
    }
}
