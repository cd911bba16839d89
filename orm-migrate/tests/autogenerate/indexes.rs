//! Index keys with their options: ordering (`DESC`, `NULLS FIRST | LAST`), operator class and
//! collation are read back, compared and reproduced, between databases and against models
//! (which declare plain ascending keys); so are `NULLS NOT DISTINCT` of unique indexes and
//! constraints, and indexes' storage parameters (`WITH (fillfactor = 70)`), set in place.

use orm_migrate::Target;
use orm_migrate::diff::diff;
use orm_migrate::model_schema::schema_of;
use orm_migrate::schema::{QualifiedName, Schema};
use orm_postgres::Database;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use super::ops::schema_from_ddl;
use super::{Form, migrator, model_options, plain_diff, run_chain_in, schema_of_db};

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
    let options = model_options();
    let up = diff(&schema_of_db(&t).await, &models, &options).up_sql();
    assert_eq!(
        up,
        "-- drop index ix_event_at on public.event\n\
         DROP INDEX public.ix_event_at;\n\n\
         -- create index ix_event_at on public.event\n\
         CREATE INDEX ix_event_at ON public.event USING btree (at);\n\n"
    );
}

/// `schema` with every index's and unique constraint's definition forgotten, as a schema
/// written by hand has them: the statements are built from the parts.
fn without_definitions(schema: &Schema) -> Schema {
    let mut out = schema.clone();
    for t in out.tables.values_mut() {
        for i in t.indexes.values_mut() {
            i.definition.clear();
        }
    }
    out
}

const NULLS_DISTINCT: &str =
    "CREATE TABLE member (id int PRIMARY KEY, team int, email text, phone text,
        CONSTRAINT member_team_email_key UNIQUE (team, email));
    CREATE UNIQUE INDEX member_phone ON member (phone);";

const NULLS_NOT_DISTINCT: &str =
    "CREATE TABLE member (id int PRIMARY KEY, team int, email text, phone text,
        CONSTRAINT member_team_email_key UNIQUE NULLS NOT DISTINCT (team, email));
    CREATE UNIQUE INDEX member_phone ON member (phone) NULLS NOT DISTINCT;";

/// `indnullsnotdistinct` of each index of `table`, by name.
async fn nulls_not_distinct(db: &Database, table: &str) -> Vec<(String, bool)> {
    super::index_catalog(db, table)
        .await
        .into_iter()
        .map(|(name, _, nulls_not_distinct)| (name, nulls_not_distinct))
        .collect()
}

