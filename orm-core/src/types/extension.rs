//! The types of PostgreSQL's contrib extensions that need no extra crate: `citext` ([`Citext`]),
//! `ltree` ([`Ltree`]) and `hstore` (`HashMap<String, Option<String>>`). `create_all` and
//! migrations create the extension (`CREATE EXTENSION IF NOT EXISTS`) of a column that uses
//! one; the server's role needs the right to (a superuser, or a trusted extension: `citext`,
//! `hstore` and `ltree` are trusted since PostgreSQL 13).

use std::collections::HashMap;

use bytes::BytesMut;
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::{ColumnType, NamedType};
use crate::error::BoxError;

/// Text compared case-insensitively by the server (`citext`): `'Ann@X.org' = 'ann@x.org'`.
/// The value is kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Citext(pub String);

/// A label path (`ltree`): `Top.Science.Astronomy`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ltree(pub String);

macro_rules! text_extension_type {
    ($($ty:ident => $name:literal),* $(,)?) => {$(
        impl ToSql for $ty {
            fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                self.0.as_str().to_sql(ty, out)
            }
            fn accepts(ty: &Type) -> bool {
                ty.name() == $name
            }
            to_sql_checked!();
        }

        impl<'a> FromSql<'a> for $ty {
            fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
                String::from_sql(ty, raw).map($ty)
            }
            fn accepts(ty: &Type) -> bool {
                ty.name() == $name
            }
        }

        value_types! { $ty => ColumnType::Named(&NamedType::new($name).extension($name)) }
    )*};
}

text_extension_type! {
    Citext => "citext",
    Ltree => "ltree",
}

// `hstore`: keys with text values or `NULL` (postgres-types' own impls).
value_types! {
    HashMap<String, Option<String>> => ColumnType::Named(&NamedType::new("hstore").extension("hstore")),
}
