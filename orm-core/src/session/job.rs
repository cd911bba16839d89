//! One statement of a flush ([`FlushJob`]), and how its result is checked.

use std::any::TypeId;
use std::collections::HashMap;

use crate::compile::CompiledQuery;
use crate::copy::CopyRows;
use crate::error::{ErrorKind, Result};
use crate::load::RowSink;

/// The number of rows a statement must affect, checked by [`FlushJob::check`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExpectedRows {
    pub(crate) rows: u64,
    pub(crate) model: &'static str,
    pub(crate) operation: &'static str,
}

/// One statement of a flush step.
pub struct FlushJob {
    /// The statement.
    pub query: CompiledQuery,
    /// Where its rows go (`RETURNING`), when it returns rows; otherwise run it for its count.
    pub sink: Option<RowSink<'static>>,
    /// The rows of a binary `COPY … FROM STDIN` (then `query` is the `COPY` statement, with no
    /// parameters): send them with it, and [`check`](Self::check) the count it reports.
    pub copy: Option<Box<dyn CopyRows>>,
    /// A statement to run to its end first (its rows to its sink, its count checked): the
    /// keys a `COPY` of new objects writes, taken from their sequence.
    pub before: Option<Box<FlushJob>>,
    expect: Option<ExpectedRows>,
}

impl std::fmt::Debug for FlushJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushJob")
            .field("sql", &self.query.sql)
            .field("returns_rows", &self.sink.is_some())
            .field("copy_rows", &self.copy.as_ref().map(|c| c.len()))
            .field("before", &self.before)
            .finish()
    }
}

impl FlushJob {
    pub(crate) fn execute(query: CompiledQuery, expect: Option<ExpectedRows>) -> Self {
        FlushJob {
            query,
            sink: None,
            copy: None,
            before: None,
            expect,
        }
    }

    /// A binary `COPY` of `rows` into their table; every row must be copied.
    pub(crate) fn copy(rows: Box<dyn CopyRows>) -> Result<Self> {
        let table = rows.table();
        let expect = ExpectedRows {
            rows: rows.len() as u64,
            model: table.model,
            operation: "COPY",
        };
        Ok(FlushJob {
            query: CompiledQuery::new(
                crate::copy::copy_in_sql_keyed(table, rows.key())?,
                Vec::new(),
            ),
            sink: None,
            copy: Some(rows),
            before: None,
            expect: Some(expect),
        })
    }

    pub(crate) fn rows(query: CompiledQuery, sink: RowSink<'static>) -> Self {
        FlushJob {
            query,
            sink: Some(sink),
            copy: None,
            before: None,
            expect: None,
        }
    }

    /// Runs `first` to its end before this statement.
    pub(crate) fn after(mut self, first: FlushJob) -> Self {
        self.before = Some(Box::new(first));
        self
    }

    /// Checks the number of rows too (of a statement that returns rows).
    pub(crate) fn expect(mut self, expect: ExpectedRows) -> Self {
        self.expect = Some(expect);
        self
    }

    /// Checks the number of rows a statement affected (or returned): fewer than the
    /// objects it was for is a [`StaleData`](ErrorKind::StaleData) error.
    pub fn check(&self, affected: u64) -> Result<()> {
        match self.expect {
            Some(e) if e.rows != affected => Err(ErrorKind::StaleData {
                model: e.model,
                operation: e.operation,
                expected: e.rows,
                actual: affected,
            }
            .into()),
            _ => Ok(()),
        }
    }
}

/// The result of running a step's statement.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// Rows were handed to the sink.
    Rows,
    /// The statement affected this many rows.
    Count(u64),
}

/// When the flush inserts a table's new objects with binary `COPY` instead of `INSERT`: only
/// when they need nothing back from the server (no generated column) or only an integer
/// identity or `serial` key (taken from its sequence first), and then for a batch of
/// at least `threshold` objects, or for a model `UnitOfWork::add_all_copy` asked it for.
#[derive(Debug, Clone, Default)]
pub struct CopyPolicy {
    pub(crate) threshold: Option<usize>,
    pub(crate) requested: Vec<TypeId>,
}

impl CopyPolicy {
    /// Whether `rows` new objects of model `model` (which need nothing back) go by `COPY`.
    pub(crate) fn wants(&self, model: TypeId, rows: usize) -> bool {
        self.requested.contains(&model) || self.threshold.is_some_and(|t| rows >= t)
    }
}

/// Foreign-key links inserted as `NULL` to break a cycle, set by a post-update: (entry id,
/// link indexes).
pub(crate) type Deferred = HashMap<u64, Vec<usize>>;

/// What an insert step of a flush knows about its objects. Not public API.
#[doc(hidden)]
pub struct InsertStep<'a> {
    /// Which groups go by `COPY`.
    pub(crate) copy: &'a CopyPolicy,
    /// Foreign-key links inserted as `NULL` to break a cycle.
    pub(crate) deferred: &'a Deferred,
    /// The flush's number, marking the objects its statements carry.
    pub(crate) flight: u64,
}
