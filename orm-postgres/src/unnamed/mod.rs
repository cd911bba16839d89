//! The unnamed statement mode ([`StatementMode::Unnamed`](crate::StatementMode::Unnamed)): each
//! statement is Parse, Bind, Describe, Execute and Sync of the protocol's unnamed statement, in
//! one message batch, with nothing left on the server afterwards, so that a pooler in
//! transaction mode (pgbouncer) may run each transaction on another server connection.
//!
//! - `params.rs`: the declared type and the encoding of each parameter;
//! - `types.rs`: loading the database's user-defined types when a connection opens;
//! - `epoch.rs`: when this database last changed types, so that older connections retire.
//!
//! [`Conn`](crate::conn::Conn) calls in here when the database's mode is unnamed; the cached
//! mode never does.

mod epoch;
pub(crate) mod params;
mod types;

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

/// Runs `q` as the unnamed statement and hands back its rows.
pub(crate) async fn query(client: &Client, q: &CompiledQuery) -> Result<RowStream, Failure> {
    let params = Encoded::new(&q.params).map_err(Failure::Encode)?;
    client
        .query_typed_raw(&q.sql, params.typed())
        .await
        .map_err(Failure::Driver)
}

/// Runs `q` as the unnamed statement and returns the number of rows it affected.
pub(crate) async fn execute(client: &Client, q: &CompiledQuery) -> Result<u64, Failure> {
    let params = Encoded::new(&q.params).map_err(Failure::Encode)?;
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
