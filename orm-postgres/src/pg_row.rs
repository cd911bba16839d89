//! The driver's row type seen through orm-core's [`Row`](crate::Row) seam.

use deadpool_postgres::tokio_postgres;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};

use crate::BoxError;
use crate::driver_error::ParamEncodeError;
use crate::types::domain_base;
use orm_core::driver::encode_value;

/// A `tokio_postgres::Row` read by position.
pub(crate) struct PgRow<'r>(pub(crate) &'r tokio_postgres::Row);

/// The raw bytes of a value (`None` for `NULL`), of any type.
pub(crate) struct RawValue<'a>(pub(crate) Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawValue<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawValue(Some(raw)))
    }
    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(RawValue(None))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

impl crate::Row for PgRow<'_> {
    #[inline]
    fn get_at<'a, T: FromSql<'a>>(&'a self, idx: usize) -> Result<T, BoxError> {
        match self.0.try_get(idx) {
            Ok(v) => Ok(v),
            Err(e) => {
                // A domain is sent as its base type, but the driver only matches exact types:
                // decode it as the base type (only on this error path, so the common case pays
                // nothing).
                if let Some(column) = self.0.columns().get(idx) {
                    if let Some(base) = domain_base(column.type_()) {
                        if T::accepts(base) {
                            let raw: RawValue<'a> = self.0.try_get(idx)?;
                            return T::from_sql_nullable(base, raw.0);
                        }
                    }
                }
                // The driver wraps the cause as "error deserializing column N: <cause>"; keep
                // the cause itself (a typed one stays typed: a `ValueOutOfRange`), since our
                // error already names the model and column.
                let text = e.to_string();
                Err(e.into_source().unwrap_or_else(|| text.into()))
            }
        }
    }

    fn width(&self) -> usize {
        self.0.len()
    }
}

/// A statement parameter at position `index` (0-based) of its statement.
///
/// It also binds to a domain over its type: a domain travels as its base type, but the driver
/// only matches exact types, so the value is encoded for the base. When the value cannot be
/// encoded, the error is a [`ParamEncodeError`] naming the position, so that
/// [`from_pg`](crate::driver_error::from_pg) classifies it by type, not by the driver's message.
#[derive(Debug)]
pub(crate) struct DomainParam<'a> {
    pub(crate) index: usize,
    pub(crate) value: &'a (dyn ToSql + Sync),
}

impl ToSql for DomainParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut crate::__private::BytesMut) -> Result<IsNull, BoxError> {
        self.to_sql_checked(ty, out)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut crate::__private::BytesMut,
    ) -> Result<IsNull, BoxError> {
        let ty = domain_base(ty).unwrap_or(ty);
        let fail = |source: BoxError| {
            Box::new(ParamEncodeError {
                index: self.index,
                source,
            }) as BoxError
        };
        let before = out.len();
        let null = encode_value(self.value, ty, out).map_err(fail)?;
        check_size(out.len() - before, out.len()).map_err(fail)?;
        Ok(null)
    }
}

/// Checks one encoded parameter of `size` bytes, the statement's parameters reaching `total`:
/// PostgreSQL refuses a field over 1 GB and a message over 1 GB, and drops the connection when
/// one arrives, so say so before anything is sent.
#[inline]
pub(crate) fn check_size(size: usize, total: usize) -> Result<(), BoxError> {
    if size > MAX_FIELD {
        return Err(format!(
            "the value is {size} bytes; PostgreSQL takes at most {MAX_FIELD} (1 GB) in one field"
        )
        .into());
    }
    if total > MAX_MESSAGE {
        return Err(format!(
            "the statement's parameters reach {total} bytes; PostgreSQL takes at most {MAX_MESSAGE} (1 GB) in one message"
        )
        .into());
    }
    Ok(())
}

/// The largest field PostgreSQL accepts (`MaxAllocSize - 1`).
pub(crate) const MAX_FIELD: usize = 0x3fff_ffff;
/// The largest message PostgreSQL reads from a client (`PQ_LARGE_MESSAGE_LIMIT`).
pub(crate) const MAX_MESSAGE: usize = 0x3fff_fffe;

impl orm_core::driver::RowAccess for PgRow<'_> {
    #[inline]
    fn raw(&self, idx: usize) -> Result<(&Type, Option<&[u8]>), BoxError> {
        // `RawValue` takes every type: the driver's only error is an index out of range, and
        // its check is the only one on the way (read once per column of every row loaded).
        match self.0.try_get::<_, RawValue<'_>>(idx) {
            Ok(raw) => Ok((self.0.columns()[idx].type_(), raw.0)),
            Err(_) => Err(format!("column index {idx} out of range").into()),
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}
