//! Undoing an added enum label through the binary: the label was added with `ALTER TYPE ...
//! ADD VALUE` (outside a transaction), but its downgrade (a recreation of the type) runs in
//! one, so a downgrade that fails half-way (a row still holds the label) leaves the database
//! exactly as it was, with no `<type>__old` behind.

use orm_migrate::cli::{EXIT_ERROR, EXIT_OK, Models, database_schema, models_migration, run_async};
use orm_migrate::schema::QualifiedName;
use orm_migrate::{Graph, Migrator, Target, files};
use orm_postgres::Model as _;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

mod v1 {
    use orm_postgres::prelude::*;

    #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
    #[db_enum(name = "mood")]
    pub enum Mood {
        Sad,
        Happy,
    }

    #[derive(Model, Debug)]
    #[model(table = "person")]
    pub struct Person {
        #[model(primary_key, generated)]
        pub id: i64,
        pub mood: Mood,
    }
}

mod v2 {
    use orm_postgres::prelude::*;

    #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
    #[db_enum(name = "mood")]
    pub enum Mood {
        Sad,
        Ok,
        Happy,
    }

    #[derive(Model, Debug)]
    #[model(table = "person")]
    pub struct Person {
        #[model(primary_key, generated)]
        pub id: i64,
        pub mood: Mood,
    }
}

/// The labels of `mood`, and the types named `mood__old`.
async fn types(t: &orm_testing::TestDatabase) -> (Vec<String>, i64) {
    let labels = t
        .fetch_all(query::<String>(
            // By name, not `'mood'::regtype`: a prepared statement keeps the oid it planned.
            "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
             WHERE t.typname = 'mood' AND t.typnamespace = 'public'::regnamespace \
             ORDER BY e.enumsortorder",
        ))
        .await
        .expect("labels");
    let old = t
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM pg_type WHERE typname = 'mood__old'",
        ))
        .await
        .expect("old types");
    (labels, old)
}

#[tokio::test]
async fn a_failed_downgrade_of_an_added_label_leaves_the_database_as_it_was() {
    let t = test_database().await.expect("db");
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    let args = |cmd: &[&str]| args_for(&dir, &t, cmd);
    let first = Models::new(&[v1::Person::TABLE]);
    let second = Models::new(&[v2::Person::TABLE]);
    assert_eq!(run_async(args(&["init"]), Some(&first)).await, EXIT_OK);
    let generate = |m: &str| args(&["revision", "-m", m, "--autogenerate"]);
    assert_eq!(run_async(generate("people"), Some(&first)).await, EXIT_OK);
    assert_eq!(run_async(args(&["upgrade"]), Some(&first)).await, EXIT_OK);
    assert_eq!(run_async(generate("ok mood"), Some(&second)).await, EXIT_OK);
    let graph = Graph::new(files::read_dir(&dir).expect("reads")).expect("a graph");
    let added = graph
        .revisions()
        .iter()
        .find(|r| r.message == "ok mood")
        .expect("the revision adding the label")
        .clone();
    assert!(
        added
            .up
            .contains("ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'ok' BEFORE 'happy';"),
        "{}",
        added.up
    );
    assert!(
        added
            .down
            .contains("ALTER TYPE public.mood RENAME TO mood__old;")
    );
    // ADD VALUE outside a transaction, its undoing in one.
    assert!(
        added.header.contains("-- transaction: up false\n"),
        "{}",
        added.header
    );
    assert!(!added.transactional && added.down_transactional);
    // So do the offline scripts (`upgrade --sql`, `downgrade --sql`).
    let m = Migrator::new(graph.clone());
    let heads = m.applied_at(&Target::Heads).expect("heads");
    let parent = Target::Id(added.parents[0].clone());
    let down = m.sql_for_downgrade(&heads, &parent).expect("down sql");
    assert!(
        down.contains(&format!("-- {}: ok mood\nBEGIN;\n", added.id)) && down.contains("COMMIT;"),
        "{down}"
    );
    let before = m.applied_at(&parent).expect("parent");
    let up = m.sql_for_upgrade(&before, &Target::Heads).expect("up sql");
    assert!(
        up.contains(&format!(
            "-- {}: ok mood (outside a transaction)\n",
            added.id
        )) && !up.contains("BEGIN;"),
        "{up}"
    );
    assert_eq!(run_async(args(&["upgrade"]), Some(&second)).await, EXIT_OK);
    t.batch_execute("INSERT INTO person (mood) VALUES ('sad'), ('ok')")
        .await
        .expect("rows");
    let at_head = types(&t).await;
    assert_eq!(
        at_head,
        (vec!["sad".into(), "ok".into(), "happy".into()], 0)
    );

    // A row holds the label: the downgrade fails, and changes nothing.
    assert_eq!(
        run_async(args(&["downgrade", "-1"]), Some(&second)).await,
        EXIT_ERROR
    );
    assert_eq!(types(&t).await, at_head, "no mood__old left behind");
    let ty: String = t
        .fetch_one(query::<String>(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'public.person'::regclass AND attname = 'mood'",
        ))
        .await
        .expect("column type");
    assert_eq!(ty, "mood");
    let applied: Vec<String> = t
        .fetch_all(query::<String>("SELECT id FROM orm_migrations ORDER BY id"))
        .await
        .expect("versions");
    assert_eq!(applied.last(), Some(&added.id), "still applied");
    t.batch_execute("INSERT INTO person (mood) VALUES ('ok')")
        .await
        .expect("the table takes writes");

    // Without the row, the downgrade goes through.
    t.batch_execute("DELETE FROM person WHERE mood = 'ok'")
        .await
        .expect("delete");
    assert_eq!(
        run_async(args(&["downgrade", "-1"]), Some(&second)).await,
        EXIT_OK
    );
    assert_eq!(types(&t).await, (vec!["sad".into(), "happy".into()], 0));
    let schema = database_schema(&t, &QualifiedName::new("public", "orm_migrations"))
        .await
        .expect("schema");
    let back = models_migration(&first, &schema).expect("diff");
    assert_eq!(back.operations, 0, "back where it started:\n{}", back.up);
}
