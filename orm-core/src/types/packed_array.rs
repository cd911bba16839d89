//! The values of a column over many rows, packed: [`PackedArray`] holds every row's value in
//! one buffer, so a multi-row statement's array parameter (an `INSERT … FROM unnest`, the
//! flush's `UPDATE … FROM unnest`) costs two allocations instead of one `String` per row, and
//! no vector of values.
//!
//! The buffer is already the body of the binary array the server reads (each element's length,
//! then its bytes), so sending it is one copy, not one call per value. Strings, booleans,
//! integers and floats pack (see [`Packs`]); other types are sent as a vector of values.

use bytes::{BufMut, BytesMut};
use postgres_types::{IsNull, Kind, ToSql, Type};

use super::{BoxError, ColumnArray, Param};

/// The length an element of the binary array format gives a `NULL`.
const NULL_LEN: i32 = -1;

/// The element type of a [`PackedArray`]: what it is sent as, and how `Debug` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Element {
    Text,
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
}

/// A value that packs into a [`PackedArray`]: its binary encoding is its bytes (for every
/// element type its Rust type is sent as, `str` into `ltree` aside).
pub(crate) trait Packs {
    /// The element type.
    const ELEMENT: Element;
    /// The bytes of an element (a guess for a string), to size the buffer.
    const WIDTH: usize;
    /// Appends the element: its length (a big-endian `i32`), then its bytes; `false`, with
    /// nothing appended, when it is longer than an element can be (2 GiB).
    fn pack(&self, body: &mut Vec<u8>) -> bool;
}

impl Packs for str {
    const ELEMENT: Element = Element::Text;
    const WIDTH: usize = 20;
    #[inline]
    fn pack(&self, body: &mut Vec<u8>) -> bool {
        let Ok(n) = i32::try_from(self.len()) else {
            return false;
        };
        body.extend_from_slice(&n.to_be_bytes());
        body.extend_from_slice(self.as_bytes());
        true
    }
}

macro_rules! packs {
    ($($ty:ty => $element:ident, $width:literal, $bytes:expr;)*) => {$(
        impl Packs for $ty {
            const ELEMENT: Element = Element::$element;
            const WIDTH: usize = $width;
            #[inline]
            fn pack(&self, body: &mut Vec<u8>) -> bool {
                // The length and the bytes in one copy.
                let mut element = [0; 4 + $width];
                element[..4].copy_from_slice(&($width as i32).to_be_bytes());
                element[4..].copy_from_slice(&$bytes(*self));
                body.extend_from_slice(&element);
                true
            }
        }
    )*};
}

packs! {
    bool => Bool, 1, |v: bool| [u8::from(v)];
    i16 => Int2, 2, i16::to_be_bytes;
    i32 => Int4, 4, i32::to_be_bytes;
    i64 => Int8, 8, i64::to_be_bytes;
    f32 => Float4, 4, |v: f32| v.to_bits().to_be_bytes();
    f64 => Float8, 8, |v: f64| v.to_bits().to_be_bytes();
}

impl Element {
    /// Whether an array of this element can be sent as `ty`: as a `Vec<Option<T>>` can.
    fn accepts(self, ty: &Type) -> bool {
        match self {
            Element::Text => <Vec<Option<String>> as ToSql>::accepts(ty),
            Element::Bool => <Vec<Option<bool>> as ToSql>::accepts(ty),
            Element::Int2 => <Vec<Option<i16>> as ToSql>::accepts(ty),
            Element::Int4 => <Vec<Option<i32>> as ToSql>::accepts(ty),
            Element::Int8 => <Vec<Option<i64>> as ToSql>::accepts(ty),
            Element::Float4 => <Vec<Option<f32>> as ToSql>::accepts(ty),
            Element::Float8 => <Vec<Option<f64>> as ToSql>::accepts(ty),
        }
    }
}

