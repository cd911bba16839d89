//! Decoding rows by position.
//!
//! orm-core does no IO, so it does not know the driver's row type: [`Row`] is the seam the
//! driver crate implements. [`FromRow`] types read their columns from a start position onward, so
//! models, scalars and tuples of both compose without any per-row name lookup.

use postgres_types::FromSql;

use crate::error::{BoxError, Error, Result};
use crate::types::{Checked, SqlType};

/// A result row, read by column position.
pub trait Row {
    /// Decodes the value at `idx` (0-based).
    fn get_at<'a, T: FromSql<'a>>(&'a self, idx: usize) -> Result<T, BoxError>;

    /// The number of columns.
    fn width(&self) -> usize;
}

/// A type built from a run of consecutive columns of a row.
///
/// Implemented by the derive for models, by `#[derive(FromRow)]` for query-result structs, for
/// every [`SqlType`] (one column) and for `()` (no column). Tuples of them decode through
/// [`Decode`].
pub trait FromRow: Sized + Send + 'static {
    /// How many columns it reads.
    const WIDTH: usize;

    /// Decodes from `row`, starting at column `start`.
    fn from_row<R: Row + ?Sized>(row: &R, start: usize) -> Result<Self>;
}

impl<T: SqlType> FromRow for T {
    const WIDTH: usize = 1;

    fn from_row<R: Row + ?Sized>(row: &R, start: usize) -> Result<Self> {
        row.get_at::<Checked<T>>(start)
            .map(|v| v.0)
            .map_err(|e| Error::decode("row", format!("#{start}"), e))
    }
}

impl FromRow for () {
    const WIDTH: usize = 0;

    fn from_row<R: Row + ?Sized>(_row: &R, _start: usize) -> Result<Self> {
        Ok(())
    }
}

/// How a statement's rows are decoded: the output type, and the code that reads it from a row.
///
/// Every [`FromRow`] type decodes itself; tuples decode element by element; [`OptionalModel`](crate::model::OptionalModel)
/// decodes a model that may be missing (the outer side of a join) into `Option<M>`. You rarely
/// name this trait: statements pick their decoder from what they select.
pub trait Decode: Send + 'static {
    /// What a row decodes into.
    type Output: Send + 'static;
    /// How many columns it reads.
    const WIDTH: usize;
    /// Decodes from `row`, starting at column `start`.
    fn decode<R: Row + ?Sized>(row: &R, start: usize) -> Result<Self::Output>;
}

impl<T: FromRow> Decode for T {
    type Output = T;
    const WIDTH: usize = T::WIDTH;
    #[inline]
    fn decode<R: Row + ?Sized>(row: &R, start: usize) -> Result<T> {
        T::from_row(row, start)
    }
}

/// A result type that can come back as "missing": scalars become `Option<T>` (once: an
/// `Option<T>` stays one), models become `Option<Model>`, tuples element-wise.
pub trait NullableRow: Decode {
    /// The possibly-missing form (a decoder: `Option<T>` for values,
    /// [`OptionalModel<M>`](crate::model::OptionalModel) for models).
    type Nullable: Decode;
}

impl<T: SqlType> NullableRow for T {
    type Nullable = Option<T::Base>;
}

impl NullableRow for () {
    type Nullable = ();
}

macro_rules! tuple_nullable {
    ($($name:ident)+) => {
        impl<$($name: NullableRow),+> NullableRow for ($($name,)+) {
            type Nullable = ($($name::Nullable,)+);
        }
    };
}

tuple_nullable!(A);
tuple_nullable!(A B);
tuple_nullable!(A B C);
tuple_nullable!(A B C D);
tuple_nullable!(A B C D E);
tuple_nullable!(A B C D E F);
tuple_nullable!(A B C D E F G);
tuple_nullable!(A B C D E F G H);
tuple_nullable!(A B C D E F G H I);
tuple_nullable!(A B C D E F G H I J);
tuple_nullable!(A B C D E F G H I J K);
tuple_nullable!(A B C D E F G H I J K L);

