//! Through a real pgbouncer in transaction mode (two server connections shared by every
//! client): the cached statement mode fails there, the unnamed mode does not. 1,000 mixed
//! operations from 16 tasks on a pool of 8, reconciled exactly; then the session and
//! transactions through it.
//!
//! pgbouncer runs in front of the process's cluster, a fresh one per test. Without a pgbouncer
//! binary these tests say so loudly and pass (CI installs it: `.ci/run`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::TryStreamExt;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{Error, StatementMode, Table};
use orm_testing::{ClusterError, Pgbouncer, PgbouncerOptions};
use orm_tests::Mood;
use orm_tests::named_types::{Sheet, round_trips};

/// Operations of the mixed workload.
const OPERATIONS: usize = 1000;
/// Tasks running them.
const TASKS: usize = 16;
/// The client pool (pgbouncer shares 2 server connections among them).
const POOL: usize = 8;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "pgb_item")]
pub struct Item {
    #[model(primary_key)]
    pub id: i64,
    pub name: String,
    pub mood: Mood,
    pub tags: Vec<Mood>,
    pub qty: i32,
}

impl Item {
    fn new(id: i64) -> Item {
        Item {
            id,
            name: format!("item {id}"),
            mood: Mood::SoSo,
            tags: vec![Mood::Happy, Mood::Sad],
            qty: 1,
        }
    }
}