#[tokio::test]
async fn nulls_not_distinct_is_read_compared_and_reproduced() {
    let distinct = schema_from_ddl(NULLS_DISTINCT).await;
    let not_distinct = schema_from_ddl(NULLS_NOT_DISTINCT).await;
    let member = QualifiedName::new("public", "member");
    let (d, n) = (&distinct.tables[&member], &not_distinct.tables[&member]);
    assert!(!d.uniques["member_team_email_key"].nulls_not_distinct);
    assert!(n.uniques["member_team_email_key"].nulls_not_distinct);
    assert!(!d.indexes["member_phone"].nulls_not_distinct);
    assert!(n.indexes["member_phone"].nulls_not_distinct);

    // The constraint and the index differ by it alone: dropped and made again, both ways, from
    // the server's definitions and from the parts.
    let constraint = |nnd: &str| {
        format!(
            "ALTER TABLE public.member ADD CONSTRAINT member_team_email_key UNIQUE{nnd} (team, email);"
        )
    };
    let index = |nnd: &str| {
        format!("CREATE UNIQUE INDEX member_phone ON public.member USING btree (phone){nnd};")
    };
    for (from, to, nnd) in [
        (&distinct, &not_distinct, " NULLS NOT DISTINCT"),
        (&not_distinct, &distinct, ""),
    ] {
        for to in [to.clone(), without_definitions(to)] {
            let up = plain_diff(from, &to).up_sql();
            for expected in [
                "ALTER TABLE public.member DROP CONSTRAINT member_team_email_key;".to_owned(),
                constraint(nnd),
                "DROP INDEX public.member_phone;".to_owned(),
                index(nnd),
            ] {
                assert!(up.contains(&expected), "{expected}\n{up}");
            }
        }
    }
    assert!(plain_diff(&not_distinct, &not_distinct).is_empty());

    // On a table with rows, the safe form builds the constraint's index NULLS NOT DISTINCT too.
    let phases = plain_diff(&distinct, &not_distinct).phases();
    let after = phases.last().expect("an after phase").up_sql();
    assert!(
        after.contains(
            "CREATE UNIQUE INDEX CONCURRENTLY member_team_email_key ON public.member USING btree \
             (team, email) NULLS NOT DISTINCT;"
        ),
        "{after}"
    );

    for form in [Form::Single, Form::Phased] {
        let t = test_database().await.expect("db");
        run_chain_in(&t, &[distinct.clone(), not_distinct.clone()], form).await;
        let t = test_database().await.expect("db");
        run_chain_in(
            &t,
            &[distinct.clone(), without_definitions(&not_distinct)],
            form,
        )
        .await;
    }

    // The catalog, and what it means: a second row without a phone is refused.
    let t = test_database().await.expect("db");
    t.batch_execute(&format!(
        "{NULLS_DISTINCT} INSERT INTO member VALUES (1, 1, NULL, NULL);"
    ))
    .await
    .expect("rows");
    let m = plain_diff(&schema_of_db(&t).await, &not_distinct);
    let mig = migrator(super::revisions_of(&m, Form::Phased, 1, None));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_eq!(
        nulls_not_distinct(&t, "member").await,
        [
            ("member_phone".to_owned(), true),
            ("member_team_email_key".to_owned(), true)
        ]
    );
    let e = t
        .batch_execute("INSERT INTO member VALUES (2, 2, 'b', NULL)")
        .await
        .expect_err("one NULL phone only");
    assert_eq!(e.sqlstate(), Some("23505"), "{e}");
    assert!(plain_diff(&schema_of_db(&t).await, &not_distinct).is_empty());
    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert_eq!(
        nulls_not_distinct(&t, "member").await,
        [
            ("member_phone".to_owned(), false),
            ("member_team_email_key".to_owned(), false)
        ]
    );
}

#[derive(Model, Debug)]
#[model(table = "member")]
pub struct Member {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(unique)]
    pub email: Option<String>,
}

#[tokio::test]
async fn a_nulls_not_distinct_constraint_differs_from_the_models_plain_unique() {
    let t = test_database().await.expect("db");
    t.create_all(&[Member::TABLE]).await.expect("create_all");
    t.batch_execute(
        "ALTER TABLE member DROP CONSTRAINT member_email_key;
         ALTER TABLE member ADD CONSTRAINT member_email_key UNIQUE NULLS NOT DISTINCT (email);",
    )
    .await
    .expect("nulls not distinct");
    let models = schema_of(&[Member::TABLE], "public");
    let options = model_options();
    let before = schema_of_db(&t).await;
    let m = diff(&before, &models, &options);
    assert_eq!(
        m.up_sql(),
        "-- drop unique constraint member_email_key on public.member\n\
         ALTER TABLE public.member DROP CONSTRAINT member_email_key;\n\n\
         -- add unique constraint member_email_key on public.member\n\
         ALTER TABLE public.member ADD CONSTRAINT member_email_key UNIQUE (email);\n\n"
    );
    assert!(
        m.down_sql().contains(
            "ALTER TABLE public.member ADD CONSTRAINT member_email_key UNIQUE NULLS NOT DISTINCT (email);"
        ),
        "{}",
        m.down_sql()
    );
    let mig = migrator(super::revisions_of(&m, Form::Phased, 1, None));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_eq!(
        nulls_not_distinct(&t, "member").await,
        [("member_email_key".to_owned(), false)]
    );
    let again = diff(&schema_of_db(&t).await, &models, &options);
    assert!(again.is_empty(), "{}", again.up_sql());
    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert_eq!(
        nulls_not_distinct(&t, "member").await,
        [("member_email_key".to_owned(), true)]
    );
    assert!(plain_diff(&schema_of_db(&t).await, &before).is_empty());
}

