//! What each SQL type supports: the marker traits that operators and functions require of
//! their operands (numbers, arithmetic, intervals, arrays, JSONB), and the small node helpers
//! the operators share. Below the operators ([`ops`](super::ops)) and the functions that use
//! them, so neither imports the other.

#[cfg(feature = "json")]
use super::param;
use super::{BinOp, CastType, Node};
use crate::types::{ArrayElement, Interval, Multirange, Range, RangeElement, SqlType};

/// `CAST(node AS ty)` when `node` is a bare parameter (whose type the server could not infer
/// from its position), else `node` unchanged. Depends only on the node's kind, never on values.
pub(crate) fn typed_param(node: Node, ty: CastType) -> Node {
    match node {
        Node::Param(_) => Node::Cast(Box::new(node), ty),
        other => other,
    }
}

/// A bare parameter cast to the column type of `T`.
pub(crate) fn typed_param_of<T: SqlType>(node: Node) -> Node {
    typed_param(node, CastType::Column(T::COLUMN_TYPE))
}

/// A numeric type, and what `^` (power) returns for it: the server computes powers in
/// `double precision` for integers and floats, in `numeric` for `numeric`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a numeric type",
    label = "expected an integer, float or numeric expression"
)]
pub trait Numeric: SqlType {
    /// The type of `self ^ exponent` (and of the exponent).
    type Power: SqlType;
}

impl Numeric for i16 {
    type Power = f64;
}
impl Numeric for i32 {
    type Power = f64;
}
impl Numeric for i64 {
    type Power = f64;
}
impl Numeric for f32 {
    type Power = f64;
}
impl Numeric for f64 {
    type Power = f64;
}

#[cfg(feature = "decimal")]
impl Numeric for rust_decimal::Decimal {
    type Power = rust_decimal::Decimal;
}

/// A type with `+` and `-` between two of its values: numbers and intervals. (Dates and
/// timestamps move by intervals: `add_interval`, `sub_interval`, `age`.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not support `add`/`sub`",
    label = "expected an integer, float, numeric or interval expression",
    note = "for dates and timestamps use `add_interval`, `sub_interval` or `age`"
)]
pub trait Arithmetic: SqlType {}

impl<T: Signed> Arithmetic for T {}

/// A type with a negation (`-x`): numbers and intervals.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be negated",
    label = "expected an integer, float, numeric or interval expression"
)]
pub trait Signed: SqlType {}

/// A type with a remainder (`x % y`): integers and `numeric`.
#[diagnostic::on_unimplemented(
    message = "`%` is not defined for `{Self}`",
    label = "expected an integer or numeric expression"
)]
pub trait Remainder: SqlType {}

impl Signed for i16 {}
impl Signed for i32 {}
impl Signed for i64 {}
impl Signed for f32 {}
impl Signed for f64 {}
impl Signed for Interval {}
impl Signed for crate::types::Money {}
impl Remainder for i16 {}
impl Remainder for i32 {}
impl Remainder for i64 {}
#[cfg(feature = "bigdecimal")]
impl Numeric for crate::types::BigNumeric {
    type Power = crate::types::BigNumeric;
}
#[cfg(feature = "bigdecimal")]
impl Signed for crate::types::BigNumeric {}
#[cfg(feature = "bigdecimal")]
impl Remainder for crate::types::BigNumeric {}
#[cfg(feature = "decimal")]
impl Signed for rust_decimal::Decimal {}
#[cfg(feature = "decimal")]
impl Remainder for rust_decimal::Decimal {}

/// A type an [`Interval`] can be added to or subtracted from, and the type of the result.
#[diagnostic::on_unimplemented(
    message = "an interval cannot be added to `{Self}`",
    label = "expected a date, time, timestamp or interval expression"
)]
pub trait IntervalArith: SqlType {
    /// The result's type: `TIMESTAMP` for a `DATE`, else the same type.
    type Output: SqlType;
}

impl IntervalArith for Interval {
    type Output = Interval;
}

#[cfg(feature = "chrono")]
mod chrono_impls {
    use super::IntervalArith;
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

    impl IntervalArith for NaiveDate {
        type Output = NaiveDateTime;
    }
    impl IntervalArith for NaiveTime {
        type Output = NaiveTime;
    }
    impl IntervalArith for NaiveDateTime {
        type Output = NaiveDateTime;
    }
    impl IntervalArith for DateTime<Utc> {
        type Output = DateTime<Utc>;
    }

