//! Not public API: the items generated code (`#[derive(Model)]`, `#[derive(DbEnum)]`,
//! `#[derive(FromRow)]`) refers to, as `<crate>::__private::...`. May change in any release.

pub use crate::error::{Error, Result};
pub use crate::expr::Expr;
pub use crate::expr::{Column, Param, access, param};
pub use crate::meta::{ColumnDef, Exclusion, FkAction, ForeignKey, Index, Property, Table};
pub use crate::model::Model;
pub use crate::model::OptionalModel;
pub use crate::relation::{
    BackTo, KeyOf, Related, Relation, RelationKind, RelationMeta, Relationship,
};
pub use crate::row::NullableRow;
pub use crate::row::{DecodeFromSql, DecodeSqlType, Field, FromRow, Row, decode_field};
pub use crate::types::{
    ArrayElement, ColumnArray, ColumnType, CustomType, EnumType, Retype, SqlType, TypeMod,
    assert_column_type, param_of,
};
pub use bytes::BytesMut;
pub use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
pub use std::boxed::Box;
pub use std::clone::Clone;
pub use std::default::Default;
pub use std::fmt::Debug;
pub use std::option::Option::{self, None, Some};
pub use std::result::Result::{Err, Ok};
pub use std::time::Duration;
pub use std::unimplemented;
pub use std::vec::Vec;

/// The error type `ToSql`/`FromSql` implementations return.
pub type BoxError = crate::error::BoxError;

/// Collects one field of every row into an array parameter (for `unnest` inserts).
pub fn column_array<M, T, F>(rows: &[M], field: F) -> ColumnArray
where
    T: crate::types::SqlType,
    F: Fn(&M) -> &T,
    T: Clone,
{
    crate::types::packed_column_array(rows.iter().map(&field))
        .unwrap_or_else(|| T::column_array(rows.iter().map(|r| field(r).clone()).collect()))
}

/// The error `FromSql` of a `#[derive(DbEnum)]` type returns for a label it does not know: a
/// [`ValueOutOfRange`](crate::error::ValueOutOfRange), like any value its Rust type cannot hold.
pub fn unknown_enum_label(
    type_name: &'static str,
    rust_type: &'static str,
    raw: &[u8],
) -> BoxError {
    Box::new(crate::error::ValueOutOfRange::new(
        type_name,
        String::from_utf8_lossy(raw),
        rust_type,
        "no variant has this label (one added to the type since the enum was written?)",
    ))
}

pub use crate::relation::Cascade;
pub use crate::session::{ColumnSet, HookContext, Hooks, Persist, RelationOps, TypedRelation};
pub use std::any::Any;
pub use std::fmt::Display;

/// Collects one field of every row (by reference) into an array parameter.
pub fn column_array_ref<M, T, F>(rows: &[&M], field: F) -> ColumnArray
where
    T: crate::types::SqlType + Clone,
    F: Fn(&M) -> &T,
{
    crate::types::packed_column_array(rows.iter().map(|r| field(r)))
        .unwrap_or_else(|| T::column_array(rows.iter().map(|r| field(r).clone()).collect()))
}

/// Sets a column field from a type-erased value of its type (or its non-null type).
pub fn assign_any<T: crate::types::SqlType>(
    slot: &mut T,
    value: &dyn std::any::Any,
    model: &'static str,
    column: &'static str,
) -> crate::error::Result<()> {
    match T::clone_from_any(value) {
        Some(v) => {
            *slot = v;
            Ok(())
        }
        None => Err(crate::error::Error::object_state(format!(
            "cannot copy a value into `{model}.{column}`: its type is not `{}`",
            std::any::type_name::<T>()
        ))),
    }
}

/// Sets a column field to `NULL`; an error unless it is an `Option`.
pub fn assign_null<T: crate::types::SqlType>(
    slot: &mut T,
    model: &'static str,
    column: &'static str,
) -> crate::error::Result<()> {
    match T::null_value() {
        Some(v) => {
            *slot = v;
            Ok(())
        }
        None => Err(crate::error::Error::object_state(format!(
            "cannot set `{model}.{column}` to NULL: the field is not an Option"
        ))),
    }
}

/// Runs one field validator, turning its error into a validation error.
pub fn run_validator<T: ?Sized, E: std::fmt::Display>(
    value: &T,
    validator: impl FnOnce(&T) -> std::result::Result<(), E>,
    model: &'static str,
    field: &'static str,
) -> crate::error::Result<()> {
    validator(value).map_err(|e| crate::error::Error::validation(model, field, e.to_string()))
}

