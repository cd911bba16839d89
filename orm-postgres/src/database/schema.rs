//! Creating and dropping the tables of a set of models: [`Database::create_all`] and
//! [`Database::drop_all`], and the same for any [`Executor`] (a transaction, a session's
//! connection).

use super::Database;
use crate::ddl;
use crate::expr::{Expression, func, param};
use crate::meta::Table;
use crate::stmt::select_values;
use crate::types::{ColumnType, EnumType};
use crate::{Executor, Result, ScopedExt};

/// The user-defined types the columns of `tables` are made of (through arrays, domains and
/// composite types' attributes), each once, every type after those it is made of.
fn user_types(tables: &[&'static Table]) -> Vec<ColumnType> {
    let mut out: Vec<ColumnType> = Vec::new();
    for c in tables.iter().flat_map(|t| t.columns) {
        c.ty.walk(&mut |t| {
            let user = matches!(
                t,
                ColumnType::Enum(_) | ColumnType::Domain(_) | ColumnType::Composite(_)
            );
            if user && !out.contains(t) {
                out.push(*t);
            }
        });
    }
    out
}

/// The enum types the tables use, each once, in first-use order.
fn enum_types(tables: &[&'static Table]) -> Vec<&'static EnumType> {
    let types = user_types(tables);
    types
        .into_iter()
        .filter_map(|t| match t {
            ColumnType::Enum(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// Whether the type `name` (quoted, qualified) exists.
async fn type_exists<E: Executor>(ex: &E, name: String) -> Result<bool> {
    let exists = select_values(
        func::<Option<String>>("to_regtype", [crate::expr::Node::Param(param(name))]).is_not_null(),
    );
    ex.fetch_one(exists).await
}

/// The advisory lock key of a name: the 64-bit FNV-1a hash of its bytes. `create_all` locks
/// `orm-postgres:create_all`; the migration runner (orm-migrate) locks `orm-migrate:` and its
/// version table's name, with the same hash.
pub fn advisory_lock_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// Creates what is missing of `tables`, in dependency order: schemas, the extensions their
/// column types come from, enum types, domains and composite types, tables,
/// constraints and indexes. Idempotent, also when several processes run it at once: it first
/// takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`), so the others wait and
/// then find everything created. The lock lasts as long as `ex`'s transaction: run it in one
/// ([`Database::create_all`] does), not on a pool where each statement commits alone.
pub async fn create_all<E: Executor>(ex: &E, tables: &[&'static Table]) -> Result<()> {
    // A joined-table model is stored in several tables.
    let sorted = ddl::sort_by_dependency(&crate::meta::storage_tables(tables))?;
    let key = advisory_lock_key("orm-postgres:create_all");
    ex.batch_execute(&format!("SELECT pg_advisory_xact_lock({key})"))
        .await?;
    let mut schemas: Vec<&str> = sorted.iter().filter_map(|t| t.schema).collect();
    schemas.dedup();
    for s in schemas {
        ex.batch_execute(&ddl::create_schema(s)?).await?;
    }
    let mut extensions: Vec<&str> = sorted
        .iter()
        .flat_map(|t| t.columns)
        .filter_map(|c| c.ty.extension())
        .collect();
    extensions.sort_unstable();
    extensions.dedup();
    for name in extensions {
        ex.batch_execute(&ddl::create_extension(name)?).await?;
    }
    // Enums first (nothing they are made of), then domains and composite types, each after
    // the types it is made of.
    for e in enum_types(&sorted) {
        if !type_exists(ex, ddl::enum_type_name(e)?).await? {
            ex.batch_execute(&ddl::create_enum(e)?).await?;
        }
    }
    for t in user_types(&sorted) {
        let (name, create) = match t {
            ColumnType::Domain(d) => (ddl::domain_type_name(d)?, ddl::create_domain(d)?),
            ColumnType::Composite(c) => (ddl::composite_type_name(c)?, ddl::create_composite(c)?),
            _ => continue,
        };
        if !type_exists(ex, name).await? {
            ex.batch_execute(&create).await?;
        }
    }
    for t in sorted {
        for sql in ddl::create_table(t)? {
            ex.batch_execute(&sql).await?;
        }
    }
    Ok(())
}

/// Drops `tables` (those that exist) in reverse dependency order, then their composite types,
/// domains and enum types, each before the types it is made of (extensions stay).
pub async fn drop_all<E: Executor>(ex: &E, tables: &[&'static Table]) -> Result<()> {
    // A joined-table model is stored in several tables.
    let sorted = ddl::sort_by_dependency(&crate::meta::storage_tables(tables))?;
    for t in sorted.iter().rev() {
        ex.batch_execute(&ddl::drop_table(t)?).await?;
    }
    for t in user_types(&sorted).iter().rev() {
        let drop = match t {
            ColumnType::Domain(d) => ddl::drop_domain(d)?,
            ColumnType::Composite(c) => ddl::drop_composite(c)?,
            ColumnType::Enum(e) => ddl::drop_enum(e)?,
            _ => continue,
        };
        ex.batch_execute(&drop).await?;
    }
    Ok(())
}

impl Database {
    /// Creates the tables of these models, in one transaction, in foreign-key order, with every
    /// declared constraint, index and enum type. Idempotent: what exists is left alone, and
    /// twenty processes starting at once all succeed (an advisory lock makes them take turns).
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// db.create_all(&[User::TABLE]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_all(&self, tables: &[&'static Table]) -> Result<()> {
        self.transaction(|tx| async move { create_all(&*tx, tables).await }.scoped())
            .await
    }

    /// Drops the tables of these models (those that exist), in one transaction, dependents
    /// first, then their enum types.
    pub async fn drop_all(&self, tables: &[&'static Table]) -> Result<()> {
        self.transaction(|tx| async move { drop_all(&*tx, tables).await }.scoped())
            .await
    }
}