/// Values (or `NULL`s) in one buffer; encodes as the array a `Vec<Option<T>>` encodes as.
pub(crate) struct PackedArray {
    /// Each value as an element of the binary array format: its length (a big-endian `i32`,
    /// [`NULL_LEN`] for `NULL`), then its bytes.
    body: Vec<u8>,
    /// How many values.
    len: usize,
    /// Whether any value is `NULL`.
    has_null: bool,
    /// A string was longer than an element can be (2 GiB): refused when sent (it is in `body`
    /// as a `NULL`).
    too_long: bool,
    /// The values were `Option<T>`s (shown as such by `Debug`, as the parameter's
    /// `Vec<Option<T>>` was), not `T`s.
    optional: bool,
    element: Element,
}

impl PackedArray {
    /// The column's array of `values`, from `Option<T>`s when `optional` (else every value is
    /// `Some`).
    pub(crate) fn column<'a, T: Packs + ?Sized + 'a>(
        values: impl Iterator<Item = Option<&'a T>>,
        optional: bool,
    ) -> ColumnArray {
        let (lower, _) = values.size_hint();
        let mut packed = PackedArray {
            body: Vec::with_capacity(lower * (4 + T::WIDTH)),
            len: 0,
            has_null: false,
            too_long: false,
            optional,
            element: T::ELEMENT,
        };
        for value in values {
            packed.push(value);
        }
        ColumnArray::Flat(std::sync::Arc::new(packed) as Param)
    }

    #[inline]
    fn push<T: Packs + ?Sized>(&mut self, value: Option<&T>) {
        self.len += 1;
        let packed = value.map(|v| v.pack(&mut self.body));
        if packed != Some(true) {
            // `NULL`, or a string too long to send (refused when sent).
            self.too_long |= packed == Some(false);
            self.has_null = true;
            self.body.extend_from_slice(&NULL_LEN.to_be_bytes());
        }
    }

    /// Each value's bytes, in order (`None` for `NULL`).
    fn elements(&self) -> impl Iterator<Item = Option<&[u8]>> {
        let mut rest = self.body.as_slice();
        (0..self.len).map(move |_| {
            let (length, after) = rest.split_first_chunk::<4>()?;
            let Ok(n) = usize::try_from(i32::from_be_bytes(*length)) else {
                rest = after;
                return None;
            };
            let (bytes, after) = after.split_at_checked(n)?;
            rest = after;
            Some(bytes)
        })
    }
}

/// One element's bytes, shown as its Rust value.
struct Shown<'a>(Element, &'a [u8]);

impl std::fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn be<const N: usize>(bytes: &[u8]) -> [u8; N] {
            bytes.try_into().unwrap_or([0; N])
        }
        let b = self.1;
        match self.0 {
            // Every string element was pushed from a `&str`.
            Element::Text => String::from_utf8_lossy(b).fmt(f),
            Element::Bool => (b.first() == Some(&1)).fmt(f),
            Element::Int2 => i16::from_be_bytes(be(b)).fmt(f),
            Element::Int4 => i32::from_be_bytes(be(b)).fmt(f),
            Element::Int8 => i64::from_be_bytes(be(b)).fmt(f),
            Element::Float4 => f32::from_bits(u32::from_be_bytes(be(b))).fmt(f),
            Element::Float8 => f64::from_bits(u64::from_be_bytes(be(b))).fmt(f),
        }
    }
}

/// As the `Vec<T>` (or `Vec<Option<T>>`) it stands for.
impl std::fmt::Debug for PackedArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self
            .elements()
            .map(|e| e.map(|bytes| Shown(self.element, bytes)));
        if self.optional {
            f.debug_list().entries(shown).finish()
        } else {
            f.debug_list().entries(shown.flatten()).finish()
        }
    }
}