/// A version column's type: incremented by each update of the session.
pub trait VersionNumber {
    /// The next version.
    fn next_version(&self) -> Self;
}
macro_rules! version_number {
    ($($t:ty),*) => {$(
        impl VersionNumber for $t {
            fn next_version(&self) -> Self {
                self.wrapping_add(1)
            }
        }
    )*};
}
version_number!(i16, i32, i64);

// The bounds of relationship keys, for the derive's `where` clauses.
pub use crate::row::Decode;
pub use std::cmp::Eq;
pub use std::hash::Hash;

// The session's items of the derive (`column_value`, `changed_columns`, ...).
pub use std::marker::{Send, Sync};

/// Whether a column's value differs from its snapshot's. A function (not `!=` in the
/// generated code) so that a column type without `PartialEq` is reported at the field's type.
///
/// As the database would tell them apart, where `==` does not: floats by their bits (`-0.0`
/// is stored apart from `0.0`, and a NaN read back equals itself, not "changed" at every
/// `write()`), decimals by their scale too (`10.50` is written back as `10.50`, not seen as
/// `10.5`). The type checks fold away once `T` is known.
pub fn column_changed<T: PartialEq + 'static>(value: &T, old: &T) -> bool {
    use std::any::Any;
    let (v, o) = (value as &dyn Any, old as &dyn Any);
    macro_rules! by {
        ($t:ty, $same:expr) => {
            if let (Some(a), Some(b)) = (v.downcast_ref::<$t>(), o.downcast_ref::<$t>()) {
                let same: fn(&$t, &$t) -> bool = $same;
                return !same(a, b);
            }
        };
    }
    by!(f64, |a, b| a.to_bits() == b.to_bits());
    by!(f32, |a, b| a.to_bits() == b.to_bits());
    by!(Option<f64>, |a, b| a.map(f64::to_bits)
        == b.map(f64::to_bits));
    by!(Option<f32>, |a, b| a.map(f32::to_bits)
        == b.map(f32::to_bits));
    // Arrays of them, element by element.
    fn all<T>(a: &[T], b: &[T], same: impl Fn(&T, &T) -> bool) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
    }
    by!(Vec<f64>, |a, b| all(a, b, |x, y| x.to_bits()
        == y.to_bits()));
    by!(Vec<f32>, |a, b| all(a, b, |x, y| x.to_bits()
        == y.to_bits()));
    by!(Vec<Option<f64>>, |a, b| all(a, b, |x, y| x
        .map(f64::to_bits)
        == y.map(f64::to_bits)));
    by!(Vec<Option<f32>>, |a, b| all(a, b, |x, y| x
        .map(f32::to_bits)
        == y.map(f32::to_bits)));
    by!(Option<Vec<f64>>, |a, b| match (a, b) {
        (Some(a), Some(b)) => all(a, b, |x, y| x.to_bits() == y.to_bits()),
        (a, b) => a.is_none() && b.is_none(),
    });
    by!(Option<Vec<f32>>, |a, b| match (a, b) {
        (Some(a), Some(b)) => all(a, b, |x, y| x.to_bits() == y.to_bits()),
        (a, b) => a.is_none() && b.is_none(),
    });
    #[cfg(feature = "decimal")]
    {
        use rust_decimal::Decimal;
        fn same(a: &Decimal, b: &Decimal) -> bool {
            a == b && a.scale() == b.scale()
        }
        by!(Decimal, same);
        by!(Option<Decimal>, |a, b| match (a, b) {
            (Some(a), Some(b)) => same(a, b),
            (a, b) => a.is_none() && b.is_none(),
        });
        by!(Vec<Decimal>, |a, b| all(a, b, same));
        by!(Vec<Option<Decimal>>, |a, b| all(a, b, |x, y| {
            match (x, y) {
                (Some(x), Some(y)) => same(x, y),
                (x, y) => x.is_none() && y.is_none(),
            }
        }));
        by!(Option<Vec<Decimal>>, |a, b| match (a, b) {
            (Some(a), Some(b)) => all(a, b, same),
            (a, b) => a.is_none() && b.is_none(),
        });
    }
    value != old
}

pub use std::cmp::PartialEq;

pub use crate::deferred::{deferred_changed, fill_deferred};

/// The types a `#[model(version)]` field may have; the derive asserts it at the field's type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a version column",
    label = "not `i16`, `i32` or `i64`",
    note = "the session increments the version with each update and checks it in UPDATE and DELETE: make the field `i16`, `i32` or `i64`"
)]
pub trait VersionColumn: VersionNumber {}
impl VersionColumn for i16 {}
impl VersionColumn for i32 {}
impl VersionColumn for i64 {}

