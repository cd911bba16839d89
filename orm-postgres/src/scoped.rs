//! The future a closure hands to [`Database::transaction`](crate::Database::transaction),
//! [`Database::retry`](crate::Database::retry) and [`Session::nested`](crate::Session::nested):
//! `async move { … }.scoped()`.
//!
//! Why not an `async` closure: the future of an `AsyncFnOnce(&mut Transaction)` cannot be
//! proven `Send` for every lifetime of its argument (a limit of today's compiler), so a
//! transaction written that way does not compile inside `tokio::spawn` or an axum handler.
//! A boxed future whose type names both lifetimes is `Send` by construction: `'c`, the borrow of
//! the transaction or session the closure is given, and `'a`, an upper bound that lets the
//! future borrow the caller's locals (`'a: 'c` is implied by the type, as in diesel-async's
//! `scope_boxed`).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A boxed, `Send` future borrowing the transaction or session it was given for `'c`, and the
/// caller's data for `'a` (which outlives `'c`). Made with [`ScopedExt::scoped`].
#[must_use = "futures do nothing unless awaited"]
pub struct Scoped<'a, 'c, T> {
    future: Pin<Box<dyn Future<Output = T> + Send + 'c>>,
    /// Makes `'a: 'c` an implied bound of every signature that names this type.
    _outlives: PhantomData<&'c &'a ()>,
}

impl<T> Future for Scoped<'_, '_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.future.as_mut().poll(cx)
    }
}

impl<T> std::fmt::Debug for Scoped<'_, '_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scoped(..)")
    }
}

/// Turns an `async` block into the [`Scoped`] future that [`Database::transaction`],
/// [`Database::retry`] and [`Session::nested`] take from their closure.
///
/// ```no_run
/// # use orm_postgres::prelude::*;
/// # async fn run(db: Database) -> orm_postgres::Result<()> {
/// let amount = 10;
/// db.transaction(|tx| {
///     async move {
///         tx.batch_execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1").await?;
///         Ok::<_, orm_postgres::Error>(amount)
///     }
///     .scoped()
/// })
/// .await?;
/// # Ok(()) }
/// ```
///
/// [`Database::transaction`]: crate::Database::transaction
/// [`Database::retry`]: crate::Database::retry
/// [`Session::nested`]: crate::Session::nested
pub trait ScopedExt<'c>: Future + Send + Sized + 'c {
    /// Boxes this future as a [`Scoped`] one.
    fn scoped<'a>(self) -> Scoped<'a, 'c, Self::Output> {
        Scoped {
            future: Box::pin(self),
            _outlives: PhantomData,
        }
    }
}

impl<'c, F: Future + Send + 'c> ScopedExt<'c> for F {}
