//! [`StatementMode`]: how statements reach the server — named and cached per connection, or
//! unnamed, for a connection pooler in transaction mode.

use std::fmt;
use std::str::FromStr;

use super::ConfigError;

/// How each statement is sent: as a named prepared statement cached on its connection (the
/// default, the fastest), or as the protocol's unnamed statement, parsed anew each time.
///
/// Set it with [`DatabaseBuilder::statement_mode`](crate::DatabaseBuilder::statement_mode) or
/// the connection string's `statement_mode=cached|unnamed`.
///
/// # When to use [`Unnamed`](StatementMode::Unnamed)
///
/// Behind a pooler in *transaction* mode — pgbouncer (`pool_mode = transaction`), pgcat,
/// supavisor, RDS Proxy — each transaction (each statement, outside one) may run on another
/// server connection. A statement prepared on one server connection does not exist on the
/// others, so the cached mode fails there with `prepared statement "s3" does not exist`
/// (SQLSTATE 26000) or `... already exists` (42P05). In the unnamed mode every statement is
/// Parse, Bind, Execute of the unnamed statement in one message batch and one round trip, which
/// a transaction-mode pooler keeps on one server connection.
///
/// pgbouncer 1.21 and later, with `max_prepared_statements` above zero, track protocol-level
/// prepared statements themselves: there the cached mode works and is faster.
///
/// # What it costs
///
/// The server parses and plans each statement every time (no plan reuse), and each parameter's
/// type is found on the client (below). On loopback, where the round trip is cheapest, a select
/// by primary key takes about 2.2 times as long as in the cached mode — as hand-written
/// tokio-postgres does with `query_typed` against a prepared statement; over a real network the
/// round trip hides most of it (`cargo bench -p orm-bench --bench statement_mode`, README
/// *Behind pgbouncer*). The cached mode pays nothing for this option.
///
/// # Parameter types
///
/// The unnamed statement is sent with the type of each parameter, taken from its Rust value:
/// the first of the built-in types `bigint`, `text`, `integer`, `boolean`, `timestamptz`,
/// `uuid`, `double precision`, `numeric`, `smallint`, `real`, `timestamp`, `date`, `time`,
/// `jsonb`, `json`, `bytea`, `interval`, `tsvector`, `tsquery`, `oid`, `"char"`, `inet`, `cidr`,
/// `macaddr`, `macaddr8`, `money`, `varbit`, `bit`, the ranges and multiranges (and the arrays of
/// each) that the value's `ToSql` accepts. So:
/// - a parameter is the built-in type of its Rust value (a `String` is `text`), where the
///   cached mode lets the server infer it from the column (an `i32` is not widened into a
///   `bigint` column's type);
/// - a value whose column type names a type — [`Citext`](crate::types::Citext),
///   [`Ltree`](crate::types::Ltree), `hstore`, a [`DbEnum`](crate::DbEnum), a domain or named
///   type of a [`CustomType`](crate::CustomType), a composite, and `Option`s and arrays of
///   these — is declared as that type, looked up by name (schema-qualified when the type says
///   so) in one catalog query per statement for the names this database has not looked up
///   since its types last changed, and encoded as the cached mode encodes it (a domain as its
///   base type). A name the database does not have is an
///   [`UndefinedType`](crate::ErrorKind::UndefinedType) error naming it;
/// - a value that names no type and whose `ToSql` accepts none of the built-in ones is an
///   [`Encode`](crate::ErrorKind::Encode) error naming the parameter and saying what to do:
///   declare the type its `ToSql` encodes for as its `SqlType::COLUMN_TYPE`
///   (`ColumnType::Named(&NamedType::new("mood"))`, or an enum, domain or composite type),
///   which the unnamed mode then looks up by name (a `DbEnum` value made a parameter by hand,
///   with `param`, is still sent as untyped text).
///
/// # User-defined result types
///
/// To decode a column of a user-defined type (an enum, an extension's type, an array of a domain;
/// a domain itself arrives as its base type), the driver needs the type's definition, which it
/// looks up with prepared statements of its own.
/// Inside an unnamed statement that lookup cannot work behind a pooler, and with a large result
/// it cannot finish at all (the lookup's answer waits behind the rows). So in the unnamed mode
/// each new connection loads every user-defined type of the database when it opens, inside one
/// transaction (which the pooler keeps on one server connection), and removes the prepared
/// statements it made; and when a statement of this database creates or alters a type
/// (`CREATE`/`ALTER` `TYPE`, `DOMAIN`, `EXTENSION`, as [`create_all`](crate::Database::create_all)
/// and migrations do), the connections opened before it are closed at their next checkout
/// rather than used.
///
/// Types created by *another* process after a connection opened are unknown to it. A statement
/// whose result has a column of such a type fails with SQLSTATE 26000 (`prepared statement
/// "s3" does not exist`; the error's hint explains, and the connection is closed, so the next
/// one knows the type) — or, when the result is large, it does not complete and ends in a
/// [`QueryTimeout`](crate::ErrorKind::QueryTimeout) (keep the
/// [`query_timeout`](crate::DatabaseBuilder::query_timeout) on). After such a change, call
/// [`Database::types_changed`](crate::Database::types_changed) (or restart, as deploys do); and
/// inside one transaction, do not read a type created earlier in the same transaction.
///
/// # What does not work behind a transaction-mode pooler
///
/// Whatever lives in the server session outlives the transaction and lands on another client:
/// `SET` (use `SET LOCAL` inside a transaction, or the pooler's `connect_query`), `LISTEN`,
/// session advisory locks (`pg_advisory_lock`; use `pg_advisory_xact_lock`), `WITH HOLD`
/// cursors, temporary tables kept across transactions, and `PREPARE`/`EXECUTE` in SQL. Keep
/// those on a direct connection, and run migrations there (orm-migrate's runner holds a session
/// advisory lock). The builder's
/// [`statement_timeout`](crate::DatabaseBuilder::statement_timeout) and the URL's `options` are
/// sent as the startup parameter `options`, which pgbouncer refuses unless its
/// `ignore_startup_parameters` lists it (and then drops it): set them on the role instead
/// (`ALTER ROLE app SET statement_timeout = '5s'`).
///
/// ```no_run
/// use orm_postgres::{Database, StatementMode};
///
/// # async fn run() -> orm_postgres::Result<()> {
/// // pgbouncer in transaction mode on port 6432:
/// let db = Database::builder("postgres://app@pgbouncer.internal:6432/app")
///     .statement_mode(StatementMode::Unnamed)
///     .connect()
///     .await?;
/// // or in the connection string:
/// let db = Database::connect("postgres://app@pgbouncer.internal:6432/app?statement_mode=unnamed")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum StatementMode {
    /// Each statement is prepared once per connection, under a name, and reused: the server
    /// parses it once and can reuse its plan. The default.
    #[default]
    Cached,
    /// Each statement is the protocol's unnamed statement, parsed, bound and run in one round
    /// trip, with nothing left on the server: for pgbouncer and other poolers in transaction
    /// mode.
    Unnamed,
}

impl StatementMode {
    /// The name used in connection strings: `cached` or `unnamed`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementMode::Cached => "cached",
            StatementMode::Unnamed => "unnamed",
        }
    }
}

impl fmt::Display for StatementMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses the connection string's spelling: `cached` or `unnamed`.
///
/// ```
/// use orm_postgres::StatementMode;
///
/// assert_eq!("unnamed".parse::<StatementMode>().unwrap(), StatementMode::Unnamed);
/// assert!("named".parse::<StatementMode>().is_err());
/// ```
impl FromStr for StatementMode {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<StatementMode, ConfigError> {
        match s {
            "cached" => Ok(StatementMode::Cached),
            "unnamed" => Ok(StatementMode::Unnamed),
            _ => Err(ConfigError::invalid(
                "statement_mode",
                s,
                "cached or unnamed",
            )),
        }
    }
}
