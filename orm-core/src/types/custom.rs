//! Custom types (SQLAlchemy's `TypeDecorator`): a Rust type stored through a column type that
//! already exists, converted on the way in and out.

use bytes::BytesMut;
use postgres_types::{FromSql, IsNull, ToSql, Type};

use super::{ColumnType, SqlType};
use crate::error::BoxError;

/// A Rust type stored as another column type, [`Repr`](CustomType::Repr): an `Email` newtype
/// as `TEXT`, a settings struct as `JSONB`, a `Cents(i64)` as `BIGINT`.
///
/// Implement it (what the type is stored as and the two conversions) and derive
/// [`SqlType`](macro@crate::SqlType) on the type: it is then a column type like any other, in models
/// (also as `Option<T>` and `Vec<T>`), comparisons, `IN` lists, multi-row inserts, the session,
/// `create_all` and migrations. A value the database holds but [`CustomType::from_repr`] refuses
/// is an [`ErrorKind::Decode`](crate::ErrorKind::Decode) naming the model and the column, whose
/// source is the error `from_repr` returned: never a panic, never a changed value.
///
/// ```
/// use orm_core::{BoxError, ColumnType, CustomType, SqlType};
///
/// /// An e-mail address, stored as `TEXT`; the database never holds one without an `@`.
/// #[derive(Debug, Clone, PartialEq, SqlType)]
/// # #[sql_type(crate = "orm_core")]
/// pub struct Email(String);
///
/// impl CustomType for Email {
///     type Repr = String;
///     fn to_repr(&self) -> String {
///         self.0.clone()
///     }
///     fn from_repr(text: String) -> Result<Self, BoxError> {
///         if text.contains('@') { Ok(Email(text)) } else { Err(format!("not an e-mail address: {text:?}").into()) }
///     }
/// }
///
/// assert_eq!(<Email as SqlType>::COLUMN_TYPE, ColumnType::Text);
/// assert_eq!(<Vec<Email> as SqlType>::COLUMN_TYPE, ColumnType::Array(&ColumnType::Text));
/// ```
///
/// Operators: a custom column compares (`eq`, `lt`, `is_in`, ...) with values of its own type;
/// [`Expression::repr`](crate::Expression::repr) views it as its representation, for that
/// type's operators (`User::email.repr().ends_with("@example.com")`); and your own operators
/// are an extension trait over `Expression<Value = Email>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `CustomType`",
    label = "`#[derive(SqlType)]` needs an `impl CustomType for {Self}`",
    note = "`impl CustomType` names what the type is stored as (`type Repr = String;`) and converts both ways (`to_repr`, `from_repr`)"
)]
pub trait CustomType: Clone + std::fmt::Debug + Send + Sync + Sized + 'static {
    /// The column type the value is stored as: any non-nullable [`SqlType`] (`String`, `i64`,
    /// `serde_json::Value`, `Vec<String>`, another custom type, ...).
    type Repr: SqlType<Base = Self::Repr>;

    /// The column's SQL type in DDL: by default the representation's. Override it to store the
    /// representation in a compatible type of your choosing (a domain over it, say), as long as
    /// the representation's driver type accepts that type on the wire.
    const COLUMN_TYPE: ColumnType = <Self::Repr as SqlType>::COLUMN_TYPE;

    /// The value as stored.
    fn to_repr(&self) -> Self::Repr;

    /// The value from what the database holds, or an error saying why it is not a valid
    /// `Self` (reported as a decode error naming the model and the column).
    fn from_repr(repr: Self::Repr) -> Result<Self, BoxError>;
}

/// `ToSql::to_sql` of a custom type. Not public API.
#[doc(hidden)]
pub fn to_sql<T: CustomType>(value: &T, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    value
        .to_repr()
        .to_sql(super::domain_base(ty).unwrap_or(ty), out)
}

/// `ToSql::accepts` and `FromSql::accepts` of a custom type. Not public API.
#[doc(hidden)]
pub fn accepts<T: CustomType>(ty: &Type) -> bool {
    // A domain travels as its base type; a type the impl names (an existing enum stored
    // through `String`, say) is taken as it is named, in the representation's wire format.
    let named = match T::COLUMN_TYPE {
        ColumnType::Named(n) => n.name == ty.name() && n.schema.is_none_or(|s| s == ty.schema()),
        _ => false,
    };
    named || <T::Repr as ToSql>::accepts(super::domain_base(ty).unwrap_or(ty))
}

/// `FromSql::from_sql` of a custom type: the representation's decoder (with its lossless
/// check), then [`CustomType::from_repr`]. Not public API.
#[doc(hidden)]
pub fn from_sql<T: CustomType>(ty: &Type, raw: &[u8]) -> Result<T, BoxError> {
    let ty = super::domain_base(ty).unwrap_or(ty);
    let repr = super::Checked::<T::Repr>::from_sql(ty, raw)?.0;
    T::from_repr(repr)
}

/// `SqlType::clone_from_any` of a custom type. Not public API.
#[doc(hidden)]
pub fn clone_from_any<T: CustomType>(value: &dyn std::any::Any) -> Option<T> {
    value.downcast_ref::<T>().cloned()
}