/// pgbouncer in front of the process's cluster, or `None` (said loudly on stderr, past the
/// test harness's capture) when no pgbouncer binary is installed.
pub fn start_pgbouncer(options: PgbouncerOptions) -> Option<Pgbouncer> {
    let cluster = orm_testing::shared().expect("the local cluster starts");
    match Pgbouncer::start_with(cluster, options) {
        Ok(bouncer) => Some(bouncer),
        Err(e @ ClusterError::NoPgbouncer { .. }) => {
            skipped(&e);
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// Says on stderr, past the harness's capture, that a pgbouncer test did not run.
pub fn skipped(why: &ClusterError) {
    let message = format!(
        "\n\
         ************************************************************************\n\
         SKIPPED: a pgbouncer test did not run: {why}\n\
         ************************************************************************\n"
    );
    let _ = std::io::stderr().write_all(message.as_bytes());
}

/// A fresh database on the process's cluster, with `tables` created directly (not through
/// pgbouncer); returns its name.
pub async fn fresh_database(tables: &[&'static Table]) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let cluster = orm_testing::shared().expect("the local cluster starts");
    let name = format!(
        "pgb_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin = Database::connect(&cluster.url("postgres")).await.unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let direct = Database::connect(&cluster.url(&name)).await.unwrap();
    direct.create_all(tables).await.unwrap();
    name
}

/// A pool of `POOL` connections to `dbname` through pgbouncer, in `mode`.
fn through(bouncer: &Pgbouncer, dbname: &str, mode: StatementMode) -> Database {
    Database::builder(bouncer.url(dbname))
        .max_connections(POOL)
        .statement_mode(mode)
        .query_timeout(Some(Duration::from_secs(30)))
        .build()
        .unwrap()
}

/// What the workload did: the keys it tried to write, those acknowledged, and every error.
#[derive(Default)]
struct Ledger {
    attempted: BTreeSet<i64>,
    acknowledged: BTreeSet<i64>,
    errors: Vec<Error>,
}

/// Runs operation `n` (of `task`): a Core insert, a raw insert, an insert and update in one
/// transaction, or a read back of an acknowledged key, by turns.
async fn operation(db: &Database, n: usize, task: usize, ledger: &Mutex<Ledger>) {
    let key = (task * 1_000_000 + n) as i64;
    let write = |key: i64| ledger.lock().unwrap().attempted.insert(key);
    let outcome: Result<Option<i64>, Error> = match n % 4 {
        0 => {
            write(key);
            db.fetch_one(insert(&Item::new(key)))
                .await
                .map(|back| Some(back.id))
        }
        1 => {
            write(key);
            db.execute(
                query::<()>(
                    "INSERT INTO pgb_item (id, name, mood, tags, qty) \
                     VALUES (:id, :name, :mood, :tags, :qty)",
                )
                .bind("id", key)
                .bind("name", format!("item {key}"))
                .bind("mood", Mood::SoSo)
                .bind("tags", vec![Mood::Happy, Mood::Sad])
                .bind("qty", 1_i32),
            )
            .await
            .map(|_| Some(key))
        }
        2 => {
            write(key);
            insert_and_update(db, key).await.map(|()| Some(key))
        }
        _ => {
            let earlier = ledger.lock().unwrap().acknowledged.last().copied();
            match earlier {
                None => Ok(None),
                Some(k) => db
                    .fetch_one(
                        select::<Item>()
                            .filter(Item::id.eq(k))
                            .filter(Item::mood.is_in([Mood::SoSo])),
                    )
                    .await
                    .map(|item| {
                        assert_eq!(item, Item::new(k), "read back");
                        None
                    }),
            }
        }
    };
    let mut ledger = ledger.lock().unwrap();
    match outcome {
        Ok(Some(k)) => {
            ledger.acknowledged.insert(k);
        }
        Ok(None) => {}
        Err(e) => ledger.errors.push(e),
    }
}

/// An insert and an update of the same row in one transaction.
async fn insert_and_update(db: &Database, key: i64) -> Result<(), Error> {
    let tx = db.begin().await?;
    tx.execute(insert(&Item::new(key))).await?;
    tx.execute(
        update::<Item>()
            .set(Item::qty, 1)
            .set(Item::mood, Mood::SoSo)
            .filter(Item::id.eq(key)),
    )
    .await?;
    tx.commit().await
}

/// 1,000 operations from 16 tasks on `db`; then the ledger checked against the table.
async fn mixed_workload(db: &Database, direct: &Database) -> Ledger {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (db, ledger, next) = (db.clone(), ledger.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= OPERATIONS {
                        return;
                    }
                    operation(&db, n, task, &ledger).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let ledger = Arc::try_unwrap(ledger)
        .map_err(|_| "ledger still shared")
        .unwrap()
        .into_inner()
        .unwrap();
    // Reconciled on a direct connection: acknowledged ⊆ committed ⊆ attempted, none twice.
    let committed: Vec<i64> = direct
        .fetch_all(select::<Item>().order_by(Item::id).columns(Item::id))
        .await
        .unwrap();
    orm_tests::assert_reconciled(&ledger.attempted, &ledger.acknowledged, &committed);
    let wrong: i64 = direct
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM pgb_item WHERE qty <> 1 OR mood <> 'so-so' \
             OR tags <> '{happy,sad}' OR name <> 'item ' || id",
        ))
        .await
        .unwrap();
    assert_eq!(wrong, 0, "every committed row holds what was written");
    ledger
}

/// The errors by SQLSTATE (`-` when there is none), for messages.
fn by_sqlstate(errors: &[Error]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in errors {
        *counts
            .entry(e.sqlstate().unwrap_or("-").to_owned())
            .or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn cached_statements_fail_behind_pgbouncer_and_unnamed_ones_do_not() {
    let Some(bouncer) = start_pgbouncer(PgbouncerOptions::new()) else {
        return;
    };
    let cluster = orm_testing::shared().unwrap();

    // The cached mode: statements prepared on one server connection are run on another.
    let name = fresh_database(&[Item::TABLE]).await;
    let direct = Database::connect(&cluster.url(&name)).await.unwrap();
    let cached = through(&bouncer, &name, StatementMode::Cached);
    let ledger = mixed_workload(&cached, &direct).await;
    let prepared_errors = ledger
        .errors
        .iter()
        .filter(|e| matches!(e.sqlstate(), Some("26000" | "42P05")))
        .count();
    assert!(
        prepared_errors > 0,
        "the cached mode should fail behind pgbouncer in transaction mode; errors: {:?}",
        by_sqlstate(&ledger.errors)
    );
    assert!(
        ledger.acknowledged.len() < ledger.attempted.len(),
        "some writes failed"
    );

    // The unnamed mode: every operation succeeds.
    let name = fresh_database(&[Item::TABLE]).await;
    let direct = Database::connect(&cluster.url(&name)).await.unwrap();
    let unnamed = through(&bouncer, &name, StatementMode::Unnamed);
    let ledger = mixed_workload(&unnamed, &direct).await;
    assert!(
        ledger.errors.is_empty(),
        "{} errors: {:?}; first: {:?}",
        ledger.errors.len(),
        by_sqlstate(&ledger.errors),
        ledger.errors.first()
    );
    assert_eq!(ledger.attempted.len(), OPERATIONS * 3 / 4);
    assert_eq!(ledger.acknowledged, ledger.attempted);
    let committed: i64 = direct.fetch_one(select::<Item>().count()).await.unwrap();
    assert_eq!(committed, (OPERATIONS * 3 / 4) as i64);
    // Two server connections served the eight clients.
    let servers: i64 = direct
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'orm-postgres' \
             AND pid <> pg_backend_pid()",
        ))
        .await
        .unwrap();
    assert!((1..=2).contains(&servers), "{servers} server connections");
}

// ----- the session and transactions -------------------------------------------------------

#[derive(Model, Debug, Clone, Default, PartialEq)]
#[model(table = "pgb_author")]
pub struct Author {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[relationship(has_many = Book, foreign_key = "author_id", order_by = "id")]
    pub books: Related<Vec<Book>>,
    #[relationship(has_many = Award, foreign_key = "author_id", order_by = "id")]
    pub awards: Related<Vec<Award>>,
}

#[derive(Model, Debug, Clone, Default, PartialEq)]
#[model(table = "pgb_book")]
pub struct Book {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "pgb_author.id", on_delete = "cascade", index)]
    pub author_id: i64,
    pub title: String,
    pub mood: Option<Mood>,
}

#[derive(Model, Debug, Clone, Default, PartialEq)]
#[model(table = "pgb_award")]
pub struct Award {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "pgb_author.id", on_delete = "cascade", index)]
    pub author_id: i64,
    pub year: i32,
}

