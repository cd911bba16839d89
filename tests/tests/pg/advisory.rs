//! Advisory locks: exclusion between sessions, `try_` failing while held, release on unlock,
//! on a dropped guard (its connection closed, never handed to the pool) and at the end of a
//! transaction, bounded waits, and the two key spaces — each checked in `pg_locks`.

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{AdvisoryKey, AdvisoryLock, ErrorKind, advisory_lock_key};
use orm_testing::{TestDatabase, test_database};

/// The processes holding `key` in the test's database, as `pg_locks` shows them.
async fn holders(db: &Database, key: AdvisoryKey) -> Vec<i32> {
    // pg_locks splits the key: a bigint into its high and low halves (objsubid 1), a pair
    // into its two numbers (objsubid 2).
    let (hi, lo, sub) = match key {
        AdvisoryKey::Int(k) => ((k as u64 >> 32) as i64, (k as u64 & 0xffff_ffff) as i64, 1),
        AdvisoryKey::Pair(a, b) => (i64::from(a as u32), i64::from(b as u32), 2),
    };
    db.fetch_all(
        query::<i32>(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = :sub ORDER BY pid",
        )
        .bind("hi", hi)
        .bind("lo", lo)
        .bind("sub", sub as i16),
    )
    .await
    .expect("pg_locks")
}

