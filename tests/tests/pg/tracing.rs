//! Every statement runs in a `tracing` span carrying its SQL, never its values, and ends with an
//! event carrying the row count and duration.
//!
//! Other tests of this binary run on other threads at the same time. The subscriber is the
//! process's global default (installed once, by this test), so no callsite is ever cached as
//! uninteresting by a thread that ran before it or beside it; it records only what happens on
//! this test's thread, and the test runs on a current-thread runtime, so every span and event it
//! sees comes from its own statements. (A thread-scoped `set_default` subscriber was flaky here:
//! a callsite first hit by another thread, with no subscriber interested, could stay disabled.)

use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use orm_postgres::prelude::*;
use orm_tests::User;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use orm_testing::test_database;

/// Field name and debug-printed value.
type FieldList = Vec<(String, String)>;

#[derive(Clone)]
struct Captured {
    /// The only thread whose spans and events are recorded.
    thread: ThreadId,
    spans: Arc<Mutex<FieldList>>,
    events: Arc<Mutex<Vec<FieldList>>>,
}

impl Captured {
    fn for_this_thread() -> Self {
        Captured {
            thread: std::thread::current().id(),
            spans: Arc::default(),
            events: Arc::default(),
        }
    }

    fn records_here(&self) -> bool {
        std::thread::current().id() == self.thread
    }
}

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl Subscriber for Captured {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        if !self.records_here() {
            return Id::from_u64(u64::MAX);
        }
        let mut f = Fields(Vec::new());
        attrs.record(&mut f);
        let mut spans = self.spans.lock().unwrap();
        for (k, v) in f.0 {
            spans.push((format!("{}.{k}", attrs.metadata().name()), v));
        }
        Id::from_u64(spans.len() as u64 + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if !self.records_here() {
            return;
        }
        let mut f = Fields(Vec::new());
        event.record(&mut f);
        self.events.lock().unwrap().push(f.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn statements_are_traced_with_sql_but_not_values() {
    let captured = Captured::for_this_thread();
    tracing::subscriber::set_global_default(captured.clone())
        .expect("no other test of this binary installs a global subscriber");
    let t = test_database().await.unwrap();
    t.create_all(&[User::TABLE]).await.unwrap();
    t.execute(insert_many(&[User::new("a"), User::new("b")]))
        .await
        .unwrap();
    captured.spans.lock().unwrap().clear();
    captured.events.lock().unwrap().clear();
    let secret = "s3cr3t-value";
    let found = t
        .fetch_all(select::<User>().filter(User::name.ne(secret)))
        .await
        .unwrap();
    assert_eq!(found.len(), 2);

    let spans = captured.spans.lock().unwrap().clone();
    let sql: Vec<&String> = spans
        .iter()
        .filter(|(k, _)| k == "orm.statement.sql")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(sql.len(), 1, "{spans:?}");
    assert!(
        sql[0].contains(r#"WHERE "users"."name" <> $1"#),
        "{}",
        sql[0]
    );
    assert!(spans.iter().all(|(_, v)| !v.contains(secret)));

    let events = captured.events.lock().unwrap().clone();
    let finished = events
        .iter()
        .find(|e| {
            e.iter()
                .any(|(k, v)| k == "message" && v.contains("statement finished"))
        })
        .expect("a statement-finished event");
    let field = |name: &str| {
        finished
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("rows").as_deref(), Some("2"));
    assert!(field("elapsed_us").is_some());
    assert!(events.iter().flatten().all(|(_, v)| !v.contains(secret)));
}
