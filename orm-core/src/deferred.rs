//! Deferred columns: the field type [`Deferred`] of a `#[model(deferred)]` column (big text,
//! bytea, jsonb), which a model's `SELECT` leaves out unless the query asks for it.
//!
//! A query of the model selects a placeholder, `NULL::void`, in the column's place: the row
//! keeps its width (rows decode by position) and the decoder tells the placeholder from a real
//! value by its type (no column has type `void`), so "not loaded" and `NULL` stay distinct.
//! Per query, [`Select::undefer`](crate::Select::undefer), [`defer`](crate::Select::defer) and
//! [`load_only`](crate::Select::load_only) choose what is loaded. Reading a field that was not
//! loaded is the [`NotLoaded`](crate::ErrorKind::NotLoaded) error of an unloaded relationship;
//! loading it later is an explicit `await` (`Executor::load_deferred`,
//! `Session::load_deferred`), never a hidden query.

use std::fmt;

use bytes::BytesMut;
use postgres_types::{FromSql, IsNull, ToSql, Type};

use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::types::{ColumnType, SqlType};

/// The value of a deferred column (`#[model(deferred)]`): loaded, or not loaded.
///
/// A row decodes it as not loaded when the query deferred the column; reading it then is a
/// [`NotLoaded`](crate::ErrorKind::NotLoaded) error naming the model and field, never a
/// query. A new object's value is [`Deferred::new`] (or `Default`, the inner type's default):
/// it is written like any column. The session never writes a field that is not loaded, and
/// comparing it with a snapshot finds no change.
///
/// ```
/// use orm_core::deferred::Deferred;
///
/// let bio = Deferred::new("A long text".to_string());
/// assert_eq!(bio.get().unwrap(), "A long text");
/// let unloaded = Deferred::<String>::not_loaded();
/// assert!(unloaded.get().is_err());
/// ```
#[derive(Clone)]
pub struct Deferred<T> {
    value: Option<T>,
    /// The model and field, for the error (set when a row decodes it).
    names: Option<(&'static str, &'static str)>,
}

impl<T> Deferred<T> {
    /// A loaded value.
    pub const fn new(value: T) -> Self {
        Deferred {
            value: Some(value),
            names: None,
        }
    }

    /// Not loaded.
    pub const fn not_loaded() -> Self {
        Deferred {
            value: None,
            names: None,
        }
    }

    /// Whether the value was loaded.
    pub fn is_loaded(&self) -> bool {
        self.value.is_some()
    }

    /// The value, or a [`NotLoaded`](crate::ErrorKind::NotLoaded) error.
    pub fn get(&self) -> Result<&T> {
        self.value.as_ref().ok_or_else(|| self.not_loaded_error())
    }

    /// The value, mutably, or a `NotLoaded` error.
    pub fn get_mut(&mut self) -> Result<&mut T> {
        let names = self.names;
        self.value.as_mut().ok_or_else(|| not_loaded_error(names))
    }

    /// Replaces the value (marks it loaded): the session writes it at the next flush.
    pub fn set(&mut self, value: T) {
        self.value = Some(value);
    }

    /// The value, if loaded.
    pub fn as_option(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The value, if loaded, by value.
    pub fn into_option(self) -> Option<T> {
        self.value
    }

    fn not_loaded_error(&self) -> Error {
        not_loaded_error(self.names)
    }

    /// Names the model and field in its error (generated code, when a row decodes it).
    #[doc(hidden)]
    pub fn named(mut self, model: &'static str, field: &'static str) -> Self {
        self.names = Some((model, field));
        self
    }
}

fn not_loaded_error(names: Option<(&'static str, &'static str)>) -> Error {
    let (model, relationship) = names.unwrap_or(("?", "?"));
    ErrorKind::NotLoaded {
        model,
        relationship,
    }
    .into()
}

/// Whether the session writes `value` (compared with the snapshot `old`): only a loaded value
/// that differs. Used by generated code.
#[doc(hidden)]
pub fn deferred_changed<T: PartialEq>(value: &Deferred<T>, old: &Deferred<T>) -> bool {
    value.is_loaded() && value.value != old.value
}

/// Copies `from` into `slot` when `slot` is not loaded and `from` is: filling a column a later
/// query loaded into an object that did not have it. Used by generated code.
#[doc(hidden)]
pub fn fill_deferred<T: Clone>(slot: &mut Deferred<T>, from: &Deferred<T>) {
    if !slot.is_loaded() && from.is_loaded() {
        slot.value = from.value.clone();
    }
}

/// A new object's value: the inner type's default, loaded.
impl<T: Default> Default for Deferred<T> {
    fn default() -> Self {
        Deferred::new(T::default())
    }
}

/// Equal when both are loaded with equal values, or both not loaded.
impl<T: PartialEq> PartialEq for Deferred<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => f.debug_tuple("Loaded").field(v).finish(),
            None => f.write_str("NotLoaded"),
        }
    }
}

impl<T> From<T> for Deferred<T> {
    fn from(value: T) -> Self {
        Deferred::new(value)
    }
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Deferred<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        T::from_sql(ty, raw).map(Deferred::new)
    }

    fn from_sql_null(ty: &Type) -> std::result::Result<Self, BoxError> {
        if *ty == Type::VOID {
            return Ok(Deferred::not_loaded());
        }
        T::from_sql_null(ty).map(Deferred::new)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::VOID || T::accepts(ty)
    }
}

impl<T: ToSql> ToSql for Deferred<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match &self.value {
            Some(v) => v.to_sql(ty, out),
            None => Err(Box::new(self.not_loaded_error())),
        }
    }

    fn accepts(ty: &Type) -> bool {
        T::accepts(ty)
    }

    postgres_types::to_sql_checked!();
}

impl<T: SqlType> SqlType for Deferred<T> {
    type Base = T::Base;
    const NULLABLE: bool = T::NULLABLE;
    const COLUMN_TYPE: ColumnType = T::COLUMN_TYPE;
    const DECODE_CHECK: bool = T::DECODE_CHECK;

    fn clone_from_any(value: &dyn std::any::Any) -> Option<Self> {
        T::clone_from_any(value).map(Deferred::new)
    }

    fn null_value() -> Option<Self> {
        T::null_value().map(Deferred::new)
    }

    fn decode_check(ty: &Type, raw: &[u8]) -> std::result::Result<(), BoxError> {
        T::decode_check(ty, raw)
    }
}
