//! An async ORM for PostgreSQL: models derived from structs, a typed SQL expression language,
//! and pooled async execution on tokio-postgres.
//!
//! This is the crate to depend on: it re-exports the Core (`orm-core`) and the derives
//! (`orm-macros`), so you never name those crates.
//!
//! ```no_run
//! use orm_postgres::prelude::*;
//!
//! #[derive(Model, Debug, Clone)]
//! #[model(table = "users")]
//! pub struct User {
//!     #[model(primary_key, generated)]
//!     pub id: i64,
//!     #[model(unique, len = 80)]
//!     pub name: String,
//!     pub email: Option<String>,
//! }
//!
//! # async fn run() -> orm_postgres::Result<()> {
//! let db = Database::connect_env().await?; // DATABASE_URL
//! db.create_all(&[User::TABLE]).await?;
//!
//! let jane = db
//!     .fetch_one(insert(&User { id: 0, name: "Jane".into(), email: None }))
//!     .await?; // INSERT ... RETURNING: `id` comes back from the server
//! let found: Vec<User> = db
//!     .fetch_all(select::<User>().filter(User::name.starts_with("J")))
//!     .await?;
//! db.execute(update::<User>().set(User::email, "jane@example.com").filter(User::id.eq(jane.id)))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Behavior
//! - **When IO happens:** only in the `async` methods of [`Executor`] (implemented by
//!   [`Database`], [`Transaction`] and [`Connection`]) and of those types themselves. Building and
//!   compiling statements is pure. Relationships load only when a query asks for them
//!   (`.load(User::orders.selectin())`) or through [`Executor::load`]; reading one that was not
//!   loaded is an error, never a query.
//! - **Prepared statements** are cached per connection, keyed by the SQL text, which depends only
//!   on a statement's shape. A cached statement made stale by a schema change (SQLSTATE 0A000 or
//!   26000) is prepared again once, outside transactions; inside one, the error is reported.
//!   Behind pgbouncer or another pooler in transaction mode, use [`StatementMode::Unnamed`]
//!   instead: every statement is the unnamed one, parsed each time, nothing cached (binary
//!   `COPY` still prepares its statement: behind such a pooler, copy through a direct
//!   connection).
//! - **Rows decode by position** straight into the output type.
//! - **Connections are clean**: a connection goes back to the pool only with no statement in
//!   flight and no transaction open; otherwise it is closed (the server rolls back).
//! - **Connection strings** are libpq's, both forms (`postgres://` URLs and `key=value` pairs),
//!   with its parameters, host lists, Unix sockets, TLS modes and `.pgpass`; what is malformed or
//!   not implemented is a typed [`ConfigError`]. No `Debug` output, error or trace shows a
//!   password ([`DatabaseBuilder`]).
//! - **Nothing waits forever**: pool waits, connects and statements have timeouts by default
//!   ([`DatabaseBuilder`]); giving a connection back makes no round trip.
//! - **Tracing**: every statement runs in an entered `tracing` span `orm.statement` with
//!   OpenTelemetry's database attributes (`db.system`, `db.name`, `db.operation`, `db.statement`:
//!   the SQL, never the values), recording the rows returned or affected, the duration and any
//!   error's SQLSTATE. [`DatabaseBuilder::echo`] prints them to stderr;
//!   [`DatabaseBuilder::slow_statement_threshold`] logs slow statements at WARN.
//! - **Server features**: `LISTEN`/`NOTIFY` ([`Database::notify`], [`Listener`], the
//!   [`notify`] module) and advisory locks ([`Database::advisory_lock`], [`AdvisoryLock`],
//!   [`Transaction::advisory_xact_lock`]).
//! - **Pool metrics**: [`Database::metrics`], published through the `metrics` facade with the
//!   `metrics` feature.
//!
//! # Features
//! | feature | default | enables |
//! |---|---|---|
//! | `chrono` | yes | `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ` through chrono |
//! | `uuid` | yes | `UUID` |
//! | `json` | yes | `JSONB` through `serde_json::Value` and [`Json<T>`](types::Json) |
//! | `decimal` | yes | `NUMERIC` through `rust_decimal::Decimal` |
//! | `tls` | yes | TLS through rustls (no OpenSSL): libpq's `sslmode`, `sslrootcert`, `sslcert`/`sslkey` ([`SslMode`], [`TlsError`]) |
//! | `bigdecimal` | no | `NUMERIC` of any size, `NaN` and infinities through `BigNumeric` |
//! | `time` | no | `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ` through the `time` crate, next to chrono |
//! | `metrics` | no | [pool metrics](Database::metrics) published through the `metrics` facade |
//! | `cache` | no | a result cache (`ResultCache`, `.cached(ttl)`) through moka, invalidated on commit |

