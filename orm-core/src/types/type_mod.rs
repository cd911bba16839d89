//! What a column declares beyond its type: the type's modifier (a text column's length, a
//! numeric's precision and scale, a time's fractional-second precision) and its collation.
//!
//! The derive checks them against the field's type in `const`, so a modifier the type cannot
//! take is a compile error at the attribute.

use super::ColumnType;

/// The modifier written after a column's type name: `VARCHAR(80)`, `NUMERIC(10, 2)`,
/// `TIMESTAMPTZ(3)`. On an array column it applies to the element (`NUMERIC(10, 2)[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TypeMod {
    /// A text column's length: `VARCHAR(n)` instead of `TEXT`.
    pub len: Option<u32>,
    /// A numeric's total digits, or a time's digits of fractional seconds.
    pub precision: Option<u16>,
    /// A numeric's digits after the decimal point (with a precision).
    pub scale: Option<u16>,
}

impl TypeMod {
    /// No modifier: the type's own name.
    pub const NONE: TypeMod = TypeMod {
        len: None,
        precision: None,
        scale: None,
    };

    /// A modifier of these parts.
    pub const fn new(len: Option<u32>, precision: Option<u16>, scale: Option<u16>) -> Self {
        TypeMod {
            len,
            precision,
            scale,
        }
    }

    /// Whether two modifiers are the same (in `const`).
    pub const fn same(&self, other: &TypeMod) -> bool {
        same_u32(self.len, other.len)
            && same_u16(self.precision, other.precision)
            && same_u16(self.scale, other.scale)
    }
}

const fn same_u32(a: Option<u32>, b: Option<u32>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        _ => false,
    }
}

const fn same_u16(a: Option<u16>, b: Option<u16>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        _ => false,
    }
}

impl ColumnType {
    /// The type an array holds (through nested arrays), or this type.
    pub const fn element(&self) -> &ColumnType {
        match self {
            ColumnType::Array(inner) => inner.element(),
            other => other,
        }
    }

    /// Whether a value of the type has a collation: text, and domains and named types over
    /// it (`citext`); checked on the element of an array.
    pub const fn collatable(&self) -> bool {
        match self.element() {
            ColumnType::Text | ColumnType::Named(_) => true,
            ColumnType::Domain(d) => d.base.collatable(),
            _ => false,
        }
    }

    /// Why this type cannot take the modifier `m`, if it cannot: a length is for text, a
    /// precision for a numeric (1 to 1000 digits, a scale at most the precision) or a time (0
    /// to 6 digits of fractional seconds, no scale). Usable in `const`: the derive turns it into
    /// a compile error at the attribute.
    pub const fn modifier_error(&self, m: TypeMod) -> Option<&'static str> {
        let element = self.element();
        if m.len.is_some() && !matches!(element, ColumnType::Text) {
            return Some("`len` is for a text column (`String`, `VARCHAR(n)`)");
        }
        let Some(precision) = m.precision else {
            return match m.scale {
                Some(_) => Some("`scale` needs `precision`"),
                None => None,
            };
        };
        match element {
            ColumnType::Numeric => {
                if precision < 1 || precision > 1000 {
                    Some("a numeric column's `precision` is 1 to 1000 digits")
                } else if let Some(s) = m.scale
                    && s > precision
                {
                    Some("a numeric column's `scale` is at most its `precision`")
                } else {
                    None
                }
            }
            ColumnType::Time
            | ColumnType::Timestamp
            | ColumnType::Timestamptz
            | ColumnType::Interval => {
                if precision > 6 {
                    Some("a time column's `precision` (digits of fractional seconds) is 0 to 6")
                } else if m.scale.is_some() {
                    Some("`scale` is for a numeric column (`Decimal`)")
                } else {
                    None
                }
            }
            _ => Some(
                "`precision` is for a numeric column (`Decimal`) or a time column (times, timestamps, intervals)",
            ),
        }
    }

    /// Why this type cannot take a collation, if it cannot (see [`collatable`](Self::collatable)).
    pub const fn collation_error(&self) -> Option<&'static str> {
        match self.collatable() {
            true => None,
            false => Some("`collation` is for a text column (`String`, `VARCHAR(n)`, `citext`)"),
        }
    }
}

/// Fails the `const` evaluation with `error`, if there is one: the derive's check of a column's
/// modifier and collation against its type.
///
/// # Panics
/// When `error` is `Some`; only ever called in `const`, where that is a compile error.
#[doc(hidden)]
pub const fn assert_column_type(error: Option<&'static str>) {
    if let Some(message) = error {
        panic!("{}", message);
    }
}
