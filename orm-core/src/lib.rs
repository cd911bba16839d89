//! The core of the ORM: table metadata, a typed SQL expression language, statements and the SQL
//! compiler (the Core), and on top of them relationships, loading strategies and the unit of
//! work (the ORM). It does no IO and depends on no async runtime; `orm-postgres` runs what this
//! crate builds. Users depend on `orm-postgres`, which re-exports what they call.
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
//! # Layers
//! Every import points down this list; a lower layer never names a higher one, and no two files
//! import each other except inside `ast` (expressions contain queries and queries contain
//! expressions) and `compile` (whose walk mirrors that recursion). `tests/tests/layers/` reads
//! the `use` lines of the workspace and fails, naming file and import, when that stops being
//! true.
//!
//! | layer | modules | what it holds |
//! |---|---|---|
//! | foundation | [`error`] | the one [`Error`] type and its kinds |
//! | schema | [`types`], [`meta`], [`row`], [`model`] | column types and values ([`types::Param`]); table, key, index and relationship metadata; decoding rows by position ([`FromRow`], [`Decode`]); [`Model`]: a struct mapped to a table (metadata, key, values, decoding) |
//! | AST | [`ast`] | plain-data expression and statement nodes |
//! | compiler | [`compile`] | AST → SQL text and parameters; knows nothing of rows, models or the session |
//! | builders | [`expr`], [`stmt`], [`raw`], [`ddl`] | typed [`Expr<T>`] and [`Column<M, T>`], `select`/`insert`/`update`/`delete`, joins and `EXISTS` along relationships, raw SQL, DDL; the select's option slot ([`stmt::SelectOption`]); global criteria ([`stmt::Criteria`]), added to a statement's tree before it compiles |
//! | ORM | [`relation`], [`load`] | [`Related`](relation::Related), [`Relation`](relation::Relation), [`Relationship`](relation::Relationship); the loading strategies (selectin, subquery, joined, raise), which ride on the option slot |
//! | session | [`session`] | tracked objects, identity map, undo log, flush plan and its SQL, cascades, the [`UnitOfWork`](session::UnitOfWork); [`Persist`](session::Persist), what the derive implements for it |
//! | facade | `lib.rs`, [`func`], `__private`, `driver` | the prelude and the `func` namespace; the items generated code names; what `orm-postgres` needs (hidden) |
//!
//! [`Model`] sits with the metadata, below the builders, because `select::<User>()` needs a
//! model's table and decoder, as SQLAlchemy's `select(User)` takes a mapped class. What makes
//! the ORM — relationships, loading, the unit of work — lies above the builders, and `Model`
//! carries none of it: the session's column-level access is a separate trait,
//! [`Persist`](session::Persist).
//!
//! # Features
//! | feature | default | enables |
//! |---|---|---|
//! | `chrono` | yes | `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ` through chrono |
//! | `uuid` | yes | `UUID` |
//! | `json` | yes | `JSONB` through `serde_json::Value` and [`Json<T>`](types::Json) |
//! | `decimal` | yes | `NUMERIC` through `rust_decimal::Decimal` |
//! | `bigdecimal` | no | `NUMERIC` of any size, `NaN` and infinities through `BigNumeric` |
//! | `time` | no | `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ` through the `time` crate, next to chrono |

#![warn(missing_docs)]

extern crate self as orm_core;

pub mod ast;
pub mod compile;
pub mod copy;
pub mod ddl;
pub mod deferred;
pub mod error;
pub mod expr;
pub mod func;
mod fxhash;
pub mod inherit;
pub mod lex;
pub mod load;
pub mod meta;
pub mod model;
pub mod raw;
pub mod relation;
pub mod row;
pub mod session;
pub mod shard;
pub mod stmt;
pub mod types;

pub use compile::CompiledQuery;
pub use error::{
    BoxError, DbError, Error, ErrorKind, HeldGuard, PoolStage, Result, ShardError, ValueOutOfRange,
};
pub use expr::{Column, Expr, Expression, IntoExpr};
pub use meta::{ColumnDef, Table};
pub use model::Model;
pub use model::OptionalModel;
pub use orm_macros::{DbEnum, FromRow, Model, SqlType};
pub use row::{Decode, FromRow, Row};
pub use stmt::{Delete, Insert, RowOf, Select, Selection, Statement, Update};
#[cfg(feature = "json")]
pub use types::Json;
pub use types::{ColumnType, CustomType, SqlType};

