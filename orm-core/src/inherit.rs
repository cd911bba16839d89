//! Single-table inheritance: a hierarchy of models stored in one table, told apart by a
//! discriminator column (SQLAlchemy's `polymorphic_on` / `polymorphic_identity`).
//!
//! The hierarchy is an enum whose variants wrap structs:
//!
//! ```
//! use orm_core::prelude::*;
//! # mod doc { use orm_core::Model;
//! #[derive(Model, Debug, Clone)]
//! #[model(table = "employees", discriminator = "kind")]
//! # #[model(crate = "orm_core")]
//! pub enum Employee {
//!     #[model(value = "manager")]
//!     Manager(Manager),
//!     #[model(value = "engineer")]
//!     Engineer(Engineer),
//! }
//!
//! #[derive(Model, Debug, Clone)]
//! #[model(inherits = Employee)]
//! # #[model(crate = "orm_core")]
//! pub struct Manager {
//!     #[model(primary_key, generated)]
//!     pub id: i64,
//!     pub name: String,
//!     pub budget: i32,
//! }
//! # #[derive(Model, Debug, Clone)]
//! # #[model(inherits = Employee, crate = "orm_core")]
//! # pub struct Engineer {
//! #     #[model(primary_key, generated)]
//! #     pub id: i64,
//! #     pub name: String,
//! # }
//! # }
//! # use orm_core::__doc_fixture::{Employee, Manager};
//!
//! // The enum reads every row, as the variant its discriminator names ...
//! let all = select::<Employee>().filter(Manager::name.eq("Ann"));
//! assert_eq!(
//!     all.compile().unwrap().sql,
//!     r#"SELECT "employees"."id", "employees"."name", "employees"."budget", "employees"."kind", "employees"."language" FROM "employees" WHERE "employees"."name" = $1"#
//! );
//! // ... a variant only its own rows.
//! assert_eq!(
//!     select::<Manager>().compile().unwrap().sql,
//!     r#"SELECT "employees"."id", "employees"."name", "employees"."budget", "employees"."kind" FROM "employees" WHERE "employees"."kind" = $1"#
//! );
//! ```
//!
//! - The enum implements [`Inheritance`] and [`Model`]: its table is the union of the variants'
//!   columns (a column not every variant has is nullable); `select::<Employee>()` reads every
//!   row and decodes each into the variant its discriminator names, by position.
//! - Each variant struct implements [`Variant`] and [`Model`]: its table is the same table, its
//!   columns its fields plus the discriminator; `select::<Manager>()` reads only rows whose
//!   discriminator is the variant's value, and inserting a `Manager` writes that value.
//! - The session persists the enum (`session.add(Employee::from(manager))`), so one row is one
//!   object, keyed by the shared primary key.
//!
//! **Joined-table inheritance**: a variant struct with its own `#[model(table = "...")]` keeps
//! its own columns there, its key and `#[model(shared)]` columns in the enum's base table
//! ([`Joined`](crate::meta::Joined), [`ColumnDef::home`](crate::meta::ColumnDef::home)).
//! Queries join the tables on the key (`LEFT JOIN` for the enum, `JOIN` for a variant, or
//! [`PolymorphicLoad::SelectIn`](crate::meta::PolymorphicLoad)); the session writes each table
//! with its own statement (`session/flush/joined.rs`).

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use postgres_types::{IsNull, Kind, ToSql, Type, to_sql_checked};

use crate::error::BoxError;
use crate::expr::{BinOp, ColumnRef, Expr, Node, Param, param};
use crate::model::Model;

/// The enum of a single-table inheritance hierarchy: the table and the discriminator column.
/// Implemented by `#[derive(Model)]` on the enum; the variants' derives read it (these
/// constants do not depend on the variants, so the variants' tables can name them).
pub trait Inheritance: 'static {
    /// The table's name.
    const TABLE_NAME: &'static str;
    /// The table's schema, if not the search path's.
    const SCHEMA: Option<&'static str>;
    /// The discriminator column.
    const DISCRIMINATOR: &'static str;
}

