//! The version table: which revisions the database has applied, with the checksum of each
//! one's `up.sql`, when, how long it took and who ran it.
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS "public"."orm_migrations" (
//!     id text PRIMARY KEY,                          -- the revision's id
//!     checksum text NOT NULL,                       -- hex SHA-256 of its up.sql
//!     message text NOT NULL DEFAULT '',             -- its message, for people reading the table
//!     applied_at timestamptz NOT NULL DEFAULT now(),
//!     duration_ms bigint,                           -- NULL when stamped, not run
//!     applied_by text NOT NULL DEFAULT current_user
//! )
//! ```
//!
//! One row per applied revision (not just the heads, unlike Alembic): the applied set is read
//! as is, and each row carries the checksum its revision had when it ran.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use orm_postgres::types::Param;
use orm_postgres::{CompiledQuery, Decode, Executor, FromRow, Statement};

use crate::error::Result;
use crate::revision::Revision;
use crate::schema::QualifiedName;

/// A statement whose SQL is built at run time (the version table's name is an option), with
/// `$n` parameters.
pub(crate) struct Sql<O> {
    sql: String,
    params: Vec<Param>,
    _out: PhantomData<fn() -> O>,
}

impl<O> Sql<O> {
    pub(crate) fn new(sql: String) -> Self {
        Sql {
            sql,
            params: Vec::new(),
            _out: PhantomData,
        }
    }

    /// Binds the next `$n`.
    pub(crate) fn bind<V>(mut self, value: V) -> Self
    where
        V: orm_postgres::SqlType + Send + Sync + 'static,
    {
        self.params.push(Arc::new(value) as Param);
        self
    }
}

impl<O: Decode> Statement for Sql<O> {
    type Row = O;
    fn compile(&self) -> orm_postgres::Result<CompiledQuery> {
        Ok(CompiledQuery::new(self.sql.clone(), self.params.clone()))
    }
}

/// An identifier in double quotes, embedded quotes doubled; empty, over 63 bytes or holding a
/// NUL is an error (PostgreSQL would truncate or refuse it).
pub(crate) fn quote_ident(name: &str) -> Result<String> {
    let reason = if name.is_empty() {
        Some("is empty")
    } else if name.len() > 63 {
        Some("is longer than 63 bytes")
    } else if name.contains('\0') {
        Some("contains a NUL character")
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(orm_postgres::Error::invalid_identifier(name, reason).into());
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// A string literal for SQL text (offline mode), with `standard_conforming_strings` on (the
/// default since PostgreSQL 9.1): quotes doubled.
pub(crate) fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A duration as a setting's value in milliseconds; `None` is `0`, meaning off. At least 1 ms
/// (0 would mean off) and at most the server's limit, `i32::MAX` ms (about 24 days).
pub(crate) fn millis(t: Option<Duration>) -> u128 {
    t.map_or(0, |t| t.as_millis().clamp(1, i32::MAX as u128))
}

/// One row of the version table: a revision the database has applied.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AppliedRevision {
    /// The revision's id.
    pub id: String,
    /// The hex SHA-256 of its `up.sql` when it was applied (or last stamped or repaired).
    pub checksum: String,
    /// Its message when it was applied.
    pub message: String,
    /// When it was applied (the start of its transaction).
    pub applied_at: DateTime<Utc>,
    /// How long it took, in milliseconds; `None` when it was
    /// [stamped](crate::Migrator::stamp), not run.
    pub duration_ms: Option<i64>,
    /// The database role that applied it.
    pub applied_by: String,
}

/// The version table's quoted name and the SQL on it.
#[derive(Debug, Clone)]
pub(crate) struct VersionTable {
    /// `"schema"."table"`.
    pub(crate) quoted: String,
    /// `"schema"`, when it is not `public` (created if missing).
    quoted_schema: Option<String>,
    /// `schema.table`, for messages.
    pub(crate) display: String,
}

impl VersionTable {
    pub(crate) fn new(name: &QualifiedName) -> Result<Self> {
        let schema = quote_ident(&name.schema)?;
        let table = quote_ident(&name.name)?;
        Ok(VersionTable {
            quoted: format!("{schema}.{table}"),
            quoted_schema: (name.schema != "public").then_some(schema),
            display: name.to_string(),
        })
    }

    /// The DDL that creates the table (and its schema) when missing. Run while holding the
    /// migration lock, so concurrent runners never race on the catalogs.
    pub(crate) fn create_sql(&self) -> String {
        let mut sql = String::new();
        if let Some(schema) = &self.quoted_schema {
            sql.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {schema};\n"));
        }
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    \
                 id text PRIMARY KEY,\n    \
                 checksum text NOT NULL,\n    \
                 message text NOT NULL DEFAULT '',\n    \
                 applied_at timestamptz NOT NULL DEFAULT now(),\n    \
                 duration_ms bigint,\n    \
                 applied_by text NOT NULL DEFAULT current_user\n\
             );",
            self.quoted
        ));
        sql
    }

    /// Whether the table exists (without creating it: for the read-only commands).
    pub(crate) async fn exists(&self, db: &impl Executor) -> Result<bool> {
        let found = db
            .fetch_one(
                Sql::<bool>::new("SELECT to_regclass($1) IS NOT NULL".into())
                    .bind(self.quoted.clone()),
            )
            .await?;
        Ok(found)
    }

    /// Every row, by id.
    pub(crate) async fn rows(&self, db: &impl Executor) -> Result<Vec<AppliedRevision>> {
        let sql = format!(
            "SELECT id, checksum, message, applied_at, duration_ms, applied_by FROM {} ORDER BY id",
            self.quoted
        );
        Ok(db.fetch_all(Sql::<AppliedRevision>::new(sql)).await?)
    }

    /// Every row, or none when the table does not exist.
    pub(crate) async fn rows_if_exists(&self, db: &impl Executor) -> Result<Vec<AppliedRevision>> {
        if self.exists(db).await? {
            self.rows(db).await
        } else {
            Ok(Vec::new())
        }
    }

    /// Records a revision as applied; `duration` is `None` when stamped.
    pub(crate) async fn insert(
        &self,
        db: &impl Executor,
        revision: &Revision,
        duration: Option<Duration>,
    ) -> orm_postgres::Result<u64> {
        let sql = format!(
            "INSERT INTO {} (id, checksum, message, duration_ms) VALUES ($1, $2, $3, $4)",
            self.quoted
        );
        let ms = duration.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        db.execute(
            Sql::<()>::new(sql)
                .bind(revision.id.clone())
                .bind(revision.checksum())
                .bind(revision.message.clone())
                .bind(ms),
        )
        .await
    }

    /// Forgets a revision.
    pub(crate) async fn delete(&self, db: &impl Executor, id: &str) -> orm_postgres::Result<u64> {
        let sql = format!("DELETE FROM {} WHERE id = $1", self.quoted);
        db.execute(Sql::<()>::new(sql).bind(id.to_owned())).await
    }

    /// Records a revision's current checksum (accepting an edit).
    pub(crate) async fn repair(
        &self,
        db: &impl Executor,
        revision: &Revision,
    ) -> orm_postgres::Result<u64> {
        let sql = format!("UPDATE {} SET checksum = $2 WHERE id = $1", self.quoted);
        db.execute(
            Sql::<()>::new(sql)
                .bind(revision.id.clone())
                .bind(revision.checksum()),
        )
        .await
    }

    /// The `INSERT` of [`insert`](Self::insert) as SQL text, for offline mode.
    pub(crate) fn insert_text(&self, revision: &Revision) -> String {
        format!(
            "INSERT INTO {} (id, checksum, message) VALUES ({}, {}, {});",
            self.quoted,
            literal(&revision.id),
            literal(&revision.checksum()),
            literal(&revision.message)
        )
    }

    /// The `DELETE` of [`delete`](Self::delete) as SQL text, for offline mode.
    pub(crate) fn delete_text(&self, id: &str) -> String {
        format!("DELETE FROM {} WHERE id = {};", self.quoted, literal(id))
    }
}