#![warn(missing_docs)]

#[doc(hidden)]
pub use orm_core::__doc_fixture;
#[cfg(feature = "json")]
pub use orm_core::Json;
pub use orm_core::{
    BoxError, Column, ColumnDef, ColumnType, CompiledQuery, CustomType, DbEnum, DbError, Decode,
    Error, ErrorKind, Expr, Expression, FromRow, HeldGuard, IntoExpr, Model, OptionalModel,
    PoolStage, Result, Row, RowOf, Select, Selection, ShardError, SqlType, Statement, Table,
    ValueOutOfRange, alias, derived, hybrid,
};
pub use orm_core::{
    ddl, deferred, expr, func, inherit, lex, load, meta, raw, relation, shard, stmt, types,
};

#[doc(hidden)]
pub use orm_core::__private;
#[doc(hidden)]
pub use orm_core::driver;

mod acquire;
mod advisory;
#[cfg(feature = "cache")]
mod cache;
#[cfg(feature = "cache")]
mod cache_listener;
#[cfg(feature = "cache")]
mod cache_lookup;
mod call_site;
mod cancel;
mod classify;
mod config;
mod conn;
mod connect_failure;
mod copy;
mod database;
mod driver_error;
mod executor;
#[cfg(feature = "json")]
mod explain;
mod metrics;
pub mod notify;
mod open;
mod pg_row;
mod scoped;
pub mod session;
mod sharded;
mod stat_statements;
mod statement_log;
mod tls;
mod trace;
mod transaction;
mod unnamed;

pub use advisory::{AdvisoryKey, AdvisoryLock};
#[cfg(feature = "cache")]
pub use cache::ResultCache;
pub use call_site::parse_tags;
pub use cancel::CancelHandle;
pub use config::{ConfigError, SslMode, StatementMode};
pub use connect_failure::{ConnectAttempt, ConnectFailure};
pub use copy::CopyOutStream;
pub use database::{
    Connection, DEFAULT_QUERY_TIMEOUT, Database, DatabaseBuilder, Keepalives, MAX_CONNECTIONS,
};
pub use database::{advisory_lock_key, create_all, drop_all};
pub use executor::{Executor, RowStream};
#[cfg(feature = "json")]
pub use explain::{ExplainOptions, LoaderPlan, Plan, PlanNode, QueryPlans};
/// An async test on a database of its own, set up once per test binary from a template: see
/// the attribute reference in [`orm_macros::test`](macro@orm_core::__private::orm_test).
pub use orm_core::__private::orm_test as test;
pub use scoped::{Scoped, ScopedExt};
pub use stat_statements::StatementStats;
pub use statement_log::{StatementLog, sql_matches};
/// The support of [`assert_queries!`]; not public API.
#[doc(hidden)]
pub mod __statement_log {
    pub use crate::statement_log::{__check_queries, Expected};
}
pub use database::{ReadYourWrites, ReplicaState, ReplicaStatus, RoutingMetrics, WriteToken};
pub use metrics::{CacheMetrics, Discarded, PoolMetrics, PoolStatus};
pub use notify::Listener;
pub use session::{RetryPolicy, Session, SessionOptions};
pub use sharded::{
    FanOut, FanOutRows, FanOutStream, ShardCounts, ShardTransaction, Sharded, ShardedBuilder,
};
pub use tls::TlsError;
pub use transaction::{IsolationLevel, Transaction, TxOptions};

/// Everything a user needs in scope: the derives, the statement builders, the expression
/// traits, the [`func`] namespace of SQL functions (`func::max(..)`),
/// [`Database`] and [`Executor`].
pub mod prelude {
    pub use crate::session::{ColumnSet, HookContext, Hooks, Persist, Tracked};
    pub use crate::{Database, Executor, ScopedExt, Session, Transaction};
    pub use orm_core::prelude::*;
}