    // An infinity moved by an interval stays that infinity.
    use crate::types::{Infinite, MaybeInfinite};
    impl<T: Infinite + IntervalArith> IntervalArith for MaybeInfinite<T>
    where
        T::Output: Infinite,
    {
        type Output = MaybeInfinite<T::Output>;
    }
}

/// `self + interval` or `self - interval`, a bare parameter cast to `INTERVAL` (the server
/// cannot choose among `date + integer` and `date + interval` otherwise).
pub(crate) fn interval_op(op: BinOp, e: Node, interval: Node) -> Node {
    Node::binary(op, e, typed_param_of::<Interval>(interval))
}

/// A `JSONB` type: `serde_json::Value` or [`Json<T>`](crate::types::Json).
#[cfg(feature = "json")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a JSONB type",
    label = "expected a JSONB (`serde_json::Value` or `Json<T>`) expression"
)]
pub trait JsonType: SqlType {}

#[cfg(feature = "json")]
impl JsonType for serde_json::Value {}

#[cfg(feature = "json")]
impl<T> JsonType for crate::types::Json<T> where crate::types::Json<T>: SqlType {}

/// An array type (`Vec<T>`, not `Vec<u8>`, which is `BYTEA`) and its element type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an array type",
    label = "expected an array (`Vec<T>`) expression"
)]
pub trait ArrayType: SqlType {
    /// The element type.
    type Element: SqlType;
}

impl<T: ArrayElement> ArrayType for Vec<T> {
    type Element = T;
}

/// A type with the containment operators `@>`, `<@` and `&&`: arrays (`Vec<T>`), ranges
/// ([`Range<T>`]) and multiranges ([`Multirange<T>`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no containment operators",
    label = "expected an array (`Vec<T>`), range (`Range<T>`) or multirange (`Multirange<T>`) expression"
)]
pub trait Containment: SqlType {
    /// The operand as sent: a bare range parameter is cast to its range type (the server
    /// cannot choose between `range @> range` and `range @> element` otherwise); an array
    /// parameter is not.
    #[doc(hidden)]
    fn operand(node: Node) -> Node {
        node
    }
}

impl<T: ArrayElement> Containment for Vec<T> {}

impl<T: RangeElement + Clone> Containment for Range<T> {
    fn operand(node: Node) -> Node {
        typed_param_of::<Self>(node)
    }
}

/// A range type ([`Range<T>`]) or multirange type ([`Multirange<T>`]), its element type and
/// the range type of its parts.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a range type",
    label = "expected a range (`Range<T>`) or multirange (`Multirange<T>`) expression"
)]
pub trait RangeType: Containment {
    /// The element type.
    type Element: SqlType;
    /// The range type of its parts: itself for a range, `Range<T>` for a `Multirange<T>`.
    type Part: Containment;
    /// The multirange type of the same element type (what `range_agg` returns).
    type Multi: SqlType;
}

impl<T: RangeElement + Clone> RangeType for Range<T> {
    type Element = T;
    type Part = Range<T>;
    type Multi = Multirange<T>;
}

impl<T: RangeElement + Clone> Containment for Multirange<T> {
    fn operand(node: Node) -> Node {
        typed_param_of::<Self>(node)
    }
}

impl<T: RangeElement + Clone> RangeType for Multirange<T> {
    type Element = T;
    type Part = Range<T>;
    type Multi = Multirange<T>;
}

/// `self -> key`
#[cfg(feature = "json")]
pub(crate) fn get(e: Node, key: Node) -> Node {
    Node::binary(BinOp::JsonGet, e, key)
}

/// `self -> CAST($n AS INTEGER)`: the cast makes the server read an array index, not a key.
#[cfg(feature = "json")]
pub(crate) fn get_index(e: Node, index: Node) -> Node {
    Node::binary(BinOp::JsonGet, e, typed_param_of::<i32>(index))
}

/// `self op $n` with a path as one `text[]` parameter.
#[cfg(feature = "json")]
pub(crate) fn path<I, S>(op: BinOp, e: Node, path: I) -> Node
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let path: Vec<String> = path.into_iter().map(|s| s.as_ref().to_owned()).collect();
    Node::binary(op, e, Node::Param(param(path)))
}

/// `value = ANY(array)`
pub(crate) fn has_element(array: Node, value: Node) -> Node {
    Node::Quantified {
        expr: Box::new(value),
        op: BinOp::Eq,
        array: Box::new(array),
        all: false,
    }
}