/// Everything a user needs in scope: the derives, the traits whose methods build expressions,
/// the core types and the statement constructors.
///
/// SQL functions, aggregates and window functions are not imported one by one: the prelude
/// brings the [`func`] module into scope, so they read `func::max(Order::total)` and
/// never collide with your own `min`, `max`, `count` or `value`.
pub mod prelude {
    pub use crate::deferred::Deferred;
    #[cfg(feature = "json")]
    pub use crate::expr::JsonExpression;
    pub use crate::expr::{
        CompositeExpression, Expression, HstoreExpression, LtreeExpression, RangeExpression,
    };
    pub use crate::func;
    pub use crate::relation::{Related, Relationship};
    pub use crate::stmt::{
        Source, Statement, delete, delete_model, excluded, exists, insert, insert_many,
        insert_select, recursive_cte, select, select_from, select_values, update, update_model,
    };
    #[cfg(feature = "bigdecimal")]
    pub use crate::types::BigNumeric;
    #[cfg(feature = "json")]
    pub use crate::types::Json;
    #[cfg(feature = "chrono")]
    pub use crate::types::MaybeInfinite;
    pub use crate::types::{
        Bits, Cidr, Citext, Inet, Interval, Ltree, MacAddr, MacAddr8, Money, Multirange, Range,
        TsQuery, TsVector,
    };
    pub use crate::{
        BoxError, Column, CustomType, DbEnum, Error, ErrorKind, Expr, FromRow, Model, Result,
        Select, SqlType,
    };
}

/// Not public API: the items generated code refers to. May change in any release.
#[doc(hidden)]
pub mod __private;

/// Not public API: what the driver crate (`orm-postgres`) needs of the Core and the ORM to run
/// them. May change in any release.
#[doc(hidden)]
pub mod driver;

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

    /// An employee: single-table inheritance (the doc examples of [`crate::inherit`]).
    #[derive(Debug, Clone, PartialEq, Model)]
    #[model(table = "employees", discriminator = "kind", crate = "orm_core")]
    pub enum Employee {
        /// A manager.
        #[model(value = "manager")]
        Manager(Manager),
        /// An engineer.
        #[model(value = "engineer")]
        Engineer(Engineer),
    }

    /// A manager.
    #[derive(Debug, Clone, PartialEq, Model)]
    #[model(inherits = Employee, crate = "orm_core")]
    pub struct Manager {
        /// Key, generated.
        #[model(primary_key, generated)]
        pub id: i64,
        /// Name.
        pub name: String,
        /// Budget.
        pub budget: i32,
    }

    /// An engineer.
    #[derive(Debug, Clone, PartialEq, Model)]
    #[model(inherits = Employee, crate = "orm_core")]
    pub struct Engineer {
        /// Key, generated.
        #[model(primary_key, generated)]
        pub id: i64,
        /// Name.
        pub name: String,
        /// Language.
        pub language: String,
    }

    /// A post, written by a user.
    #[derive(Debug, Clone, PartialEq, Model)]
    #[model(table = "posts", crate = "orm_core")]
    pub struct Post {
        /// Key, generated.
        #[model(primary_key, generated)]
        pub id: i64,
        /// The author.
        #[model(references = "users.id")]
        pub user_id: i64,
        /// Title.
        pub title: String,
    }

    /// An article, whose body is deferred.
    #[derive(Debug, Clone, PartialEq, Model)]
    #[model(table = "articles", crate = "orm_core")]
    pub struct Article {
        /// Key, generated.
        #[model(primary_key, generated)]
        pub id: i64,
        /// Title.
        pub title: String,
        /// The text, loaded only when a query asks for it.
        #[model(deferred)]
        pub body: crate::deferred::Deferred<String>,
    }

    /// A tag, keyed by the application (no generated column: its rows can go by `COPY`).
    #[derive(Debug, Clone, PartialEq, Model)]
    #[model(table = "tags", crate = "orm_core")]
    pub struct Tag {
        /// Key, set by the application.
        #[model(primary_key)]
        pub id: i64,
        /// Label.
        pub label: String,
    }

    /// A room booked for a range of hours.
    #[derive(Debug, Clone, PartialEq, Model)]
    #[model(table = "bookings", crate = "orm_core")]
    pub struct Booking {
        /// Key, generated.
        #[model(primary_key, generated)]
        pub id: i64,
        /// The room.
        pub room: i32,
        /// The hours.
        pub during: crate::types::Range<i32>,
    }

    /// A gadget with free-form attributes (`hstore`) in a category tree (`ltree`).
    #[derive(Debug, Clone, PartialEq, Model)]
    #[model(table = "gadgets", crate = "orm_core")]
    pub struct Gadget {
        /// Key, generated.
        #[model(primary_key, generated)]
        pub id: i64,
        /// Attributes.
        pub attrs: std::collections::HashMap<String, Option<String>>,
        /// Category.
        pub path: crate::types::Ltree,
    }
}
