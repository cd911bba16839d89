//! Index options a model declares (`#[model(index(..., using, where, with, unique,
//! nulls_not_distinct, name), field = "opclass desc nulls last")]`, `unique(...,
//! nulls_not_distinct)`), against a real server: what `create_all` and a generated migration
//! build compares equal to the models (no operation), and changing any one option gives the
//! operation that makes it, whose downgrade goes back.

use orm_migrate::Target;
use orm_migrate::diff::diff;
use orm_migrate::model_schema::schema_of;
use orm_migrate::schema::{QualifiedName, Schema};
use orm_postgres::Database;
use orm_postgres::meta::Table;
use orm_postgres::prelude::*;
use orm_testing::test_database;

use super::{Form, migrator, model_options, plain_diff, revisions_of, schema_of_db};

/// A module `$m` with a model `Doc` of table `doc` with the struct-level attributes given.
macro_rules! doc_model {
    ($m:ident, $($attr:tt)*) => {
        // The column handles go unused.
        #[allow(dead_code)]
        mod $m {
            use orm_postgres::prelude::*;

            #[derive(Model, Debug)]
            #[model(table = "doc")]
            #[model($($attr)*)]
            pub struct Doc {
                #[model(primary_key, generated)]
                pub id: i64,
                pub email: String,
                pub slug: String,
                pub tags: Vec<String>,
                pub body: orm_postgres::Json<Vec<String>>,
                pub team: Option<i64>,
                pub created_at: chrono::DateTime<chrono::Utc>,
                pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
            }
        }
    };
}

doc_model!(all_options,
    index(tags, using = "gin"),
    index(body = "jsonb_path_ops", using = "gin"),
    index(email, unique, where = "deleted_at IS NULL AND email <> ''", name = "doc_live_email"),
    index(created_at = "desc nulls last", with = "fillfactor = 70"),
    index(slug = "text_pattern_ops"),
    unique(team, email, nulls_not_distinct),
    index(team, slug, unique, nulls_not_distinct, name = "doc_team_slug"),
    index(created_at, using = "brin", with = "pages_per_range = 32", name = "doc_created_brin"),
    unique(slug, team, name = "doc_slug_team")
);
doc_model!(tags_btree, index(tags));
doc_model!(tags_gin, index(tags, using = "gin"));
doc_model!(email_unique, index(email, unique, name = "doc_live_email"));
doc_model!(email_unique_live, index(email, unique, name = "doc_live_email", where = "deleted_at IS NULL"));
doc_model!(email_unique_deleted, index(email, unique, name = "doc_live_email", where = "deleted_at IS NOT NULL"));
doc_model!(created_plain, index(created_at, team));
doc_model!(created_desc, index(created_at = "desc nulls last", team));
doc_model!(email_plain, index(email));
doc_model!(email_pattern, index(email = "text_pattern_ops"));
doc_model!(email_fill, index(email, with = "fillfactor = 70"));
doc_model!(email_fill_50, index(email, with = "fillfactor = 50"));
doc_model!(email_unique_index, index(email, unique));
doc_model!(email_named, index(email, name = "doc_email"));
doc_model!(team_email_key, unique(team, email));
doc_model!(team_email_key_nnd, unique(team, email, nulls_not_distinct));
doc_model!(team_email_index, index(team, email, unique));
doc_model!(
    team_email_index_nnd,
    index(team, email, unique, nulls_not_distinct)
);
doc_model!(body_gin, index(body, using = "gin"));
doc_model!(body_gin_path, index(body = "jsonb_path_ops", using = "gin"));

/// The schema the models of `table` define.
fn models(table: &'static Table) -> Schema {
    schema_of(&[table], "public")
}

/// The diff from `db` to the models of `table`.
pub(super) async fn diff_to(db: &Database, table: &'static Table) -> orm_migrate::diff::Migration {
    diff(&schema_of_db(db).await, &models(table), &model_options())
}

fn doc() -> QualifiedName {
    QualifiedName::new("public", "doc")
}

