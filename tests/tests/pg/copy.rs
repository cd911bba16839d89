//! Binary COPY in and out: every type round-trips, counts are exact, a failing row fails the
//! whole copy with a typed error, and a copy in a transaction commits or rolls back with it.

use futures_util::TryStreamExt;
use orm_postgres::prelude::*;
use orm_testing::test_database;
use orm_tests::{Everything, Mood, User};

use crate::users_db;

#[tokio::test]
async fn every_type_round_trips_through_copy() {
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    let mut a = crate::types::sample();
    let mut b = crate::types::sample();
    b.maybe_int = Some(7);
    b.maybe_mood = None;
    b.moods = vec![];
    b.mood = Mood::Happy;
    assert_eq!(t.copy_in(&[a.clone(), b.clone()]).await.unwrap(), 2);

    let mut back: Vec<Everything> = t
        .copy_out::<Everything>()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    back.sort_by_key(|e| e.id);
    assert_eq!(back.len(), 2);
    (a.id, b.id) = (back[0].id, back[1].id);
    assert_eq!(back, [a.clone(), b.clone()]);
    // The same rows read through a query agree with the copy.
    let queried = t
        .fetch_all(select::<Everything>().order_by(Everything::id))
        .await
        .unwrap();
    assert_eq!(queried, back);
}

#[tokio::test]
async fn copy_in_counts_rows_and_leaves_generated_keys_to_the_server() {
    let t = users_db().await;
    let users: Vec<User> = (0..10_000)
        .map(|i| User::new(&format!("u{i:05}")))
        .collect();
    assert_eq!(t.copy_in(&users).await.unwrap(), 10_000);
    let (n, min, max): (i64, Option<i64>, Option<i64>) = t
        .fetch_one(orm_postgres::raw::query::<(i64, Option<i64>, Option<i64>)>(
            "SELECT count(*), min(id), max(id) FROM users",
        ))
        .await
        .unwrap();
    assert_eq!(
        (n, min, max),
        (10_000, Some(1), Some(10_000)),
        "ids from the identity"
    );
    let last: User = t
        .fetch_one(select::<User>().filter(User::name.eq("u09999")))
        .await
        .unwrap();
    assert_eq!(last.age, 0);

    // A stream of rows made as they are sent.
    let more = futures_util::stream::iter((0..5_000).map(|i| User::new(&format!("s{i:05}"))));
    assert_eq!(t.copy_in_stream(more).await.unwrap(), 5_000);
    let out: Vec<User> = t
        .copy_out::<User>()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(out.len(), 15_000);
    assert!(out.iter().any(|u| u.name == "s04999"));
    // The connection went back clean: the pool still works.
    assert_eq!(t.fetch_one(select::<User>().count()).await.unwrap(), 15_000);
}

#[tokio::test]
async fn a_failing_row_fails_the_whole_copy() {
    let t = users_db().await;
    t.execute(insert(&User::new("taken"))).await.unwrap();
    let rows = [User::new("a"), User::new("taken"), User::new("b")];
    let err = t.copy_in(&rows).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    assert_eq!(err.constraint(), Some("users_name_key"), "{err:?}");
    assert_eq!(
        t.fetch_one(select::<User>().count()).await.unwrap(),
        1,
        "all or nothing"
    );

    // A check constraint (age >= 0) too; and the pool is fine afterwards.
    let mut bad = User::new("negative");
    bad.age = -1;
    let err = t.copy_in(&[bad]).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("23514"), "{err:?}");
    assert_eq!(t.fetch_one(select::<User>().count()).await.unwrap(), 1);
}

#[tokio::test]
async fn a_copy_commits_or_rolls_back_with_its_transaction() {
    let t = users_db().await;
    let tx = t.begin().await.unwrap();
    assert_eq!(
        tx.copy_in(&[User::new("x"), User::new("y")]).await.unwrap(),
        2
    );
    assert_eq!(tx.fetch_one(select::<User>().count()).await.unwrap(), 2);
    tx.rollback().await.unwrap();
    assert_eq!(t.fetch_one(select::<User>().count()).await.unwrap(), 0);

    let tx = t.begin().await.unwrap();
    tx.copy_in(&[User::new("x")]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(t.fetch_one(select::<User>().count()).await.unwrap(), 1);

    // A failed copy fails the transaction: only a rollback is accepted.
    let tx = t.begin().await.unwrap();
    assert!(tx.copy_in(&[User::new("x")]).await.is_err());
    let err = tx.fetch_one(select::<User>().count()).await.unwrap_err();
    assert!(
        matches!(err.kind(), orm_postgres::ErrorKind::TransactionState(_)),
        "{err:?}"
    );
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn copy_in_takes_what_insert_many_takes() {
    // `insert_many` points bulk loads that need nothing back to `copy_in`: the same slice
    // lands as the same rows (arrays, enums, NULLs included), only faster.
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    let mut rows = vec![crate::types::sample(); 3];
    rows[1].maybe_int = Some(-1);
    rows[2].tags = vec![];
    rows[2].moods = vec![Mood::SoSo];
    let inserted = t.execute(insert_many(&rows).no_returning()).await.unwrap();
    assert_eq!(inserted, 3);
    assert_eq!(t.copy_in(&rows).await.unwrap(), 3);
    let mut back = t
        .fetch_all(select::<Everything>().order_by(Everything::id))
        .await
        .unwrap();
    for r in &mut back {
        r.id = 0;
    }
    assert_eq!(back[..3], rows[..]);
    assert_eq!(back[3..], rows[..], "copied as inserted");
}

#[derive(Model, Debug, Clone)]
#[model(table = "copy_times")]
pub struct CopyTime {
    #[model(primary_key)]
    pub id: i64,
    pub at: chrono::NaiveTime,
}

/// A value `copy_out` cannot hold is the same typed error as from a query
/// (`value_out_of_range()`), not only its text.
#[tokio::test]
async fn a_value_copy_out_cannot_hold_is_a_typed_error() {
    let t = test_database().await.unwrap();
    t.create_all(&[CopyTime::TABLE]).await.unwrap();
    t.batch_execute("INSERT INTO copy_times VALUES (1, '24:00:00')")
        .await
        .unwrap();
    let err = t
        .copy_out::<CopyTime>()
        .await
        .unwrap()
        .try_collect::<Vec<CopyTime>>()
        .await
        .unwrap_err();
    assert!(err.value_out_of_range().is_some(), "{err:?}");
    let from_query = t.fetch_one(select::<CopyTime>()).await.unwrap_err();
    assert!(from_query.value_out_of_range().is_some(), "{from_query:?}");
}

/// The query timeout bounds each wait on the server (the start, every chunk sent, the end),
/// not the copy as a whole: a stream of rows slower in total than the limit copies all of them.
#[tokio::test]
async fn a_copy_from_a_slow_stream_outlasts_the_query_timeout() {
    let t = users_db().await;
    let limit = std::time::Duration::from_millis(300);
    let db = t.with_query_timeout(Some(limit));
    let slow = futures_util::stream::unfold(0, |i| async move {
        if i == 6 {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        Some((User::new(&format!("slow{i}")), i + 1))
    });
    let start = std::time::Instant::now();
    assert_eq!(db.copy_in_stream(slow).await.unwrap(), 6);
    assert!(
        start.elapsed() > limit,
        "the stream took longer than the limit"
    );
    let names: Vec<String> = t
        .fetch_all(select::<User>().order_by(User::name))
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(
        names,
        ["slow0", "slow1", "slow2", "slow3", "slow4", "slow5"]
    );
}
