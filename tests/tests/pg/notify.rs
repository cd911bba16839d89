//! LISTEN/NOTIFY: delivery in commit order over several channels, notifications of a
//! transaction delivered at its commit and never after a rollback, payloads at and past the
//! server's limit, channel names that need quoting, and unlistening. (Lost connections are in
//! the fault suite.)

use std::time::Duration;

use orm_postgres::notify::{ListenEvent, Listener, MAX_PAYLOAD_BYTES};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{Error, ErrorKind};
use orm_testing::test_database;

/// The listener's next event; a test that waits more than 10 s for one has failed.
pub async fn next(listener: &mut Listener) -> ListenEvent {
    tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("an event within 10 s")
        .expect("no listener error")
}

/// The next event, which must be a notification: its channel and payload.
pub async fn next_notification(listener: &mut Listener) -> (String, String) {
    match next(listener).await {
        ListenEvent::Notification(n) => (n.channel, n.payload),
        other => panic!("expected a notification, got {other:?}"),
    }
}

fn pair(channel: &str, payload: &str) -> (String, String) {
    (channel.to_string(), payload.to_string())
}

fn assert_invalid_payload(e: &Error, bytes: usize) {
    match e.kind() {
        ErrorKind::InvalidPayload { len, .. } => assert_eq!(*len, bytes),
        other => panic!("expected InvalidPayload, got {other:?}"),
    }
}