/// Waits (bounded) until `key` has exactly these holders: a closed session's locks are
/// released when its server process has noticed the close.
async fn until_holders(db: &Database, key: AdvisoryKey, want: &[i32]) {
    for _ in 0..500 {
        if holders(db, key).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(holders(db, key).await, want, "holders of {key:?}");
}

/// Waits (bounded) until some session waits for `key`.
async fn until_waited_for(db: &Database) {
    for _ in 0..500 {
        let waiting: i64 = db
            .fetch_one(query::<i64>(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
            ))
            .await
            .expect("pg_locks");
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("nobody waits for the lock");
}

async fn pid(ex: &impl Executor) -> i32 {
    ex.fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid")
}

/// Another pool on the test's database: another client, of `size` connections.
async fn client(t: &TestDatabase, size: usize) -> Database {
    t.builder()
        .max_connections(size)
        .build()
        .expect("another client")
}

#[tokio::test]
async fn a_session_lock_excludes_other_sessions_until_unlocked() {
    let t = test_database().await.expect("db");
    let other = client(&t, 2).await;
    let key = AdvisoryKey::Int(42);
    let lock = t.advisory_lock(42).await.expect("lock");
    assert_eq!(lock.key(), key);
    let holder = pid(&*lock).await;
    assert_eq!(holders(&t, key).await, [holder]);

    assert!(other.try_advisory_lock(42).await.expect("try").is_none());
    assert!(t.try_advisory_lock(42).await.expect("try").is_none());
    // The failed tries gave their connections back, clean.
    assert_eq!(other.metrics().discarded.requested, 0);

    // Another session waits, and gets the lock when it is unlocked.
    let waiter = tokio::spawn({
        let other = other.clone();
        async move {
            let lock = other.advisory_lock(42).await.expect("waited for");
            (pid(&*lock).await, lock)
        }
    });
    until_waited_for(&t).await;
    assert!(!waiter.is_finished());
    lock.unlock().await.expect("unlock");
    let (next, lock): (i32, AdvisoryLock) = waiter.await.expect("join");
    assert_eq!(holders(&t, key).await, [next]);
    lock.unlock().await.expect("unlock");
    assert_eq!(holders(&t, key).await, Vec::<i32>::new());

    // Unlocked guards gave their connections back to the pools.
    assert_eq!(t.metrics().discarded.requested, 0);
    assert_eq!(other.metrics().discarded.requested, 0);
    assert!(t.try_advisory_lock(42).await.expect("try").is_some());
}

#[tokio::test]
async fn a_dropped_guard_closes_its_connection_so_the_lock_never_reaches_the_pool() {
    let t = test_database().await.expect("db");
    let db = client(&t, 1).await;
    let key = AdvisoryKey::named("reports");
    let lock = db.advisory_lock(key).await.expect("lock");
    let holder = pid(&*lock).await;
    drop(lock);
    assert_eq!(db.metrics().discarded.requested, 1);
    until_holders(&t, key, &[]).await;
    // The pool's next connection is a new session, holding nothing.
    let next = pid(&db).await;
    assert_ne!(next, holder);
    let lock = db.try_advisory_lock(key).await.expect("try").expect("free");
    lock.unlock().await.expect("unlock");
}

#[tokio::test]
async fn waits_are_bounded_by_the_callers_limit_and_the_query_timeout() {
    let t = test_database().await.expect("db");
    let db = client(&t, 1).await;
    let held = t.advisory_lock((1, 2)).await.expect("held");

    let e = db
        .advisory_lock_within((1, 2), Duration::from_millis(100))
        .await
        .expect_err("held elsewhere");
    assert!(matches!(e.kind(), ErrorKind::LockTimeout(_)), "{e:?}");
    assert_eq!(e.sqlstate(), Some("55P03"));
    // Not taken, the setting put back, the connection back in the pool.
    let m = db.metrics();
    assert_eq!((m.discarded.requested, m.status.available), (0, 1));
    let setting: String = db
        .fetch_one(query::<String>("SELECT current_setting('lock_timeout')"))
        .await
        .expect("setting");
    assert_eq!(setting, "0");

    let e = db
        .with_query_timeout(Some(Duration::from_millis(100)))
        .advisory_lock((1, 2))
        .await
        .expect_err("held elsewhere");
    assert!(matches!(e.kind(), ErrorKind::QueryTimeout { .. }), "{e:?}");

    held.unlock().await.expect("unlock");
    // Nothing of the abandoned waits holds the lock.
    until_holders(&t, AdvisoryKey::Pair(1, 2), &[]).await;
    let lock = db
        .advisory_lock_within((1, 2), Duration::from_secs(5))
        .await
        .expect("free now");
    assert_eq!(
        holders(&t, AdvisoryKey::Pair(1, 2)).await,
        [pid(&*lock).await]
    );
    lock.unlock().await.expect("unlock");
}

#[tokio::test]
async fn keys_are_numbers_pairs_or_names_in_separate_spaces() {
    let t = test_database().await.expect("db");
    let int = t.advisory_lock(1_i64).await.expect("int");
    // A pair is another key space: (0, 1) is not 1.
    let pair = t.advisory_lock((0, 1)).await.expect("pair");
    assert_eq!(holders(&t, AdvisoryKey::Int(1)).await, [pid(&*int).await]);
    assert_eq!(
        holders(&t, AdvisoryKey::Pair(0, 1)).await,
        [pid(&*pair).await]
    );

    // Negative numbers and the extremes of both spaces.
    for key in [
        AdvisoryKey::Int(-1),
        AdvisoryKey::Int(i64::MIN),
        AdvisoryKey::Pair(i32::MIN, -1),
    ] {
        let lock = t.advisory_lock(key).await.expect("lock");
        assert_eq!(holders(&t, key).await, [pid(&*lock).await], "{key:?}");
        lock.unlock().await.expect("unlock");
    }

    // A name is the hash `advisory_lock_key` gives, the same key as that number.
    let name = "jobs: nightly";
    let named = t
        .advisory_lock(AdvisoryKey::named(name))
        .await
        .expect("named");
    assert!(
        t.try_advisory_lock(advisory_lock_key(name))
            .await
            .expect("try")
            .is_none()
    );
    for lock in [int, pair, named] {
        lock.unlock().await.expect("unlock");
    }
}

#[tokio::test]
async fn transaction_locks_end_with_the_transaction() {
    let t = test_database().await.expect("db");
    let other = client(&t, 2).await;
    let key = AdvisoryKey::Int(7);
    for commit in [true, false] {
        let tx = t.begin().await.expect("begin");
        tx.advisory_xact_lock(7).await.expect("lock");
        assert_eq!(holders(&t, key).await, [pid(&tx).await]);
        // Taken again by the same transaction: it holds it twice, still only its own.
        assert!(tx.try_advisory_xact_lock(7).await.expect("again"));

        let blocked = other.begin().await.expect("begin");
        assert!(!blocked.try_advisory_xact_lock(7).await.expect("try"));
        assert!(other.try_advisory_lock(7).await.expect("try").is_none());
        blocked.rollback().await.expect("rollback");

        if commit {
            tx.commit().await.expect("commit");
        } else {
            tx.rollback().await.expect("rollback");
        }
        assert_eq!(
            holders(&t, key).await,
            Vec::<i32>::new(),
            "commit: {commit}"
        );
        let after = other.begin().await.expect("begin");
        assert!(after.try_advisory_xact_lock(7).await.expect("free"));
        after.rollback().await.expect("rollback");
    }
}

#[tokio::test]
async fn a_savepoint_rolled_back_releases_its_transaction_locks() {
    let t = test_database().await.expect("db");
    let mut tx = t.begin().await.expect("begin");
    tx.advisory_xact_lock((3, 1)).await.expect("outer");
    let sp = tx.savepoint().await.expect("savepoint");
    sp.advisory_xact_lock((3, 2)).await.expect("inner");
    let me = pid(&sp).await;
    assert_eq!(holders(&t, AdvisoryKey::Pair(3, 2)).await, [me]);
    sp.rollback().await.expect("rollback to savepoint");
    assert_eq!(
        holders(&t, AdvisoryKey::Pair(3, 2)).await,
        Vec::<i32>::new()
    );
    assert_eq!(holders(&t, AdvisoryKey::Pair(3, 1)).await, [me]);
    tx.commit().await.expect("commit");
    assert_eq!(
        holders(&t, AdvisoryKey::Pair(3, 1)).await,
        Vec::<i32>::new()
    );
}

#[tokio::test]
async fn a_transaction_lock_wait_is_bounded_too() {
    let t = test_database().await.expect("db");
    let held = t.advisory_lock(9).await.expect("held");
    let mut tx = t.begin().await.expect("begin");
    tx.batch_execute("SET LOCAL lock_timeout = '7s'")
        .await
        .expect("set");
    // In a savepoint, so the transaction survives the timeout.
    let sp = tx.savepoint().await.expect("savepoint");
    let e = sp
        .advisory_xact_lock_within(9, Duration::from_millis(100))
        .await
        .expect_err("held elsewhere");
    assert!(matches!(e.kind(), ErrorKind::LockTimeout(_)), "{e:?}");
    sp.rollback().await.expect("rollback to savepoint");
    held.unlock().await.expect("unlock");
    tx.advisory_xact_lock_within(9, Duration::from_secs(5))
        .await
        .expect("free now");
    // The transaction's own setting is back.
    let setting: String = tx
        .fetch_one(query::<String>("SELECT current_setting('lock_timeout')"))
        .await
        .expect("setting");
    assert_eq!(setting, "7s");
    assert!(tx.try_advisory_xact_lock(10).await.expect("a free key"));
    tx.commit().await.expect("commit");
    assert_eq!(holders(&t, AdvisoryKey::Int(9)).await, Vec::<i32>::new());
}
