//! Reflecting composite types: `pg_type` rows of `typtype = 'c'` that stand alone (their
//! `pg_class` row is of kind `c`, not a table's row type), with their attributes from
//! `pg_attribute` in order.

use orm_postgres::raw::query;
use orm_postgres::{Executor, Result, Transaction};

use crate::schema::{CompositeAttribute, CompositeType, QualifiedName, Schema};

pub(super) async fn reflect_composites(
    db: &Transaction<'static>,
    schemas: &[String],
    out: &mut Schema,
) -> Result<()> {
    let sql = concat!(
        "SELECT n.nspname::text, t.typname::text, \
                ARRAY(SELECT a.attname::text FROM pg_attribute a \
                      WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped \
                      ORDER BY a.attnum), \
                ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
                      WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped \
                      ORDER BY a.attnum) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c' \
         WHERE t.typtype = 'c' AND n.nspname = ANY(:schemas) AND ",
        not_extension!("t.oid"),
        " ORDER BY 1, 2"
    );
    let rows = db
        .fetch_all(
            query::<(String, String, Vec<String>, Vec<String>)>(sql)
                .bind("schemas", schemas.to_vec()),
        )
        .await?;
    for (schema, name, names, types) in rows {
        let name = QualifiedName::new(schema, name);
        let attributes = names
            .into_iter()
            .zip(types)
            .map(|(name, data_type)| CompositeAttribute { name, data_type })
            .collect();
        out.composites
            .insert(name.clone(), CompositeType { name, attributes });
    }
    Ok(())
}
