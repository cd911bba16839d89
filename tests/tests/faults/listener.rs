//! A listener whose connection is lost: its backend terminated (noticed by the stream, or by
//! `listen`), the server restarted, the server gone for good. The gap is reported (its start
//! when found, its end when a new connection listens), every channel is listened to again, and
//! a server that stays away is a typed error.

use std::sync::Arc;
use std::time::Duration;

use orm_postgres::notify::{ListenEvent, Listener, ReconnectPolicy};
use orm_postgres::prelude::*;
use orm_postgres::{Error, ErrorKind};
use orm_testing::{LocalCluster, Shutdown, test_database};

use crate::terminate_and_wait;

/// The listener's next event or error; a test that waits more than 30 s has failed.
async fn next(listener: &mut Listener) -> Result<ListenEvent, Error> {
    tokio::time::timeout(Duration::from_secs(30), listener.recv())
        .await
        .expect("an event within 30 s")
}

async fn payload(listener: &mut Listener) -> String {
    match next(listener).await.expect("no error") {
        ListenEvent::Notification(n) => n.payload,
        other => panic!("expected a notification, got {other:?}"),
    }
}

/// The gap: the loss reported when found, then the new connection; the attempts it took.
async fn reconnected(listener: &mut Listener) -> u32 {
    match next(listener).await.expect("no error") {
        ListenEvent::Disconnected => {}
        other => panic!("expected the loss, got {other:?}"),
    }
    match next(listener).await.expect("no error") {
        ListenEvent::Reconnected { attempts, .. } => attempts,
        other => panic!("expected the gap's end, got {other:?}"),
    }
}

/// Terminates the listener's backend and waits until the server has no such process, so that
/// what is sent next is sent while nobody listens.
async fn kill_listener(db: &Database, listener: &Listener) -> i32 {
    let pid = listener.backend_pid().expect("connected");
    terminate_and_wait(db, pid).await;
    pid
}

#[tokio::test]
async fn a_terminated_listener_reconnects_reports_the_gap_and_listens_again() {
    let t = test_database().await.expect("db");
    let mut listener = t.listener().await.expect("listener");
    listener.listen("jobs").await.expect("listen");
    listener.listen("Other Jobs").await.expect("listen");
    t.notify("jobs", "before").await.expect("notify");
    assert_eq!(payload(&mut listener).await, "before");

    let old = kill_listener(&t, &listener).await;
    t.notify("jobs", "while nobody listens")
        .await
        .expect("notify");

    // The stream finds the connection gone, reconnects at once, reports the gap first.
    assert_eq!(reconnected(&mut listener).await, 1);
    let new = listener.backend_pid().expect("connected again");
    assert_ne!(new, old);
    t.notify("jobs", "after").await.expect("notify");
    t.notify("Other Jobs", "other after").await.expect("notify");
    // What was sent in the gap never arrives: the next ones are those sent after.
    assert_eq!(payload(&mut listener).await, "after");
    assert_eq!(payload(&mut listener).await, "other after");
    assert_eq!(
        listener.channels().collect::<Vec<_>>(),
        ["Other Jobs", "jobs"]
    );
}

#[tokio::test]
async fn listen_on_a_lost_connection_restores_it_first() {
    let t = test_database().await.expect("db");
    let mut listener = t.listener().await.expect("listener");
    listener.listen("first").await.expect("listen");
    kill_listener(&t, &listener).await;

    // `listen` finds the connection gone: a new one listens to both channels.
    listener
        .listen("second")
        .await
        .expect("listen after the loss");
    t.notify("first", "1").await.expect("notify");
    t.notify("second", "2").await.expect("notify");
    assert!(reconnected(&mut listener).await >= 1);
    assert_eq!(payload(&mut listener).await, "1");
    assert_eq!(payload(&mut listener).await, "2");
}

#[tokio::test]
async fn a_restarted_server_is_reconnected_and_one_that_stays_down_is_a_typed_error() {
    let cluster = Arc::new(LocalCluster::start().expect("a cluster of its own"));
    let db = Database::builder(cluster.url("postgres"))
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("connect");
    let mut listener = db.listener().await.expect("listener");
    listener.set_reconnect_policy(ReconnectPolicy::new(
        100,
        Duration::from_millis(50),
        Duration::from_millis(500),
    ));
    listener.listen("events").await.expect("listen");

    for mode in [Shutdown::Fast, Shutdown::Immediate] {
        let c = cluster.clone();
        tokio::task::spawn_blocking(move || c.restart(mode))
            .await
            .expect("join")
            .expect("restart");
        assert!(reconnected(&mut listener).await >= 1, "{mode:?}");
        // The pool's connections died with the server too: a retry gets a new one.
        let mut sent = false;
        for _ in 0..50 {
            match db.notify("events", "after a restart").await {
                Ok(()) => {
                    sent = true;
                    break;
                }
                Err(e) if e.is_retryable() => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        assert!(sent, "notify after the restart");
        assert_eq!(payload(&mut listener).await, "after a restart");
    }

    // The server goes away for good: three attempts, then the typed error; polled again,
    // three more.
    listener.set_reconnect_policy(ReconnectPolicy::new(
        3,
        Duration::from_millis(10),
        Duration::from_millis(10),
    ));
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop())
        .await
        .expect("join")
        .expect("stop");
    match next(&mut listener).await.expect("the loss first") {
        ListenEvent::Disconnected => {}
        other => panic!("expected the loss, got {other:?}"),
    }
    for _ in 0..2 {
        let e = next(&mut listener).await.expect_err("the server is gone");
        assert!(
            matches!(e.kind(), ErrorKind::ReconnectFailed { attempts: 3, .. }),
            "{e:?}"
        );
        assert_eq!(listener.backend_pid(), None);
    }
    let e = listener.listen("more").await.expect_err("still gone");
    assert!(
        matches!(e.kind(), ErrorKind::ReconnectFailed { .. }),
        "{e:?}"
    );
    assert_eq!(listener.channels().collect::<Vec<_>>(), ["events"]);
}
