//! The unnamed statement mode ([`StatementMode::Unnamed`](crate::StatementMode::Unnamed)): each
//! statement is Parse, Bind, Describe, Execute and Sync of the protocol's unnamed statement, in
//! one message batch, with nothing left on the server afterwards, so that a pooler in
//! transaction mode (pgbouncer) may run each transaction on another server connection.
//!
//! - `params.rs`: the declared type and the encoding of each parameter;
//! - `catalog.rs`: the OIDs (and definitions) of the user-named types parameters name;
//! - `types.rs`: loading the database's user-defined types when a connection opens;
//! - `epoch.rs`: when this database last changed types, so that older connections retire.
//!
//! [`Conn`](crate::conn::Conn) calls in here when the database's mode is unnamed; the cached
//! mode never does.

mod catalog;
mod epoch;
pub(crate) mod params;
mod types;

pub(crate) use catalog::Catalog;
pub(crate) use epoch::{TypeEpoch, creates_types};
pub(crate) use types::load_user_types;

use deadpool_postgres::tokio_postgres::{self, Client, RowStream};

use crate::{CompiledQuery, Error, ErrorKind};
use params::Encoded;

/// Why an unnamed statement failed: its parameters could not be encoded (nothing was sent), or
/// the driver or the server reported an error.
pub(crate) enum Failure {
    Encode(Error),
    Driver(tokio_postgres::Error),
}

/// What a database knows of its types in the unnamed mode: those its parameters name, and when
/// they last changed.
#[derive(Clone, Copy)]
pub(crate) struct Types<'a> {
    pub catalog: &'a Catalog,
    pub epoch: &'a TypeEpoch,
}

/// Types and encodes the parameters of `q`, looking up the user-named types they name (one
/// query on `client` for those this database has not looked up since its types last changed).
async fn encode(client: &Client, types: Types<'_>, q: &CompiledQuery) -> Result<Encoded, Failure> {
    let declared = params::declared(&q.params);
    if declared.is_empty() {
        return Encoded::new(&q.params, &[]).map_err(Failure::Encode);
    }
    let names: Vec<catalog::TypeName> = declared
        .iter()
        .filter_map(|d| d.and_then(catalog::type_name))
        .collect();
    let resolved = types
        .catalog
        .resolve(client, types.epoch, &names)
        .await
        .map_err(Failure::Driver)?;
    let mut resolved = resolved.into_iter();
    let mut typed = Vec::with_capacity(declared.len());
    for (index, column) in declared.iter().enumerate() {
        let Some((column, name)) = column.and_then(|c| Some((c, catalog::type_name(c)?))) else {
            typed.push(None);
            continue;
        };
        let ty = resolved.next().flatten();
        match ty.as_ref().and_then(|r| r.for_column(column)) {
            Some(ty) => typed.push(Some(ty.clone())),
            None => {
                return Err(Failure::Encode(
                    ErrorKind::UndefinedType {
                        index: index + 1,
                        name: catalog::display_name(name)
                            + if column.is_array() && ty.is_some() {
                                "[]"
                            } else {
                                ""
                            },
                    }
                    .into(),
                ));
            }
        }
    }
    Encoded::new(&q.params, &typed).map_err(Failure::Encode)
}

/// Runs `q` as the unnamed statement and hands back its rows.
pub(crate) async fn query(
    client: &Client,
    types: Types<'_>,
    q: &CompiledQuery,
) -> Result<RowStream, Failure> {
    let params = encode(client, types, q).await?;
    client
        .query_typed_raw(&q.sql, params.typed())
        .await
        .map_err(Failure::Driver)
}

/// Runs `q` as the unnamed statement and returns the number of rows it affected.
pub(crate) async fn execute(
    client: &Client,
    types: Types<'_>,
    q: &CompiledQuery,
) -> Result<u64, Failure> {
    let params = encode(client, types, q).await?;
    let raw: Vec<_> = params.typed().collect();
    let typed: Vec<(&(dyn tokio_postgres::types::ToSql + Sync), _)> = raw
        .iter()
        .map(|(value, ty)| {
            (
                value as &(dyn tokio_postgres::types::ToSql + Sync),
                ty.clone(),
            )
        })
        .collect();
    client
        .execute_typed(&q.sql, &typed)
        .await
        .map_err(Failure::Driver)
}

/// Whether a failed unnamed statement leaves its connection unfit for reuse: SQLSTATE 26000
/// (`prepared statement "s3" does not exist`) means the driver's own prepared statement for
/// loading a type's definition is gone — this connection cannot learn types created after it
/// opened (see [`load_user_types`]).
pub(crate) fn cannot_load_types(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| c.code() == "26000")
}

/// Explains a [`cannot_load_types`] failure in the server error's hint.
pub(crate) fn explain_type_loading(err: Error) -> Error {
    match err.into_kind() {
        ErrorKind::Database(mut db) => {
            db.hint = Some(
                "in the unnamed statement mode a connection loads the database's user-defined \
                 types when it opens, and this one met a column of a type created later, which \
                 it cannot load. The statement did run (outside a transaction, its changes are \
                 committed). The connection is closed; the next one loads the new type"
                    .into(),
            );
            ErrorKind::Database(db).into()
        }
        other => other.into(),
    }
}
