//! Decoding rows by position.
//!
//! orm-core does no IO, so it does not know the driver's row type: [`Row`] is the seam the
//! driver crate implements. [`FromRow`] types read their columns from a start position onward, so
//! models, scalars and tuples of both compose without any per-row name lookup.

use postgres_types::FromSql;

use crate::error::{BoxError, Error, Result};
use crate::types::SqlType;

/// A result row, read by column position.
pub trait Row {
    /// Decodes the value at `idx` (0-based).
    fn get_at<'a, T: FromSql<'a>>(&'a self, idx: usize) -> Result<T, BoxError>;

    /// The number of columns.
    fn width(&self) -> usize;
}

/// A type built from a run of consecutive columns of a row.
///
/// Implemented by the derive for models, for every [`SqlType`] (one column), for `()` (no
/// column) and for tuples of up to 12 `FromRow` types.
pub trait FromRow: Sized + Send + 'static {
    /// How many columns it reads.
    const WIDTH: usize;

    /// Decodes from `row`, starting at column `start`.
    fn from_row<R: Row + ?Sized>(row: &R, start: usize) -> Result<Self>;
}

impl<T: SqlType> FromRow for T {
    const WIDTH: usize = 1;

    fn from_row<R: Row + ?Sized>(row: &R, start: usize) -> Result<Self> {
        row.get_at(start)
            .map_err(|e| Error::decode("row", format!("#{start}"), e))
    }
}

impl FromRow for () {
    const WIDTH: usize = 0;

    fn from_row<R: Row + ?Sized>(_row: &R, _start: usize) -> Result<Self> {
        Ok(())
    }
}

macro_rules! tuple_from_row {
    ($($name:ident)+) => {
        impl<$($name: FromRow),+> FromRow for ($($name,)+) {
            const WIDTH: usize = 0 $(+ $name::WIDTH)+;

            #[allow(unused_assignments)]
            fn from_row<R: Row + ?Sized>(row: &R, start: usize) -> Result<Self> {
                let mut at = start;
                Ok(($({
                    let v = $name::from_row(row, at)?;
                    at += $name::WIDTH;
                    v
                },)+))
            }
        }
    };
}

tuple_from_row!(A);
tuple_from_row!(A B);
tuple_from_row!(A B C);
tuple_from_row!(A B C D);
tuple_from_row!(A B C D E);
tuple_from_row!(A B C D E F);
tuple_from_row!(A B C D E F G);
tuple_from_row!(A B C D E F G H);
tuple_from_row!(A B C D E F G H I);
tuple_from_row!(A B C D E F G H I J);
tuple_from_row!(A B C D E F G H I J K);
tuple_from_row!(A B C D E F G H I J K L);

/// Decodes one field of a model, naming the model and column on failure. Used by generated code.
#[inline]
pub fn decode_field<'a, R: Row + ?Sized, T: FromSql<'a>>(
    row: &'a R,
    idx: usize,
    model: &'static str,
    column: &'static str,
) -> Result<T> {
    row.get_at(idx).map_err(|e| Error::decode(model, column, e))
}
