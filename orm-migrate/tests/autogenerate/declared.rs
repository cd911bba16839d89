//! What a model declares beyond its types: a numeric's precision and scale, a time's
//! fractional-second precision, a collation and comments. Autogenerate writes them, the
//! database holds them (values are rounded, text sorts by the collation, the catalog has the
//! comments), a second autogenerate is empty, `create_all` makes the same database, and a
//! changed declaration is one `ALTER` each way.

use orm_migrate::Target;
use orm_migrate::diff::{DiffOptions, diff};
use orm_migrate::model_schema::schema_of;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;
use rust_decimal::Decimal;

use super::{assert_schema, migrator, revisions, schema_of_db};

/// The first version.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "invoice", comment = "One bill sent to a customer")]
pub struct Invoice {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(precision = 10, scale = 2, comment = "In euros, cents rounded")]
    pub total: Decimal,
    #[model(precision = 5)]
    pub units: Option<Decimal>,
    #[model(precision = 12, scale = 4)]
    pub lines: Vec<Decimal>,
    #[model(precision = 3)]
    pub issued_at: chrono::DateTime<chrono::Utc>,
    #[model(precision = 0)]
    pub due: Option<chrono::NaiveDateTime>,
    #[model(precision = 0)]
    pub cutoff: Option<chrono::NaiveTime>,
    #[model(collation = "C", len = 20)]
    pub code: String,
    #[model(comment = "It's free text")]
    pub note: Option<String>,
}

/// The second version of the same table: a wider total with a new comment, the collation
/// gone, the table's comment gone.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "invoice")]
pub struct InvoiceV2 {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(precision = 12, scale = 2, comment = "In euros")]
    pub total: Decimal,
    #[model(precision = 5)]
    pub units: Option<Decimal>,
    #[model(precision = 12, scale = 4)]
    pub lines: Vec<Decimal>,
    #[model(precision = 3)]
    pub issued_at: chrono::DateTime<chrono::Utc>,
    #[model(precision = 0)]
    pub due: Option<chrono::NaiveDateTime>,
    #[model(precision = 0)]
    pub cutoff: Option<chrono::NaiveTime>,
    #[model(len = 20)]
    pub code: String,
    #[model(comment = "It's free text")]
    pub note: Option<String>,
}

fn model_options() -> DiffOptions {
    DiffOptions {
        models: true,
        ..DiffOptions::default()
    }
}

fn invoice(code: &str, total: &str) -> Invoice {
    Invoice {
        id: 0,
        total: total.parse().expect("decimal"),
        units: Some("12345".parse().expect("decimal")),
        lines: vec!["1.23456".parse().expect("decimal")],
        issued_at: chrono::DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("time"),
        due: chrono::DateTime::from_timestamp(1_700_000_000, 600_000_000).map(|t| t.naive_utc()),
        cutoff: chrono::NaiveTime::from_hms_micro_opt(17, 30, 0, 400_000),
        code: code.to_owned(),
        note: None,
    }
}

