//! Hybrid properties: one definition that is both a Rust value on a loaded object and an SQL
//! expression for filters, ordering and selections (SQLAlchemy's `hybrid_property`), declared
//! with [`hybrid!`](crate::hybrid).
//!
//! Rust cannot turn a method body into SQL, so the macro type-checks the **same body twice**:
//! once with each named field bound to its column handle (`User::first_name`), where the
//! operations are the expression builder's and the result is an `Expr<T>`; and once with each
//! field bound to the loaded object's value, where the operations are [`HybridValue`]'s plain
//! Rust ones with the same names and the result is a `T`. An operation one side lacks is a
//! compile error, so the two cannot drift apart silently; that they agree on every value is a
//! law tested against the server.
//!
//! The Rust side covers what it can compute exactly like PostgreSQL: text concatenation,
//! comparisons, integer arithmetic with overflow checks (an overflow panics in debug builds
//! like any Rust arithmetic; PostgreSQL raises an error), and boolean `and`/`or`/`not`, on
//! non-null columns. Nullable fields have no Rust operations here (three-valued logic is not
//! Rust's `Option`): a hybrid over one does not compile.

use super::{Expr, Expression};

/// Turns the SQL side's result (a column handle or an expression) into an `Expr<T>`. Used by
/// [`hybrid!`](crate::hybrid).
#[doc(hidden)]
pub fn to_expr<T, E: Expression<Value = T>>(e: E) -> Expr<T> {
    Expr::new(e.into_node())
}

/// The Rust side of a hybrid's operations: the builder's method names, on plain values.
/// Brought into scope by [`hybrid!`](crate::hybrid) inside the Rust side only.
pub trait HybridValue: Sized {
    /// `self || other` for text.
    fn concat(self, other: impl AsRef<str>) -> String
    where
        Self: AsRef<str>,
    {
        let mut out = self.as_ref().to_owned();
        out.push_str(other.as_ref());
        out
    }

    /// `self = other`.
    fn eq(self, other: impl Into<Self>) -> bool
    where
        Self: PartialEq,
    {
        self == other.into()
    }

    /// `self <> other`.
    fn ne(self, other: impl Into<Self>) -> bool
    where
        Self: PartialEq,
    {
        self != other.into()
    }

    /// `self IS DISTINCT FROM other`: on the non-null values a hybrid reads, `<>`.
    // The SQL operator's name (as on `Expression`), not a Rust predicate on `self`.
    #[allow(clippy::wrong_self_convention)]
    fn is_distinct_from(self, other: impl Into<Self>) -> bool
    where
        Self: PartialEq,
    {
        self != other.into()
    }

    /// `self IS NOT DISTINCT FROM other`: on the non-null values a hybrid reads, `=`.
    #[allow(clippy::wrong_self_convention)]
    fn is_not_distinct_from(self, other: impl Into<Self>) -> bool
    where
        Self: PartialEq,
    {
        self == other.into()
    }

    /// `self < other`.
    fn lt(self, other: impl Into<Self>) -> bool
    where
        Self: PartialOrd,
    {
        self < other.into()
    }

    /// `self <= other`.
    fn le(self, other: impl Into<Self>) -> bool
    where
        Self: PartialOrd,
    {
        self <= other.into()
    }

    /// `self > other`.
    fn gt(self, other: impl Into<Self>) -> bool
    where
        Self: PartialOrd,
    {
        self > other.into()
    }

    /// `self >= other`.
    fn ge(self, other: impl Into<Self>) -> bool
    where
        Self: PartialOrd,
    {
        self >= other.into()
    }
}

impl HybridValue for String {}
impl HybridValue for bool {}
impl HybridValue for i16 {}
impl HybridValue for i32 {}
impl HybridValue for i64 {}

/// Integer arithmetic on the Rust side of a hybrid, named like the builder's.
pub trait HybridNumber: HybridValue {
    /// `self + other`.
    fn add(self, other: impl Into<Self>) -> Self;
    /// `self - other`.
    fn sub(self, other: impl Into<Self>) -> Self;
    /// `self * other`.
    fn mul(self, other: impl Into<Self>) -> Self;
}

