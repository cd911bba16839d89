//! The values of a text column over many rows, packed: [`TextArray`] holds every row's string
//! in one buffer, so a multi-row statement's array parameter (an `INSERT … FROM unnest`, the
//! flush's `UPDATE … FROM unnest`) costs two allocations instead of one `String` per row.

use bytes::{BufMut, BytesMut};
use postgres_types::{IsNull, Kind, ToSql, Type, to_sql_checked};

use super::{BoxError, ColumnArray, Param};

/// Strings (or `NULL`s) in one buffer; encodes as the `text[]` (`varchar[]`, …) a
/// `Vec<Option<String>>` encodes as.
pub(crate) struct TextArray {
    bytes: String,
    /// Each value's end in `bytes`, `None` for `NULL`.
    ends: Vec<Option<usize>>,
    /// The values were `Option<String>`s (shown as such by `Debug`, as the parameter's
    /// `Vec<Option<String>>` was), not `String`s.
    optional: bool,
}

impl TextArray {
    /// The column's array of `values`, from `Option<String>`s when `optional` (else every value
    /// is `Some`).
    pub(crate) fn column<'a>(
        values: impl Iterator<Item = Option<&'a str>>,
        optional: bool,
    ) -> ColumnArray {
        let (lower, _) = values.size_hint();
        let mut packed = TextArray {
            bytes: String::with_capacity(lower * 16),
            ends: Vec::with_capacity(lower),
            optional,
        };
        for value in values {
            packed.ends.push(value.map(|s| {
                packed.bytes.push_str(s);
                packed.bytes.len()
            }));
        }
        ColumnArray::Flat(std::sync::Arc::new(packed) as Param)
    }

    /// The values, in order.
    fn values(&self) -> impl Iterator<Item = Option<&str>> {
        let mut start = 0;
        self.ends.iter().map(move |end| {
            end.map(|end| {
                let s = &self.bytes[start..end];
                start = end;
                s
            })
        })
    }
}

/// As the `Vec<String>` (or `Vec<Option<String>>`) it stands for.
impl std::fmt::Debug for TextArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.optional {
            f.debug_list().entries(self.values()).finish()
        } else {
            f.debug_list().entries(self.values().flatten()).finish()
        }
    }
}

impl ToSql for TextArray {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let Kind::Array(member) = ty.kind() else {
            return Err(format!("an array of strings cannot be sent as {ty}").into());
        };
        let len = i32::try_from(self.ends.len()).map_err(|_| "too many values for one array")?;
        // The binary array format: one dimension, whether any element is NULL, the element
        // type, the dimension's length and lower bound, then each element's length (-1 for
        // NULL) and bytes.
        out.put_i32(1);
        out.put_i32(i32::from(self.ends.iter().any(Option::is_none)));
        out.put_u32(member.oid());
        out.put_i32(len);
        out.put_i32(1);
        for value in self.values() {
            let Some(s) = value else {
                out.put_i32(-1);
                continue;
            };
            let at = out.len();
            out.put_i32(0);
            // Each string as `String` encodes it for that type (`ltree`'s version byte, …).
            let written = match s.to_sql(member, out)? {
                IsNull::Yes => -1,
                IsNull::No => {
                    i32::try_from(out.len() - at - 4).map_err(|_| "a string larger than 2 GiB")?
                }
            };
            out[at..at + 4].copy_from_slice(&written.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        <Vec<Option<String>> as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(values: Vec<Option<String>>, ty: &Type) -> (BytesMut, BytesMut) {
        let ColumnArray::Flat(packed) =
            TextArray::column(values.iter().map(|v| v.as_deref()), true)
        else {
            panic!("flat")
        };
        let mut a = BytesMut::new();
        packed
            .to_sql_checked(ty, &mut a)
            .expect("packed strings encode");
        let mut b = BytesMut::new();
        values.to_sql_checked(ty, &mut b).expect("strings encode");
        (a, b)
    }

    #[test]
    fn encodes_as_a_vec_of_strings_does() {
        for ty in [
            Type::TEXT_ARRAY,
            Type::VARCHAR_ARRAY,
            Type::BPCHAR_ARRAY,
            Type::NAME_ARRAY,
        ] {
            for values in [
                vec![],
                vec![None],
                vec![Some(String::new())],
                vec![
                    Some("a".into()),
                    None,
                    Some("".into()),
                    Some("é ü \u{1F600}".into()),
                ],
            ] {
                let (packed, plain) = encode(values.clone(), &ty);
                assert_eq!(packed, plain, "{ty} {values:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_strings_encode_as_a_vec_of_strings_does(
            values in proptest::collection::vec(proptest::option::of(".*"), 0..40)
        ) {
            let (packed, plain) = encode(values, &Type::TEXT_ARRAY);
            proptest::prop_assert_eq!(packed, plain);
        }
    }

    #[test]
    fn refuses_what_a_vec_of_strings_refuses() {
        let ColumnArray::Flat(packed) = TextArray::column([Some("x")].into_iter(), true) else {
            panic!("flat")
        };
        let ColumnArray::Flat(plain) = TextArray::column([Some("x")].into_iter(), false) else {
            panic!("flat")
        };
        assert_eq!(format!("{plain:?}"), format!("{:?}", vec!["x".to_owned()]));
        let mut buf = BytesMut::new();
        assert!(packed.to_sql_checked(&Type::INT4_ARRAY, &mut buf).is_err());
        assert!(packed.to_sql_checked(&Type::TEXT, &mut buf).is_err());
        assert_eq!(
            format!("{packed:?}"),
            format!("{:?}", vec![Some("x".to_owned())])
        );
    }
}
