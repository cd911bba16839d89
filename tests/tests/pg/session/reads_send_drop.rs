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
    {
        use std::future::Future;
        let mut fut = Box::pin(s.commit());
        let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
        assert!(
            polled.is_pending(),
            "a commit of 2000 rows waits on the server"
        );
    }
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