/// One author's story in a session: a graph saved, changed, a savepoint undone, loaded back.
async fn author_story(db: &Database, who: usize) -> Result<i64, Error> {
    let mut s = db.session();
    let mut author = Author {
        name: format!("author {who}"),
        ..Default::default()
    };
    author.books = Related::loaded(
        (0..3)
            .map(|i| Book {
                title: format!("book {who}.{i}"),
                mood: Some(Mood::Happy),
                ..Default::default()
            })
            .collect(),
    );
    author.awards = Related::loaded(vec![Award {
        year: 2000 + who as i32,
        ..Default::default()
    }]);
    let author = s.add(author);
    s.flush().await?;
    let id = author.read().id;
    let books = s.related(&author, Author::books)?;
    books[0].write().mood = Some(Mood::Sad);
    // Autoflush: the change is visible to the query.
    let sad: i64 = s
        .fetch_one(
            select::<Book>()
                .filter(Book::author_id.eq(id))
                .filter(Book::mood.eq(Mood::Sad))
                .count(),
        )
        .await?;
    assert_eq!(sad, 1);
    s.begin_nested().await?;
    s.delete(&books[2])?;
    s.flush().await?;
    s.rollback_nested().await?;
    s.commit().await?;
    Ok(id)
}

#[tokio::test]
async fn the_session_and_transactions_work_behind_pgbouncer() {
    let Some(bouncer) = start_pgbouncer(PgbouncerOptions::new()) else {
        return;
    };
    // The tables and their enum type created through pgbouncer, on a pool of one connection
    // that opened before the type existed (and loaded the types there were then): it is
    // replaced before it reads the new type, which it could not load.
    let name = fresh_database(&[]).await;
    let cluster = orm_testing::shared().unwrap();
    let direct = Database::connect(&cluster.url(&name)).await.unwrap();
    direct
        .batch_execute("CREATE TYPE pgb_before AS ENUM ('x')")
        .await
        .unwrap();
    let ddl = Database::builder(bouncer.url(&name))
        .max_connections(1)
        .statement_mode(StatementMode::Unnamed)
        .connect()
        .await
        .unwrap();
    ddl.create_all(&[Author::TABLE, Book::TABLE, Award::TABLE])
        .await
        .unwrap();
    let moods: Vec<Option<Mood>> = ddl
        .fetch_all(select::<Book>().columns(Book::mood))
        .await
        .unwrap();
    assert!(moods.is_empty());
    let db = through(&bouncer, &name, StatementMode::Unnamed);

    // Eight sessions at once on the pool, two server connections behind it.
    let stories: Vec<_> = (0..8)
        .map(|who| {
            let db = db.clone();
            tokio::spawn(async move { author_story(&db, who).await })
        })
        .collect();
    let mut ids = Vec::new();
    for s in stories {
        ids.push(s.await.expect("task").expect("story"));
    }

    // Loaders outside a transaction: both relationships' queries are pipelined.
    for load in [
        Author::books.selectin(),
        Author::books.joined(),
        Author::books.subquery(),
    ] {
        let authors = db
            .fetch_all(
                select::<Author>()
                    .order_by(Author::id)
                    .load(load)
                    .load(Author::awards.selectin()),
            )
            .await
            .unwrap();
        assert_eq!(authors.len(), 8);
        for a in &authors {
            let moods: Vec<Option<Mood>> = a.books.get().unwrap().iter().map(|b| b.mood).collect();
            assert_eq!(
                moods,
                [Some(Mood::Sad), Some(Mood::Happy), Some(Mood::Happy)]
            );
            assert_eq!(a.awards.get().unwrap().len(), 1);
        }
    }

    // A transaction with a savepoint, and one rolled back.
    let first = ids[0];
    db.transaction(|tx| {
        async move {
            tx.execute(
                update::<Book>()
                    .set(Book::mood, None::<Mood>)
                    .filter(Book::author_id.eq(first)),
            )
            .await?;
            let sp = tx.savepoint().await?;
            sp.execute(delete::<Book>().filter(Book::author_id.eq(first)))
                .await?;
            sp.rollback().await?;
            Ok::<(), Error>(())
        }
        .scoped()
    })
    .await
    .unwrap();
    let tx = db.begin().await.unwrap();
    tx.execute(delete::<Author>().filter(Author::id.eq(ids[1])))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let nulls: i64 = db
        .fetch_one(
            select::<Book>()
                .filter(Book::author_id.eq(ids[0]))
                .filter(Book::mood.is_null())
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(nulls, 3);
    let authors: i64 = db.fetch_one(select::<Author>().count()).await.unwrap();
    assert_eq!(authors, 8);
}

/// User-named types as parameters behind pgbouncer: the pg binary's round-trip suite (citext,
/// ltree, hstore, an enum, domains over text and integer, a composite type, arrays of the enum
/// and the composite) in the unnamed mode, each type looked up by name on whichever server
/// connection pgbouncer lends.
#[tokio::test]
async fn user_named_types_are_parameters_behind_pgbouncer() {
    let Some(bouncer) = start_pgbouncer(PgbouncerOptions::new()) else {
        return;
    };
    let name = fresh_database(&[Sheet::TABLE]).await;
    let db = through(&bouncer, &name, StatementMode::Unnamed);
    round_trips(&db, "unnamed behind pgbouncer").await;
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "pgb_copy")]
pub struct CopyRow {
    #[model(primary_key)]
    pub id: i64,
    pub name: String,
}