#[tokio::test]
async fn every_option_round_trips_through_create_all_and_a_generated_migration() {
    let table = all_options::Doc::TABLE;
    // create_all, then autogenerate: nothing to do.
    let t = test_database().await.expect("db");
    t.create_all(&[table]).await.expect("create_all");
    let again = diff_to(&t, table).await;
    assert!(again.is_empty(), "after create_all:\n{}", again.up_sql());

    // The server holds what the model says.
    let db = schema_of_db(&t).await;
    let doc = &db.tables[&doc()];
    let tags = &doc.indexes["ix_doc_tags"];
    assert_eq!(
        (tags.method.as_str(), tags.keys.as_slice()),
        ("gin", &["tags".to_owned()][..])
    );
    assert_eq!(doc.indexes["ix_doc_body"].keys, ["body jsonb_path_ops"]);
    let live = &doc.indexes["doc_live_email"];
    assert!(live.unique);
    // The server prints the predicate its own way, which compares equal to the model's.
    assert_eq!(
        live.predicate.as_deref(),
        Some("deleted_at IS NULL AND email <> ''::text")
    );
    let created = &doc.indexes["ix_doc_created_at"];
    assert_eq!(created.keys, ["created_at DESC NULLS LAST"]);
    assert_eq!(created.with, ["fillfactor=70"]);
    assert_eq!(doc.indexes["ix_doc_slug"].keys, ["slug text_pattern_ops"]);
    assert!(doc.uniques["doc_team_email_key"].nulls_not_distinct);
    assert!(doc.uniques.contains_key("doc_slug_team"));
    let team_slug = &doc.indexes["doc_team_slug"];
    assert!(team_slug.unique && team_slug.nulls_not_distinct);
    let brin = &doc.indexes["doc_created_brin"];
    assert_eq!(
        (brin.method.as_str(), brin.with.as_slice()),
        ("brin", &["pages_per_range=32".to_owned()][..])
    );

    // A generated migration builds the same, and comes back down.
    for form in [Form::Single, Form::Phased] {
        let t = test_database().await.expect("db");
        let up = diff_to(&t, table).await;
        let mig = migrator(revisions_of(&up, form, 1, None));
        mig.upgrade(&t, &Target::Head)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", up.up_sql()));
        let again = diff_to(&t, table).await;
        assert!(
            again.is_empty(),
            "after the migration ({form:?}):\n{}",
            again.up_sql()
        );
        assert!(
            plain_diff(&schema_of_db(&t).await, &db).is_empty(),
            "{form:?}"
        );
        mig.downgrade(&t, &Target::Base).await.expect("downgrade");
        assert!(schema_of_db(&t).await.tables.is_empty(), "{form:?}");
    }
}

/// From the database `create_all` makes of `from`, autogenerate against `to` gives exactly
/// `expected` (its statements, in order); applied (in both forms), nothing is left to do;
/// downgraded, the database is `from`'s again.
pub(super) async fn change(from: &'static Table, to: &'static Table, expected: &[&str]) {
    for form in [Form::Single, Form::Phased] {
        let t = test_database().await.expect("db");
        t.create_all(&[from]).await.expect("create_all");
        let before = schema_of_db(&t).await;
        let m = diff_to(&t, to).await;
        let up = m.up_sql();
        let statements: Vec<&str> = up
            .lines()
            .filter(|l| !l.starts_with("--") && !l.is_empty())
            .collect();
        if form == Form::Single {
            assert_eq!(statements, expected, "{up}");
        }
        let mig = migrator(revisions_of(&m, form, 1, None));
        mig.upgrade(&t, &Target::Head)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{up}"));
        let again = diff_to(&t, to).await;
        assert!(
            again.is_empty(),
            "after the upgrade ({form:?}):\n{}",
            again.up_sql()
        );
        mig.downgrade(&t, &Target::Base).await.expect("downgrade");
        let back = plain_diff(&schema_of_db(&t).await, &before);
        assert!(
            back.is_empty(),
            "after the downgrade ({form:?}):\n{}",
            back.up_sql()
        );
    }
}

