//! Loading the database's user-defined types when a connection opens, in the unnamed mode.
//!
//! To decode a column whose type is not built in (an enum, an extension's type, an array of a
//! domain; the server sends a domain column as its base type), tokio-postgres looks the type up
//! in the catalog with prepared statements of its own, prepared under a name in one round trip
//! and run in the next, and keeps both the statements
//! and the types it found for the connection's lifetime. Behind a pooler in transaction mode
//! the two round trips may land on different server connections (`prepared statement "s3" does
//! not exist`), and the statements stay behind on a server connection another client may get
//! (`prepared statement "s3" already exists`: every process names them `s0`, `s1`, ...).
//!
//! So a new connection loads every user-defined type at once, inside one transaction (which the
//! pooler keeps on one server connection), by running a `SELECT NULL::t1, NULL::t2, ...` whose
//! columns make the driver look each type up, then deallocates the statements the lookups
//! prepared and commits. Types created later are not known to the connection; a statement that
//! meets one fails with SQLSTATE 26000 and the connection is closed (see
//! [`cannot_load_types`](super::cannot_load_types)).

use std::collections::HashSet;

use deadpool_postgres::tokio_postgres::{self, Client};

/// The user-defined types a result column may have, as `regtype` text (schema-qualified
/// unless on the search path, quoted where needed): enums, domains, ranges, base types of
/// extensions and stand-alone composite types, and their arrays. Not the row types of tables,
/// views and sequences (every table has one, and the ORM never reads a whole row as a value).
/// Not the types without a binary output function (an extension's index-support types, such as
/// `hstore`'s `ghstore` and `ltree`'s `ltree_gist`): no column can be read in binary as one, and
/// the server refuses even to describe a `NULL` of one in binary, which would fail the load.
const USER_TYPES: &str = "\
SELECT t.oid::pg_catalog.regtype::pg_catalog.text
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_type elem ON elem.oid = t.typelem AND t.typcategory = 'A'
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND t.typtype <> 'p'
  AND t.typisdefined
  AND t.typsend <> 0
  AND (elem.oid IS NULL OR elem.typsend <> 0)
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_class c
                  WHERE c.oid IN (t.typrelid, elem.typrelid) AND c.relkind <> 'c')
ORDER BY t.oid";

/// The protocol-level prepared statements of the server connection.
const PREPARED: &str = "SELECT name FROM pg_catalog.pg_prepared_statements WHERE NOT from_sql";

/// Columns per lookup statement (a select list holds at most 1,664).
const CHUNK: usize = 500;

/// Loads every user-defined type of the database into the driver's cache of `client`, and
/// leaves no prepared statement behind on the server. Does nothing (but one query) when the
/// database has none.
pub(crate) async fn load_user_types(client: &Client) -> Result<(), tokio_postgres::Error> {
    let names: Vec<String> = client
        .query_typed(USER_TYPES, &[])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    if names.is_empty() {
        return Ok(());
    }
    client.batch_execute("BEGIN").await?;
    // On an error the connection is not handed out: it is closed, and the server rolls back.
    load_in_transaction(client, &names).await?;
    client.batch_execute("COMMIT").await
}

async fn load_in_transaction(
    client: &Client,
    names: &[String],
) -> Result<(), tokio_postgres::Error> {
    let before = prepared(client).await?;
    for chunk in names.chunks(CHUNK) {
        let columns: Vec<String> = chunk.iter().map(|t| format!("NULL::{t}")).collect();
        // Reading the result's description makes the driver load each column's type.
        client
            .query_typed(&format!("SELECT {}", columns.join(", ")), &[])
            .await?;
    }
    let mine: Vec<String> = prepared(client)
        .await?
        .into_iter()
        .filter(|name| !before.contains(name) && is_driver_name(name))
        .collect();
    for name in mine {
        client
            .batch_execute(&format!("DEALLOCATE \"{}\"", name.replace('"', "\"\"")))
            .await?;
    }
    Ok(())
}

async fn prepared(client: &Client) -> Result<HashSet<String>, tokio_postgres::Error> {
    client
        .query_typed(PREPARED, &[])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect()
}

/// tokio-postgres names its statements `s<number>`. A pooler that tracks prepared statements
/// itself (pgbouncer 1.21+ with `max_prepared_statements`) renames them on the server and
/// cleans up after itself: leave its statements alone.
fn is_driver_name(name: &str) -> bool {
    name.strip_prefix('s')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::is_driver_name;

    #[test]
    fn only_the_drivers_statement_names_are_deallocated() {
        assert!(is_driver_name("s0"));
        assert!(is_driver_name("s1234"));
        assert!(!is_driver_name("s"));
        assert!(!is_driver_name("PGBOUNCER_12"));
        assert!(!is_driver_name("s1x"));
        assert!(!is_driver_name("my_statement"));
    }
}
