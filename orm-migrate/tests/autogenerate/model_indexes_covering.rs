//! Covering indexes (`index(..., include(a, b))`) and expression keys
//! (`index(expr = "lower(email)", name = "...")`) a model declares, against a real server:
//! what `create_all` and a generated migration build compares equal to the models (the server
//! prints `lower(handle)` of a `varchar` column as `lower(handle::text)`), a changed
//! `INCLUDE` list rebuilds the index, and an expression index comes and goes with the model.

use orm_migrate::Target;
use orm_migrate::schema::QualifiedName;
use orm_postgres::prelude::*;
use orm_testing::test_database;

use super::model_indexes::{change, diff_to};
use super::{Form, migrator, plain_diff, revisions_of, schema_of_db};

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
                #[model(len = 80)]
                pub handle: String,
                pub slug: String,
                pub team: Option<i64>,
                pub created_at: chrono::DateTime<chrono::Utc>,
                #[model(column = "Stamp")]
                pub stamp: i64,
            }
        }
    };
}

doc_model!(all_options,
    index(email, include(slug, team)),
    index(created_at, include(stamp)),
    index(team, unique, include(email), nulls_not_distinct, name = "doc_team_cover"),
    index(expr = "lower(email)", unique, name = "doc_email_lower"),
    index(expr = "lower(handle) desc", team, name = "doc_handle_lower"),
    index(team, expr = "(team + 1)", expr = "date_trunc('day', created_at AT TIME ZONE 'UTC')", name = "doc_team_day"),
    index(expr = "upper(slug) text_pattern_ops", include(created_at), where = "team IS NOT NULL", name = "doc_slug_upper")
);
doc_model!(email_plain, index(email));
doc_model!(email_incl_slug, index(email, include(slug)));
doc_model!(email_incl_slug_team, index(email, include(slug, team)));
doc_model!(no_index, index(slug));
doc_model!(
    email_lower,
    index(slug),
    index(expr = "lower(email)", unique, name = "doc_email_lower")
);
doc_model!(
    email_upper,
    index(slug),
    index(expr = "upper(email)", unique, name = "doc_email_lower")
);

