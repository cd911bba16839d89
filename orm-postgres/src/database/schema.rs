//! Creating and dropping the tables of a set of models: [`Database::create_all`] and
//! [`Database::drop_all`], and the same for any [`Executor`] (a transaction, a session's
//! connection).

use super::Database;
use crate::ddl;
use crate::expr::{Expression, func, param};
use crate::meta::Table;
use crate::stmt::select_values;
use crate::types::EnumType;
use crate::{Executor, Result};

/// The enum types the tables use, each once, in first-use order.
fn enum_types(tables: &[&'static Table]) -> Vec<&'static EnumType> {
    let mut out: Vec<&'static EnumType> = Vec::new();
    for t in tables {
        for c in t.columns {
            if let Some(e) = c.ty.enum_type() {
                if !out.iter().any(|o| o.name == e.name && o.schema == e.schema) {
                    out.push(e);
                }
            }
        }
    }
    out
}

/// Creates what is missing of `tables`, in dependency order: schemas, enum types, tables,
/// constraints and indexes. Idempotent.
pub async fn create_all<E: Executor>(ex: &E, tables: &[&'static Table]) -> Result<()> {
    let sorted = ddl::sort_by_dependency(tables)?;
    let mut schemas: Vec<&str> = sorted.iter().filter_map(|t| t.schema).collect();
    schemas.dedup();
    for s in schemas {
        ex.batch_execute(&ddl::create_schema(s)?).await?;
    }
    for e in enum_types(&sorted) {
        let name = ddl::enum_type_name(e)?;
        let exists = select_values(
            func::<Option<String>>("to_regtype", [crate::expr::Node::Param(param(name))])
                .is_not_null(),
        );
        if !ex.fetch_one(exists).await? {
            ex.batch_execute(&ddl::create_enum(e)?).await?;
        }
    }
    for t in sorted {
        for sql in ddl::create_table(t)? {
            ex.batch_execute(&sql).await?;
        }
    }
    Ok(())
}

/// Drops `tables` (those that exist) in reverse dependency order, then their enum types.
pub async fn drop_all<E: Executor>(ex: &E, tables: &[&'static Table]) -> Result<()> {
    let sorted = ddl::sort_by_dependency(tables)?;
    for t in sorted.iter().rev() {
        ex.batch_execute(&ddl::drop_table(t)?).await?;
    }
    for e in enum_types(&sorted) {
        ex.batch_execute(&ddl::drop_enum(e)?).await?;
    }
    Ok(())
}

impl Database {
    /// Creates the tables of these models, in one transaction, in foreign-key order, with every
    /// declared constraint, index and enum type. Idempotent: what exists is left alone.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// db.create_all(&[User::TABLE]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_all(&self, tables: &[&'static Table]) -> Result<()> {
        self.transaction(async |tx| create_all(tx, tables).await)
            .await
    }

    /// Drops the tables of these models (those that exist), in one transaction, dependents
    /// first, then their enum types.
    pub async fn drop_all(&self, tables: &[&'static Table]) -> Result<()> {
        self.transaction(async |tx| drop_all(tx, tables).await)
            .await
    }
}