#[tokio::test]
async fn notifications_arrive_in_commit_order_on_the_channels_listened_to() {
    let t = test_database().await.expect("db");
    let opened = t.metrics().opened;
    let mut listener = t.listener().await.expect("listener");
    // The listener's connection is its own, not the pool's.
    assert_eq!(t.metrics().opened, opened);
    listener.listen("alpha").await.expect("listen alpha");
    listener.listen("beta").await.expect("listen beta");
    listener.listen("alpha").await.expect("listen alpha twice");
    assert_eq!(listener.channels().collect::<Vec<_>>(), ["alpha", "beta"]);

    let conn = t.connection().await.expect("conn");
    let sender: i32 = conn
        .fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid");
    for (channel, payload) in [
        ("alpha", "1"),
        ("beta", "2"),
        ("gamma", "not listened to"),
        ("alpha", "3"),
        ("beta", "4"),
    ] {
        conn.notify(channel, payload).await.expect("notify");
    }
    // A plain NOTIFY statement is delivered the same way.
    t.batch_execute("NOTIFY beta, '5'").await.expect("NOTIFY");

    let mut got = Vec::new();
    for _ in 0..4 {
        match next(&mut listener).await {
            ListenEvent::Notification(n) => {
                assert_eq!(n.process_id, sender);
                got.push((n.channel, n.payload));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        got,
        [
            pair("alpha", "1"),
            pair("beta", "2"),
            pair("alpha", "3"),
            pair("beta", "4")
        ]
    );
    assert_eq!(next_notification(&mut listener).await, pair("beta", "5"));
}

#[tokio::test]
async fn a_transactions_notifications_arrive_at_commit_and_never_after_rollback() {
    let t = test_database().await.expect("db");
    let mut listener = t.listener().await.expect("listener");
    listener.listen("tx").await.expect("listen");

    let rolled_back = t.begin().await.expect("begin");
    rolled_back
        .notify("tx", "rolled back")
        .await
        .expect("notify");
    rolled_back.rollback().await.expect("rollback");

    let committed = t.begin().await.expect("begin");
    committed.notify("tx", "committed").await.expect("notify");
    committed
        .notify("tx", "committed")
        .await
        .expect("the same twice");
    // Sent outside the transaction while it is open: delivered first, since the transaction's
    // notifications wait for its commit.
    t.notify("tx", "outside").await.expect("notify");
    committed.commit().await.expect("commit");

    let dropped = t.begin().await.expect("begin");
    dropped.notify("tx", "dropped").await.expect("notify");
    drop(dropped);
    t.notify("tx", "end").await.expect("notify");

    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(next_notification(&mut listener).await.1);
    }
    assert_eq!(got, ["outside", "committed", "end"]);
}

#[tokio::test]
async fn payloads_up_to_the_servers_limit_arrive_whole_and_longer_ones_are_refused() {
    let t = test_database().await.expect("db");
    let mut listener = t.listener().await.expect("listener");
    listener.listen("p").await.expect("listen");

    let multibyte = format!("{}x", "é".repeat(3999)); // 7999 bytes
    assert_eq!(multibyte.len(), MAX_PAYLOAD_BYTES);
    let payloads = [
        String::new(),
        "ünïcødé ✓ 日本語 😀".to_string(),
        "quotes ' \" and $1 :name; -- not SQL".to_string(),
        "x".repeat(MAX_PAYLOAD_BYTES),
        multibyte,
    ];
    for p in &payloads {
        t.notify("p", p).await.expect("within the limit");
    }

    // The server's own limit is where the client's is.
    let e = t
        .execute(query::<()>("SELECT pg_notify('p', repeat('x', 8000))"))
        .await
        .expect_err("the server refuses 8000 bytes");
    assert_eq!(e.sqlstate(), Some("22023"), "{e}");

    // 8000 bytes and more, or a NUL: refused before sending, from a database and a transaction.
    let too_long = "x".repeat(MAX_PAYLOAD_BYTES + 1);
    assert_invalid_payload(&t.notify("p", &too_long).await.expect_err("8000"), 8000);
    let four_byte = "😀".repeat(2000);
    assert_invalid_payload(&t.notify("p", &four_byte).await.expect_err("8000"), 8000);
    assert_invalid_payload(&t.notify("p", "a\0b").await.expect_err("NUL"), 3);
    let tx = t.begin().await.expect("begin");
    let e = tx.notify("p", &"y".repeat(10_000)).await.expect_err("long");
    assert_invalid_payload(&e, 10_000);
    // Refused client-side: the transaction is still usable.
    tx.notify("p", "from the transaction")
        .await
        .expect("notify");
    tx.commit().await.expect("commit");

    for p in &payloads {
        assert_eq!(next_notification(&mut listener).await, pair("p", p));
    }
    assert_eq!(
        next_notification(&mut listener).await,
        pair("p", "from the transaction")
    );
}

#[tokio::test]
async fn channel_names_are_identifiers_quoted_as_written() {
    let t = test_database().await.expect("db");
    let mut listener = t.listener().await.expect("listener");
    let long = "c".repeat(63);
    let names = [
        "orders",
        "Orders",
        "with \"quotes\"",
        "semi; colon -- and spaces",
        "select",
        "ünïcødé",
        long.as_str(),
    ];
    for name in names {
        listener.listen(name).await.expect(name);
    }
    t.notify("ORDERS", "another channel").await.expect("notify");
    for name in names {
        t.notify(name, name).await.expect(name);
    }
    for name in names {
        assert_eq!(next_notification(&mut listener).await, pair(name, name));
    }

    let too_long = "c".repeat(64);
    for bad in ["", "nul\0byte", too_long.as_str()] {
        let e = listener.listen(bad).await.expect_err("listen");
        assert!(
            matches!(e.kind(), ErrorKind::InvalidIdentifier { .. }),
            "{e:?}"
        );
        let e = t.notify(bad, "x").await.expect_err("notify");
        assert!(
            matches!(e.kind(), ErrorKind::InvalidIdentifier { .. }),
            "{e:?}"
        );
    }
    assert_eq!(listener.channels().count(), names.len());
}

#[tokio::test]
async fn unlistened_channels_stop_arriving() {
    let t = test_database().await.expect("db");
    let mut listener = t.listener().await.expect("listener");
    for c in ["a", "b", "c"] {
        listener.listen(c).await.expect("listen");
    }
    t.notify("a", "before").await.expect("notify");
    listener.unlisten("a").await.expect("unlisten");
    listener.unlisten("not listened to").await.expect("no-op");
    // Listening is per session: the server tells which channels this one listens to.
    for c in ["a", "b", "c"] {
        t.notify(c, "after").await.expect("notify");
    }
    // "a"'s notification that arrived before the UNLISTEN is not yielded either.
    assert_eq!(next_notification(&mut listener).await, pair("b", "after"));
    assert_eq!(next_notification(&mut listener).await, pair("c", "after"));

    listener.unlisten_all().await.expect("unlisten all");
    assert_eq!(listener.channels().count(), 0);
    listener.listen("d").await.expect("listen");
    t.notify("b", "ignored").await.expect("notify");
    t.notify("d", "last").await.expect("notify");
    assert_eq!(next_notification(&mut listener).await, pair("d", "last"));
}

#[test]
fn a_listener_can_move_to_another_task() {
    fn send_static<T: Send + 'static>() {}
    send_static::<Listener>();
}

/// Polls `fut` once (its statement sent, not answered) and drops it.
async fn poll_once_and_drop<F: std::future::Future>(fut: F) {
    let mut fut = Box::pin(fut);
    let pending =
        std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx).is_pending())).await;
    assert!(pending, "answered within its first poll");
}

/// A `listen` or `unlisten` dropped before the server answered leaves the listener's idea of
/// what it listens to in step: listening again to a channel whose `UNLISTEN` was dropped in
/// flight sends `LISTEN` again, and a dropped `listen` is completed by the next one.
#[tokio::test]
async fn a_listen_or_unlisten_dropped_in_flight_is_made_good_by_the_next_call() {
    let t = test_database().await.expect("db");
    let mut listener = t.listener().await.expect("listener");
    listener.listen("a").await.expect("listen");
    listener.listen("b").await.expect("listen");
    poll_once_and_drop(listener.unlisten("b")).await;
    // The UNLISTEN reaches the server; the next call reads its answer.
    listener.listen("b").await.expect("listen again");
    t.notify("b", "x").await.expect("notify");
    assert_eq!(next_notification(&mut listener).await, pair("b", "x"));

    poll_once_and_drop(listener.listen("c")).await;
    listener.listen("c").await.expect("listen again");
    t.notify("c", "y").await.expect("notify");
    assert_eq!(next_notification(&mut listener).await, pair("c", "y"));
}
