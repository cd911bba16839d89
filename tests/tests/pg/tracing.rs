//! Every statement runs in an entered `tracing` span following OpenTelemetry's database
//! conventions (`db.system`, `db.name`, `db.operation`, `db.statement` — the SQL, never its
//! values — and, recorded at the end, `db.rows_affected` and `elapsed_us`), ending with an event
//! carrying the row count; session, loader and flush statements report their real row counts;
//! statements slower than the slow-statement threshold are logged at WARN.
//!
//! Other tests of this binary run on other threads at the same time. One subscriber is the
//! process's global default (installed once), so no callsite is ever cached as uninteresting by
//! a thread that ran before it or beside it; it records only what happens on the threads that
//! asked to be captured, and each test here runs on a current-thread runtime, so every span and
//! event it sees comes from its own statements. (A thread-scoped `set_default` subscriber was
//! flaky here: a callsite first hit by another thread, with no subscriber interested, could stay
//! disabled.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::Duration;

use orm_postgres::prelude::*;
use orm_testing::test_database;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Field name and debug-printed value.
type FieldList = Vec<(String, String)>;

/// A span as the subscriber saw it: its fields (those recorded later included) and how many
/// times it was entered.
#[derive(Debug, Default, Clone)]
struct SpanRecord {
    name: String,
    fields: FieldList,
    entered: usize,
}

impl SpanRecord {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An event: its level, fields and parent span.
#[derive(Debug, Clone)]
struct EventRecord {
    level: Level,
    fields: FieldList,
    parent: Option<u64>,
}

impl EventRecord {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn message(&self) -> &str {
        self.field("message").unwrap_or("")
    }
}

/// What one test thread captured.
#[derive(Debug, Default)]
struct Capture {
    spans: Vec<SpanRecord>,
    events: Vec<EventRecord>,
}

/// One thread's capture, shared by the subscriber and the test.
type Shared = Arc<Mutex<Capture>>;

/// The global subscriber: records for the registered threads only.
#[derive(Default)]
struct Recorder {
    threads: Mutex<HashMap<ThreadId, Shared>>,
    /// Span ids (1-based indexes into one thread's `spans`) are global so that they never
    /// collide across threads.
    owners: Mutex<HashMap<u64, (Shared, usize)>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Recorder {
    fn here(&self) -> Option<Arc<Mutex<Capture>>> {
        self.threads
            .lock()
            .unwrap()
            .get(&std::thread::current().id())
            .cloned()
    }
    fn span(&self, id: &Id) -> Option<(Shared, usize)> {
        self.owners.lock().unwrap().get(&id.into_u64()).cloned()
    }
}

struct Fields<'a>(&'a mut FieldList);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for &'static Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = 1 + self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(capture) = self.here() {
            let mut record = SpanRecord {
                name: attrs.metadata().name().to_owned(),
                ..SpanRecord::default()
            };
            attrs.record(&mut Fields(&mut record.fields));
            let index = {
                let mut c = capture.lock().unwrap();
                c.spans.push(record);
                c.spans.len() - 1
            };
            self.owners.lock().unwrap().insert(id, (capture, index));
        }
        Id::from_u64(id)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        if let Some((capture, index)) = self.span(id) {
            values.record(&mut Fields(
                &mut capture.lock().unwrap().spans[index].fields,
            ));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if let Some(capture) = self.here() {
            let mut fields = Vec::new();
            event.record(&mut Fields(&mut fields));
            capture.lock().unwrap().events.push(EventRecord {
                level: *event.metadata().level(),
                fields,
                parent: event.parent().map(Id::into_u64),
            });
        }
    }
    fn enter(&self, id: &Id) {
        if let Some((capture, index)) = self.span(id) {
            capture.lock().unwrap().spans[index].entered += 1;
        }
    }
    fn exit(&self, _: &Id) {}
}

/// Starts recording this thread's spans and events (installing the global subscriber once).
fn capture_this_thread() -> Arc<Mutex<Capture>> {
    static RECORDER: OnceLock<&'static Recorder> = OnceLock::new();
    let recorder = *RECORDER.get_or_init(|| {
        let recorder: &'static Recorder = Box::leak(Box::default());
        tracing::subscriber::set_global_default(recorder)
            .expect("no other test of this binary installs a global subscriber");
        recorder
    });
    let capture = Arc::new(Mutex::new(Capture::default()));
    recorder
        .threads
        .lock()
        .unwrap()
        .insert(std::thread::current().id(), capture.clone());
    capture
}

/// The statement spans captured so far, and forgets them.
fn take(capture: &Arc<Mutex<Capture>>) -> Capture {
    std::mem::take(&mut *capture.lock().unwrap())
}

fn statements(c: &Capture) -> Vec<&SpanRecord> {
    c.spans
        .iter()
        .filter(|s| s.name == "orm.statement")
        .collect()
}

#[derive(Model, Debug, Clone, Default, PartialEq)]
#[model(table = "tr_author")]
pub struct Author {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[relationship(has_many = Book, foreign_key = "author_id", order_by = "id")]
    pub books: Related<Vec<Book>>,
}

#[derive(Model, Debug, Clone, Default, PartialEq)]
#[model(table = "tr_book")]
pub struct Book {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "tr_author.id")]
    pub author_id: i64,
    pub title: String,
}

