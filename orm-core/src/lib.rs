//! The core of the ORM: table metadata, a typed SQL expression language, statements and the SQL
//! compiler. It does no IO and depends on no async runtime; `orm-postgres` runs what this crate
//! builds. Users depend on `orm-postgres`, which re-exports everything here.
//!
//! ```
//! use orm_core::prelude::*;
//! # use orm_core::__doc_fixture::User;
//!
//! // `User` derives `Model`; `User::name` is a typed `Column<User, String>`.
//! let q = select::<User>().filter(User::name.eq("Jane").and(User::id.is_in([1, 2, 3])));
//! let compiled = q.compile().unwrap();
//! assert_eq!(
//!     compiled.sql,
//!     r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE ("users"."name" = $1) AND ("users"."id" = ANY($2))"#
//! );
//! assert_eq!(compiled.params.len(), 2); // values are never part of the SQL text
//! ```
//!
//! # Behavior
//! - **Values are always parameters.** The SQL text depends only on the statement's shape: `IN`
//!   lists become `= ANY($n)` with one array, `LIMIT`/`OFFSET` are parameters, multi-row inserts
//!   send one array per column. So every statement hits the server's prepared-statement cache.
//! - **Identifiers are always quoted**, embedded `"` doubled; a name over 63 bytes is rejected
//!   with [`ErrorKind::InvalidIdentifier`] rather than silently truncated by the server.
//! - **Types live at the edges.** Columns and expressions carry their Rust value type, so
//!   comparing a text column with an integer does not compile; inside, statements are plain data.
//!
//! # Features
//! | feature | default | enables |
//! |---|---|---|
//! | `chrono` | yes | `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ` through chrono |
//! | `uuid` | yes | `UUID` |
//! | `json` | yes | `JSONB` through `serde_json::Value` and [`Json<T>`](types::Json) |
//! | `decimal` | yes | `NUMERIC` through `rust_decimal::Decimal` |

#![warn(missing_docs)]

extern crate self as orm_core;

pub mod ast;
pub mod compile;
pub mod ddl;
pub mod error;
pub mod expr;
pub mod load;
pub mod meta;
pub mod model;
pub mod raw;
pub mod relation;
pub mod row;
pub mod session;
pub mod stmt;
pub mod types;

pub use compile::CompiledQuery;
pub use error::{BoxError, DbError, Error, ErrorKind, PoolStage, Result};
pub use expr::{Column, Expr, Expression, IntoExpr};
pub use meta::{ColumnDef, Table};
pub use model::Model;
pub use model::OptionalModel;
pub use orm_macros::{DbEnum, FromRow, Model};
pub use row::{Decode, FromRow, Row};
pub use stmt::{Delete, Insert, RowOf, Select, Selection, Statement, Update};
#[cfg(feature = "json")]
pub use types::Json;
pub use types::{ColumnType, SqlType};

/// Everything a user needs in scope: the derives, the statement builders and the traits whose
/// methods build expressions.
pub mod prelude {
    pub use crate::expr::{Expression, all, any, asc, count_star, desc, value};
    // Functions, aggregates and window functions.
    #[cfg(feature = "decimal")]
    pub use crate::expr::extract;
    pub use crate::expr::{
        DatePart, ExtractField, age, array_agg, array_length, avg, bool_and, bool_or, cardinality,
        case, case_when, coalesce, concat_ws, count, count_all, count_distinct, cume_dist,
        current_row, date_part, date_trunc, dense_rank, first_value, following, greatest, lag,
        last_value, lead, least, length, lower, max, min, nth_value, ntile, nullif, percent_rank,
        phraseto_tsquery, plainto_tsquery, preceding, rank, row_number, string_agg, substring, sum,
        to_tsquery, to_tsvector, trim, ts_rank, unbounded_following, unbounded_preceding, upper,
        websearch_to_tsquery, window,
    };
    #[cfg(feature = "chrono")]
    pub use crate::expr::{current_date, now};
    pub use crate::relation::{Related, Relationship};
    pub use crate::stmt::{
        Source, Statement, delete, delete_model, excluded, exists, insert, insert_many,
        insert_select, label, recursive_cte, select, select_from, select_values, update,
        update_model,
    };
    #[cfg(feature = "json")]
    pub use crate::types::Json;
    pub use crate::types::{Interval, TsQuery, TsVector};
    pub use crate::{
        Column, DbEnum, Error, ErrorKind, Expr, FromRow, Model, Result, Select, SqlType,
    };
}

/// Not public API: the items generated code refers to. May change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::error::{Error, Result};
    pub use crate::expr::{Column, Param, param};
    pub use crate::meta::{ColumnDef, FkAction, ForeignKey, Index, Table};
    pub use crate::model::Model;
    pub use crate::model::OptionalModel;
    pub use crate::relation::{KeyOf, Related, Relation, RelationKind, RelationMeta, Relationship};
    pub use crate::row::NullableRow;
    pub use crate::row::{FromRow, Row, decode_field};
    pub use crate::types::{ArrayElement, ColumnType, EnumType, SqlType};
    pub use bytes::BytesMut;
    pub use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
    pub use std::boxed::Box;
    pub use std::clone::Clone;
    pub use std::default::Default;
    pub use std::fmt::Debug;
    pub use std::option::Option::{self, None, Some};
    pub use std::result::Result::{Err, Ok};
    pub use std::unimplemented;
    pub use std::vec::Vec;

    /// The error type `ToSql`/`FromSql` implementations return.
    pub type BoxError = crate::error::BoxError;

    /// Collects one field of every row into an array parameter (for `unnest` inserts).
    pub fn column_array<M, T, F>(rows: &[M], field: F) -> Param
    where
        T: crate::types::SqlType,
        F: Fn(&M) -> &T,
        T: Clone,
    {
        let values: Vec<T> = rows.iter().map(|r| field(r).clone()).collect();
        std::sync::Arc::new(values)
    }

    /// The error `FromSql` of a `#[derive(DbEnum)]` type returns for a label it does not know.
    pub fn unknown_enum_label(type_name: &'static str, raw: &[u8]) -> BoxError {
        format!(
            "unknown label `{}` for enum type `{type_name}`",
            String::from_utf8_lossy(raw)
        )
        .into()
    }

    pub use crate::relation::Cascade;
    pub use crate::session::{ColumnSet, HookContext, Hooks, Persist, RelationOps, TypedRelation};
    pub use std::any::Any;
    pub use std::fmt::Display;

    /// Collects one field of every row (by reference) into an array parameter.
    pub fn column_array_ref<M, T, F>(rows: &[&M], field: F) -> Param
    where
        T: crate::types::SqlType + Clone,
        F: Fn(&M) -> &T,
    {
        let values: Vec<T> = rows.iter().map(|r| field(r).clone()).collect();
        std::sync::Arc::new(values)
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
    pub fn column_changed<T: PartialEq>(value: &T, old: &T) -> bool {
        value != old
    }

    pub use std::cmp::PartialEq;

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
}

/// The model the doc examples use, derived like any user's model.
#[doc(hidden)]
pub mod __doc_fixture {
    use crate::Model;

    /// A user.
    #[derive(Debug, Clone, PartialEq, Model)]
    #[model(table = "users", crate = "orm_core")]
    pub struct User {
        /// Key, generated.
        #[model(primary_key, generated)]
        pub id: i64,
        /// Name.
        #[model(len = 80, unique)]
        pub name: String,
        /// Email.
        pub email: Option<String>,
    }
}
