//! How an executor gets a connection: checked out for one call, or borrowed from a transaction
//! or a held connection. Sealed: not implementable outside this crate.

use std::future::Future;
use std::ops::Deref;

use crate::Result;
use crate::conn::Conn;
use orm_core::stmt::Criteria;

pub(crate) mod sealed {
    use super::*;

    /// A connection to run one call on: checked out for the call, or borrowed from a
    /// transaction.
    // Lives on the stack for one call; boxing `Owned` would add an allocation per statement.
    #[allow(clippy::large_enum_variant)]
    pub enum ConnRef<'a> {
        /// Checked out of the pool for this call; returned (or discarded) when dropped.
        Owned(Conn),
        /// The connection of a transaction.
        Borrowed(&'a Conn),
    }

    impl Deref for ConnRef<'_> {
        type Target = Conn;
        fn deref(&self) -> &Conn {
            match self {
                ConnRef::Owned(c) => c,
                ConnRef::Borrowed(c) => c,
            }
        }
    }

    /// How an executor gets a connection. Not implementable outside this crate.
    pub trait Acquire {
        /// The connection for one call.
        fn acquire(&self) -> impl Future<Output = Result<ConnRef<'_>>> + Send;

        /// The connection for one call, which a database with replicas runs on one of them
        /// when `read` says the call only reads (a plain `SELECT`, see
        /// `replicas/classify.rs`). `read` is asked only then, so that a database without
        /// replicas never scans the SQL. The default: [`acquire`](Acquire::acquire).
        fn acquire_for(
            &self,
            read: impl FnOnce() -> bool + Send,
        ) -> impl Future<Output = Result<ConnRef<'_>>> + Send {
            let _ = read;
            self.acquire()
        }

        /// The criteria statements run here take (a session's); none by default.
        fn criteria(&self) -> Option<&Criteria> {
            None
        }

        /// The connection this executor holds (a transaction's, a held connection's); none
        /// for a database, which checks one out per call.
        #[cfg(feature = "cache")]
        fn held(&self) -> Option<&Conn> {
            None
        }

        /// The database's result cache, if it has one.
        #[cfg(feature = "cache")]
        fn result_cache(&self) -> Option<&std::sync::Arc<crate::cache::Store>> {
            self.held().and_then(|c| c.settings().cache.as_ref())
        }

        /// Whether `store` may serve and store results now: with a notification channel,
        /// only once its listener runs
        /// ([`Database::start_cache_listener`](crate::Database::start_cache_listener)).
        #[cfg(feature = "cache")]
        fn cache_ready(
            &self,
            store: &std::sync::Arc<crate::cache::Store>,
        ) -> impl Future<Output = Result<bool>> + Send {
            let ready = store.remote.as_ref().is_none_or(|r| r.is_listening());
            async move { Ok(ready) }
        }
    }
}
