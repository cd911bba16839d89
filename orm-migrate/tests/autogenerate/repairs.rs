//! What a failed or unfinished step leaves in a database, and how autogenerate repairs it: an
//! index a failed `CREATE INDEX CONCURRENTLY` left INVALID is dropped and built again.

use orm_migrate::Target;
use orm_migrate::diff::{DiffOptions, PhaseKind, diff};
use orm_migrate::model_schema::schema_of;
use orm_postgres::Database;
use orm_postgres::Model as _;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use super::{Form, migrator, plain_diff, revisions_of, schema_of_db};

#[derive(Model, Debug)]
#[model(table = "note")]
pub struct Note {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(index)]
    pub body: String,
}

fn model_options() -> DiffOptions {
    DiffOptions {
        models: true,
        ..DiffOptions::default()
    }
}

/// `pg_index.indisvalid` of each index of `table` that does not back a constraint, by name.
async fn index_validity(db: &Database, table: &str) -> Vec<(String, bool)> {
    db.fetch_all(
        query::<(String, bool)>(
            "SELECT c.relname::text, i.indisvalid FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = to_regclass(:t) AND NOT i.indisprimary ORDER BY 1",
        )
        .bind("t", format!("public.{table}")),
    )
    .await
    .expect("indexes")
}

#[tokio::test]
async fn an_invalid_index_is_dropped_and_built_again() {
    let t = test_database().await.expect("db");
    t.create_all(&[Note::TABLE]).await.expect("create_all");
    // A row too wide for a btree entry makes the concurrent build fail after its index was
    // recorded: the index stays, INVALID, with the model's very name and definition.
    t.batch_execute(
        "DROP INDEX ix_note_body;
         INSERT INTO note (body) SELECT string_agg(md5(g::text), '') FROM generate_series(1, 1000) g;",
    )
    .await
    .expect("a wide row");
    let failed = t
        .batch_execute("CREATE INDEX CONCURRENTLY ix_note_body ON note (body)")
        .await;
    assert!(failed.is_err(), "the build must fail on the wide row");
    assert_eq!(
        index_validity(&t, "note").await,
        [("ix_note_body".to_owned(), false)]
    );

    let models = schema_of(&[Note::TABLE], "public");
    let m = diff(&schema_of_db(&t).await, &models, &model_options());
    let up = m.up_sql();
    assert!(
        up.contains(
            "-- drop invalid index ix_note_body on public.note\nDROP INDEX public.ix_note_body;\n\n\
             -- create index ix_note_body on public.note\n\
             CREATE INDEX ix_note_body ON public.note USING btree (body);\n"
        ),
        "{up}"
    );
    assert!(
        m.warnings
            .iter()
            .any(|w| w.contains("ix_note_body") && w.contains("INVALID")),
        "{:?}",
        m.warnings
    );
    // Nothing brings the broken index back: the downgrade drops the new one only.
    let down = m.down_sql();
    assert_eq!(down.matches("DROP INDEX").count(), 1, "{down}");
    assert!(!down.contains("CREATE INDEX"), "{down}");

    // The safe form: the leftover dropped before, the index built after, both concurrently.
    let phases = m.phases();
    assert_eq!(
        phases.iter().map(|p| p.kind).collect::<Vec<_>>(),
        [PhaseKind::Before, PhaseKind::After]
    );
    assert!(
        phases[0]
            .up_sql()
            .contains("DROP INDEX CONCURRENTLY IF EXISTS public.ix_note_body;"),
        "{}",
        phases[0].up_sql()
    );
    assert!(
        phases[1]
            .up_sql()
            .contains("CREATE INDEX CONCURRENTLY ix_note_body ON public.note USING btree (body);"),
        "{}",
        phases[1].up_sql()
    );

    // With the wide row gone, the revisions repair the index, and the models match.
    t.batch_execute("DELETE FROM note").await.expect("delete");
    let mig = migrator(revisions_of(&m, Form::Phased, 1, None));
    mig.upgrade(&t, &Target::Head)
        .await
        .unwrap_or_else(|e| panic!("upgrade: {e}\n{up}"));
    assert_eq!(
        index_validity(&t, "note").await,
        [("ix_note_body".to_owned(), true)]
    );
    let rest = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(rest.is_empty(), "{}", rest.up_sql());
    mig.downgrade(&t, &Target::Base)
        .await
        .unwrap_or_else(|e| panic!("downgrade: {e}\n{down}"));
    assert_eq!(index_validity(&t, "note").await, []);
}

#[tokio::test]
async fn between_databases_an_invalid_index_is_never_built() {
    let ddl = "CREATE TABLE item (id int PRIMARY KEY, code text);
               INSERT INTO item VALUES (1, 'a'), (2, 'a');";
    let plain = test_database().await.expect("db");
    plain.batch_execute(ddl).await.expect("plain");
    let broken = test_database().await.expect("db");
    broken.batch_execute(ddl).await.expect("broken");
    let failed = broken
        .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY item_code_key ON item (code)")
        .await;
    assert!(failed.is_err(), "the duplicates must fail the build");
    let (plain, broken) = (schema_of_db(&plain).await, schema_of_db(&broken).await);

    // Towards the broken database: nothing to build, and a warning saying why.
    let m = plain_diff(&plain, &broken);
    assert!(m.is_empty(), "{}", m.up_sql());
    assert_eq!(
        m.warnings,
        ["index item_code_key on public.item is INVALID in the target: not compared, not created"]
    );
    // From it, even towards itself: the leftover goes.
    for to in [&plain, &broken] {
        let m = plain_diff(&broken, to);
        assert_eq!(
            m.up_sql()
                .matches("DROP INDEX public.item_code_key;")
                .count(),
            1,
            "{}",
            m.up_sql()
        );
        assert_eq!(m.ops.len(), 1, "{}", m.up_sql());
        assert!(
            m.down_sql()
                .contains("-- nothing to undo: index item_code_key on public.item was INVALID"),
            "{}",
            m.down_sql()
        );
    }
}