/// A variant of an inheritance enum: a struct deriving `Model` with `#[model(inherits =
/// Enum)]`, wrapped by a variant of `Enum` with `#[model(value = "...")]`. Implemented by the
/// enum's derive.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a variant of an inheritance enum",
    label = "not a variant",
    note = "wrap it in a variant of an enum deriving Model: `#[model(value = \"...\")] {Self}({Self})`"
)]
pub trait Variant: Model + Sized {
    /// The enum.
    type Base: Model + Inheritance + From<Self>;
    /// The discriminator value of this variant's rows.
    const VALUE: &'static str;

    /// The enum's variant holding `base`, or `base` back when it is another variant.
    fn from_base(base: Self::Base) -> Result<Self, Self::Base>;
}

/// `discriminator = $1` for the rows of variant `V`: to read only managers through the enum
/// (`select::<Employee>().filter(is_variant::<Manager>())`), as the session's queries do.
///
/// ```
/// # use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Employee, Manager};
/// let q = select::<Employee>().filter(orm_core::inherit::is_variant::<Manager>());
/// assert!(q.compile().unwrap().sql.ends_with(r#"WHERE "employees"."kind" = $1"#));
/// ```
pub fn is_variant<V: Variant>() -> Expr<bool> {
    Expr::new(Node::binary(
        BinOp::Eq,
        Node::Column(ColumnRef {
            table: <V::Base as Inheritance>::TABLE_NAME,
            name: <V::Base as Inheritance>::DISCRIMINATOR,
        }),
        Node::Param(param(V::VALUE.to_owned())),
    ))
}

/// `NULL` of any type: the value of a column a variant does not have.
#[derive(Debug, Clone, Copy)]
pub struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `NULL` as a parameter: a new one each time. A statement numbers a parameter it holds
/// twice once (`$n`), and one `$n` for two columns of different types is refused
/// (`inconsistent types deduced`, 42P08): the columns a variant lacks each get their own.
pub fn null_param() -> Param {
    Arc::new(Null)
}

/// `NULL` as a reference, for the rows of a binary `COPY`.
pub static NULL: Null = Null;

/// An array parameter built from one parameter per element (each encoded as the array's
/// element type): the column of rows of several variants, for `unnest`.
#[derive(Debug)]
pub struct ErasedArray(pub Vec<Param>);

impl ToSql for ErasedArray {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let Kind::Array(member) = ty.kind() else {
            return Err(format!("cannot encode an array as `{ty}`").into());
        };
        let len = i32::try_from(self.0.len()).map_err(|_| "array too long")?;
        out.put_i32(1); // dimensions
        let flag_at = out.len();
        out.put_i32(0); // has nulls
        out.put_u32(member.oid());
        out.put_i32(len);
        out.put_i32(1); // lower bound
        let mut has_null = false;
        for value in &self.0 {
            let at = out.len();
            out.put_i32(0);
            match value.to_sql_checked(member, out)? {
                IsNull::Yes => {
                    has_null = true;
                    out[at..at + 4].copy_from_slice(&(-1i32).to_be_bytes());
                }
                IsNull::No => {
                    let n = i32::try_from(out.len() - at - 4).map_err(|_| "value too long")?;
                    out[at..at + 4].copy_from_slice(&n.to_be_bytes());
                }
            }
        }
        if has_null {
            out[flag_at..flag_at + 4].copy_from_slice(&1i32.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Array(_))
    }

    to_sql_checked!();
}

/// Reads the discriminator of a row of an inheritance enum (a `NULL` is a decode error naming
/// the model and column).
pub fn read_discriminator<'r, R: crate::row::Row + ?Sized>(
    row: &'r R,
    idx: usize,
    model: &'static str,
    column: &'static str,
) -> crate::error::Result<&'r str> {
    row.get_at::<&'r str>(idx)
        .map_err(|e| crate::error::Error::decode(model, column, e))
}
