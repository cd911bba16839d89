//! Everything `tracing` records on one thread, as text: span names and fields, event fields.
//!
//! The subscriber is the process's global default, installed once, so no callsite is cached
//! as uninteresting (see the `pg` suite's tracing test); it keeps only what happens on threads
//! inside a [`Recording`], and the tests that record run on current-thread runtimes, so the
//! connection tasks they spawn run on their thread too.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::{Mutex, Once};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

static TEXT: Mutex<String> = Mutex::new(String::new());

thread_local! {
    static RECORDING: Cell<bool> = const { Cell::new(false) };
}

struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

struct Capture;

impl Capture {
    fn recording() -> bool {
        RECORDING.with(Cell::get)
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        if Capture::recording() {
            let mut text = TEXT.lock().unwrap();
            let _ = write!(text, "\nspan {}", attrs.metadata().name());
            attrs.record(&mut Text(&mut text));
        }
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        if Capture::recording() {
            values.record(&mut Text(&mut TEXT.lock().unwrap()));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if Capture::recording() {
            let mut text = TEXT.lock().unwrap();
            let _ = write!(text, "\nevent {}", event.metadata().level());
            event.record(&mut Text(&mut text));
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Records what this thread traces until dropped; [`text`](Recording::text) reads it.
pub struct Recording;

impl Recording {
    pub fn start() -> Recording {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            tracing::subscriber::set_global_default(Capture)
                .expect("no other test of this binary installs a global subscriber");
        });
        RECORDING.with(|r| r.set(true));
        Recording
    }

    /// Everything recorded so far (by any recording thread).
    pub fn text(&self) -> String {
        TEXT.lock().unwrap().clone()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDING.with(|r| r.set(false));
    }
}