macro_rules! tuple_decode {
    ($($name:ident)+) => {
        impl<$($name: Decode),+> Decode for ($($name,)+) {
            type Output = ($($name::Output,)+);
            const WIDTH: usize = 0 $(+ $name::WIDTH)+;

            #[allow(unused_assignments)]
            fn decode<R: Row + ?Sized>(row: &R, start: usize) -> Result<Self::Output> {
                let mut at = start;
                Ok(($({
                    let v = $name::decode(row, at)?;
                    at += $name::WIDTH;
                    v
                },)+))
            }
        }
    };
}

tuple_decode!(A);
tuple_decode!(A B);
tuple_decode!(A B C);
tuple_decode!(A B C D);
tuple_decode!(A B C D E);
tuple_decode!(A B C D E F);
tuple_decode!(A B C D E F G);
tuple_decode!(A B C D E F G H);
tuple_decode!(A B C D E F G H I);
tuple_decode!(A B C D E F G H I J);
tuple_decode!(A B C D E F G H I J K);
tuple_decode!(A B C D E F G H I J K L);

/// A value of any type, read only to learn whether it is `NULL` (as `Option<AnyValue>`).
#[derive(Debug, Clone, Copy)]
pub struct AnyValue;

impl<'a> FromSql<'a> for AnyValue {
    fn from_sql(_: &postgres_types::Type, _: &'a [u8]) -> Result<Self, BoxError> {
        Ok(AnyValue)
    }

    fn accepts(_: &postgres_types::Type) -> bool {
        true
    }
}

/// Decodes one column of a model, naming the model and column on failure, with the type's
/// decode check (a value that does not fit is an error, never rounded). Used by generated code.
#[inline]
pub fn decode_field<R: Row + ?Sized, T: SqlType>(
    row: &R,
    idx: usize,
    model: &'static str,
    column: &'static str,
) -> Result<T> {
    row.get_at::<Checked<T>>(idx)
        .map(|v| v.0)
        .map_err(|e| Error::decode(model, column, e))
}

/// Decodes a `#[derive(FromRow)]` field: through [`decode_field`] (with the decode check) when
/// its type is a [`SqlType`], else through its `FromSql` alone. The derive calls
/// `(&Field::<T>::NEW).decode_column(..)`; method resolution picks [`DecodeSqlType`] when it
/// applies (no autoref needed) and [`DecodeFromSql`] otherwise, so a field of a type that only
/// implements `FromSql` (an `oid` as `u32`, an `IpAddr`) still decodes. Not public API.
#[doc(hidden)]
pub struct Field<T>(std::marker::PhantomData<fn() -> T>);

impl<T> Field<T> {
    /// The probe.
    pub const NEW: Self = Field(std::marker::PhantomData);
}

/// See [`Field`].
#[doc(hidden)]
pub trait DecodeSqlType<T> {
    /// Decodes column `idx`.
    fn decode_column<R: Row + ?Sized>(
        &self,
        row: &R,
        idx: usize,
        model: &'static str,
        column: &'static str,
    ) -> Result<T>;
}

impl<T: SqlType> DecodeSqlType<T> for Field<T> {
    #[inline]
    fn decode_column<R: Row + ?Sized>(
        &self,
        row: &R,
        idx: usize,
        model: &'static str,
        column: &'static str,
    ) -> Result<T> {
        decode_field(row, idx, model, column)
    }
}

/// See [`Field`].
#[doc(hidden)]
pub trait DecodeFromSql<T> {
    /// Decodes column `idx`.
    fn decode_column<R: Row + ?Sized>(
        &self,
        row: &R,
        idx: usize,
        model: &'static str,
        column: &'static str,
    ) -> Result<T>;
}

impl<T: for<'a> FromSql<'a>> DecodeFromSql<T> for &Field<T> {
    #[inline]
    fn decode_column<R: Row + ?Sized>(
        &self,
        row: &R,
        idx: usize,
        model: &'static str,
        column: &'static str,
    ) -> Result<T> {
        row.get_at(idx).map_err(|e| Error::decode(model, column, e))
    }
}
