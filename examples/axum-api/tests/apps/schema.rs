//! The migrations and the models describe the same schema: after upgrading an empty database
//! to the head, autogenerate finds nothing to do.

use orm_example_axum::{MIGRATIONS, all_tables};
use orm_migrate::Migrator;
use orm_migrate::cli::{Models, database_schema, models_migration};
use orm_postgres::Database;

#[orm_postgres::test(migrations)]
async fn the_migrations_build_what_the_models_describe(db: Database) {
    let migrator = Migrator::from_embedded(&MIGRATIONS).expect("the embedded revisions parse");
    let schema = database_schema(&db, migrator.version_table_name())
        .await
        .expect("reflect");
    let diff = models_migration(&Models::new(&all_tables()), &schema).expect("diff");
    assert_eq!(
        diff.operations, 0,
        "the models differ from the migrated database; a revision would be:\n{}\n-- down:\n{}",
        diff.up, diff.down
    );
}
