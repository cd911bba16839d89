//! Autogenerate against a real PostgreSQL: every operation kind applied up and down through the
//! runner (as one plain revision, and in the safe form's phases), the safe forms on tables with
//! rows, renames (declared and suspected), the round-trip laws on generated model sets, the
//! diff between two databases, and the sample databases diffed against themselves.
//!
//! The laws are checked the strict way: after an upgrade the database is reflected and diffed
//! against the schema it should have, and that diff must be empty.

mod databases;
mod declared;
mod expansions;
mod filter;
mod indexes;
mod inheritance;
mod law;
mod model_indexes;
mod model_indexes_covering;
mod models;
mod ops;
mod renames;
mod repairs;
mod safe;
mod types;

use orm_migrate::diff::{DiffOptions, Migration, diff};
use orm_migrate::reflect::{ReflectOptions, reflect};
use orm_migrate::schema::{QualifiedName, Schema};
use orm_migrate::{Graph, Migrator, Revision, Target};
use orm_postgres::Database;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;

/// The schema of `db` (schema `public` and the others named), without the version table.
pub async fn schema_of_db(db: &Database) -> Schema {
    let mut s = reflect(db, &ReflectOptions::default())
        .await
        .expect("reflect");
    s.tables
        .remove(&QualifiedName::new("public", "orm_migrations"));
    s
}

/// Each index of `public.<table>` but its primary key's, by name: whether PostgreSQL holds it
/// valid (`indisvalid`) and whether it is `NULLS NOT DISTINCT` (`indnullsnotdistinct`).
pub async fn index_catalog(db: &Database, table: &str) -> Vec<(String, bool, bool)> {
    db.fetch_all(
        query::<(String, bool, bool)>(
            "SELECT c.relname::text, i.indisvalid, i.indnullsnotdistinct FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = to_regclass(:t) AND NOT i.indisprimary ORDER BY 1",
        )
        .bind("t", format!("public.{table}")),
    )
    .await
    .expect("indexes")
}

/// The options of a diff against models.
pub fn model_options() -> DiffOptions {
    DiffOptions {
        models: true,
        ..DiffOptions::default()
    }
}

/// The revisions of a chain of migrations (each step from the previous schema), skipping
/// empty steps. Ids `2026010100000N`.
pub fn revisions(steps: &[Migration]) -> Vec<Revision> {
    let mut out: Vec<Revision> = Vec::new();
    for (i, m) in steps.iter().enumerate() {
        if m.is_empty() {
            continue;
        }
        let id = format!("202601010000{:02}", i + 1);
        let parents: Vec<String> = out.last().map(|r| r.id.clone()).into_iter().collect();
        out.push(
            Revision::new(id, &format!("step {}", i + 1))
                .with_parents(parents)
                .with_transactional(m.transactional())
                .with_up(m.up_sql())
                .with_down(m.down_sql()),
        );
    }
    out
}

/// A migrator over `revisions`. These tests check that the diff's SQL reaches the target
/// schema (the plain forms, every kind of operation on tables with and without rows); whether
/// it is safe on a busy database is the lint's business, tested in `lint.rs`, so the runner's
/// lint is off here.
pub fn migrator(revisions: Vec<Revision>) -> Migrator {
    Migrator::new(Graph::new(revisions).expect("graph")).lint(false)
}

/// A schema of tables with the given `(name, type)` columns, no keys: for pure diff tests.
pub fn ops_schema(tables: &[(&str, &[(&str, &str)])]) -> Schema {
    let mut s = Schema::default();
    s.schemas.insert("public".into());
    for (name, cols) in tables {
        let name = QualifiedName::new("public", *name);
        s.tables.insert(
            name.clone(),
            orm_migrate::schema::Table {
                columns: cols
                    .iter()
                    .map(|(c, ty)| orm_migrate::schema::Column {
                        name: (*c).into(),
                        data_type: (*ty).into(),
                        nullable: true,
                        default: None,
                        identity: None,
                        generated: None,
                        collation: None,
                        comment: None,
                    })
                    .collect(),
                ..orm_migrate::schema::Table::new(name)
            },
        );
    }
    s
}