impl ToSql for PackedArray {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let Kind::Array(member) = ty.kind() else {
            return Err(format!("an array of values cannot be sent as {ty}").into());
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
        if self.element != Element::Text
            || !matches!(member.name(), "ltree" | "lquery" | "ltxtquery")
        {
            out.put_slice(&self.body);
            return Ok(IsNull::No);
        }
        for element in self.elements() {
            let Some(s) = element.and_then(|b| std::str::from_utf8(b).ok()) else {
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

    fn accepts(_: &Type) -> bool {
        // Which types depends on the element: `to_sql_checked` below asks it.
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if !self.element.accepts(ty) {
            return Err(self.wrong_type(ty));
        }
        self.to_sql(ty, out)
    }
}

impl PackedArray {
    /// The error a `Vec<T>` (or `Vec<Option<T>>`) of its values gives for `ty`.
    fn wrong_type(&self, ty: &Type) -> BoxError {
        use postgres_types::WrongType;
        macro_rules! vec_of {
            ($t:ty) => {
                if self.optional {
                    WrongType::new::<Vec<Option<$t>>>(ty.clone())
                } else {
                    WrongType::new::<Vec<$t>>(ty.clone())
                }
            };
        }
        Box::new(match self.element {
            Element::Text => vec_of!(String),
            Element::Bool => vec_of!(bool),
            Element::Int2 => vec_of!(i16),
            Element::Int4 => vec_of!(i32),
            Element::Int8 => vec_of!(i64),
            Element::Float4 => vec_of!(f32),
            Element::Float8 => vec_of!(f64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The packed array of `values` (as `Option`s when `optional`).
    fn packed<T: Packs + ?Sized>(values: &[Option<&T>], optional: bool) -> Param {
        let ColumnArray::Flat(p) = PackedArray::column(values.iter().copied(), optional) else {
            panic!("flat")
        };
        p
    }

    /// Sends `values` packed and as the `Vec` they stand for, as `ty`: both encodings, or both
    /// errors' texts.
    fn both<T, V>(values: &[Option<T>], plain: &V, ty: &Type) -> (String, String)
    where
        T: Packs,
        V: ToSql,
    {
        let refs: Vec<Option<&T>> = values.iter().map(Option::as_ref).collect();
        let p = packed(&refs, true);
        let show = |r: Result<IsNull, BoxError>, buf: BytesMut| match r {
            Ok(_) => format!("{buf:?}"),
            Err(e) => format!("error: {e}"),
        };
        let mut a = BytesMut::new();
        let ra = p.to_sql_checked(ty, &mut a);
        let mut b = BytesMut::new();
        let rb = plain.to_sql_checked(ty, &mut b);
        (show(ra, a), show(rb, b))
    }

    fn strings(values: &[Option<String>], ty: &Type) -> (String, String) {
        let refs: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
        let p = packed(&refs, true);
        let mut a = BytesMut::new();
        p.to_sql_checked(ty, &mut a).expect("packed strings encode");
        let mut b = BytesMut::new();
        values.to_sql_checked(ty, &mut b).expect("strings encode");
        (format!("{a:?}"), format!("{b:?}"))
    }

    #[test]
    fn encodes_as_a_vec_of_strings_does() {
        for ty in [
            Type::TEXT_ARRAY,
            Type::VARCHAR_ARRAY,
            Type::BPCHAR_ARRAY,
            Type::NAME_ARRAY,
            ltree_array(),
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
                let (packed, plain) = strings(&values, &ty);
                assert_eq!(packed, plain, "{ty} {values:?}");
            }
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
        let (packed, plain) = strings(&values, &ltree_array());
        assert_eq!(packed, plain);
        // Each string element's bytes: the version byte 1, then the text.
        assert!(packed.contains("\\x01a.b"), "{packed}");
    }

    #[test]
    fn numbers_encode_as_their_vecs_do_and_refuse_what_they_refuse() {
        let ints = [Some(1i32), None, Some(-7), Some(i32::MAX)];
        let types = [
            Type::INT4_ARRAY,
            Type::INT8_ARRAY,
            Type::TEXT_ARRAY,
            Type::INT4,
        ];
        for ty in &types {
            let (sent, plain) = both(&ints, &ints.to_vec(), ty);
            assert_eq!(sent, plain, "{ty}");
        }
        let bools = [Some(true), None, Some(false)];
        let (sent, plain) = both(&bools, &bools.to_vec(), &Type::BOOL_ARRAY);
        assert_eq!(sent, plain);
        let (refused, _) = both(&[Some(1i64)], &vec![Some(1i64)], &Type::INT4_ARRAY);
        assert!(
            refused.contains("Vec<core::option::Option<i64>>"),
            "{refused}"
        );
        // Not an `Option` column: named as the `Vec<i32>` it stands for.
        let p = packed::<i32>(&[Some(&3)], false);
        let err = match p.to_sql_checked(&Type::TEXT_ARRAY, &mut BytesMut::new()) {
            Ok(_) => panic!("int4 is not text"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("Vec<i32>"), "{err}");
        assert!(
            p.to_sql_checked(&Type::INT4, &mut BytesMut::new()).is_err(),
            "not an array"
        );
    }

    #[test]
    fn shows_as_the_vec_it_stands_for() {
        let p = packed::<i64>(&[Some(&1), Some(&-2)], false);
        assert_eq!(format!("{p:?}"), "[1, -2]");
        let p = packed::<f64>(&[Some(&1.5), None], true);
        assert_eq!(format!("{p:?}"), "[Some(1.5), None]");
        let p = packed::<str>(&[Some("x")], false);
        assert_eq!(format!("{p:?}"), format!("{:?}", vec!["x".to_owned()]));
        let p = packed::<str>(&[Some("x"), None], true);
        assert_eq!(format!("{p:?}"), format!("{:?}", vec![Some("x"), None]));
    }

    /// Packs `values` and checks the encoding and `Debug` against `Vec<Option<T>>`'s.
    fn law<T>(values: Vec<Option<T>>, ty: Type) -> Result<(), TestCaseError>
    where
        T: Packs + ToSql + std::fmt::Debug,
    {
        let (packed, plain) = both(&values, &values, &ty);
        prop_assert_eq!(packed, plain);
        let refs: Vec<Option<&T>> = values.iter().map(Option::as_ref).collect();
        prop_assert_eq!(format!("{:?}", packed_of(&refs)), format!("{values:?}"));
        Ok(())
    }

    fn packed_of<T: Packs + ?Sized>(values: &[Option<&T>]) -> Param {
        packed(values, true)
    }

    proptest! {
        #[test]
        fn any_strings_encode_as_a_vec_of_strings_does(
            values in proptest::collection::vec(proptest::option::of(".*"), 0..40)
        ) {
            for ty in [Type::TEXT_ARRAY, ltree_array()] {
                let (packed, plain) = strings(&values, &ty);
                prop_assert_eq!(packed, plain);
            }
            let refs: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
            prop_assert_eq!(format!("{:?}", packed_of(&refs)), format!("{values:?}"));
        }

        #[test]
        fn any_numbers_encode_as_their_vecs_do(
            bools in proptest::collection::vec(proptest::option::of(any::<bool>()), 0..20),
            smalls in proptest::collection::vec(proptest::option::of(any::<i16>()), 0..20),
            ints in proptest::collection::vec(proptest::option::of(any::<i32>()), 0..20),
            bigs in proptest::collection::vec(proptest::option::of(any::<i64>()), 0..20),
            reals in proptest::collection::vec(proptest::option::of(any::<f32>()), 0..20),
            doubles in proptest::collection::vec(proptest::option::of(any::<f64>()), 0..20),
        ) {
            law(bools, Type::BOOL_ARRAY)?;
            law(smalls, Type::INT2_ARRAY)?;
            law(ints, Type::INT4_ARRAY)?;
            law(bigs, Type::INT8_ARRAY)?;
            law(reals, Type::FLOAT4_ARRAY)?;
            law(doubles, Type::FLOAT8_ARRAY)?;
        }
    }
}
