//! [`ValueOutOfRange`]: a value the server sent that the Rust type cannot hold.

use std::fmt;

/// A value the server sent that the Rust type cannot hold without changing it: a `NUMERIC`
/// past `Decimal`'s 28 decimals, `NaN` or an infinity into a type without them, a date beyond
/// chrono's range.
///
/// It is the source of the [`ErrorKind::Decode`](crate::ErrorKind::Decode) error (which names
/// the model and the column); [`Error::value_out_of_range`](crate::Error::value_out_of_range)
/// finds it.
///
/// ```
/// use orm_core::error::ValueOutOfRange;
///
/// let e = ValueOutOfRange::new("numeric", "NaN", "rust_decimal::Decimal", "read it as BigNumeric");
/// assert_eq!(e.value(), "NaN");
/// assert_eq!(
///     e.to_string(),
///     "the numeric value NaN does not fit rust_decimal::Decimal: read it as BigNumeric"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueOutOfRange {
    sql_type: &'static str,
    value: String,
    rust_type: &'static str,
    reason: String,
}

/// How much of a long value the message shows.
const SHOWN: usize = 80;

impl ValueOutOfRange {
    /// A value of `sql_type` (as PostgreSQL writes it) that `rust_type` cannot hold, and why
    /// (or what to read it as instead).
    pub fn new(
        sql_type: &'static str,
        value: impl Into<String>,
        rust_type: &'static str,
        reason: impl Into<String>,
    ) -> ValueOutOfRange {
        ValueOutOfRange {
            sql_type,
            value: value.into(),
            rust_type,
            reason: reason.into(),
        }
    }

    /// The SQL type of the value (`numeric`, `date`, `timestamp`, ...).
    pub fn sql_type(&self) -> &'static str {
        self.sql_type
    }

    /// The whole value, as PostgreSQL writes it (`NaN`, `infinity`, every digit of a number).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The Rust type that cannot hold it.
    pub fn rust_type(&self) -> &'static str {
        self.rust_type
    }

    /// Why, and what to read the value as instead.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ValueOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} value ", self.sql_type)?;
        match self.value.char_indices().nth(SHOWN) {
            Some((cut, _)) => write!(
                f,
                "{}... ({} characters)",
                &self.value[..cut],
                self.value.chars().count()
            )?,
            None => f.write_str(&self.value)?,
        }
        write!(f, " does not fit {}: {}", self.rust_type, self.reason)
    }
}

impl std::error::Error for ValueOutOfRange {}
