//! What one statement reports: a `tracing` span following OpenTelemetry's database semantic
//! conventions, entered while the statement runs; `echo` lines on stderr; and a WARN event for
//! statements slower than the database's [slow-statement
//! threshold](crate::DatabaseBuilder::slow_statement_threshold).
//!
//! The span is `orm.statement` at DEBUG level with the fields `db.system` (`postgresql`),
//! `db.name`, `db.operation` (`SELECT`, `INSERT`, ..., the statement's first keyword),
//! `db.statement` (the SQL, never the parameter values), `otel.kind` (`client`), and, recorded
//! when the statement ends, `db.rows_affected` (rows returned by a query, or affected by a
//! write), `elapsed_us`, and on failure `otel.status_code` (`ERROR`) with `error.type` (the
//! SQLSTATE, or the kind of client-side error). The clock is read only when someone listens.

use std::time::{Duration, Instant};

use tracing::field::Empty;

use crate::Error;

/// How a database reports its statements.
#[derive(Debug, Clone)]
pub(crate) struct Reporting {
    /// Print every statement to stderr (SQLAlchemy's `echo=True`).
    pub echo: bool,
    /// Statements that take longer than this are logged at WARN.
    pub slow: Option<Duration>,
    /// The database name, for `db.name`.
    pub dbname: Box<str>,
}

/// The report of one statement, from start to finish.
pub(crate) struct Trace {
    start: Option<Instant>,
    echo: bool,
    slow: Option<(Duration, Box<str>)>,
    span: tracing::Span,
}

/// How a statement ended, for its report.
pub(crate) enum Outcome<'e> {
    /// It returned or affected this many rows.
    Rows(u64),
    /// It ran (a script, `BEGIN`, `COMMIT`): no row count to report.
    Done,
    /// It failed.
    Failed(&'e Error),
}

impl Trace {
    /// Starts the report of `sql`: echoes it and opens its span.
    pub(crate) fn start(sql: &str, reporting: &Reporting) -> Trace {
        if reporting.echo {
            eprintln!("[orm] {sql}");
        }
        let span = if span_wanted() {
            tracing::debug_span!(
                "orm.statement",
                db.system = "postgresql",
                db.name = &*reporting.dbname,
                db.operation = operation(sql),
                db.statement = sql,
                otel.kind = "client",
                db.rows_affected = Empty,
                elapsed_us = Empty,
                otel.status_code = Empty,
                error.type = Empty,
            )
        } else {
            tracing::Span::none()
        };
        let listening = reporting.echo || reporting.slow.is_some() || !span.is_disabled();
        Trace {
            start: listening.then(Instant::now),
            echo: reporting.echo,
            slow: reporting.slow.map(|limit| (limit, sql.into())),
            span,
        }
    }

    /// The statement's span, to enter while it runs.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Ends the report: records the outcome and duration in the span, echoes them, and logs
    /// the statement at WARN when it was slow.
    pub(crate) fn finish(self, outcome: Outcome<'_>) {
        let Some(start) = self.start else {
            return;
        };
        let elapsed = start.elapsed();
        let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.span.record("elapsed_us", elapsed_us);
        let rows = match outcome {
            Outcome::Rows(n) => {
                self.span.record("db.rows_affected", n);
                Some(n)
            }
            Outcome::Done => None,
            Outcome::Failed(e) => {
                self.span.record("otel.status_code", "ERROR");
                self.span.record("error.type", error_type(e));
                None
            }
        };
        tracing::debug!(
            parent: &self.span,
            rows,
            elapsed_us,
            failed = matches!(outcome, Outcome::Failed(_)),
            "statement finished"
        );
        if self.echo {
            match (&outcome, rows) {
                (Outcome::Failed(e), _) => {
                    eprintln!("[orm]   -> failed ({}) in {elapsed:?}", error_type(e))
                }
                (_, Some(n)) => eprintln!("[orm]   -> {n} row(s) in {elapsed:?}"),
                (_, None) => eprintln!("[orm]   -> done in {elapsed:?}"),
            }
        }
        if let Some((limit, sql)) = &self.slow {
            if elapsed > *limit {
                tracing::warn!(
                    parent: &self.span,
                    db.statement = &**sql,
                    rows,
                    elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                    threshold_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                    "slow statement"
                );
            }
        }
    }
}

/// Whether anyone may see a statement's span: a `tracing` subscriber taking DEBUG, or (with
/// `tracing`'s `log` feature, which another crate of the application may turn on, and no
/// subscriber set) a `log` logger taking DEBUG. When no one can, the statement gets
/// [`Span::none`](tracing::Span::none): a disabled `debug_span!` would still evaluate its
/// fields and, with the `log` feature, talk to `log` on creation and on every enter and exit —
/// about 1,000 instructions a statement for nothing (callgrind, issue 17).
fn span_wanted() -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    let debug = tracing::Level::DEBUG;
    (debug <= STATIC_MAX_LEVEL && debug <= LevelFilter::current())
        || (!tracing::dispatcher::has_been_set() && log::max_level() >= log::LevelFilter::Debug)
}

/// The statement's first keyword, upper-cased (`SELECT`, `INSERT`, `WITH`, ...), for
/// `db.operation`; `""` when it does not start with one.
fn operation(sql: &str) -> &'static str {
    const KEYWORDS: &[&str] = &[
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "WITH",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "CREATE",
        "ALTER",
        "DROP",
        "EXPLAIN",
        "SET",
        "COPY",
        "LISTEN",
        "NOTIFY",
        "UNLISTEN",
        "TRUNCATE",
        "MERGE",
        "VALUES",
        "LOCK",
        "DO",
        "CALL",
        "GRANT",
        "REVOKE",
        "COMMENT",
        "ANALYZE",
        "VACUUM",
        "REFRESH",
        "SHOW",
        "RESET",
    ];
    let word = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    KEYWORDS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(word))
        .copied()
        .unwrap_or("")
}

/// `error.type`: the SQLSTATE of a server error, else the error's kind.
fn error_type(e: &Error) -> String {
    match e.sqlstate() {
        Some(code) => code.to_owned(),
        None => {
            let kind = format!("{:?}", e.kind());
            kind.split(['(', ' ', '{']).next().unwrap_or("").to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::operation;

    #[test]
    fn the_operation_is_the_first_keyword() {
        assert_eq!(operation("SELECT 1"), "SELECT");
        assert_eq!(operation("  insert into t values (1)"), "INSERT");
        assert_eq!(operation("WITH x AS (SELECT 1) SELECT * FROM x"), "WITH");
        assert_eq!(
            operation("ROLLBACK TO SAVEPOINT s; RELEASE SAVEPOINT s"),
            "ROLLBACK"
        );
        assert_eq!(operation("-- comment\nSELECT 1"), "");
        assert_eq!(operation(""), "");
    }
}