#[tokio::test]
async fn covering_and_expression_indexes_round_trip_through_create_all_and_a_migration() {
    let table = all_options::Doc::TABLE;
    let t = test_database().await.expect("db");
    t.create_all(&[table]).await.expect("create_all");
    let again = diff_to(&t, table).await;
    assert!(again.is_empty(), "after create_all:\n{}", again.up_sql());

    // The server holds what the model says, printed its own way.
    let db = schema_of_db(&t).await;
    let doc = &db.tables[&QualifiedName::new("public", "doc")];
    assert_eq!(doc.indexes["ix_doc_email"].include, ["slug", "team"]);
    // Column names, as the model's are: not quoted as the server prints them.
    assert_eq!(doc.indexes["ix_doc_created_at"].include, ["Stamp"]);
    let cover = &doc.indexes["doc_team_cover"];
    assert!(cover.unique && cover.nulls_not_distinct);
    assert_eq!(
        (cover.keys.as_slice(), cover.include.as_slice()),
        (&["team".to_owned()][..], &["email".to_owned()][..])
    );
    assert_eq!(doc.indexes["doc_email_lower"].keys, ["lower(email)"]);
    assert_eq!(
        doc.indexes["doc_handle_lower"].keys,
        ["lower(handle::text) DESC", "team"]
    );
    assert_eq!(
        doc.indexes["doc_team_day"].keys,
        [
            "team",
            "(team + 1)",
            "date_trunc('day'::text, (created_at AT TIME ZONE 'UTC'::text))"
        ]
    );
    let upper = &doc.indexes["doc_slug_upper"];
    assert_eq!(
        (upper.keys.as_slice(), upper.include.as_slice()),
        (
            &["upper(slug) text_pattern_ops".to_owned()][..],
            &["created_at".to_owned()][..]
        )
    );

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

#[tokio::test]
async fn a_changed_include_list_rebuilds_the_index() {
    change(
        email_plain::Doc::TABLE,
        email_incl_slug::Doc::TABLE,
        &[
            "DROP INDEX public.ix_doc_email;",
            "CREATE INDEX ix_doc_email ON public.doc USING btree (email) INCLUDE (slug);",
        ],
    )
    .await;
    change(
        email_incl_slug::Doc::TABLE,
        email_incl_slug_team::Doc::TABLE,
        &[
            "DROP INDEX public.ix_doc_email;",
            "CREATE INDEX ix_doc_email ON public.doc USING btree (email) INCLUDE (slug, team);",
        ],
    )
    .await;
    change(
        email_incl_slug_team::Doc::TABLE,
        email_plain::Doc::TABLE,
        &[
            "DROP INDEX public.ix_doc_email;",
            "CREATE INDEX ix_doc_email ON public.doc USING btree (email);",
        ],
    )
    .await;
}

#[tokio::test]
async fn an_expression_index_comes_and_goes_with_the_model() {
    change(
        no_index::Doc::TABLE,
        email_lower::Doc::TABLE,
        &["CREATE UNIQUE INDEX doc_email_lower ON public.doc USING btree (lower(email));"],
    )
    .await;
    change(
        email_lower::Doc::TABLE,
        no_index::Doc::TABLE,
        &["DROP INDEX public.doc_email_lower;"],
    )
    .await;
    change(
        email_lower::Doc::TABLE,
        email_upper::Doc::TABLE,
        &[
            "DROP INDEX public.doc_email_lower;",
            "CREATE UNIQUE INDEX doc_email_lower ON public.doc USING btree (upper(email));",
        ],
    )
    .await;
}

mod stamp_v1 {
    use orm_postgres::prelude::*;

    #[derive(Model, Debug)]
    #[model(table = "doc", index(email, include(stamp)))]
    pub struct Doc {
        #[model(primary_key, generated)]
        pub id: i64,
        pub email: String,
        #[model(column = "Stamp")]
        pub stamp: i64,
    }
}

mod stamp_v2 {
    use orm_postgres::prelude::*;

    /// `"Stamp"` renamed to `"Stamped"`.
    #[derive(Model, Debug)]
    #[model(table = "doc", index(email, include(stamp)))]
    pub struct Doc {
        #[model(primary_key, generated)]
        pub id: i64,
        pub email: String,
        #[model(column = "Stamped", renamed_from = "Stamp")]
        pub stamp: i64,
    }
}

/// A renamed column the index includes (one whose name needs quotes) is only renamed: the
/// index follows it, nothing is rebuilt, both ways.
#[tokio::test]
async fn a_renamed_included_column_keeps_the_index() {
    use orm_migrate::diff::{DiffOptions, diff};
    use orm_migrate::model_schema::{renames_of, schema_of};

    let t = test_database().await.expect("db");
    t.create_all(&[stamp_v1::Doc::TABLE])
        .await
        .expect("create_all");
    let before = schema_of_db(&t).await;
    let options = DiffOptions {
        renames: renames_of(&[stamp_v2::Doc::TABLE], "public"),
        ..super::model_options()
    };
    let to = schema_of(&[stamp_v2::Doc::TABLE], "public");
    let m = diff(&before, &to, &options);
    assert_eq!(
        m.up_sql(),
        "-- rename column public.doc.Stamp to Stamped\n\
         ALTER TABLE public.doc RENAME COLUMN \"Stamp\" TO \"Stamped\";\n\n"
    );
    let mig = migrator(revisions_of(&m, Form::Single, 1, None));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    let again = diff_to(&t, stamp_v2::Doc::TABLE).await;
    assert!(again.is_empty(), "after the upgrade:\n{}", again.up_sql());
    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    let back = plain_diff(&schema_of_db(&t).await, &before);
    assert!(back.is_empty(), "after the downgrade:\n{}", back.up_sql());
}
