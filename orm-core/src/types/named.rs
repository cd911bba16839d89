//! User-named PostgreSQL types: domains the ORM creates ([`DomainType`]) and types the
//! database already has, from an extension or created by other means ([`NamedType`]). A
//! [`CustomType`](super::CustomType) stores itself as one of them by naming it in its
//! `COLUMN_TYPE`.

use super::ColumnType;

/// A domain: a base type with a `CHECK` constraint, created by `create_all` (before the
/// tables) and by migrations.
///
/// ```
/// use orm_core::{BoxError, ColumnType, CustomType, SqlType};
/// use orm_core::types::DomainType;
///
/// /// A year the way the database checks it: from 1901 to 2155.
/// #[derive(Debug, Clone, Copy, PartialEq, SqlType)]
/// # #[sql_type(crate = "orm_core")]
/// pub struct Year(i32);
///
/// impl CustomType for Year {
///     type Repr = i32;
///     const COLUMN_TYPE: ColumnType = ColumnType::Domain(
///         &DomainType::new("year", &ColumnType::Integer).check("VALUE BETWEEN 1901 AND 2155"),
///     );
///     fn to_repr(&self) -> i32 {
///         self.0
///     }
///     fn from_repr(year: i32) -> Result<Self, BoxError> {
///         Ok(Year(year))
///     }
/// }
/// # assert_eq!(<Year as SqlType>::COLUMN_TYPE.domain_type().map(|d| d.name), Some("year"));
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct DomainType {
    /// The domain's name.
    pub name: &'static str,
    /// Its schema, if not the search path's.
    pub schema: Option<&'static str>,
    /// The base type.
    pub base: &'static ColumnType,
    /// The `CHECK` condition on `VALUE`, as SQL.
    pub check: Option<&'static str>,
}

impl DomainType {
    /// The domain `name` over `base`, without a check.
    pub const fn new(name: &'static str, base: &'static ColumnType) -> Self {
        DomainType {
            name,
            schema: None,
            base,
            check: None,
        }
    }

    /// In schema `schema`.
    pub const fn schema(mut self, schema: &'static str) -> Self {
        self.schema = Some(schema);
        self
    }

    /// With `CHECK (condition)`, a condition on `VALUE`.
    pub const fn check(mut self, condition: &'static str) -> Self {
        self.check = Some(condition);
        self
    }
}

/// A type the database has and the ORM does not create: an extension's type (`citext`,
/// `hstore`, `ltree`, PostGIS's `geometry`), or an enum or any type created by hand.
/// `create_all` and migrations create the extension when one is named
/// (`CREATE EXTENSION IF NOT EXISTS`), and otherwise leave the type to you. A custom type
/// naming it is sent and read in its representation's binary format, which must be the
/// type's (text for an enum, say).
///
/// ```
/// use orm_core::ColumnType;
/// use orm_core::types::NamedType;
///
/// const CITEXT: ColumnType = ColumnType::Named(&NamedType::new("citext").extension("citext"));
/// const LEGACY_STATUS: ColumnType = ColumnType::Named(&NamedType::new("status").schema("legacy"));
/// # let _ = (CITEXT, LEGACY_STATUS);
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct NamedType {
    /// The type's name.
    pub name: &'static str,
    /// Its schema, if not the search path's.
    pub schema: Option<&'static str>,
    /// The extension that defines it, created if missing.
    pub extension: Option<&'static str>,
}

impl NamedType {
    /// The type `name`.
    pub const fn new(name: &'static str) -> Self {
        NamedType {
            name,
            schema: None,
            extension: None,
        }
    }

    /// In schema `schema`.
    pub const fn schema(mut self, schema: &'static str) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Defined by the extension `extension`.
    pub const fn extension(mut self, extension: &'static str) -> Self {
        self.extension = Some(extension);
        self
    }
}