/// The applied ids of some rows.
pub(crate) fn ids(rows: &[AppliedRevision]) -> BTreeSet<String> {
    rows.iter().map(|r| r.id.clone()).collect()
}

/// The rows by id.
pub(crate) fn by_id(rows: Vec<AppliedRevision>) -> BTreeMap<String, AppliedRevision> {
    rows.into_iter().map(|r| (r.id.clone(), r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_checked() {
        assert_eq!(
            quote_ident("orm_migrations").ok(),
            Some("\"orm_migrations\"".into())
        );
        assert_eq!(quote_ident("a\"b").ok(), Some("\"a\"\"b\"".into()));
        assert!(quote_ident("").is_err());
        assert!(quote_ident(&"x".repeat(64)).is_err());
        assert!(quote_ident(&"x".repeat(63)).is_ok());
    }

    #[test]
    fn settings_are_whole_milliseconds_within_the_servers_range() {
        assert_eq!(millis(None), 0);
        assert_eq!(millis(Some(Duration::from_micros(10))), 1);
        assert_eq!(millis(Some(Duration::from_secs(10))), 10_000);
        assert_eq!(millis(Some(Duration::MAX)), 2_147_483_647);
    }

    #[test]
    fn literals_double_their_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(r"a\b"), r"'a\b'");
    }

    #[test]
    fn the_table_in_another_schema_creates_the_schema() {
        let t = VersionTable::new(&QualifiedName::new("ops", "versions")).expect("valid");
        assert_eq!(t.quoted, "\"ops\".\"versions\"");
        assert!(t.create_sql().starts_with("CREATE SCHEMA IF NOT EXISTS \"ops\";\nCREATE TABLE IF NOT EXISTS \"ops\".\"versions\" ("));
        let p = VersionTable::new(&QualifiedName::new("public", "orm_migrations")).expect("valid");
        assert!(
            p.create_sql()
                .starts_with("CREATE TABLE IF NOT EXISTS \"public\".\"orm_migrations\" (")
        );
    }
}
