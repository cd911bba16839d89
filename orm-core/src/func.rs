//! SQL functions, aggregates, window functions and expression helpers, in one namespace.
//!
//! Called through the module name, as SQLAlchemy's `func.max` and sea-query's `Func::max`:
//! `func::max(Order::total)`. The prelude exports the module itself (not its items), so a glob
//! `use orm_core::prelude::*;` never brings `min`, `max`, `count`, `trim`, `value` or `any` into
//! scope beside your own names.
//!
//! ```
//! use orm_core::prelude::*;
//! # use orm_core::__doc_fixture::User;
//!
//! let q = select::<User>()
//!     .columns((func::count_all(), func::max(User::id), func::lower(User::name)))
//!     .group_by(User::name);
//! assert_eq!(
//!     q.compile().unwrap().sql,
//!     r#"SELECT count(*), max("users"."id"), lower("users"."name") FROM "users" GROUP BY "users"."name""#
//! );
//! ```
//!
//! The items are defined beside the expression types they build (in [`expr`](crate::expr) and
//! [`stmt`](crate::stmt)); this module only gathers them.

// Expression helpers: values, conditions, ordering and output names.
pub use crate::expr::{all, any, asc, desc, output, value};
pub use crate::stmt::label;

// Aggregates.
pub use crate::expr::range_agg;
pub use crate::expr::{
    array_agg, avg, bool_and, bool_or, count, count_all, count_distinct, count_star, max, min,
    string_agg, sum,
};

// Ranges.
pub use crate::expr::multirange;

// Conditionals.
pub use crate::expr::{case, case_when, coalesce, greatest, least, nullif};

// Text.
pub use crate::expr::{concat_ws, length, lower, substring, trim, upper};

// Date and time.
#[cfg(feature = "decimal")]
pub use crate::expr::extract;
pub use crate::expr::{DatePart, ExtractField, age, date_part, date_trunc};
#[cfg(feature = "chrono")]
pub use crate::expr::{current_date, now};

// Window functions and frame bounds.
pub use crate::expr::{
    cume_dist, current_row, dense_rank, first_value, following, lag, last_value, lead, nth_value,
    ntile, percent_rank, preceding, rank, row_number, unbounded_following, unbounded_preceding,
    window,
};

// Full-text search.
pub use crate::expr::{
    phraseto_tsquery, plainto_tsquery, to_tsquery, to_tsvector, ts_rank, websearch_to_tsquery,
};

// Arrays.
pub use crate::expr::{array_length, cardinality};
