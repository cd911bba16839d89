//! The result cache's announcement of a write (`pg_notify` after a statement outside a
//! transaction) waits no longer than the query timeout: a server that answered the write and
//! then froze gives the connection up, and the write's caller gets its result.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use orm_postgres::raw::query;
use orm_postgres::{Executor, ResultCache};
use orm_testing::test_database;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::pid_of;
use crate::timeouts::signal;

/// The write to freeze after: its SQL, the backend to stop, and its span once it started.
struct Target {
    sql: &'static str,
    pid: i32,
    span: Option<u64>,
}

static TARGET: Mutex<Option<Target>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A global subscriber that stops a backend (SIGSTOP) when the statement span of the target
/// write closes: after its answer came, before the announcement is sent.
struct FreezeAfter;

struct Statement<'a>(&'a mut Option<String>);

impl Visit for Statement<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "db.statement" {
            *self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl Subscriber for FreezeAfter {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.name() == "orm.statement"
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let mut sql = None;
        attrs.record(&mut Statement(&mut sql));
        if let Some(target) = TARGET.lock().unwrap().as_mut() {
            if sql.as_deref() == Some(target.sql) {
                target.span = Some(id);
            }
        }
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
    fn try_close(&self, id: Id) -> bool {
        let mut target = TARGET.lock().unwrap();
        if let Some(t) = target.as_ref() {
            if t.span == Some(id.into_u64()) {
                signal(t.pid, "-STOP");
                *target = None;
            }
        }
        false
    }
}

/// Resumes a stopped backend when dropped (even when the test fails).
struct Thaw(i32);

impl Drop for Thaw {
    fn drop(&mut self) {
        signal(self.0, "-CONT");
    }
}

#[tokio::test]
async fn a_server_that_freezes_before_the_announcement_does_not_hold_the_write() {
    const WRITE: &str = "UPDATE publish_freeze SET n = n + 1";
    tracing::subscriber::set_global_default(FreezeAfter)
        .expect("no other test of this binary installs a global subscriber");
    let t = test_database().await.expect("test database");
    t.db.batch_execute(
        "CREATE TABLE publish_freeze (n int); INSERT INTO publish_freeze VALUES (0)",
    )
    .await
    .unwrap();
    // One connection, so the write runs on the backend whose pid is known.
    let db = t
        .builder()
        .max_connections(1)
        .query_timeout(Some(Duration::from_secs(1)))
        .result_cache(ResultCache::new().notify_channel(format!("{}_cache", t.name())))
        .build()
        .unwrap();
    let pid = pid_of(&db).await;
    let _thaw = Thaw(pid);
    *TARGET.lock().unwrap() = Some(Target {
        sql: WRITE,
        pid,
        span: None,
    });

    let started = Instant::now();
    let written = tokio::time::timeout(Duration::from_secs(30), db.execute(query::<()>(WRITE)))
        .await
        .expect("the write waited for the frozen server's answer to its announcement");
    // The write was answered (and committed) before the freeze: its result stands.
    assert_eq!(written.expect("the write"), 1);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert!(
        TARGET.lock().unwrap().is_none(),
        "the backend was never stopped"
    );

    // The connection left with the frozen backend: the next statement gets a new one.
    let next = pid_of(&db).await;
    assert_ne!(next, pid);
    let n =
        t.db.fetch_one(query::<i32>("SELECT n FROM publish_freeze"))
            .await
            .unwrap();
    assert_eq!(n, 1);
}
