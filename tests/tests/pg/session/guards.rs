//! A `read()`/`write()` guard held across a flush: a typed error naming the object, at once
//! and with nothing written, instead of a flush that waits for ever; the same flush succeeds
//! once the guard is dropped.

use std::time::Duration;

use orm_postgres::ErrorKind;

use super::*;

/// The flush, bounded: a regression hangs, and the test fails instead.
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("the flush returned instead of waiting for ever")
}

#[tokio::test]
async fn a_write_guard_held_across_a_flush_is_a_typed_error_and_then_the_flush_works() {
    let t = setup().await;
    let mut s = t.session();
    s.add(User::named("ada"));
    s.commit().await.unwrap();

    let mut s = t.session();
    let ada = s.get::<User>(1).await.unwrap().expect("ada");
    let mut guard = ada.write();
    guard.age = 37;
    let err = bounded(s.flush()).await.expect_err("a guard is held");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::ObjectInUse {
                guard: "write()",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "cannot flush s_user 1: a write() guard on it is held across the flush; drop the guard first"
    );
    drop(guard);
    bounded(s.commit()).await.expect("the same changes commit");
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name = 'ada' AND age = 37"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_read_guard_blocks_only_a_flush_that_changes_its_object() {
    let t = setup().await;
    let mut s = t.session();
    s.add_all([User::named("a"), User::named("b")]);
    s.commit().await.unwrap();

    let mut s = t.session();
    let a = s.get::<User>(1).await.unwrap().expect("a");
    let b = s.get::<User>(2).await.unwrap().expect("b");
    b.write().age = 5;
    // Reading an object the flush does not change is fine.
    {
        let reading = a.read();
        bounded(s.flush()).await.expect("a is not written");
        assert_eq!(reading.name, "a");
    }
    // Reading the object it changes blocks its write lock.
    b.write().age = 6;
    let reading = b.read();
    let err = bounded(s.flush()).await.expect_err("b is read-locked");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::ObjectInUse {
                guard: "read()",
                ..
            }
        ),
        "{err:?}"
    );
    drop(reading);
    bounded(s.commit()).await.expect("commit");
    assert_eq!(
        count(&t, "SELECT age::bigint FROM s_user WHERE name = 'b'").await,
        6
    );
}

#[tokio::test]
async fn autoflush_and_commit_refuse_a_held_guard_too() {
    let t = setup().await;
    let mut s = t.session();
    let new = s.add(User::named("new"));
    let guard = new.write();
    // A query autoflushes first.
    let err = bounded(s.all(select::<User>()))
        .await
        .expect_err("autoflush");
    assert!(
        matches!(err.kind(), ErrorKind::ObjectInUse { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("cannot flush a new s_user object"),
        "{err}"
    );
    let err = bounded(s.commit()).await.expect_err("commit flushes");
    assert!(
        matches!(err.kind(), ErrorKind::ObjectInUse { .. }),
        "{err:?}"
    );
    drop(guard);
    bounded(s.commit())
        .await
        .expect("commit after the guard is gone");
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 1);
}