macro_rules! hybrid_number {
    ($($t:ty)*) => {$(
        impl HybridNumber for $t {
            fn add(self, other: impl Into<Self>) -> Self {
                self + other.into()
            }
            fn sub(self, other: impl Into<Self>) -> Self {
                self - other.into()
            }
            fn mul(self, other: impl Into<Self>) -> Self {
                self * other.into()
            }
        }
    )*};
}

hybrid_number!(i16 i32 i64);

/// Boolean connectives on the Rust side of a hybrid, named like the builder's.
pub trait HybridBool: HybridValue {
    /// `self AND other`.
    fn and(self, other: bool) -> bool;
    /// `self OR other`.
    fn or(self, other: bool) -> bool;
    /// `NOT self`.
    fn not(self) -> bool;
}

impl HybridBool for bool {
    fn and(self, other: bool) -> bool {
        self && other
    }
    fn or(self, other: bool) -> bool {
        self || other
    }
    fn not(self) -> bool {
        !self
    }
}

/// Declares hybrid properties of a model: each is one body, compiled both as an SQL expression
/// (`User::full_name()`, an `Expr<T>` for `filter`, `order_by`, `columns`) and as a method of
/// the loaded object (`user.full_name()`, a `T`, through the trait named after `as`, which must
/// be in scope where the method is called). The fields a body reads are listed as its
/// parameters; see [the module docs](crate::expr::hybrid) for what a body may do. Like any
/// inherent impl, it must be in the crate that defines the model.
///
/// ```
/// use orm_core::prelude::*;
///
/// #[derive(Model, Debug, Clone)]
/// # #[model(crate = "orm_core")]
/// #[model(table = "people")]
/// pub struct Person {
///     #[model(primary_key, generated)]
///     pub id: i64,
///     pub first_name: String,
///     pub last_name: String,
///     pub age: i32,
/// }
///
/// orm_core::hybrid! {
///     impl Person as pub PersonHybrids {
///         /// First and last name.
///         pub fn full_name(first_name, last_name) -> String {
///             first_name.concat(" ").concat(last_name)
///         }
///         /// Whether the person is 18 or older.
///         pub fn is_adult(age) -> bool {
///             age.ge(18)
///         }
///     }
/// }
///
/// let q = select::<Person>().filter(Person::is_adult()).order_by(Person::full_name());
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"SELECT "people"."id", "people"."first_name", "people"."last_name", "people"."age" FROM "people" WHERE "people"."age" >= $1 ORDER BY ("people"."first_name" || $2) || "people"."last_name""#
/// );
/// let ada = Person { id: 1, first_name: "Ada".into(), last_name: "Lovelace".into(), age: 36 };
/// assert_eq!(ada.full_name(), "Ada Lovelace");
/// assert!(ada.is_adult());
/// ```
#[macro_export]
macro_rules! hybrid {
    (
        impl $model:ident as $trait_vis:vis $trait:ident {
            $(
                $(#[$attr:meta])*
                $vis:vis fn $name:ident ( $($field:ident),* $(,)? ) -> $ty:ty $body:block
            )*
        }
    ) => {
        impl $model {
            $(
                $(#[$attr])*
                ///
                /// The SQL side of this hybrid property: an expression over the row's columns.
                $vis fn $name() -> $crate::Expr<$ty> {
                    #[allow(unused_imports)]
                    use $crate::expr::Expression as _;
                    $( let $field = $model::$field; )*
                    $crate::expr::hybrid::to_expr::<$ty, _>($body)
                }
            )*
        }

        #[doc = ::core::concat!(
            "The Rust side of the hybrid properties of [`",
            ::core::stringify!($model),
            "`]: each computed from the loaded object's fields, like its SQL side."
        )]
        $trait_vis trait $trait {
            $(
                $(#[$attr])*
                fn $name(&self) -> $ty;
            )*
        }

        impl $trait for $model {
            $(
                fn $name(&self) -> $ty {
                    #[allow(unused_imports)]
                    use $crate::expr::hybrid::{HybridBool as _, HybridNumber as _, HybridValue as _};
                    $( let $field = ::core::clone::Clone::clone(&self.$field); )*
                    $body
                }
            )*
        }
    };
}
