//! The driver's row type seen through orm-core's [`Row`](crate::Row) seam.

use deadpool_postgres::tokio_postgres;
use tokio_postgres::types::FromSql;

use crate::BoxError;

/// A `tokio_postgres::Row` read by position.
pub(crate) struct PgRow<'r>(pub(crate) &'r tokio_postgres::Row);

impl crate::Row for PgRow<'_> {
    #[inline]
    fn get_at<'a, T: FromSql<'a>>(&'a self, idx: usize) -> Result<T, BoxError> {
        self.0.try_get(idx).map_err(|e| {
            // The driver wraps the cause as "error deserializing column N: <cause>"; keep the
            // cause, since our error already names the model and column.
            use std::error::Error as _;
            match e.source() {
                Some(cause) => cause.to_string().into(),
                None => e.to_string().into(),
            }
        })
    }

    fn width(&self) -> usize {
        self.0.len()
    }
}
