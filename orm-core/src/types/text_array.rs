//! The values of a text column over many rows, packed: [`TextArray`] holds every row's string
//! in one buffer, so a multi-row statement's array parameter (an `INSERT … FROM unnest`, the
//! flush's `UPDATE … FROM unnest`) costs two allocations instead of one `String` per row.
//!
//! The buffer is already the body of the binary array the server reads (each element's
//! length, then its bytes), so sending it is one copy, not one call per string.

use bytes::{BufMut, BytesMut};
use postgres_types::{IsNull, Kind, ToSql, Type, to_sql_checked};

use super::{BoxError, ColumnArray, Param};

/// The length an element of the binary array format gives a `NULL`.
const NULL_LEN: i32 = -1;

/// Strings (or `NULL`s) in one buffer; encodes as the `text[]` (`varchar[]`, …) a
/// `Vec<Option<String>>` encodes as.
pub(crate) struct TextArray {
    /// Each value as a text element of the binary array format: its length (a big-endian
    /// `i32`, [`NULL_LEN`] for `NULL`), then its UTF-8 bytes.
    body: Vec<u8>,
    /// How many values.
    len: usize,
    /// Whether any value is `NULL`.
    has_null: bool,
    /// A value was longer than an element can be (2 GiB): refused when sent (it is in `body` as
    /// a `NULL`).
    too_long: bool,
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
            body: Vec::with_capacity(lower * 24),
            len: 0,
            has_null: false,
            too_long: false,
            optional,
        };
        for value in values {
            packed.push(value);
        }
        ColumnArray::Flat(std::sync::Arc::new(packed) as Param)
    }

    fn push(&mut self, value: Option<&str>) {
        self.len += 1;
        let length = value.map(|s| i32::try_from(s.len()));
        match (value, length) {
            (Some(s), Some(Ok(n))) => {
                self.body.extend_from_slice(&n.to_be_bytes());
                self.body.extend_from_slice(s.as_bytes());
            }
            (_, too_long) => {
                self.too_long |= too_long.is_some();
                self.has_null = true;
                self.body.extend_from_slice(&NULL_LEN.to_be_bytes());
            }
        }
    }

    /// The values, in order.
    fn values(&self) -> impl Iterator<Item = Option<&str>> {
        let mut rest = self.body.as_slice();
        (0..self.len).map(move |_| {
            let (length, after) = rest.split_first_chunk::<4>()?;
            let Ok(n) = usize::try_from(i32::from_be_bytes(*length)) else {
                rest = after;
                return None;
            };
            let (bytes, after) = after.split_at_checked(n)?;
            rest = after;
            // Every element was pushed from a `&str`.
            std::str::from_utf8(bytes).ok()
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
        if self.too_long {
            return Err("a string larger than 2 GiB".into());
        }
        let len = i32::try_from(self.len).map_err(|_| "too many values for one array")?;
        // The binary array format: one dimension, whether any element is NULL, the element
        // type, the dimension's length and lower bound, then each element's length (-1 for
        // NULL) and bytes.
        out.reserve(20 + self.body.len());
        out.put_i32(1);
        out.put_i32(i32::from(self.has_null));
        out.put_u32(member.oid());
        out.put_i32(len);
        out.put_i32(1);
        // A string encodes as its bytes for every type it is sent as but these (`ltree`'s
        // version byte, …): each goes through `&str`'s own encoding.
        if !matches!(member.name(), "ltree" | "lquery" | "ltxtquery") {
            out.put_slice(&self.body);
            return Ok(IsNull::No);
        }
        for value in self.values() {
            let Some(s) = value else {
                out.put_i32(NULL_LEN);
                continue;
            };
            let at = out.len();
            out.put_i32(0);
            let written = match s.to_sql(member, out)? {
                IsNull::Yes => NULL_LEN,
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
            let (packed, plain) = encode(values.clone(), &Type::TEXT_ARRAY);
            proptest::prop_assert_eq!(packed, plain);
            let (packed, plain) = encode(values.clone(), &ltree_array());
            proptest::prop_assert_eq!(packed, plain);
            let ColumnArray::Flat(shown) =
                TextArray::column(values.iter().map(|v| v.as_deref()), true)
            else {
                panic!("flat")
            };
            proptest::prop_assert_eq!(format!("{shown:?}"), format!("{values:?}"));
        }
    }

    /// `ltree[]` as an extension's types are: a string element of it starts with a version
    /// byte.
    fn ltree_array() -> Type {
        let ltree = Type::new("ltree".into(), 90_001, Kind::Simple, "public".into());
        Type::new("_ltree".into(), 90_002, Kind::Array(ltree), "public".into())
    }

    #[test]
    fn ltree_elements_are_encoded_one_by_one() {
        let values = vec![Some("a.b".to_owned()), None, Some("c".to_owned())];
        let (packed, plain) = encode(values, &ltree_array());
        assert_eq!(packed, plain);
        // Each string element's bytes: the version byte 1, then the text.
        assert!(packed.windows(4).any(|w| w == [1, b'a', b'.', b'b']));
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
