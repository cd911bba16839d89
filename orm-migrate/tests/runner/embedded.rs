//! A service migrating itself at startup: the fixture directory embedded with
//! `embed_migrations!`, its Rust function registered, `Migrator::run` applying everything
//! (a function revision and a `CREATE INDEX CONCURRENTLY` one included), then a downgrade to
//! base.

use orm_migrate::runner::StepFuture;
use orm_migrate::{Embedded, Migrator, Target, embed_migrations};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

static MIGRATIONS: Embedded = embed_migrations!("tests/fixtures/migrations");

fn seed_tutorials<'a>(tx: &'a Transaction<'a>) -> StepFuture<'a> {
    Box::pin(async move {
        tx.batch_execute("INSERT INTO tutorial (title, body) VALUES ('Hello', 'world')")
            .await?;
        Ok(())
    })
}

#[tokio::test]
async fn embedded_revisions_migrate_at_startup() {
    let t = test_database().await.expect("db");
    let m = Migrator::from_embedded(&MIGRATIONS)
        .expect("embedded")
        .register("seed_tutorials", seed_tutorials);
    let done = m.run(&t).await.expect("run");
    assert_eq!(done.len(), 3);
    let titles: Vec<(String, String)> = t
        .fetch_all(query::<(String, String)>(
            "SELECT title, body FROM tutorial",
        ))
        .await
        .expect("rows");
    assert_eq!(titles, [("Hello".to_owned(), "world".to_owned())]);
    let index: bool = t
        .fetch_one(query::<bool>(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'tutorial_title'::regclass",
        ))
        .await
        .expect("index");
    assert!(index);
    assert!(m.run(&t).await.expect("again").is_empty());

    let undone = m.downgrade(&t, &Target::Base).await.expect("base");
    let ids: Vec<&str> = undone.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["20261202100000", "20261201090000", "20261130120000"]);
    let left: Option<String> = t
        .fetch_one(query::<Option<String>>(
            "SELECT to_regclass('tutorial')::text",
        ))
        .await
        .expect("regclass");
    assert_eq!(left, None);
}
