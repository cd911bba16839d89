//! Index keys with their options: ordering (`DESC`, `NULLS FIRST | LAST`), operator class and
//! collation are read back, compared and reproduced, between databases and against models
//! (which declare plain ascending keys).

use orm_migrate::diff::{DiffOptions, diff};
use orm_migrate::model_schema::schema_of;
use orm_migrate::schema::QualifiedName;
use orm_postgres::Model as _;
use orm_postgres::prelude::*;
use orm_testing::test_database;

use super::ops::schema_from_ddl;
use super::{Form, plain_diff, run_chain_in, schema_of_db};

const PLAIN: &str = "CREATE TABLE ev (id int, at timestamptz, name text, tag text);
    CREATE INDEX ev_at ON ev (at);
    CREATE INDEX ev_name ON ev (name);
    CREATE INDEX ev_tag ON ev (tag);
    CREATE INDEX ev_multi ON ev (at, lower(name));";

const WITH_OPTIONS: &str = r#"CREATE TABLE ev (id int, at timestamptz, name text, tag text);
    CREATE INDEX ev_at ON ev (at DESC);
    CREATE INDEX ev_name ON ev (name text_pattern_ops);
    CREATE INDEX ev_tag ON ev (tag COLLATE "C");
    CREATE INDEX ev_multi ON ev (at NULLS FIRST, lower(name) DESC NULLS LAST);"#;

#[tokio::test]
async fn key_options_are_read_compared_and_reproduced() {
    let plain = schema_from_ddl(PLAIN).await;
    let with = schema_from_ddl(WITH_OPTIONS).await;
    let ev = &with.tables[&QualifiedName::new("public", "ev")];
    let keys = |n: &str| ev.indexes[n].keys.clone();
    assert_eq!(keys("ev_at"), ["at DESC"]);
    assert_eq!(keys("ev_name"), ["name text_pattern_ops"]);
    assert_eq!(keys("ev_tag"), ["tag COLLATE \"C\""]);
    assert_eq!(
        keys("ev_multi"),
        ["at NULLS FIRST", "lower(name) DESC NULLS LAST"]
    );

    // Each index differs by its options only: dropped and created again, both ways.
    for (from, to, expected) in [
        (
            &plain,
            &with,
            [
                "CREATE INDEX ev_at ON public.ev USING btree (at DESC);",
                "CREATE INDEX ev_multi ON public.ev USING btree (at NULLS FIRST, lower(name) DESC NULLS LAST);",
                "CREATE INDEX ev_name ON public.ev USING btree (name text_pattern_ops);",
                "CREATE INDEX ev_tag ON public.ev USING btree (tag COLLATE \"C\");",
            ],
        ),
        (
            &with,
            &plain,
            [
                "CREATE INDEX ev_at ON public.ev USING btree (at);",
                "CREATE INDEX ev_multi ON public.ev USING btree (at, lower(name));",
                "CREATE INDEX ev_name ON public.ev USING btree (name);",
                "CREATE INDEX ev_tag ON public.ev USING btree (tag);",
            ],
        ),
    ] {
        let up = plain_diff(from, to).up_sql();
        assert_eq!(up.matches("DROP INDEX public.ev_").count(), 4, "{up}");
        for e in expected {
            assert!(up.contains(e), "{e}\n{up}");
        }
    }
    assert!(plain_diff(&with, &with).is_empty());

    // The rendered statements build exactly these indexes (and back), in both forms.
    for form in [Form::Single, Form::Phased] {
        let t = test_database().await.expect("db");
        run_chain_in(&t, &[plain.clone(), with.clone()], form).await;
    }
}

#[derive(Model, Debug)]
#[model(table = "event")]
pub struct Event {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(index)]
    pub at: chrono::DateTime<chrono::Utc>,
}

#[tokio::test]
async fn a_descending_index_differs_from_the_models_plain_one() {
    let t = test_database().await.expect("db");
    t.create_all(&[Event::TABLE]).await.expect("create_all");
    t.batch_execute("DROP INDEX ix_event_at; CREATE INDEX ix_event_at ON event (at DESC);")
        .await
        .expect("descending");
    let models = schema_of(&[Event::TABLE], "public");
    let options = DiffOptions {
        models: true,
        ..DiffOptions::default()
    };
    let up = diff(&schema_of_db(&t).await, &models, &options).up_sql();
    assert_eq!(
        up,
        "-- drop index ix_event_at on public.event\n\
         DROP INDEX public.ix_event_at;\n\n\
         -- create index ix_event_at on public.event\n\
         CREATE INDEX ix_event_at ON public.event USING btree (at);\n\n"
    );
}
