//! No-tracking reads, Send, drop.

use super::*;

#[tokio::test]
async fn no_tracking_reads_return_plain_values() {
    let t = setup().await;
    let mut s = t.session();
    s.add_all((0..5).map(|i| User::named(&format!("n{i}"))));
    s.commit().await.unwrap();
    let mut s = t.session();
    let users: Vec<User> = s.fetch_all(select::<User>()).await.unwrap();
    assert_eq!(users.len(), 5);
    assert_eq!(s.unit_of_work().len(), 0, "nothing tracked");
    let n: i64 = s.fetch_one(select::<User>().count()).await.unwrap();
    assert_eq!(n, 5);
}

#[tokio::test]
async fn the_session_is_send_and_dropping_it_rolls_back() {
    let t = setup().await;
    let db = (*t).clone();
    let handle = tokio::spawn(async move {
        let mut s = db.session();
        let u = s.add(User::named("spawned"));
        s.flush().await.unwrap();
        tokio::task::yield_now().await;
        u.write().age = 3;
        s.commit().await.unwrap();
        u.read().age
    });
    assert_eq!(handle.await.unwrap(), 3);

    let before = t.status();
    {
        let mut s = t.session();
        s.add(User::named("dropped"));
        s.flush().await.unwrap();
        // Dropped mid-transaction.
    }
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE name = 'dropped'").await,
        0
    );
    assert!(t.status().size <= before.size.max(1) + 1);
    // The pool still works: the dirty connection was closed, not reused.
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 1);
}

#[tokio::test]
async fn a_cancelled_flush_requires_a_rollback() {
    let t = setup().await;
    let mut s = t.session();
    s.add_all((0..2000).map(|i| User::named(&format!("c{i}"))));
    // Cancel the commit once it is waiting on the server: polled once, then dropped.
    assert!(
        poll_once(s.commit()).await,
        "a commit of 2000 rows waits on the server"
    );
    let err = s.get::<User>(1).await.unwrap_err();
    assert!(err.is_pending_rollback(), "{err}");
    s.rollback().await.unwrap();
    assert!(
        !s.has_changes(),
        "the rollback expunged the pending objects"
    );
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user").await % 2000,
        0,
        "all or nothing"
    );
}

/// Polls `fut` once (so it sends what it sends first) and drops it; whether it was waiting.
pub(super) async fn poll_once<F: std::future::Future>(fut: F) -> bool {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx).is_pending())).await
}

/// A rollback dropped while ROLLBACK is at the server has still restored the objects: the
/// transaction is gone on the server (its connection is closed), and the session does not
/// keep thinking what it inserted there exists.
#[tokio::test]
async fn a_rollback_dropped_mid_flight_has_restored_the_objects() {
    let t = setup().await;
    let mut s = t.session();
    let a = s.add(User::named("rb_a"));
    s.flush().await.unwrap();
    assert_eq!(a.status(), Status::Persistent);
    assert!(
        poll_once(s.rollback()).await,
        "ROLLBACK waits on the server"
    );
    assert_eq!(
        a.status(),
        Status::Detached,
        "added in the rolled-back transaction"
    );
    assert!(!s.is_pending_rollback());
    s.add(User::named("rb_b"));
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE name LIKE 'rb_%'").await,
        1
    );
}

/// A savepoint's rollback or release dropped at the server leaves the savepoint in a state
/// nobody knows: the session requires a rollback instead of committing (or popping) on a
/// guess.
#[tokio::test]
async fn a_savepoint_rollback_or_release_dropped_mid_flight_requires_a_rollback() {
    let t = setup().await;
    for release in [false, true] {
        let mut s = t.session();
        s.begin_nested().await.unwrap();
        s.add(User::named("sp_a"));
        s.flush().await.unwrap();
        let waited = if release {
            poll_once(s.commit_nested()).await
        } else {
            poll_once(s.rollback_nested()).await
        };
        assert!(waited, "the savepoint statement waits on the server");
        let err = s.commit().await.unwrap_err();
        assert!(err.is_pending_rollback(), "{err}");
        assert!(err.to_string().contains("savepoint"), "{err}");
        s.rollback().await.unwrap();
        assert_eq!(
            count(&t, "SELECT count(*) FROM s_user WHERE name = 'sp_a'").await,
            0
        );
    }
}

/// A `nested` block whose future is dropped half-way (a timeout around it) leaves its
/// savepoint open with half the block run: the session requires a rollback instead of
/// committing that half.
#[tokio::test]
async fn a_nested_block_dropped_half_way_requires_a_rollback() {
    let t = setup().await;
    let mut s = t.session();
    let block = s.nested(|s| {
        async move {
            s.add(User::named("nb_a"));
            s.flush().await?;
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            s.add(User::named("nb_b"));
            Ok(())
        }
        .scoped()
    });
    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(300), block).await;
    assert!(timed_out.is_err(), "the block was still sleeping");
    let err = s.commit().await.unwrap_err();
    assert!(err.is_pending_rollback(), "{err}");
    assert!(err.to_string().contains("nested block"), "{err}");
    s.rollback().await.unwrap();
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE name LIKE 'nb_%'").await,
        0
    );
}

/// A commit cancelled while it waits for a connection of the pool has sent nothing and taken
/// nothing from the session: no rollback is owed, and the next commit writes the objects.
#[tokio::test]
async fn a_commit_cancelled_while_waiting_for_a_connection_needs_no_rollback() {
    let t = setup().await;
    let db = t.builder().max_connections(1).connect().await.unwrap();
    let held = db.connection().await.unwrap();
    let mut s = db.session();
    let hooks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hooks.clone();
    s.on_before_flush(move |_| {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    });
    let u = s.add(User::named("patient"));
    let waited = tokio::time::timeout(std::time::Duration::from_millis(200), s.commit()).await;
    assert!(waited.is_err(), "the commit waited for the pool");
    drop(held);
    s.commit().await.unwrap();
    assert_eq!(u.status(), Status::Persistent);
    // The session's hooks ran once: the cancelled flush stopped before them.
    assert_eq!(hooks.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE name = 'patient'").await,
        1
    );
}