#[tokio::test(flavor = "current_thread")]
async fn statements_are_traced_with_sql_but_not_values() {
    let capture = capture_this_thread();
    let t = test_database().await.unwrap();
    t.create_all(&[Author::TABLE, Book::TABLE]).await.unwrap();
    t.execute(insert_many(&[
        Author {
            name: "a".into(),
            ..Author::default()
        },
        Author {
            name: "b".into(),
            ..Author::default()
        },
    ]))
    .await
    .unwrap();
    take(&capture);
    let secret = "s3cr3t-value";
    let found = t
        .fetch_all(select::<Author>().filter(Author::name.ne(secret)))
        .await
        .unwrap();
    assert_eq!(found.len(), 2);

    let c = take(&capture);
    let spans = statements(&c);
    assert_eq!(spans.len(), 1, "{spans:?}");
    let span = spans[0];
    assert_eq!(span.field("db.system"), Some("postgresql"));
    assert_eq!(span.field("db.operation"), Some("SELECT"));
    assert_eq!(span.field("db.name"), Some(t.name()));
    assert_eq!(span.field("otel.kind"), Some("client"));
    let sql = span.field("db.statement").unwrap();
    assert!(sql.contains(r#"WHERE "tr_author"."name" <> $1"#), "{sql}");
    assert_eq!(span.field("db.rows_affected"), Some("2"));
    assert!(span.field("elapsed_us").is_some());
    assert_eq!(span.field("otel.status_code"), None);
    assert!(
        span.entered >= 1,
        "the span is entered while the statement runs"
    );

    let finished = c
        .events
        .iter()
        .find(|e| e.message() == "statement finished")
        .expect("a statement-finished event");
    assert_eq!(finished.field("rows"), Some("2"));
    assert!(finished.parent.is_some());
    let everything = format!("{:?}", c);
    assert!(!everything.contains(secret), "values are never traced");
}

#[tokio::test(flavor = "current_thread")]
async fn session_loader_and_flush_statements_report_their_rows() {
    let capture = capture_this_thread();
    let t = test_database().await.unwrap();
    t.create_all(&[Author::TABLE, Book::TABLE]).await.unwrap();

    let mut s = t.session();
    for name in ["a", "b", "c"] {
        let mut author = Author {
            name: name.into(),
            ..Author::default()
        };
        author.books = Related::loaded(
            (0..4)
                .map(|i| Book {
                    title: format!("{name}{i}"),
                    ..Book::default()
                })
                .collect(),
        );
        s.add(author);
    }
    take(&capture);
    s.commit().await.unwrap();
    let c = take(&capture);
    let rows = |c: &Capture, prefix: &str| -> Vec<String> {
        statements(c)
            .iter()
            .filter(|s| {
                s.field("db.statement")
                    .is_some_and(|q| q.starts_with(prefix))
            })
            .map(|s| s.field("db.rows_affected").unwrap_or("none").to_owned())
            .collect()
    };
    assert_eq!(rows(&c, r#"INSERT INTO "tr_author""#), ["3"], "{c:?}");
    assert_eq!(rows(&c, r#"INSERT INTO "tr_book""#), ["12"], "{c:?}");
    assert_eq!(rows(&c, "COMMIT"), ["none"], "no row count for COMMIT");

    let mut s = t.session();
    let authors = s
        .all(
            select::<Author>()
                .order_by(Author::id)
                .load(Author::books.selectin()),
        )
        .await
        .unwrap();
    assert_eq!(authors.len(), 3);
    let c = take(&capture);
    assert_eq!(rows(&c, r#"SELECT "tr_author""#), ["3"], "{c:?}");
    assert_eq!(
        rows(&c, r#"SELECT "tr_book""#),
        ["12"],
        "the loader's rows: {c:?}"
    );
    assert!(statements(&c).iter().all(|s| s.entered >= 1));
    s.rollback().await.unwrap();

    // A failed statement is marked as an error with its SQLSTATE.
    take(&capture);
    let err = t
        .execute(insert(&Book {
            author_id: 999,
            title: "orphan".into(),
            ..Book::default()
        }))
        .await
        .unwrap_err();
    assert!(err.is_foreign_key_violation());
    let c = take(&capture);
    let failed = statements(&c)[0];
    assert_eq!(failed.field("otel.status_code"), Some("ERROR"));
    assert_eq!(failed.field("error.type"), Some("23503"));
    assert_eq!(failed.field("db.rows_affected"), None);
}

#[tokio::test(flavor = "current_thread")]
async fn statements_over_the_threshold_are_logged_at_warn() {
    let capture = capture_this_thread();
    let t = test_database().await.unwrap();
    // Every statement takes longer than zero: all are logged.
    let all_slow = t
        .builder()
        .slow_statement_threshold(Some(Duration::ZERO))
        .connect()
        .await
        .unwrap();
    take(&capture);
    let n: i64 = all_slow
        .fetch_one(select_values(func::value(41_i64).add(1)))
        .await
        .unwrap();
    assert_eq!(n, 42);
    let c = take(&capture);
    let slow: Vec<&EventRecord> = c
        .events
        .iter()
        .filter(|e| e.message() == "slow statement")
        .collect();
    assert_eq!(slow.len(), 1, "{c:?}");
    assert_eq!(slow[0].level, Level::WARN);
    assert!(slow[0].field("db.statement").unwrap().starts_with("SELECT"));
    assert_eq!(slow[0].field("rows"), Some("1"));
    assert_eq!(slow[0].field("threshold_ms"), Some("0"));
    assert!(slow[0].field("elapsed_ms").is_some());

    // No statement takes an hour: none is logged; nor without a threshold.
    let never_slow = t
        .builder()
        .slow_statement_threshold(Some(Duration::from_secs(3600)))
        .connect()
        .await
        .unwrap();
    never_slow.batch_execute("SELECT 1").await.unwrap();
    t.batch_execute("SELECT 1").await.unwrap();
    let c = take(&capture);
    assert_eq!(statements(&c).len(), 2);
    assert!(c.events.iter().all(|e| e.message() != "slow statement"));
}
