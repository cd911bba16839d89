//! Real applications on `orm-postgres`, written as a user of the library would write them
//! (through its public API only):
//!
//! - [`api`]: an axum REST service. Users and their posts, and a library (books with their
//!   authors, many-to-many). Each request runs in a session of its own, committed when the
//!   handler succeeds and rolled back when it fails, run again on a serialization failure;
//!   errors are typed and mapped to HTTP statuses. `cargo run -p orm-example-axum`.
//! - [`blog`]: a blog engine. Users with argon2-hashed passwords (hashed in a session hook),
//!   posts, comments and tags, and a feed loaded in a fixed number of queries.
//!   `cargo run -p orm-example-axum --bin blog`.
//! - [`stocks`]: stock analytics over generated prices (a seeded random walk): averages,
//!   day-over-day change with window functions, the busiest day per symbol, and an SVG chart.
//!   `cargo run -p orm-example-axum --bin stocks -- target/stocks.svg`.
//! - [`rbac`]: role-based access on the service: accounts of several tenants with roles and
//!   permissions, and documents each caller sees through per-request global criteria (its
//!   tenant, not deleted, drafts only with the right permission), tested over HTTP.
//!
//! The four share one schema, applied by [`migrate`] from the revisions in `migrations/`
//! (compiled into the binaries), on `DATABASE_URL` or a throwaway local PostgreSQL cluster.

pub mod api;
pub mod blog;
pub mod rbac;
pub mod stocks;

use orm_migrate::{Embedded, MigrateError, Migrator, embed_migrations};
use orm_postgres::Database;

/// The revisions of `migrations/`, compiled into the binary.
pub static MIGRATIONS: Embedded = embed_migrations!("migrations");

/// Upgrades `db` to the newest revision of [`MIGRATIONS`], under the migrator's advisory lock
/// (so several instances starting at once migrate once). Returns how many revisions ran.
pub async fn migrate(db: &Database) -> Result<usize, MigrateError> {
    let steps = Migrator::from_embedded(&MIGRATIONS)?.run(db).await?;
    Ok(steps.len())
}

/// The database of the example binaries: `DATABASE_URL` when set, otherwise a throwaway local
/// cluster (removed when the process ends), migrated to the newest revision.
pub async fn connect_and_migrate() -> Result<Database, Box<dyn std::error::Error + Send + Sync>> {
    let db = orm_testing::dev_database().await?;
    migrate(&db).await?;
    Ok(db)
}

/// Every table of the three applications (what the migrations create).
pub fn all_tables() -> Vec<&'static orm_postgres::Table> {
    [
        api::models::TABLES,
        blog::models::TABLES,
        stocks::TABLES,
        rbac::models::TABLES,
    ]
    .concat()
}
