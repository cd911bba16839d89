//! [`Cached`]: a query whose result a database's result cache may keep for a while, and the
//! [`CachePolicy`] it carries. The cache itself (storage, invalidation on commit) lives with
//! the driver; this is only the statement's request.

use std::time::Duration;

use super::RowOf;
use super::Statement;
use super::criteria::Criteria;
use super::option::OptionSet;
use crate::compile::CompiledQuery;
use crate::error::Result;
use crate::meta::Table;

/// How long a cached result may be served, and where.
///
/// Made from a [`Duration`] (`.cached(Duration::from_secs(30))`), or built:
///
/// ```
/// use std::time::Duration;
/// use orm_core::prelude::*;
/// use orm_core::stmt::CachePolicy;
/// # use orm_core::__doc_fixture::User;
/// let q = select::<User>().cached(CachePolicy::ttl(Duration::from_secs(30)).in_serializable());
/// assert_eq!(q.policy().time_to_live(), Duration::from_secs(30));
/// ```
#[derive(Clone, Debug)]
pub struct CachePolicy {
    ttl: Duration,
    never: bool,
    in_serializable: bool,
    reads: Vec<&'static Table>,
}

impl CachePolicy {
    /// Results kept for at most `ttl` (and until a commit writes a table they read).
    pub fn ttl(ttl: Duration) -> Self {
        CachePolicy {
            ttl,
            never: false,
            in_serializable: false,
            reads: Vec::new(),
        }
    }

    /// Never cached, nor served from the cache, whatever the model's
    /// `#[model(cache_ttl = ...)]` or the database's registered models say (what
    /// [`Select::no_cache`](super::Select::no_cache) sets).
    pub fn never() -> Self {
        CachePolicy {
            never: true,
            ..CachePolicy::ttl(Duration::ZERO)
        }
    }

    /// Whether this policy keeps the statement away from the cache
    /// ([`never`](CachePolicy::never)).
    pub fn is_never(&self) -> bool {
        self.never
    }

    /// Serves and stores results inside `REPEATABLE READ` and `SERIALIZABLE` transactions too,
    /// where a cached result may be newer or older than the transaction's snapshot (without
    /// this, the cache is bypassed there).
    pub fn in_serializable(mut self) -> Self {
        self.in_serializable = true;
        self
    }

    /// Declares a table the statement reads, for raw SQL, whose tables the compiler cannot see:
    /// a statement holding raw SQL is cached only when it declares every table it reads.
    pub fn reads(mut self, table: &'static Table) -> Self {
        self.reads.push(table);
        self
    }

    /// How long a result is kept.
    pub fn time_to_live(&self) -> Duration {
        self.ttl
    }

    /// Whether results are used inside repeatable-read and serializable transactions.
    pub fn allows_serializable(&self) -> bool {
        self.in_serializable
    }

    /// The tables declared with [`reads`](CachePolicy::reads).
    pub fn declared_reads(&self) -> &[&'static Table] {
        &self.reads
    }
}

impl From<Duration> for CachePolicy {
    fn from(ttl: Duration) -> Self {
        CachePolicy::ttl(ttl)
    }
}

/// A query whose result the database's result cache may serve (see
/// [`Select::cached`](super::Select::cached)). Runs as the query it wraps when the database
/// has no cache.
#[derive(Clone, Debug)]
pub struct Cached<S> {
    statement: S,
    policy: CachePolicy,
}

impl<S> Cached<S> {
    /// `statement`, cached under `policy`.
    pub fn new(statement: S, policy: impl Into<CachePolicy>) -> Self {
        Cached {
            statement,
            policy: policy.into(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &CachePolicy {
        &self.policy
    }

    /// The wrapped statement.
    pub fn into_inner(self) -> S {
        self.statement
    }

    /// The compiled statement with the declared tables added to those it reads; declared
    /// tables make raw SQL cacheable.
    fn declare(&self, mut q: CompiledQuery) -> CompiledQuery {
        if !self.policy.reads.is_empty() {
            for t in &self.policy.reads {
                if !q.reads.tables.iter().any(|r| std::ptr::eq(*r, *t)) {
                    q.reads.tables.to_mut().push(t);
                }
            }
            q.reads.opaque = false;
        }
        q
    }
}

impl<S: Statement> Statement for Cached<S> {
    type Row = S::Row;

    fn compile(&self) -> Result<CompiledQuery> {
        Ok(self.declare(self.statement.compile()?))
    }

    fn compile_with(&self, criteria: &Criteria) -> Result<CompiledQuery> {
        Ok(self.declare(self.statement.compile_with(criteria)?))
    }

    fn uses_criteria(&self) -> bool {
        self.statement.uses_criteria()
    }

    fn options(&self) -> Option<OptionSet<RowOf<Self>>> {
        self.statement.options()
    }

    fn tree(&self) -> Option<crate::ast::Tree<'_>> {
        self.statement.tree()
    }

    fn polymorphic_selectin(&self) -> Option<super::Query> {
        self.statement.polymorphic_selectin()
    }

    fn cache_policy(&self) -> Option<&CachePolicy> {
        Some(&self.policy)
    }
}

/// Asking for the result cache, or keeping a query out of it.
impl<O, S> super::Select<O, S> {
    /// This query with its result kept by the database's result cache (when it has one) for
    /// at most `policy`'s time to live, or until a commit through the database writes a table
    /// it reads. A [`Duration`] is a policy:
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::User;
    /// let q = select::<User>().filter(User::name.eq("Jane")).cached(Duration::from_secs(30));
    /// ```
    pub fn cached(self, policy: impl Into<CachePolicy>) -> Cached<Self> {
        Cached::new(self, policy)
    }

    /// This query run on the server every time: never served from, nor stored in, the result
    /// cache, even when its model has a `#[model(cache_ttl = ...)]` or the database registered
    /// it ([`CachePolicy::never`]).
    ///
    /// ```no_run
    /// # use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::User;
    /// let fresh = select::<User>().filter(User::name.eq("Jane")).no_cache();
    /// ```
    pub fn no_cache(self) -> Cached<Self> {
        Cached::new(self, CachePolicy::never())
    }
}
