//! `#[orm_postgres::test(migrations = "dir")]`: the test's database is a copy of a template
//! upgraded to the head of the embedded migrations, once per test binary.

use orm_postgres::Database;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;

#[orm_postgres::test(migrations = "tests/fixtures/kit")]
async fn the_database_is_at_the_head(db: Database) -> orm_postgres::Result<()> {
    let tables: Vec<String> = db
        .fetch_all(query::<String>(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        ))
        .await?;
    assert!(tables.contains(&"note".to_owned()), "{tables:?}");
    db.batch_execute("INSERT INTO note (body) VALUES ('hello')")
        .await?;
    let n: i64 = db
        .fetch_one(query::<i64>("SELECT count(*) FROM note"))
        .await?;
    assert_eq!(n, 1);
    Ok(())
}

#[orm_postgres::test(migrations = "tests/fixtures/kit", rollback)]
async fn and_in_a_rolled_back_transaction(tx: &mut Transaction<'_>) {
    let n: i64 = tx
        .fetch_one(query::<i64>("SELECT count(*) FROM note"))
        .await
        .expect("count");
    assert_eq!(n, 0, "the other test's row was in its own copy");
}

// A revision with a `-- run:` Rust function cannot be applied by the option alone (nothing
// registered the function): the setup fails, and so does every test that uses it, saying why.
// Such migrations go through `setup = fn`, which builds its own `Migrator` and registers them.
#[orm_postgres::test(migrations = "tests/fixtures/migrations")]
#[should_panic(expected = "which is not registered")]
async fn a_failing_setup_fails_the_test(_db: Database) {}
