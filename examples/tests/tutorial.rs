//! The migrations story against a real server: each generated revision says what it should,
//! the data is carried through add → rename → type change → required (the last change in its
//! safe form, two revisions), and each downgrade brings the previous shape and values back,
//! down to an empty database.

use orm_examples::tutorial;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

fn read(dir: &std::path::Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).expect("revision file")
}

async fn columns(db: &orm_postgres::Database) -> Vec<(String, String)> {
    db.fetch_all(query::<(String, String)>(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = 'tutorial' ORDER BY ordinal_position",
    ))
    .await
    .expect("columns")
}

async fn nullable(db: &orm_postgres::Database, column: &str) -> String {
    db.fetch_one(
        query::<String>(
            "SELECT is_nullable::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = 'tutorial' AND column_name = :c",
        )
        .bind("c", column.to_owned()),
    )
    .await
    .expect("is_nullable")
}

#[tokio::test]
async fn the_story_upgrades_and_downgrades_with_its_data() {
    let t = test_database().await.expect("db");
    let dir = std::env::temp_dir().join(format!("orm-tutorial-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let revs = tutorial::run(&t, &dir).await.expect("the story");
    assert_eq!(revs.len(), 6);
    let names: Vec<String> = revs
        .iter()
        .map(|r| {
            r.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for (name, slug) in names.iter().zip([
        "add_tutorial_model",
        "add_level",
        "rename_level_to_difficulty",
        "difficulty_as_integer",
        "publish_tutorials_require_difficulty",
        "after_publish_tutorials_require",
    ]) {
        assert!(name.ends_with(slug), "{name} {names:?}");
    }

    let up1 = read(&revs[0], "up.sql");
    assert!(up1.contains("CREATE TABLE public.tutorial ("), "{up1}");
    let up2 = read(&revs[1], "up.sql");
    assert!(
        up2.contains("ALTER TABLE public.tutorial ADD COLUMN level text;"),
        "{up2}"
    );
    let up3 = read(&revs[2], "up.sql");
    assert!(
        up3.contains("ALTER TABLE public.tutorial RENAME COLUMN level TO difficulty;"),
        "{up3}"
    );
    assert!(
        !up3.contains("DROP"),
        "a declared rename never drops: {up3}"
    );
    let up4 = read(&revs[3], "up.sql");
    assert!(
        up4.contains(
            "-- lint: allow changing-column-type: tutorial holds a handful of rows: the rewrite takes a moment\n\
             ALTER TABLE public.tutorial ALTER COLUMN difficulty TYPE integer USING difficulty::integer;"
        ),
        "the lint stopped the type change until a person silenced it: {up4}"
    );

    // The last change, on a table with rows: the column in a transaction, then the rest
    // outside one, after it.
    let up5 = read(&revs[4], "up.sql");
    assert!(!up5.contains("-- transaction: false"), "{up5}");
    assert!(
        up5.contains(
            "ALTER TABLE public.tutorial ADD COLUMN published boolean NOT NULL DEFAULT false;"
        ),
        "{up5}"
    );
    assert!(
        !up5.contains("ALTER COLUMN difficulty") && !up5.contains("INDEX"),
        "{up5}"
    );
    let up6 = read(&revs[5], "up.sql");
    let id5 = names[4].split('_').next().expect("an id");
    assert!(up6.contains(&format!("-- parents: {id5}\n")), "{up6}");
    assert!(up6.contains("-- transaction: false\n"), "{up6}");
    assert!(
        up6.contains(
            "ALTER TABLE public.tutorial DROP CONSTRAINT IF EXISTS tutorial_difficulty_not_null_check;\n\
             ALTER TABLE public.tutorial ADD CONSTRAINT tutorial_difficulty_not_null_check \
             CHECK (difficulty IS NOT NULL) NOT VALID;\n\
             ALTER TABLE public.tutorial VALIDATE CONSTRAINT tutorial_difficulty_not_null_check;\n\
             ALTER TABLE public.tutorial ALTER COLUMN difficulty SET NOT NULL;\n\
             ALTER TABLE public.tutorial DROP CONSTRAINT tutorial_difficulty_not_null_check;\n"
        ),
        "{up6}"
    );
    assert!(
        up6.contains(
            "CREATE INDEX CONCURRENTLY ix_tutorial_difficulty ON public.tutorial USING btree \
             (difficulty);"
        ),
        "{up6}"
    );

    // At the head: integers, carried from 'beginner' through '1', now required.
    assert_eq!(
        columns(&t).await,
        [
            ("id".into(), "bigint".into()),
            ("title".into(), "character varying".into()),
            ("body".into(), "text".into()),
            ("difficulty".into(), "integer".into()),
            ("published".into(), "boolean".into())
        ]
    );
    assert_eq!(nullable(&t, "difficulty").await, "NO");
    let rows: Vec<(String, Option<i32>)> = t
        .fetch_all(query::<(String, Option<i32>)>(
            "SELECT title, difficulty FROM tutorial ORDER BY id",
        ))
        .await
        .expect("rows");
    assert_eq!(
        rows,
        [
            ("Async Rust".into(), Some(1)),
            ("Migrations".into(), Some(1))
        ]
    );

    // Down the two revisions of the last change: difficulty optional again, then no
    // `published`.
    tutorial::downgrade_one(&t, &dir).await.expect("down 6");
    assert_eq!(nullable(&t, "difficulty").await, "YES");
    let indexes: Vec<String> = t
        .fetch_all(query::<String>(
            "SELECT indexname::text FROM pg_indexes WHERE tablename = 'tutorial' ORDER BY 1",
        ))
        .await
        .expect("indexes");
    assert_eq!(indexes, ["tutorial_pkey"]);
    tutorial::downgrade_one(&t, &dir).await.expect("down 5");
    assert_eq!(columns(&t).await.len(), 4);
    // Down one more: text '1'.
    tutorial::downgrade_one(&t, &dir).await.expect("down 4");
    let v: Vec<Option<String>> = t
        .fetch_all(query::<Option<String>>("SELECT difficulty FROM tutorial"))
        .await
        .expect("text");
    assert_eq!(v, [Some("1".into()), Some("1".into())]);
    // Down two: level 'beginner' again.
    tutorial::downgrade_one(&t, &dir).await.expect("down 3");
    let v: Vec<Option<String>> = t
        .fetch_all(query::<Option<String>>("SELECT level FROM tutorial"))
        .await
        .expect("level");
    assert_eq!(v, [Some("beginner".into()), Some("beginner".into())]);
    // Down three: no level column, the tutorials kept.
    tutorial::downgrade_one(&t, &dir).await.expect("down 2");
    assert_eq!(columns(&t).await.len(), 3);
    let n: i64 = t
        .fetch_one(query::<i64>("SELECT count(*) FROM tutorial"))
        .await
        .expect("count");
    assert_eq!(n, 2);
    // Down four: base, no table.
    tutorial::downgrade_one(&t, &dir).await.expect("down 1");
    assert!(columns(&t).await.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