#[tokio::test]
async fn a_changed_method_rebuilds_the_index() {
    change(
        tags_btree::Doc::TABLE,
        tags_gin::Doc::TABLE,
        &[
            "DROP INDEX public.ix_doc_tags;",
            "CREATE INDEX ix_doc_tags ON public.doc USING gin (tags);",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_changed_predicate_rebuilds_the_index() {
    let live = "CREATE UNIQUE INDEX doc_live_email ON public.doc USING btree (email) WHERE deleted_at IS NULL;";
    change(
        email_unique::Doc::TABLE,
        email_unique_live::Doc::TABLE,
        &["DROP INDEX public.doc_live_email;", live],
    )
    .await;
    change(
        email_unique_live::Doc::TABLE,
        email_unique_deleted::Doc::TABLE,
        &[
            "DROP INDEX public.doc_live_email;",
            "CREATE UNIQUE INDEX doc_live_email ON public.doc USING btree (email) WHERE deleted_at IS NOT NULL;",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_changed_ordering_or_operator_class_rebuilds_the_index() {
    change(
        created_plain::Doc::TABLE,
        created_desc::Doc::TABLE,
        &[
            "DROP INDEX public.ix_doc_created_at_team;",
            "CREATE INDEX ix_doc_created_at_team ON public.doc USING btree (created_at DESC NULLS LAST, team);",
        ],
    )
    .await;
    change(
        email_plain::Doc::TABLE,
        email_pattern::Doc::TABLE,
        &[
            "DROP INDEX public.ix_doc_email;",
            "CREATE INDEX ix_doc_email ON public.doc USING btree (email text_pattern_ops);",
        ],
    )
    .await;
    change(
        body_gin::Doc::TABLE,
        body_gin_path::Doc::TABLE,
        &[
            "DROP INDEX public.ix_doc_body;",
            "CREATE INDEX ix_doc_body ON public.doc USING gin (body jsonb_path_ops);",
        ],
    )
    .await;
}

#[tokio::test]
async fn changed_storage_parameters_are_set_in_place() {
    change(
        email_plain::Doc::TABLE,
        email_fill::Doc::TABLE,
        &["ALTER INDEX public.ix_doc_email SET (fillfactor='70');"],
    )
    .await;
    change(
        email_fill::Doc::TABLE,
        email_fill_50::Doc::TABLE,
        &["ALTER INDEX public.ix_doc_email SET (fillfactor='50');"],
    )
    .await;
    change(
        email_fill::Doc::TABLE,
        email_plain::Doc::TABLE,
        &["ALTER INDEX public.ix_doc_email RESET (fillfactor);"],
    )
    .await;
}

#[tokio::test]
async fn a_unique_index_and_nulls_not_distinct_rebuild_what_they_change() {
    change(
        email_plain::Doc::TABLE,
        email_unique_index::Doc::TABLE,
        &[
            "DROP INDEX public.ix_doc_email;",
            "CREATE UNIQUE INDEX ix_doc_email ON public.doc USING btree (email);",
        ],
    )
    .await;
    change(
        team_email_key::Doc::TABLE,
        team_email_key_nnd::Doc::TABLE,
        &[
            "ALTER TABLE public.doc DROP CONSTRAINT doc_team_email_key;",
            "ALTER TABLE public.doc ADD CONSTRAINT doc_team_email_key UNIQUE NULLS NOT DISTINCT (team, email);",
        ],
    )
    .await;
    change(
        team_email_index::Doc::TABLE,
        team_email_index_nnd::Doc::TABLE,
        &[
            "DROP INDEX public.ix_doc_team_email;",
            "CREATE UNIQUE INDEX ix_doc_team_email ON public.doc USING btree (team, email) NULLS NOT DISTINCT;",
        ],
    )
    .await;
}

/// Indexes are matched by what they are, not by name (as everywhere in the diff): a name
/// alone changing is no operation.
#[tokio::test]
async fn a_name_alone_is_no_change() {
    let t = test_database().await.expect("db");
    t.create_all(&[email_plain::Doc::TABLE])
        .await
        .expect("create_all");
    let m = diff_to(&t, email_named::Doc::TABLE).await;
    assert!(m.is_empty(), "{}", m.up_sql());
}
