//! Encoding one value for the wire, for every path that sends values (a statement's parameters
//! in either statement mode, a binary `COPY` row).

use bytes::BytesMut;
use postgres_types::{IsNull, ToSql, Type};

use crate::error::BoxError;

/// Encodes `value` as `ty` at the end of `buf`: the encoder's own result, or, when the encoder
/// panics, an error saying so instead of the panic reaching the caller. Some encoders of
/// dependencies panic on values at the end of their range (the time crate's `OffsetDateTime`
/// near year ±9999 with an offset other than UTC, whose conversion to UTC leaves the crate's
/// range), and a user's own `ToSql` may too; library code does not panic on input. (The
/// panic hook still reports the panic, as for any caught panic.)
pub fn encode_value(
    value: &(dyn ToSql + Sync),
    ty: &Type,
    buf: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    let encoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        value.to_sql_checked(ty, buf)
    }));
    encoded.unwrap_or_else(|panic| Err(panicked(ty, panic.as_ref())))
}

/// The error for an encoder of `ty` that panicked with `panic` (see [`encode_value`]).
pub(crate) fn panicked(ty: &Type, panic: &(dyn std::any::Any + Send)) -> BoxError {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    format!("the value cannot be encoded as {ty}: its encoder panicked ({why})").into()
}
