//! The sample databases (Chinook and Pagila, from `../shared/datasets` or `ORM_DATASETS`;
//! skipped loudly when missing): reflection is stable and a database diffs empty against
//! itself; Chinook rendered from its reflection into an empty database reflects back to the
//! same schema, and downgrades to empty; so does Pagila, with its domains, functions, aggregate,
//! triggers, partitions and views.
//! Also the diff between two databases, migra's law: apply the printed migration to `from`,
//! and `from` then matches `to`; its downgrade brings `from` back.

use std::io::Write as _;
use std::path::PathBuf;

use orm_migrate::diff::DiffOptions;
use orm_migrate::schema::Schema;
use orm_migrate::{Target, diff::diff};
use orm_postgres::prelude::*;
use orm_testing::test_database;

use super::ops::schema_from_ddl;
use super::{assert_schema, migrator, revisions, run_chain, schema_of_db};

fn dataset(file: &str) -> Option<String> {
    let dir = match std::env::var_os("ORM_DATASETS") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"),
    };
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            // Past the harness's capture: a skipped dataset must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: {} is missing (set ORM_DATASETS to the directory holding \
                 chinook/ and pagila/) ***\n",
                path.display()
            );
            None
        }
    }
}

fn chinook() -> Option<String> {
    dataset("chinook/Chinook_PostgreSql.sql").map(|s| {
        s.lines()
            .filter(|l| {
                !(l.starts_with('\\')
                    || l.starts_with("DROP DATABASE")
                    || l.starts_with("CREATE DATABASE"))
            })
            .flat_map(|l| [l, "\n"])
            .collect()
    })
}

fn pagila() -> Option<String> {
    dataset("pagila/pagila-schema.sql").map(|s| {
        s.lines()
            .filter(|l| !l.contains(" OWNER TO "))
            .flat_map(|l| [l, "\n"])
            .collect()
    })
}

fn assert_self_diff_empty(s: &Schema) {
    let m = diff(s, s, &DiffOptions::default());
    assert!(m.ops.is_empty(), "{}", m.up_sql());
}

#[tokio::test]
async fn chinook_diffs_empty_against_itself_and_renders_back_to_itself() {
    let Some(sql) = chinook() else { return };
    let source = test_database().await.expect("db");
    source.batch_execute(&sql).await.expect("load chinook");
    let schema = schema_of_db(&source).await;
    assert_eq!(schema.tables.len(), 11, "{:?}", schema.tables.keys());
    assert_eq!(schema_of_db(&source).await, schema, "reflection is stable");
    assert_self_diff_empty(&schema);
    assert!(schema.unsupported.is_empty(), "{:?}", schema.unsupported);
    // Rendered into an empty database, reflected back: the same schema; then down to empty.
    let t = test_database().await.expect("db");
    run_chain(&t, std::slice::from_ref(&schema)).await;
}

#[tokio::test]
async fn pagila_diffs_empty_against_itself_and_renders_back_to_itself() {
    let Some(sql) = pagila() else { return };
    let t = test_database().await.expect("db");
    t.batch_execute(&sql).await.expect("load pagila");
    let schema = schema_of_db(&t).await;
    assert_eq!(schema_of_db(&t).await, schema, "reflection is stable");
    assert_self_diff_empty(&schema);
    // Partitioned payment with its seven partitions, the enum, the views.
    assert_eq!(schema.tables.len(), 22);
    assert_eq!(schema.enums.len(), 1);
    assert_eq!(schema.views.len(), 7 + 1);
    let payment = &schema.tables[&orm_migrate::schema::QualifiedName::new("public", "payment")];
    assert_eq!(
        payment.partition_by.as_deref(),
        Some("RANGE (payment_date)")
    );
    // Domains, functions, the aggregate and triggers, carried as definitions.
    let kinds: std::collections::BTreeMap<&str, usize> =
        schema
            .objects
            .values()
            .fold(Default::default(), |mut m, o| {
                *m.entry(o.kind.as_str()).or_default() += 1;
                m
            });
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            ("aggregate", 1),
            ("domain", 2),
            ("function", 9),
            ("trigger", 15)
        ]
    );
    assert!(schema.unsupported.is_empty(), "{:?}", schema.unsupported);
    // Rendered from its reflection into an empty database, reflected back: the same schema;
    // then down to empty.
    let empty = test_database().await.expect("db");
    run_chain(&empty, std::slice::from_ref(&schema)).await;
}

#[tokio::test]
async fn the_diff_between_two_databases_turns_one_into_the_other_and_back() {
    let a_ddl = "CREATE TYPE status AS ENUM ('new', 'paid');
                 CREATE TABLE customer (id int PRIMARY KEY, email text UNIQUE);
                 CREATE TABLE invoice (id int PRIMARY KEY, customer_id int REFERENCES customer,
                                       status status NOT NULL DEFAULT 'new', total numeric(10,2));
                 CREATE VIEW unpaid AS SELECT id, total FROM invoice WHERE status = 'new';
                 CREATE VIEW totals AS SELECT sum(total) AS total FROM invoice;";
    let b_ddl = "CREATE SCHEMA billing;
                 CREATE TYPE status AS ENUM ('new', 'paid', 'void');
                 CREATE TABLE customer (id int PRIMARY KEY, email varchar(200) NOT NULL UNIQUE,
                                        name text);
                 CREATE TABLE invoice (id int PRIMARY KEY,
                                       customer_id int REFERENCES customer ON DELETE CASCADE,
                                       status status NOT NULL DEFAULT 'new', total numeric(12,2),
                                       CHECK (total >= 0));
                 CREATE INDEX invoice_customer ON invoice (customer_id) WHERE status <> 'void';
                 CREATE TABLE billing.run (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
                 CREATE VIEW unpaid AS SELECT id, total, customer_id FROM invoice WHERE status = 'new';
                 CREATE VIEW totals AS SELECT sum(total) AS total FROM invoice;";
    let from = test_database().await.expect("from");
    from.batch_execute(a_ddl).await.expect("a");
    let b = schema_from_ddl(b_ddl).await;
    let a = schema_of_db(&from).await;
    let m = diff(&a, &b, &DiffOptions::default());
    // `totals` is the same in both, but reads `total`, whose type changes: dropped and
    // created again around the change.
    let up = m.up_sql();
    assert!(
        up.contains("DROP VIEW public.totals;") && up.contains("CREATE VIEW public.totals AS"),
        "{up}"
    );
    let mig = migrator(revisions(std::slice::from_ref(&m)));
    mig.upgrade(&from, &Target::Head)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", m.up_sql()));
    assert_schema(&from, &b, "from, after the printed migration").await;
    mig.downgrade(&from, &Target::Base)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", m.down_sql()));
    assert_schema(&from, &a, "from, after its downgrade").await;
}
