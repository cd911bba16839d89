//! The IO seam of loading: the driver crate runs the loaders' queries through a [`QueryRunner`]
//! and hands their rows over as [`RowAccess`].

use std::future::Future;
use std::pin::Pin;

use postgres_types::{FromSql, Type};

use crate::compile::CompiledQuery;
use crate::error::{BoxError, Result};
use crate::row::Row;
use crate::stmt::Criteria;
use crate::types::domain_base;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Access to one row's raw values, for decoding without knowing the driver's row type.
pub trait RowAccess {
    /// The type and raw bytes (`None` for `NULL`) of column `idx`.
    fn raw(&self, idx: usize) -> std::result::Result<(&Type, Option<&[u8]>), BoxError>;
    /// The number of columns.
    fn len(&self) -> usize;
    /// Whether the row has no columns.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Row for dyn RowAccess + '_ {
    fn get_at<'a, T: FromSql<'a>>(&'a self, idx: usize) -> std::result::Result<T, BoxError> {
        let (ty, raw) = self.raw(idx)?;
        let ty = if T::accepts(ty) {
            ty
        } else {
            match domain_base(ty) {
                Some(base) if T::accepts(base) => base,
                _ => {
                    return Err(format!(
                        "cannot convert between the Rust type `{}` and the Postgres type `{}`",
                        std::any::type_name::<T>(),
                        ty.name()
                    )
                    .into());
                }
            }
        };
        T::from_sql_nullable(ty, raw)
    }

    fn width(&self) -> usize {
        self.len()
    }
}

/// Receives the rows of one query.
pub type RowSink<'a> = Box<dyn FnMut(&dyn RowAccess) -> Result<()> + Send + 'a>;

/// Runs queries for loaders: the IO seam the driver crate implements.
pub trait QueryRunner: Sync {
    /// Runs the queries (pipelined where possible), feeding each one's rows to its sink;
    /// returns each one's outcome, in order.
    fn run_all<'a>(
        &'a self,
        jobs: Vec<(CompiledQuery, RowSink<'a>)>,
    ) -> BoxFuture<'a, Vec<Result<()>>>;

    /// The criteria every loader query takes (see [`Criteria`]); none by default.
    fn criteria(&self) -> Option<&Criteria> {
        None
    }
}

/// A runner whose loader queries take `criteria`: what the session loads through.
pub struct WithCriteria<'r> {
    /// Runs the queries.
    pub runner: &'r dyn QueryRunner,
    /// Added to each loader query.
    pub criteria: &'r Criteria,
}

impl QueryRunner for WithCriteria<'_> {
    fn run_all<'a>(
        &'a self,
        jobs: Vec<(CompiledQuery, RowSink<'a>)>,
    ) -> BoxFuture<'a, Vec<Result<()>>> {
        self.runner.run_all(jobs)
    }

    fn criteria(&self) -> Option<&Criteria> {
        Some(self.criteria)
    }
}