/// `pg_class.reloptions` of index `public.<index>`.
async fn reloptions(db: &Database, index: &str) -> Option<Vec<String>> {
    db.fetch_one(
        query::<Option<Vec<String>>>("SELECT reloptions FROM pg_class WHERE oid = to_regclass(:i)")
            .bind("i", format!("public.{index}")),
    )
    .await
    .expect("reloptions")
}

#[tokio::test]
async fn storage_parameters_are_read_compared_and_set_in_place() {
    let table = "CREATE TABLE ev (id int, at timestamptz, name text, tag text);";
    let plain = schema_from_ddl(&format!("{table} CREATE INDEX ev_at ON ev (at);")).await;
    let seventy = schema_from_ddl(&format!(
        "{table} CREATE INDEX ev_at ON ev (at) WITH (fillfactor = 70);"
    ))
    .await;
    let fifty = schema_from_ddl(&format!(
        "{table} CREATE INDEX ev_at ON ev (at) WITH (FILLFACTOR = 50, deduplicate_items = off);"
    ))
    .await;
    let ev = QualifiedName::new("public", "ev");
    assert_eq!(seventy.tables[&ev].indexes["ev_at"].with, ["fillfactor=70"]);
    assert_eq!(
        fifty.tables[&ev].indexes["ev_at"].with,
        ["fillfactor=50", "deduplicate_items=off"]
    );

    // Kept, its parameters set and reset in place; each downgrade sets them back.
    let set = "-- set storage parameters of index ev_at on public.ev\n";
    let m = plain_diff(&plain, &seventy);
    assert_eq!(
        m.up_sql(),
        format!("{set}ALTER INDEX public.ev_at SET (fillfactor='70');\n\n")
    );
    assert_eq!(
        m.down_sql(),
        format!("{set}ALTER INDEX public.ev_at RESET (fillfactor);\n\n")
    );
    let m = plain_diff(&seventy, &fifty);
    assert_eq!(
        m.up_sql(),
        format!(
            "{set}ALTER INDEX public.ev_at SET (deduplicate_items='off', fillfactor='50');\n\n"
        )
    );
    assert_eq!(
        m.down_sql(),
        format!(
            "{set}ALTER INDEX public.ev_at SET (fillfactor='70');\n\
             ALTER INDEX public.ev_at RESET (deduplicate_items);\n\n"
        )
    );
    assert!(plain_diff(&fifty, &fifty).is_empty());
    // Written by hand, the index is built with them.
    let create = plain_diff(&Schema::default(), &without_definitions(&fifty)).up_sql();
    assert!(
        create.contains(
            "CREATE INDEX ev_at ON public.ev USING btree (at) \
             WITH (fillfactor='50', deduplicate_items='off');"
        ),
        "{create}"
    );

    for form in [Form::Single, Form::Phased] {
        let t = test_database().await.expect("db");
        run_chain_in(
            &t,
            &[plain.clone(), seventy.clone(), without_definitions(&fifty)],
            form,
        )
        .await;
    }
}

#[tokio::test]
async fn a_fillfactor_the_model_does_not_have_is_reset() {
    let t = test_database().await.expect("db");
    t.create_all(&[Event::TABLE]).await.expect("create_all");
    t.batch_execute("ALTER INDEX ix_event_at SET (fillfactor = 70)")
        .await
        .expect("fillfactor");
    let models = schema_of(&[Event::TABLE], "public");
    let options = model_options();
    let m = diff(&schema_of_db(&t).await, &models, &options);
    assert_eq!(
        m.up_sql(),
        "-- set storage parameters of index ix_event_at on public.event\n\
         ALTER INDEX public.ix_event_at RESET (fillfactor);\n\n"
    );
    let mig = migrator(super::revisions_of(&m, Form::Phased, 1, None));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_eq!(reloptions(&t, "ix_event_at").await, None);
    let again = diff(&schema_of_db(&t).await, &models, &options);
    assert!(again.is_empty(), "{}", again.up_sql());
    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert_eq!(
        reloptions(&t, "ix_event_at").await,
        Some(vec!["fillfactor=70".to_owned()])
    );
}
