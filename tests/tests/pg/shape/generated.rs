//! Stored generated columns (`#[model(computed = "...")]`): created by `create_all`, never
//! written by inserts or updates (Core or session), read back after every write.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::{TestDatabase, test_database};

/// A person whose full name and initials PostgreSQL computes.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "g_person")]
pub struct Person {
    #[model(primary_key, generated)]
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    #[model(computed = "first_name || ' ' || last_name")]
    pub full_name: String,
    #[model(computed = "upper(left(first_name, 1) || left(last_name, 1))", index)]
    pub initials: Option<String>,
}

impl Person {
    fn new(first: &str, last: &str) -> Self {
        Person {
            first_name: first.into(),
            last_name: last.into(),
            ..Person::default()
        }
    }
}

async fn db() -> TestDatabase {
    let t = test_database().await.expect("test database");
    t.create_all(&[Person::TABLE]).await.expect("create_all");
    t
}

#[tokio::test]
async fn create_all_declares_the_generated_columns() {
    let ddl = orm_postgres::ddl::create_table(Person::TABLE).unwrap();
    assert!(
        ddl[0].contains(
            r#""full_name" TEXT GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED NOT NULL"#
        ),
        "{}",
        ddl[0]
    );
    let t = db().await;
    let kinds: Vec<(String, String)> = t
        .fetch_all(query::<(String, String)>(
            "SELECT attname::text, attgenerated::text FROM pg_attribute \
             WHERE attrelid = 'g_person'::regclass AND attnum > 0 ORDER BY attnum",
        ))
        .await
        .unwrap();
    let generated: Vec<&str> = kinds
        .iter()
        .filter(|(_, g)| g == "s")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(generated, ["full_name", "initials"]);
}

#[tokio::test]
async fn core_inserts_leave_them_out_and_return_them() {
    let t = db().await;
    let q = insert(&Person::new("Ada", "Lovelace")).compile().unwrap();
    assert!(
        q.sql
            .starts_with(r#"INSERT INTO "g_person" ("first_name", "last_name") VALUES ($1, $2)"#),
        "{}",
        q.sql
    );
    let ada = t
        .fetch_one(insert(&Person::new("Ada", "Lovelace")))
        .await
        .unwrap();
    assert_eq!(ada.full_name, "Ada Lovelace");
    assert_eq!(ada.initials.as_deref(), Some("AL"));
    let many = t
        .fetch_all(insert_many(&[
            Person::new("Alan", "Turing"),
            Person::new("Grace", "Hopper"),
        ]))
        .await
        .unwrap();
    let names: Vec<&str> = many.iter().map(|p| p.full_name.as_str()).collect();
    assert_eq!(names, ["Alan Turing", "Grace Hopper"]);
    // Filters and ordering on a generated column, like on any other.
    let found = t
        .fetch_all(
            select::<Person>()
                .filter(Person::initials.eq("GH"))
                .order_by(Person::full_name),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].first_name, "Grace");
    // A whole-object update leaves it out too; the server recomputes it.
    let mut renamed = ada.clone();
    renamed.last_name = "King".into();
    renamed.full_name = "ignored".into();
    let q = update_model(&renamed).compile().unwrap();
    assert!(!q.sql.contains("full_name\" ="), "{}", q.sql);
    let after = t.fetch_one(update_model(&renamed)).await.unwrap();
    assert_eq!(after.full_name, "Ada King");
}

