//! Parameters that name their PostgreSQL type: a value of a user-named type (an enum, a
//! domain, a composite type, an extension's or another named type, or an array of one) carries
//! its [`ColumnType`], so a driver that must declare each parameter's type itself (the unnamed
//! statement mode, behind pgbouncer) can look the type up by name.
//!
//! A [`Param`] is a `dyn ToSql`, which cannot say what it is. So [`param_of`] wraps such a value
//! in [`Declared`], which answers one question no other value answers: encoded for the private
//! [`probe`](declared_type) type, it returns its column type instead of bytes. For every other
//! type it is the value itself, byte for byte. Values of built-in types are not wrapped (the
//! choice is a constant of the type), so their parameters cost exactly what they did.

use std::fmt;
use std::sync::{Arc, LazyLock};

use bytes::BytesMut;
use postgres_types::{Format, IsNull, Kind, ToSql, Type};

use super::{ColumnType, Param, SqlType};
use crate::error::BoxError;

/// Whether values of `ty` must name their type for the server: a type whose OID is not fixed
/// (named, domain, enum, composite), or an array of one.
pub const fn names_type(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::Named(_)
        | ColumnType::Domain(_)
        | ColumnType::Enum(_)
        | ColumnType::Composite(_) => true,
        ColumnType::Array(inner) => names_type(inner),
        _ => false,
    }
}

/// `value` as a parameter that names its type when [`names_type`] says it must; otherwise
/// the plain parameter [`param`](super::param) makes. Depends only on `T`.
pub fn param_of<T: SqlType>(value: T) -> Param {
    if const { names_type(&T::COLUMN_TYPE) } {
        Arc::new(Declared {
            value,
            ty: const { &T::COLUMN_TYPE },
        }) as Param
    } else {
        Arc::new(value) as Param
    }
}

/// The values of a column of type `T` over many rows as one array parameter, naming its type
/// (the array of `T`'s) when `T`'s values must.
pub fn array_param<T: SqlType>(values: Vec<T>) -> Param {
    if const { names_type(&T::COLUMN_TYPE) } {
        Arc::new(Declared {
            value: values,
            ty: const { &ColumnType::Array(&T::COLUMN_TYPE) },
        }) as Param
    } else {
        Arc::new(values) as Param
    }
}

/// A value with its column type: encodes as the value does, and answers the probe. Not public
/// API; [`param_of`] makes them.
pub struct Declared<T> {
    value: T,
    ty: &'static ColumnType,
}

impl<T> Declared<T> {
    /// `value`, declared as `ty` (for arrays of a column's values, whose type is the array of
    /// the column's).
    pub fn new(value: T, ty: &'static ColumnType) -> Self {
        Declared { value, ty }
    }
}

impl<T: fmt::Debug> fmt::Debug for Declared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// The type no value accepts, asked for by [`declared_type`].
static PROBE: LazyLock<Type> = LazyLock::new(|| {
    Type::new(
        "orm declared type probe".into(),
        0,
        Kind::Pseudo,
        "pg_catalog".into(),
    )
});

fn is_probe(ty: &Type) -> bool {
    std::ptr::eq(ty, &*PROBE)
}

/// The probe's answer, carried out of `to_sql_checked` as its error.
#[derive(Debug)]
struct Answer(&'static ColumnType);

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "declared as {:?}", self.0)
    }
}

impl std::error::Error for Answer {}

impl<T: ToSql> ToSql for Declared<T> {
    #[inline]
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.value.to_sql(ty, out)
    }

    #[inline]
    fn accepts(ty: &Type) -> bool {
        T::accepts(ty)
    }

    #[inline]
    fn encode_format(&self, ty: &Type) -> Format {
        if is_probe(ty) {
            return Format::Text;
        }
        self.value.encode_format(ty)
    }

    #[inline]
    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if is_probe(ty) {
            return Err(Box::new(Answer(self.ty)));
        }
        self.value.to_sql_checked(ty, out)
    }
}

/// The column type `value` declares, if it was made by [`param_of`] for a type that
/// [names one](names_type). Costs a call for other values (no allocation).
pub fn declared_type(value: &(dyn ToSql + Send + Sync)) -> Option<&'static ColumnType> {
    if !matches!(value.encode_format(&PROBE), Format::Text) {
        return None;
    }
    match value.to_sql_checked(&PROBE, &mut BytesMut::new()) {
        Err(e) => e.downcast::<Answer>().ok().map(|a| a.0),
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Citext, param};

    #[test]
    fn only_named_types_declare_themselves() {
        let citext = param_of(Citext("a".into()));
        assert!(
            matches!(declared_type(&*citext), Some(ColumnType::Named(n)) if n.name == "citext")
        );
        let tags = param_of(vec![Citext("a".into())]);
        assert!(matches!(
            declared_type(&*tags),
            Some(ColumnType::Array(ColumnType::Named(n))) if n.name == "citext"
        ));
        assert!(declared_type(&*param_of(1_i64)).is_none());
        assert!(declared_type(&*param(Citext("a".into()))).is_none());
        assert!(declared_type(&*param_of(None::<Citext>)).is_some());
        // Encoding and printing are the value's own.
        assert_eq!(format!("{citext:?}"), "Citext(\"a\")");
        assert!(
            citext
                .to_sql_checked(&Type::TEXT, &mut BytesMut::new())
                .is_err()
        );
        let named = Type::new("citext".into(), 1, Kind::Simple, "public".into());
        let mut a = BytesMut::new();
        citext.to_sql_checked(&named, &mut a).expect("citext");
        assert_eq!(&a[..], b"a");
    }
}
