//! Column types as far as the lint cares: which type changes rewrite the table, which types
//! the preference rules name.

use sqlparser::ast::{CharacterLength, DataType, ExactNumberInfo, TimezoneInfo};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// A column type, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ty {
    /// `smallint`, `smallserial`.
    Int2,
    /// `integer`, `serial`.
    Int4,
    /// `bigint`, `bigserial`.
    Int8,
    /// `varchar(n)` / `varchar`.
    Varchar(Option<u64>),
    /// `char(n)`.
    Char(Option<u64>),
    /// `text`.
    Text,
    /// `numeric(p, s)` / `numeric`.
    Numeric(Option<(u64, i64)>),
    /// `timestamp`, with or without time zone.
    Timestamp {
        /// `with time zone`.
        tz: bool,
    },
    /// Anything else, by its printed name.
    Other(String),
}

impl Ty {
    /// The classification of a parsed type.
    pub(crate) fn of(t: &DataType) -> Ty {
        let len = |l: &Option<CharacterLength>| match l {
            Some(CharacterLength::IntegerLength { length, .. }) => Some(*length),
            _ => None,
        };
        let num = |n: &ExactNumberInfo| match n {
            ExactNumberInfo::None => None,
            ExactNumberInfo::Precision(p) => Some((*p, 0)),
            ExactNumberInfo::PrecisionAndScale(p, s) => Some((*p, *s)),
        };
        match t {
            DataType::Int2(_) | DataType::SmallInt(_) => Ty::Int2,
            DataType::Int(_) | DataType::Int4(_) | DataType::Integer(_) => Ty::Int4,
            DataType::Int8(_) | DataType::BigInt(_) => Ty::Int8,
            DataType::Varchar(l) | DataType::CharacterVarying(l) | DataType::CharVarying(l) => {
                Ty::Varchar(len(l))
            }
            DataType::Char(l) | DataType::Character(l) => Ty::Char(len(l)),
            DataType::Text => Ty::Text,
            DataType::Numeric(n) | DataType::Decimal(n) | DataType::Dec(n) => Ty::Numeric(num(n)),
            DataType::Timestamp(_, tz) => Ty::Timestamp {
                tz: matches!(tz, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz),
            },
            DataType::Custom(name, _) => match name.to_string().to_lowercase().as_str() {
                "smallserial" | "serial2" => Ty::Int2,
                "serial" | "serial4" => Ty::Int4,
                "bigserial" | "serial8" => Ty::Int8,
                "timestamptz" => Ty::Timestamp { tz: true },
                other => Ty::Other(other.to_string()),
            },
            other => Ty::Other(other.to_string().to_lowercase()),
        }
    }

    /// The classification of a type as the server prints it (`format_type`: `character
    /// varying(20)`), `None` when it does not parse.
    pub(crate) fn parse(printed: &str) -> Option<Ty> {
        let mut parser = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(printed)
            .ok()?;
        parser.parse_data_type().ok().map(|t| Ty::of(&t))
    }
}

/// Whether the type is `serial` and friends (a sequence default for every row).
pub(crate) fn is_serial(t: &DataType) -> bool {
    matches!(t, DataType::Custom(name, _)
        if matches!(name.to_string().to_lowercase().as_str(),
            "smallserial" | "serial2" | "serial" | "serial4" | "bigserial" | "serial8"))
}

/// Whether changing a column from `from` to `to` (without `USING`) keeps the table as it is:
/// the binary-compatible changes PostgreSQL applies without a rewrite.
pub(crate) fn rewrite_free(from: &Ty, to: &Ty) -> bool {
    match (from, to) {
        _ if from == to => true,
        (Ty::Varchar(Some(a)), Ty::Varchar(Some(b))) => b >= a,
        (Ty::Varchar(_), Ty::Varchar(None) | Ty::Text) => true,
        (Ty::Text, Ty::Varchar(None)) => true,
        (Ty::Numeric(Some((p, s))), Ty::Numeric(Some((p2, s2)))) => s2 == s && p2 >= p,
        (Ty::Numeric(Some(_)), Ty::Numeric(None)) => true,
        _ => false,
    }
}

/// Functions whose value differs from row to row: a default calling one is computed for every
/// row when the column is added. (Unknown user functions are not assumed volatile.)
pub(crate) const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "setval",
    "txid_current",
    "random_normal",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_types_classify() {
        assert_eq!(
            Ty::parse("character varying(20)"),
            Some(Ty::Varchar(Some(20)))
        );
        assert_eq!(Ty::parse("numeric(10,2)"), Some(Ty::Numeric(Some((10, 2)))));
        assert_eq!(Ty::parse("numeric"), Some(Ty::Numeric(None)));
        assert_eq!(
            Ty::parse("timestamp without time zone"),
            Some(Ty::Timestamp { tz: false })
        );
        assert_eq!(
            Ty::parse("timestamp with time zone"),
            Some(Ty::Timestamp { tz: true })
        );
        assert_eq!(Ty::parse("integer"), Some(Ty::Int4));
        assert_eq!(Ty::parse("text"), Some(Ty::Text));
    }

    #[test]
    fn only_binary_compatible_changes_are_rewrite_free() {
        let p = |s| Ty::parse(s).expect("a type");
        assert!(rewrite_free(&p("varchar(20)"), &p("varchar(40)")));
        assert!(rewrite_free(&p("varchar(20)"), &p("text")));
        assert!(rewrite_free(&p("character varying(20)"), &p("varchar")));
        assert!(rewrite_free(&p("numeric(10,2)"), &p("numeric(12,2)")));
        assert!(rewrite_free(&p("numeric(10,2)"), &p("numeric")));
        assert!(!rewrite_free(&p("varchar(40)"), &p("varchar(20)")));
        assert!(!rewrite_free(&p("numeric(10,2)"), &p("numeric(12,3)")));
        assert!(!rewrite_free(&p("integer"), &p("bigint")));
        assert!(!rewrite_free(&p("text"), &p("varchar(10)")));
        assert!(!rewrite_free(&p("integer"), &p("text")));
    }
}