/// The error of the derive's column accessors for a position past the last column.
pub fn no_column(model: &'static str, idx: usize) -> crate::error::Error {
    crate::error::Error::object_state(format!("`{model}` has no column at position {idx}"))
}

/// `#[orm_postgres::test]`, re-exported under that name by orm-postgres.
pub use orm_macros::test as orm_test;

/// The compile error of an unknown relationship name in an inheritance enum's
/// `relationships(...)` or a `back_populates`.
pub use orm_macros::unknown_relationship;

// Inheritance.
pub use crate::inherit::{Inheritance, Variant, read_discriminator};
pub use crate::meta::{
    Discriminator, Joined, PolymorphicLoad, base_columns, base_len, column_position, inverse,
    merge_columns, merge_parts, merge_properties, merged_len, merged_version, parts_len, positions,
    properties_len, subtype_key,
};
pub use crate::model::{FieldsOf, PartOf};
pub use crate::session::{
    ColumnRows, PersistVariant, changed_variant_columns, column_rows, decode_variant_column,
    enum_column_array, enum_insert_arrays, set_variant_null, set_variant_value, unknown_variant,
    validate_variant, variant_column_rows, variant_columns, variant_insert_params,
    variant_insert_values, variant_param, variant_update_params, variant_value,
};
pub use std::convert::From;
pub use std::string::String;

/// Where field `i` of a variant is in a row of its enum (from the positions the enum's derive
/// computed at compile time); an error, never a panic, past the end.
#[inline]
pub fn variant_position(
    positions: &[usize],
    i: usize,
    model: &'static str,
) -> crate::error::Result<usize> {
    positions.get(i).copied().ok_or_else(|| no_column(model, i))
}

/// Asserts that the variants of an inheritance enum have one primary-key type: `A` (the first
/// variant's key) is `B` (another's).
#[diagnostic::on_unimplemented(
    message = "the variants of an inheritance enum must have the same primary key: `{B}` is not `{Self}`",
    label = "this variant's primary key differs from the first variant's",
    note = "the enum's rows share one table and one key: declare the same key field(s) in every variant"
)]
pub trait SamePk<B> {
    /// The key, as the first variant's key type (which it is).
    fn same(key: B) -> Self;
}
impl<T> SamePk<T> for T {
    fn same(key: T) -> T {
        key
    }
}

/// The encoder and decoder of `#[derive(SqlType)] #[sql_type(composite = "...")]`.
pub mod composite {
    pub use crate::types::composite::{Decoder, Encoder, accepts};
}
pub use crate::types::{Composite, CompositeAttribute, CompositeField, CompositeType};

/// The bodies of the impls `#[derive(SqlType)]` writes for a `CustomType`.
pub mod custom {
    pub use crate::types::custom::{accepts, clone_from_any, from_sql, to_sql};
}

#[cfg(test)]
mod tests {
    use super::column_changed;

    #[test]
    fn arrays_of_floats_and_decimals_change_as_the_database_tells_them_apart() {
        assert!(column_changed(&vec![-0.0f64], &vec![0.0]));
        assert!(!column_changed(&vec![f64::NAN, 1.0], &vec![f64::NAN, 1.0]));
        assert!(column_changed(&vec![1.0f64], &vec![1.0, 2.0]));
        assert!(column_changed(&vec![-0.0f32], &vec![0.0]));
        assert!(!column_changed(
            &vec![Some(f64::NAN), None],
            &vec![Some(f64::NAN), None]
        ));
        assert!(column_changed(&Some(vec![-0.0f64]), &Some(vec![0.0])));
        assert!(column_changed(&vec![Some(-0.0f32)], &vec![Some(0.0)]));
        assert!(!column_changed(
            &Some(vec![f32::NAN]),
            &Some(vec![f32::NAN])
        ));
        assert!(column_changed(&None::<Vec<f64>>, &Some(vec![])));
        #[cfg(feature = "decimal")]
        {
            use rust_decimal::Decimal;
            let (a, b) = (Decimal::new(105, 1), Decimal::new(1050, 2));
            assert!(column_changed(&vec![a], &vec![b]), "10.5 and 10.50 differ");
            assert!(!column_changed(&vec![a], &vec![a]));
            assert!(column_changed(&Some(vec![a]), &Some(vec![b])));
            assert!(column_changed(&vec![Some(a), None], &vec![Some(b), None]));
            assert!(!column_changed(&vec![Some(a), None], &vec![Some(a), None]));
        }
        // Other types keep `==`.
        assert!(!column_changed(&vec![1i32], &vec![1]));
    }
}
