//! Rust functions that revisions run (`-- run: name` in a revision's header): registered with
//! [`Migrator::register`](super::Migrator::register), run after the revision's up script in
//! the same transaction.

use std::future::Future;
use std::pin::Pin;

use orm_postgres::{BoxError, Transaction};

/// The future a registered function returns: boxed, `Send`, borrowing the transaction.
///
/// A registered function is any function or closure
/// `for<'a> Fn(&'a Transaction<'a>) -> StepFuture<'a> + Send + Sync`; write one as
///
/// ```no_run
/// use orm_migrate::runner::{Migrator, StepFuture};
/// use orm_postgres::prelude::*;
///
/// fn seed_tutorials<'a>(tx: &'a Transaction<'a>) -> StepFuture<'a> {
///     Box::pin(async move {
///         tx.batch_execute("INSERT INTO tutorial (title) VALUES ('Hello')").await?;
///         Ok(())
///     })
/// }
///
/// # fn build(migrator: Migrator) -> Migrator {
/// migrator
///     .register("seed_tutorials", seed_tutorials)
///     .register("shout", |tx| {
///         Box::pin(async move {
///             tx.batch_execute("UPDATE tutorial SET title = upper(title)").await?;
///             Ok(())
///         })
///     })
/// # }
/// ```
///
/// An error it returns rolls the revision back: an [`orm_postgres::Error`] is reported as
/// [`MigrateError::Step`](crate::MigrateError::Step), any other as
/// [`MigrateError::Function`](crate::MigrateError::Function).
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'a>>;

/// A registered function, as the migrator stores it.
pub(crate) trait RustStep: Send + Sync {
    /// Runs the function in the revision's transaction.
    fn call<'a>(&'a self, tx: &'a Transaction<'a>) -> StepFuture<'a>;
}

impl<F> RustStep for F
where
    F: for<'a> Fn(&'a Transaction<'a>) -> StepFuture<'a> + Send + Sync,
{
    fn call<'a>(&'a self, tx: &'a Transaction<'a>) -> StepFuture<'a> {
        self(tx)
    }
}