/// `copy_in` and `copy_out` in transactions behind pgbouncer, as the README advises, on one
/// client connection while another client keeps a server connection busy: each transaction
/// lands on whichever server connection pgbouncer gives it. Before, the copies' statements
/// came from the connection's statement cache, prepared on another server connection, and
/// the second copy failed with `prepared statement "s1" does not exist` (26000).
#[tokio::test]
async fn copies_in_transactions_behind_pgbouncer_prepare_on_their_own_server_connection() {
    let Some(bouncer) = start_pgbouncer(PgbouncerOptions::new()) else {
        return;
    };
    let name = fresh_database(&[CopyRow::TABLE]).await;
    let db = Database::builder(bouncer.url(&name))
        .max_connections(1)
        .statement_mode(StatementMode::Unnamed)
        .query_timeout(Some(Duration::from_secs(30)))
        .build()
        .unwrap();
    let other = through(&bouncer, &name, StatementMode::Unnamed);
    for round in 0..4_i64 {
        let tx = db.begin().await.unwrap();
        let rows: Vec<CopyRow> = (0..3)
            .map(|i| CopyRow {
                id: round * 10 + i,
                name: format!("r{round}"),
            })
            .collect();
        assert_eq!(tx.copy_in(&rows).await.expect("copy_in"), 3);
        tx.commit().await.unwrap();
        // The other client holds a server connection: the next transaction of `db` lands on
        // the other one.
        let hold = other.begin().await.unwrap();
        let one: i64 = hold
            .fetch_one(query::<i64>("SELECT 1::int8"))
            .await
            .unwrap();
        assert_eq!(one, 1);
        let tx = db.begin().await.unwrap();
        tx.copy_in(&[CopyRow {
            id: 1000 + round,
            name: "x".into(),
        }])
        .await
        .expect("copy_in on the other server connection");
        let out: Vec<CopyRow> = tx
            .copy_out::<CopyRow>()
            .await
            .expect("copy_out")
            .try_collect()
            .await
            .expect("rows");
        assert_eq!(out.len() as i64, (round + 1) * 4);
        tx.commit().await.unwrap();
        hold.rollback().await.unwrap();
    }
}