#[tokio::test]
async fn the_session_never_writes_them_and_reads_them_back_after_flush() {
    let t = db().await;
    let mut s = t.session();
    let ada = s.add(Person::new("Ada", "Lovelace"));
    let log = t.statement_log();
    s.flush().await.unwrap();
    let sql = log.finish();
    assert_eq!(sql.len(), 2, "{sql:?}");
    assert!(sql[1].starts_with(r#"INSERT INTO "g_person" ("first_name", "last_name") "#));
    assert!(sql[1].ends_with(r#"RETURNING "id", "full_name", "initials""#));
    assert_eq!(ada.read().full_name, "Ada Lovelace");
    assert_eq!(ada.read().initials.as_deref(), Some("AL"));

    // Changing a column it reads: the UPDATE returns the recomputed value.
    ada.write().last_name = "King".into();
    let log = t.statement_log();
    s.flush().await.unwrap();
    let sql = log.finish();
    assert_eq!(sql.len(), 1, "{sql:?}");
    assert!(sql[0].starts_with("UPDATE"), "{}", sql[0]);
    assert!(sql[0].contains(r#"RETURNING "g_person"."id", "g_person"."full_name""#));
    assert_eq!(ada.read().full_name, "Ada King");

    // A local change to a generated column alone is no change: nothing is sent, and the next
    // write of the object replaces it with the server's value.
    ada.write().full_name = "Someone Else".into();
    let log = t.statement_log();
    s.flush().await.unwrap();
    assert!(log.finish().is_empty());
    ada.write().first_name = "Augusta".into();
    s.commit().await.unwrap();
    assert_eq!(ada.read().full_name, "Augusta King");
    let stored: String = t
        .fetch_one(query::<String>("SELECT full_name FROM g_person"))
        .await
        .unwrap();
    assert_eq!(stored, "Augusta King");
}

#[tokio::test]
async fn several_objects_updated_by_one_statement_each_get_their_own_value() {
    let t = db().await;
    let mut s = t.session();
    let people: Vec<_> = (0..20)
        .map(|i| s.add(Person::new(&format!("F{i}"), "X")))
        .collect();
    s.flush().await.unwrap();
    for (i, p) in people.iter().enumerate() {
        p.write().last_name = format!("L{i}");
    }
    let log = t.statement_log();
    s.commit().await.unwrap();
    assert_eq!(log.finish().len(), 2, "one UPDATE and the COMMIT");
    for (i, p) in people.iter().enumerate() {
        assert_eq!(p.read().full_name, format!("F{i} L{i}"));
    }
}

/// A row of a table keyed by two columns, one of them computed from a third.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "g_cell")]
pub struct Cell {
    #[model(primary_key)]
    pub sheet: i32,
    #[model(primary_key)]
    pub at: String,
    pub value: i64,
    #[model(computed = "value * 2")]
    pub doubled: i64,
}

#[tokio::test]
async fn many_objects_changed_in_any_order_each_read_back_their_own_row() {
    let t = db().await;
    t.create_all(&[Cell::TABLE]).await.expect("create_all");
    let mut s = t.session();
    // Composite keys, and the objects changed in the reverse order of their rows: the rows
    // the UPDATE returns are matched to the objects by key, not by position.
    let cells: Vec<_> = (0..600)
        .map(|i| {
            s.add(Cell {
                sheet: i % 3,
                at: format!("A{}", i / 3),
                value: i64::from(i),
                ..Cell::default()
            })
        })
        .collect();
    s.flush().await.unwrap();
    assert_eq!(cells[599].read().doubled, 1198);
    // A merge join sorts both sides by key, and returns the rows in key order ("A10" before
    // "A2"), which is not the order of the statement's arrays.
    s.connection()
        .await
        .unwrap()
        .batch_execute("SET LOCAL enable_nestloop = off; SET LOCAL enable_hashjoin = off")
        .await
        .unwrap();
    for (i, c) in cells.iter().enumerate().rev() {
        c.write().value = 10_000 + i as i64;
    }
    let log = t.statement_log();
    s.commit().await.unwrap();
    let sql = log.finish();
    assert_eq!(sql.len(), 2, "one UPDATE and the COMMIT: {sql:?}");
    for (i, c) in cells.iter().enumerate() {
        let c = c.read();
        assert_eq!(c.value, 10_000 + i as i64);
        assert_eq!(c.doubled, 2 * (10_000 + i as i64), "{} {}", c.sheet, c.at);
    }
    let total: i64 = t
        .fetch_one(query::<i64>("SELECT sum(doubled)::int8 FROM g_cell"))
        .await
        .unwrap();
    assert_eq!(total, (0..600).map(|i| 2 * (10_000 + i)).sum::<i64>());
}