#[tokio::test]
async fn precision_collation_and_comments_reach_the_database_through_autogenerate() {
    let t = test_database().await.expect("db");
    let models = schema_of(&[Invoice::TABLE], "public");
    let m = diff(&schema_of_db(&t).await, &models, &model_options());
    let up = m.up_sql();
    for expected in [
        "    total numeric(10,2) NOT NULL,",
        "    units numeric(5,0),",
        "    lines numeric(12,4)[] NOT NULL,",
        "    issued_at timestamp(3) with time zone NOT NULL,",
        "    due timestamp(0) without time zone,",
        "    cutoff time(0) without time zone,",
        "    code character varying(20) COLLATE \"C\" NOT NULL,",
        "COMMENT ON TABLE public.invoice IS 'One bill sent to a customer';",
        "COMMENT ON COLUMN public.invoice.total IS 'In euros, cents rounded';",
        "COMMENT ON COLUMN public.invoice.note IS 'It''s free text';",
    ] {
        assert!(up.contains(expected), "missing {expected:?} in:\n{up}");
    }
    let mig = migrator(revisions(std::slice::from_ref(&m)));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_schema(&t, &models, "after the upgrade").await;
    let again = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(
        again.is_empty(),
        "a second autogenerate: {}",
        again.up_sql()
    );

    // The server applies what was declared: values are rounded to the scale and precision, and
    // `code` sorts bytewise ("C": upper case before lower case).
    for (code, total) in [("b", "12.345"), ("B", "99999999.994"), ("a", "0.005")] {
        t.execute(insert(&invoice(code, total)))
            .await
            .expect("insert");
    }
    let rows = t
        .fetch_all(select::<Invoice>().order_by(Invoice::code.asc()))
        .await
        .expect("rows");
    let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["B", "a", "b"]);
    let totals: Vec<String> = rows.iter().map(|r| r.total.to_string()).collect();
    assert_eq!(totals, ["99999999.99", "0.01", "12.35"]);
    let r = &rows[0];
    assert_eq!(r.lines[0].to_string(), "1.2346");
    assert_eq!(r.issued_at.timestamp_subsec_nanos(), 123_000_000);
    assert_eq!(r.due.expect("due").and_utc().timestamp(), 1_700_000_001);
    assert_eq!(
        r.cutoff,
        chrono::NaiveTime::from_hms_opt(17, 30, 0),
        "time(0) rounds 17:30:00.4 down"
    );
    let err = t
        .execute(insert(&invoice("c", "123456789")))
        .await
        .expect_err("nine digits before the point do not fit numeric(10,2)");
    assert_eq!(err.sqlstate(), Some("22003"), "{err}");

    let comments: Vec<(Option<String>, Option<String>, Option<String>)> = t
        .fetch_all(query::<(Option<String>, Option<String>, Option<String>)>(
            "SELECT obj_description('invoice'::regclass, 'pg_class'), \
                    col_description('invoice'::regclass, 2), \
                    col_description('invoice'::regclass, 9)",
        ))
        .await
        .expect("comments");
    assert_eq!(
        comments,
        [(
            Some("One bill sent to a customer".to_owned()),
            Some("In euros, cents rounded".to_owned()),
            Some("It's free text".to_owned()),
        )]
    );

    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert!(schema_of_db(&t).await.tables.is_empty());
}

#[tokio::test]
async fn create_all_declares_the_same_precision_collation_and_comments() {
    let t = test_database().await.expect("db");
    t.create_all(&[Invoice::TABLE]).await.expect("create_all");
    // Twice: the comments are set again, not refused.
    t.create_all(&[Invoice::TABLE])
        .await
        .expect("create_all again");
    let models = schema_of(&[Invoice::TABLE], "public");
    let m = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(m.is_empty(), "{}", m.up_sql());
}

#[tokio::test]
async fn a_changed_declaration_is_altered_and_undone() {
    let t = test_database().await.expect("db");
    t.create_all(&[Invoice::TABLE]).await.expect("create_all");
    t.execute(insert(&invoice("x", "12345678.91")))
        .await
        .expect("insert");
    let v1 = schema_of(&[Invoice::TABLE], "public");
    let v2 = schema_of(&[InvoiceV2::TABLE], "public");
    let m = diff(&schema_of_db(&t).await, &v2, &model_options());
    let up = m.up_sql();
    for expected in [
        "ALTER TABLE public.invoice ALTER COLUMN total TYPE numeric(12,2) USING total::numeric(12,2);",
        "COMMENT ON COLUMN public.invoice.total IS 'In euros';",
        "ALTER TABLE public.invoice ALTER COLUMN code TYPE character varying(20) USING code::character varying(20);",
        "COMMENT ON TABLE public.invoice IS NULL;",
    ] {
        assert!(up.contains(expected), "missing {expected:?} in:\n{up}");
    }
    assert!(
        !up.contains("note"),
        "the unchanged comment is left alone:\n{up}"
    );
    let mig = migrator(revisions(std::slice::from_ref(&m)));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_schema(&t, &v2, "after the upgrade").await;
    // The wider column takes what the old one could not.
    t.execute(insert(&InvoiceV2 {
        total: "1234567890.12".parse().expect("decimal"),
        ..InvoiceV2::from_v1(invoice("y", "0"))
    }))
    .await
    .expect("ten digits before the point fit numeric(12,2)");

    t.execute(delete::<InvoiceV2>().filter(InvoiceV2::code.eq("y")))
        .await
        .expect("delete");
    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert_schema(&t, &v1, "after the downgrade").await;
    let rows = t.fetch_all(select::<Invoice>()).await.expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].total.to_string(), "12345678.91");
}

impl InvoiceV2 {
    fn from_v1(v: Invoice) -> Self {
        InvoiceV2 {
            id: v.id,
            total: v.total,
            units: v.units,
            lines: v.lines,
            issued_at: v.issued_at,
            due: v.due,
            cutoff: v.cutoff,
            code: v.code,
            note: v.note,
        }
    }
}
