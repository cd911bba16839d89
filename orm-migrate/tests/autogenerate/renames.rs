//! Renames: declared on the models (`#[model(renamed_from = "...")]`) they become `RENAME` and
//! keep the data, both ways; suspected (a dropped and an added column or table that look
//! alike) they stay a drop and an add, with the rename written as a commented suggestion and a
//! warning.

use orm_migrate::Target;
use orm_migrate::diff::{DiffOptions, diff};
use orm_migrate::model_schema::{renames_of, schema_of};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use super::{assert_schema, migrator, revisions, schema_of_db};

mod v1 {
    use orm_postgres::prelude::*;

    #[derive(Model, Debug)]
    #[model(table = "writer")]
    pub struct Writer {
        #[model(primary_key, generated)]
        pub id: i64,
        #[model(len = 80)]
        pub name: String,
        pub bio: Option<String>,
    }
}

mod v2 {
    use orm_postgres::prelude::*;

    /// `writer` renamed to `author`, `name` to `full_name`.
    #[derive(Model, Debug)]
    #[model(table = "author", renamed_from = "writer")]
    pub struct Author {
        #[model(primary_key, generated)]
        pub id: i64,
        #[model(len = 80, renamed_from = "name")]
        pub full_name: String,
        pub bio: Option<String>,
    }
}

mod v3 {
    use orm_postgres::prelude::*;

    /// `name` became `full_name` with nothing declared.
    #[derive(Model, Debug)]
    #[model(table = "writer")]
    pub struct Writer {
        #[model(primary_key, generated)]
        pub id: i64,
        #[model(len = 80)]
        pub full_name: String,
        pub bio: Option<String>,
    }
}

mod v4 {
    use orm_postgres::prelude::*;

    /// `writer` became `writers` with nothing declared.
    #[derive(Model, Debug)]
    #[model(table = "writers")]
    pub struct Writer {
        #[model(primary_key, generated)]
        pub id: i64,
        #[model(len = 80)]
        pub name: String,
        pub bio: Option<String>,
    }
}

fn models() -> DiffOptions {
    DiffOptions {
        models: true,
        ..DiffOptions::default()
    }
}

#[tokio::test]
async fn declared_renames_rename_and_keep_the_data_both_ways() {
    use orm_postgres::Model as _;
    let a = schema_of(&[v1::Writer::TABLE], "public");
    let b = schema_of(&[v2::Author::TABLE], "public");
    let renames = renames_of(&[v2::Author::TABLE], "public");
    let t = test_database().await.expect("db");

    let first = diff(&schema_of_db(&t).await, &a, &models());
    let m = migrator(revisions(std::slice::from_ref(&first)));
    m.upgrade(&t, &Target::Head).await.expect("create");
    t.batch_execute("INSERT INTO writer (name, bio) VALUES ('Ursula', 'Earthsea')")
        .await
        .expect("row");

    let options = DiffOptions {
        renames,
        ..models()
    };
    let second = diff(&schema_of_db(&t).await, &b, &options);
    assert_eq!(
        second.up_sql(),
        "-- rename table public.writer to author\n\
         ALTER TABLE public.writer RENAME TO author;\n\n\
         -- rename column public.author.name to full_name\n\
         ALTER TABLE public.author RENAME COLUMN name TO full_name;\n\n"
    );
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
    assert_eq!(
        second.down_sql(),
        "-- rename column public.author.full_name to name\n\
         ALTER TABLE public.author RENAME COLUMN full_name TO name;\n\n\
         -- rename table public.author to writer\n\
         ALTER TABLE public.author RENAME TO writer;\n\n"
    );

    let m = migrator(revisions(&[first, second]));
    m.upgrade(&t, &Target::Head).await.expect("rename");
    assert_schema(&t, &b, "after the renames").await;
    let rows: Vec<(String, Option<String>)> = t
        .fetch_all(query::<(String, Option<String>)>(
            "SELECT full_name, bio FROM author",
        ))
        .await
        .expect("renamed");
    assert_eq!(rows, [("Ursula".to_owned(), Some("Earthsea".to_owned()))]);

    m.downgrade(&t, &Target::Id("20260101000001".into()))
        .await
        .expect("back");
    assert_schema(&t, &a, "after the downgrade").await;
    let names: Vec<String> = t
        .fetch_all(query::<String>("SELECT name FROM writer"))
        .await
        .expect("back again");
    assert_eq!(names, ["Ursula"]);
}

#[test]
fn a_column_that_looks_renamed_is_suggested_not_guessed() {
    use orm_postgres::Model as _;
    let a = schema_of(&[v1::Writer::TABLE], "public");
    let b = schema_of(&[v3::Writer::TABLE], "public");
    let m = diff(&a, &b, &models());
    let ops: Vec<String> = m.ops.iter().map(|o| o.describe()).collect();
    assert_eq!(
        ops,
        [
            "add column public.writer.full_name",
            "drop column public.writer.name"
        ]
    );
    assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
    assert!(m.warnings[0].contains("drop column public.writer.name loses its data"));
    assert!(
        m.warnings[1].contains("renamed_from = \"name\""),
        "{:?}",
        m.warnings
    );
    let up = m.up_sql();
    assert!(
        up.contains(
            "-- Did you rename public.writer.name to full_name? To keep its data, replace its \
             DROP COLUMN and ADD COLUMN below with:\n\
             --   ALTER TABLE public.writer RENAME COLUMN name TO full_name;\n"
        ),
        "{up}"
    );
}

#[test]
fn a_table_that_looks_renamed_is_suggested_not_guessed() {
    use orm_postgres::Model as _;
    let a = schema_of(&[v1::Writer::TABLE], "public");
    let b = schema_of(&[v4::Writer::TABLE], "public");
    let m = diff(&a, &b, &models());
    let ops: Vec<String> = m.ops.iter().map(|o| o.describe()).collect();
    assert_eq!(
        ops,
        ["create table public.writers", "drop table public.writer"]
    );
    assert!(
        m.up_sql()
            .contains("--   ALTER TABLE public.writer RENAME TO writers;\n"),
        "{}",
        m.up_sql()
    );
    assert!(
        m.warnings
            .iter()
            .any(|w| w.contains("renamed_from = \"writer\""))
    );
}

#[test]
fn different_types_are_not_suggested_as_renames() {
    let a = super::ops_schema(&[("t", &[("name", "text")])]);
    let b = super::ops_schema(&[("t", &[("names", "integer")])]);
    let m = diff(&a, &b, &models());
    assert!(m.suggestions.is_empty(), "{:?}", m.suggestions);
}
