//! Every kind of read lent to a replica fails over the same way when the replica freezes: a
//! stream, a fetch with a selectin relationship load, a `load` into objects in hand, and
//! `copy_out` each cost about one query timeout, take the replica out of rotation, and are
//! run again on the primary (nothing had reached the caller yet).

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use orm_postgres::ReplicaState;
use orm_postgres::prelude::*;

use crate::{pair, serial, wait_for_replica_reads, wait_until};

/// An author, with the books loaded by the reads under test.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "failover_authors")]
pub struct Author {
    #[model(primary_key)]
    pub id: i64,
    pub name: String,
    #[relationship(has_many = Book, foreign_key = "author_id", order_by = "id")]
    pub books: Related<Vec<Book>>,
}

/// A book of an author.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "failover_books")]
pub struct Book {
    #[model(primary_key)]
    pub id: i64,
    pub author_id: i64,
    pub title: String,
}

/// The books' titles of each author, in order.
fn titles(authors: &[Author]) -> Vec<(String, Vec<String>)> {
    authors
        .iter()
        .map(|a| {
            let books = a.books.get().expect("books loaded");
            (
                a.name.clone(),
                books.iter().map(|b| b.title.clone()).collect(),
            )
        })
        .collect()
}

fn expected() -> Vec<(String, Vec<String>)> {
    vec![
        ("ann".into(), vec!["a1".into(), "a2".into()]),
        ("bob".into(), vec!["b1".into()]),
    ]
}

/// Freezes the replica with a connection of it in the pool, runs `read` (which must succeed),
/// and checks that it took about one query timeout and left the replica down; thaws it and
/// waits for reads to go back to it.
async fn frozen_read<T, F: Future<Output = T>>(
    db: &Database,
    what: &str,
    limit: Duration,
    read: impl FnOnce() -> F,
) -> T {
    wait_for_replica_reads(db, what).await;
    let frozen = pair().second().freeze().expect("freeze the replica");
    let start = Instant::now();
    let out = read().await;
    let took = start.elapsed();
    assert!(took >= limit && took < 4 * limit, "{what}: took {took:?}");
    let status = &db.replicas()[0];
    assert!(
        matches!(&status.state, ReplicaState::Down { reason } if reason.contains("no answer from the server")),
        "{what}: {status:?}"
    );
    frozen.thaw();
    wait_for_replica_reads(db, what).await;
    out
}

#[tokio::test]
async fn streams_loads_and_copies_on_a_frozen_replica_run_again_on_the_primary() {
    let _turn = serial().await;
    let pair = pair();
    let replica = pair.second();
    let primary = Database::connect(&pair.primary.url("postgres"))
        .await
        .expect("primary");
    primary
        .batch_execute("DROP TABLE IF EXISTS failover_books, failover_authors")
        .await
        .expect("drop");
    primary
        .create_all(&[Author::TABLE, Book::TABLE])
        .await
        .expect("create");
    primary
        .batch_execute(
            "INSERT INTO failover_authors VALUES (1, 'ann'), (2, 'bob'); \
             INSERT INTO failover_books VALUES (1, 1, 'a1'), (2, 1, 'a2'), (3, 2, 'b1')",
        )
        .await
        .expect("rows");
    wait_until(
        &replica.url("postgres"),
        "SELECT count(*) = 3 FROM failover_books",
    )
    .await;
    let limit = Duration::from_secs(1);
    let db = super::freezable(
        &pair.primary.url("postgres"),
        &replica.url("postgres"),
        limit,
    )
    .await;
    let authors = || select::<Author>().order_by(Author::id);

    let streamed: Vec<Author> = frozen_read(&db, "stream", limit, || async {
        db.stream(authors())
            .await
            .expect("the stream starts on the primary")
            .try_collect()
            .await
            .expect("rows")
    })
    .await;
    let names: Vec<&str> = streamed.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["ann", "bob"]);

    let loaded = frozen_read(&db, "selectin fetch", limit, || async {
        db.fetch_all(authors().load(Author::books.selectin()))
            .await
            .expect("fetch with its load")
    })
    .await;
    assert_eq!(titles(&loaded), expected());

    let mut in_hand = streamed;
    frozen_read(&db, "load", limit, || async {
        db.load(&mut in_hand, Author::books.selectin())
            .await
            .expect("load")
    })
    .await;
    assert_eq!(titles(&in_hand), expected());

    let copied: Vec<Book> = frozen_read(&db, "copy_out", limit, || async {
        db.copy_out::<Book>()
            .await
            .expect("the copy starts on the primary")
            .try_collect()
            .await
            .expect("rows")
    })
    .await;
    let mut ids: Vec<i64> = copied.iter().map(|b| b.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3]);
}
