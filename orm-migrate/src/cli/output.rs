//! What the CLI prints: results on stdout, coloured only when stdout is a terminal (and
//! `NO_COLOR` is not set), plain otherwise; a progress bar on stderr only when stderr is a
//! terminal; errors on stderr.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::revision::Revision;
use crate::runner::{BackfillProgress, Direction, Progress};

/// Colours, or none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    colour: bool,
}

impl Style {
    /// Colours when stdout is a terminal and `NO_COLOR` is unset.
    pub(crate) fn detect() -> Style {
        Style {
            colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// The same for stderr.
    pub(crate) fn detect_stderr() -> Style {
        Style {
            colour: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A revision id.
    pub(crate) fn id(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Something that went well.
    pub(crate) fn ok(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// A warning or a difference.
    pub(crate) fn warn(self, text: &str) -> String {
        self.paint("1;33", text)
    }

    /// An error.
    pub(crate) fn error(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// Secondary text.
    pub(crate) fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

/// A duration for people: `12 ms`, `1.5 s`.
pub(crate) fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Prints a line on stdout (a closed stdout, as in `| head`, is not an error worth a panic).
pub(crate) fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
}

/// Prints a line on stderr.
pub(crate) fn err(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// The runner's progress, drawn: a bar on stderr when it is a terminal, and one line per
/// revision on stdout.
pub(crate) struct Bar {
    style: Style,
    bar: Mutex<Option<ProgressBar>>,
    interactive: bool,
    /// When a backfill last printed a line (plain output: one every few seconds).
    last_backfill_line: Mutex<Option<Instant>>,
}

/// How often plain output prints a line about a running backfill.
const BACKFILL_LINE_EVERY: Duration = Duration::from_secs(5);

impl Bar {
    pub(crate) fn new(style: Style) -> Bar {
        Bar {
            style,
            bar: Mutex::new(None),
            interactive: std::io::stderr().is_terminal(),
            last_backfill_line: Mutex::new(None),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        let guard = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bar) = guard.as_ref() {
            f(bar);
        }
    }

    /// Prints a line above the bar.
    fn line(&self, line: &str) {
        let guard = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(bar) => bar.suspend(|| out(line)),
            None => out(line),
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        let mut guard = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bar) = guard.take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn on_lock_wait(&self, holder: Option<i32>) {
        let by = holder.map_or_else(String::new, |pid| format!(" (server process {pid})"));
        err(&self.style.dim(&format!(
            "waiting for the migration lock held by another run{by}..."
        )));
    }

    fn on_plan(&self, _direction: Direction, revisions: &[&Revision]) {
        if !self.interactive || revisions.is_empty() {
            return;
        }
        let bar = ProgressBar::with_draw_target(
            Some(revisions.len() as u64),
            ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} {elapsed:.dim}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar);
    }

    fn on_start(&self, direction: Direction, revision: &Revision) {
        let verb = match direction {
            Direction::Up => "applying",
            Direction::Down => "reverting",
        };
        let msg = format!("{verb} {} {}", revision.id, revision.message);
        self.with_bar(|bar| bar.set_message(msg));
    }

    fn on_done(&self, direction: Direction, revision: &Revision, duration: Duration) {
        let verb = match direction {
            Direction::Up => "applied ",
            Direction::Down => "reverted",
        };
        self.line(&format!(
            "{} {} {} {}",
            self.style.ok(verb),
            self.style.id(&revision.id),
            revision.message,
            self.style.dim(&format!("({})", human(duration)))
        ));
        self.with_bar(|bar| bar.inc(1));
    }

    fn on_backfill(&self, _direction: Direction, revision: &Revision, p: &BackfillProgress) {
        let percent = (p.done.saturating_mul(100))
            .checked_div(p.estimate)
            .map_or_else(String::new, |pc| format!(" ({}%)", pc.min(100)));
        let text = format!(
            "backfilling {}: {} of ~{} rows{percent}, {} batches of at most {}",
            p.target, p.done, p.estimate, p.batches, p.batch_size
        );
        if self.interactive {
            let msg = format!("{} {}: {text}", revision.id, revision.message);
            self.with_bar(|bar| bar.set_message(msg));
        }
        if p.finished {
            self.line(&format!(
                "{} {}: {} rows in {} batches",
                self.style.ok("backfilled"),
                p.target,
                p.done,
                p.batches
            ));
            return;
        }
        if self.interactive {
            return;
        }
        let mut last = self
            .last_backfill_line
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|t| t.elapsed() >= BACKFILL_LINE_EVERY) {
            *last = Some(Instant::now());
            self.line(&self.style.dim(&text));
        }
    }
}
