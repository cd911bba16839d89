//! The diff's filter (Alembic's `include_object`): tables the models do not describe (another
//! application's, an extension's installed by script, a legacy schema) are dropped by the next
//! revision unless a filter leaves them out; then the diff leaves them alone, on both sides.

use orm_migrate::MigrateError;
use orm_migrate::diff::{DiffOptions, Filter, FilterKind, diff};
use orm_migrate::model_schema::schema_of;
use orm_migrate::schema::QualifiedName;
use orm_postgres::Model as _;
use orm_postgres::prelude::*;
use orm_testing::test_database;

use super::ops::schema_from_ddl;
use super::{plain_diff, schema_of_db};

#[derive(Model, Debug)]
#[model(table = "place")]
pub struct Place {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
}

/// Tables of an extension installed by script, and of a legacy application.
const FOREIGN_TABLES: &str = "
    CREATE TABLE spatial_ref_sys (srid integer PRIMARY KEY, auth_name varchar(256));
    CREATE TABLE legacy_orders (id integer PRIMARY KEY, place_id bigint REFERENCES place);
    CREATE TABLE legacy_lines (order_id integer REFERENCES legacy_orders, n integer);";

fn models_with(filter: Filter) -> DiffOptions {
    DiffOptions {
        models: true,
        filter,
        ..DiffOptions::default()
    }
}

#[tokio::test]
async fn ignored_tables_are_neither_dropped_nor_created() {
    let t = test_database().await.expect("db");
    t.create_all(&[Place::TABLE]).await.expect("create_all");
    t.batch_execute(FOREIGN_TABLES)
        .await
        .expect("foreign tables");
    let database = schema_of_db(&t).await;
    let models = schema_of(&[Place::TABLE], "public");

    // Without a filter, the next revision drops them.
    let up = diff(&database, &models, &models_with(Filter::new())).up_sql();
    for table in ["spatial_ref_sys", "legacy_orders", "legacy_lines"] {
        assert!(
            up.contains(&format!("DROP TABLE public.{table};")),
            "{table}\n{up}"
        );
    }

    // Left out by name and by glob: nothing to do.
    let filter = Filter::new()
        .ignore_tables(["spatial_ref_sys", "legacy_*"])
        .expect("patterns");
    let m = diff(&database, &models, &models_with(filter.clone()));
    assert!(m.is_empty(), "{}", m.up_sql());
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    // Only those: a model table that matches no pattern is still compared.
    let m = diff(
        &schema_of_db(&t).await,
        &schema_of(&[], "public"),
        &models_with(filter),
    );
    assert_eq!(
        m.ops.iter().map(|op| op.describe()).collect::<Vec<_>>(),
        ["drop table public.place"]
    );

    // On the target's side too: a model matching a pattern is not created.
    let only_place = Filter::new()
        .ignore_tables(["public.place"])
        .expect("pattern");
    let empty = test_database().await.expect("db");
    let m = diff(
        &schema_of_db(&empty).await,
        &models,
        &models_with(only_place),
    );
    assert!(m.is_empty(), "{}", m.up_sql());
}

#[tokio::test]
async fn between_databases_the_filter_covers_views_triggers_and_sequences_of_what_it_ignores() {
    let base = "CREATE TABLE keep (id serial PRIMARY KEY, note text);";
    let other = "CREATE TABLE legacy_log (id serial PRIMARY KEY, at timestamptz);
        CREATE FUNCTION legacy_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER legacy_log_touch BEFORE UPDATE ON legacy_log
            FOR EACH ROW EXECUTE FUNCTION legacy_touch();
        CREATE VIEW legacy_recent AS SELECT id FROM legacy_log;";
    let from = schema_from_ddl(&format!("{base}{other}")).await;
    let to = schema_from_ddl(&format!("{base} ALTER TABLE keep ADD COLUMN extra int;")).await;
    let full = plain_diff(&from, &to).up_sql();
    assert!(full.contains("DROP TABLE public.legacy_log;"), "{full}");

    let filter = Filter::new()
        .ignore_tables(["legacy_*"])
        .and_then(|f| f.ignore(FilterKind::View, ["legacy_*"]))
        .expect("patterns")
        .include_if(|kind, name| {
            !(kind == FilterKind::Object(orm_migrate::schema::ObjectKind::Function)
                && name.name.starts_with("legacy_"))
        });
    let options = DiffOptions {
        filter,
        ..DiffOptions::default()
    };
    let m = diff(&from, &to, &options);
    assert_eq!(
        m.ops.iter().map(|op| op.describe()).collect::<Vec<_>>(),
        ["add column public.keep.extra"],
        "{}",
        m.up_sql()
    );
    // The other way round, the same: nothing of the legacy tables is created.
    let back = diff(&to, &from, &options);
    assert_eq!(
        back.ops.iter().map(|op| op.describe()).collect::<Vec<_>>(),
        ["drop column public.keep.extra"],
        "{}",
        back.up_sql()
    );
}

#[test]
fn a_malformed_pattern_is_a_typed_error() {
    let e = Filter::new()
        .ignore_tables(["ok_*", "public.legacy.orders"])
        .expect_err("two dots");
    assert!(
        matches!(&e, MigrateError::Pattern { pattern, .. } if pattern == "public.legacy.orders"),
        "{e:?}"
    );
    assert!(e.to_string().contains("more than one `.`"), "{e}");
    assert!(Filter::new().ignore_tables([""]).is_err());
    let f = Filter::new().ignore_tables(["ok_*"]).expect("fine");
    assert!(!f.includes(FilterKind::Table, &QualifiedName::new("public", "ok_x")));
}