/// The diff of two schemas with default options.
pub fn plain_diff(from: &Schema, to: &Schema) -> Migration {
    diff(from, to, &DiffOptions::default())
}

/// Asserts that `db` has exactly the schema `expected`: the diff between them is empty.
pub async fn assert_schema(db: &Database, expected: &Schema, context: &str) {
    let actual = schema_of_db(db).await;
    let rest = plain_diff(&actual, expected);
    assert!(
        rest.is_empty(),
        "{context}: the database differs from the expected schema; remaining diff:\n{}\n\
         actual: {actual:#?}",
        rest.up_sql()
    );
}

/// How a migration is written as revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// One plain revision (`revision --autogenerate --single`).
    Single,
    /// The safe form's phases, chained (`revision --autogenerate`).
    Phased,
}

/// The revisions of `m` in `form`, ids `20260101000NNN` from `first` on, the first following
/// `parent`.
pub fn revisions_of(
    m: &Migration,
    form: Form,
    first: usize,
    parent: Option<&str>,
) -> Vec<Revision> {
    let scripts: Vec<(String, bool, String, String)> = match form {
        Form::Single if m.is_empty() => Vec::new(),
        Form::Single => vec![("step".into(), m.transactional(), m.up_sql(), m.down_sql())],
        Form::Phased => m
            .phases()
            .iter()
            .map(|p| {
                (
                    p.message("step"),
                    p.transactional(),
                    p.up_sql(),
                    p.down_sql(),
                )
            })
            .collect(),
    };
    let mut parent = parent.map(str::to_owned);
    let mut out = Vec::new();
    for (i, (message, transactional, up, down)) in scripts.into_iter().enumerate() {
        let id = format!("20260101000{:03}", first + i);
        out.push(
            Revision::new(id.clone(), &message)
                .with_parents(parent.take())
                .with_transactional(transactional)
                .with_up(up)
                .with_down(down),
        );
        parent = Some(id);
    }
    out
}

/// Upgrades through every revision, checking the schema after each, then downgrades back to
/// base, checking each schema again and that nothing is left.
pub async fn run_chain(db: &Database, schemas: &[Schema]) {
    run_chain_in(db, schemas, Form::Single).await;
}

/// [`run_chain`] with each step written in `form`.
pub async fn run_chain_in(db: &Database, schemas: &[Schema], form: Form) {
    let mut steps = Vec::new();
    let mut prev = Schema::default();
    for s in schemas {
        steps.push(plain_diff(&prev, s));
        prev = s.clone();
    }
    // Each step's revisions, and the id the database is at after it.
    let mut revs: Vec<Revision> = Vec::new();
    let mut ends: Vec<Option<String>> = Vec::new();
    for m in &steps {
        let parent = revs.last().map(|r| r.id.clone());
        let new = revisions_of(m, form, revs.len() + 1, parent.as_deref());
        revs.extend(new);
        ends.push(revs.last().map(|r| r.id.clone()));
    }
    let m = migrator(revs);
    let mut at = Vec::new();
    for (i, s) in schemas.iter().enumerate() {
        if !steps[i].is_empty() {
            let id = ends[i]
                .clone()
                .expect("a step with operations has revisions");
            m.upgrade(db, &Target::Id(id.clone()))
                .await
                .unwrap_or_else(|e| {
                    panic!("upgrade to step {}: {e}\n{}", i + 1, steps[i].up_sql())
                });
            at.push(id);
        }
        assert_schema(db, s, &format!("after upgrading step {} ({form:?})", i + 1)).await;
    }
    for i in (0..schemas.len()).rev() {
        if steps[i].is_empty() {
            continue;
        }
        at.pop();
        let target = match at.last() {
            Some(id) => Target::Id(id.clone()),
            None => Target::Base,
        };
        m.downgrade(db, &target).await.unwrap_or_else(|e| {
            panic!("downgrade of step {}: {e}\n{}", i + 1, steps[i].down_sql())
        });
        let expected = if i == 0 {
            Schema::default()
        } else {
            schemas[i - 1].clone()
        };
        assert_schema(db, &expected, &format!("after downgrading step {}", i + 1)).await;
    }
}
