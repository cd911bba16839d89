//! Composite types (`CREATE TYPE address AS (street text, city text)`): a Rust struct deriving
//! [`SqlType`](macro@crate::SqlType) with `#[sql_type(composite = "address")]` is stored as one,
//! in PostgreSQL's binary record format.
//!
//! The record format numbers its fields by position, and a type's attributes are in the order
//! they were created (`ALTER TYPE ... ADD ATTRIBUTE` appends): so values are matched to the
//! struct's fields by the attribute *names* the server describes, not by position. An
//! attribute the struct lacks, a field the type lacks, or a field whose Rust type cannot hold
//! the attribute's SQL type is a [`CompositeMismatch`], never a value in the wrong field.

use std::fmt;
use std::marker::PhantomData;

use bytes::{BufMut, BytesMut};
use postgres_types::{FromSql, IsNull, Kind, ToSql, Type};

use super::{ColumnType, SqlType, domain_base};
use crate::error::BoxError;

/// A composite type's definition, as `create_all` and migrations create it. The derive writes
/// it; [`ColumnType::Composite`] holds it.
#[derive(Debug, PartialEq, Eq)]
pub struct CompositeType {
    /// The type's name.
    pub name: &'static str,
    /// Its schema, if not the search path's.
    pub schema: Option<&'static str>,
    /// Its attributes, in declaration order.
    pub attributes: &'static [CompositeAttribute],
}

/// One attribute of a [`CompositeType`].
#[derive(Debug, PartialEq, Eq)]
pub struct CompositeAttribute {
    /// The attribute's name (the struct field's).
    pub name: &'static str,
    /// Its SQL type (the field's column type; an `Option<T>` field is `T`: every attribute
    /// of a composite type may be `NULL`).
    pub ty: &'static ColumnType,
}

/// A Rust struct stored as a PostgreSQL composite type: implemented by
/// `#[derive(SqlType)] #[sql_type(composite = "name")]`.
pub trait Composite: SqlType {
    /// The type's definition.
    const TYPE: &'static CompositeType;
}

/// A typed handle on one attribute of the composite type `C`, whose value decodes into `T`:
/// `Address::city` is a `CompositeField<Address, String>`. Read it from a composite expression with
/// [`CompositeExpression::field`](crate::expr::CompositeExpression::field): `Customer::address.field(Address::city)` is
/// `("customers"."address")."city"`.
pub struct CompositeField<C, T> {
    name: &'static str,
    _types: PhantomData<fn() -> (C, T)>,
}

impl<C, T> CompositeField<C, T> {
    /// The handle on attribute `name`. Written by the derive.
    pub const fn new(name: &'static str) -> Self {
        CompositeField {
            name,
            _types: PhantomData,
        }
    }

    /// The attribute's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<C, T> Clone for CompositeField<C, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C, T> Copy for CompositeField<C, T> {}

impl<C, T> fmt::Debug for CompositeField<C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompositeField({})", self.name)
    }
}

/// Why a composite value could not be encoded or decoded: the type on the server and the Rust
/// struct disagree. The source of the [`ErrorKind::Decode`](crate::ErrorKind::Decode) (or
/// `Encode`) error; nothing is ever put in the wrong field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompositeMismatch {
    /// The server's type is not a composite type (or its attributes are unknown to the client).
    NotComposite {
        /// The Rust struct's composite type.
        composite: &'static str,
        /// The server's type.
        server_type: String,
    },
    /// The server's value has another number of attributes than the struct has fields.
    FieldCount {
        /// The composite type.
        composite: &'static str,
        /// The struct's field count.
        expected: usize,
        /// The value's attribute count.
        found: usize,
    },
    /// The server's type has an attribute the struct has no field for.
    UnknownAttribute {
        /// The composite type.
        composite: &'static str,
        /// The attribute.
        attribute: String,
    },
    /// The struct has a field the server's type has no attribute for.
    MissingAttribute {
        /// The composite type.
        composite: &'static str,
        /// The field.
        attribute: &'static str,
    },
    /// An attribute's SQL type is not one the field's Rust type can hold.
    AttributeType {
        /// The composite type.
        composite: &'static str,
        /// The attribute.
        attribute: &'static str,
        /// The attribute's SQL type on the server.
        server_type: String,
        /// The field's Rust type.
        rust_type: &'static str,
    },
    /// An attribute is `NULL` and its field is not an `Option`.
    UnexpectedNull {
        /// The composite type.
        composite: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// The value's bytes end early or run on: not a record of this type.
    Malformed {
        /// The composite type.
        composite: &'static str,
    },
}

impl fmt::Display for CompositeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompositeMismatch::NotComposite {
                composite,
                server_type,
            } => write!(
                f,
                "composite type `{composite}` cannot be read from or written as `{server_type}`, which is not a composite type known to the connection"
            ),
            CompositeMismatch::FieldCount {
                composite,
                expected,
                found,
            } => write!(
                f,
                "composite type `{composite}`: the struct has {expected} field(s), the value {found} attribute(s)"
            ),
            CompositeMismatch::UnknownAttribute {
                composite,
                attribute,
            } => write!(
                f,
                "composite type `{composite}` has an attribute `{attribute}` the struct has no field for"
            ),
            CompositeMismatch::MissingAttribute {
                composite,
                attribute,
            } => write!(
                f,
                "composite type `{composite}` has no attribute `{attribute}` for the struct's field"
            ),
            CompositeMismatch::AttributeType {
                composite,
                attribute,
                server_type,
                rust_type,
            } => write!(
                f,
                "attribute `{attribute}` of composite type `{composite}` is `{server_type}`, which `{rust_type}` cannot hold"
            ),
            CompositeMismatch::UnexpectedNull {
                composite,
                attribute,
            } => write!(
                f,
                "attribute `{attribute}` of composite type `{composite}` is NULL; declare its field an `Option`"
            ),
            CompositeMismatch::Malformed { composite } => {
                write!(f, "a value of composite type `{composite}` is malformed")
            }
        }
    }
}

impl std::error::Error for CompositeMismatch {}

/// `ToSql::accepts` and `FromSql::accepts` of a composite struct: a composite type of its
/// name (and schema, when it names one). Not public API.
#[doc(hidden)]
pub fn accepts(c: &CompositeType, ty: &Type) -> bool {
    let ty = domain_base(ty).unwrap_or(ty);
    ty.name() == c.name
        && c.schema.is_none_or(|s| s == ty.schema())
        && matches!(ty.kind(), Kind::Composite(_))
}

/// The server's attributes of `ty`, or why there are none.
fn server_fields<'t>(
    c: &'static CompositeType,
    ty: &'t Type,
) -> Result<&'t [postgres_types::Field], CompositeMismatch> {
    match domain_base(ty).unwrap_or(ty).kind() {
        Kind::Composite(fields) => Ok(fields),
        _ => Err(CompositeMismatch::NotComposite {
            composite: c.name,
            server_type: ty.name().to_owned(),
        }),
    }
}

/// Writes a composite value: the generated `to_sql` asks for the server's attributes in order
/// ([`Encoder::attributes`]) and writes each with [`Encoder::field`]. Not public API.
#[doc(hidden)]
pub struct Encoder<'a> {
    composite: &'static CompositeType,
    fields: &'a [postgres_types::Field],
    out: &'a mut BytesMut,
}

impl<'a> Encoder<'a> {
    /// Starts the value of `composite` as the server's `ty`, checking the attribute count.
    pub fn start(
        composite: &'static CompositeType,
        ty: &'a Type,
        out: &'a mut BytesMut,
    ) -> Result<Self, BoxError> {
        let fields = server_fields(composite, ty)?;
        if fields.len() != composite.attributes.len() {
            return Err(CompositeMismatch::FieldCount {
                composite: composite.name,
                expected: composite.attributes.len(),
                found: fields.len(),
            }
            .into());
        }
        out.put_i32(fields.len() as i32);
        Ok(Encoder {
            composite,
            fields,
            out,
        })
    }

    /// The server's attribute names, in the order they must be written.
    pub fn attributes(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.fields.iter().map(postgres_types::Field::name)
    }

    /// Writes the value of attribute number `index` (in the server's order).
    pub fn field<T: ToSql>(
        &mut self,
        index: usize,
        name: &'static str,
        value: &T,
    ) -> Result<(), BoxError> {
        let ty = self.fields[index].type_();
        if !T::accepts(ty) {
            return Err(CompositeMismatch::AttributeType {
                composite: self.composite.name,
                attribute: name,
                server_type: ty.name().to_owned(),
                rust_type: std::any::type_name::<T>(),
            }
            .into());
        }
        self.out.put_u32(ty.oid());
        let at = self.out.len();
        self.out.put_i32(0);
        let len = match value.to_sql(ty, self.out)? {
            IsNull::Yes => -1,
            IsNull::No => i32::try_from(self.out.len() - at - 4).map_err(|_| {
                BoxError::from(format!(
                    "attribute `{name}` of composite type `{}` is over 1 GB",
                    self.composite.name
                ))
            })?,
        };
        self.out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }

    /// An attribute the struct has no field for.
    pub fn unknown(&self, attribute: &str) -> BoxError {
        CompositeMismatch::UnknownAttribute {
            composite: self.composite.name,
            attribute: attribute.to_owned(),
        }
        .into()
    }
}

/// Reads a composite value: the generated `from_sql` walks the server's attributes
/// ([`Decoder::next_attribute`]) and reads each into its field ([`Decoder::field`]). Not public
/// API.
#[doc(hidden)]
pub struct Decoder<'a, 't> {
    composite: &'static CompositeType,
    fields: &'t [postgres_types::Field],
    raw: &'a [u8],
    next: usize,
}

impl<'a, 't> Decoder<'a, 't> {
    /// Starts reading a value of `composite` sent as the server's `ty`, checking the count.
    pub fn start(
        composite: &'static CompositeType,
        ty: &'t Type,
        raw: &'a [u8],
    ) -> Result<Self, BoxError> {
        let fields = server_fields(composite, ty)?;
        let mut d = Decoder {
            composite,
            fields,
            raw,
            next: 0,
        };
        let count = d.int()?;
        if count != composite.attributes.len() as i32 || fields.len() != composite.attributes.len()
        {
            return Err(CompositeMismatch::FieldCount {
                composite: composite.name,
                expected: composite.attributes.len(),
                found: usize::try_from(count).unwrap_or(0),
            }
            .into());
        }
        Ok(d)
    }

    fn malformed(&self) -> BoxError {
        CompositeMismatch::Malformed {
            composite: self.composite.name,
        }
        .into()
    }

    fn int(&mut self) -> Result<i32, BoxError> {
        let Some((head, rest)) = self.raw.split_first_chunk::<4>() else {
            return Err(self.malformed());
        };
        self.raw = rest;
        Ok(i32::from_be_bytes(*head))
    }

    /// The name of the next attribute in the value, or `None` after the last.
    pub fn next_attribute(&self) -> Option<&'t str> {
        self.fields.get(self.next).map(postgres_types::Field::name)
    }

    /// Reads the next attribute's value (named `name` in the struct) as `T`.
    pub fn field<T: SqlType>(&mut self, name: &'static str) -> Result<T, BoxError> {
        let ty = self.fields[self.next].type_();
        self.next += 1;
        let oid = self.int()? as u32;
        let len = self.int()?;
        if oid != ty.oid() || !<T as FromSql>::accepts(ty) {
            return Err(CompositeMismatch::AttributeType {
                composite: self.composite.name,
                attribute: name,
                server_type: ty.name().to_owned(),
                rust_type: std::any::type_name::<T>(),
            }
            .into());
        }
        if len < 0 {
            return match T::null_value() {
                Some(null) => Ok(null),
                None => Err(CompositeMismatch::UnexpectedNull {
                    composite: self.composite.name,
                    attribute: name,
                }
                .into()),
            };
        }
        let len = len as usize;
        if self.raw.len() < len {
            return Err(self.malformed());
        }
        let (value, rest) = self.raw.split_at(len);
        self.raw = rest;
        super::Checked::<T>::from_sql(ty, value).map(|c| c.0)
    }

    /// An attribute the struct has no field for.
    pub fn unknown(&self, attribute: &str) -> BoxError {
        CompositeMismatch::UnknownAttribute {
            composite: self.composite.name,
            attribute: attribute.to_owned(),
        }
        .into()
    }

    /// The field `attribute` the value did not have, or, after every attribute, an error if
    /// bytes are left over.
    pub fn finish<T>(&self, value: Option<T>, attribute: &'static str) -> Result<T, BoxError> {
        if !self.raw.is_empty() {
            return Err(self.malformed());
        }
        value.ok_or_else(|| {
            CompositeMismatch::MissingAttribute {
                composite: self.composite.name,
                attribute,
            }
            .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ADDRESS: CompositeType = CompositeType {
        name: "address",
        schema: None,
        attributes: &[
            CompositeAttribute {
                name: "city",
                ty: &ColumnType::Text,
            },
            CompositeAttribute {
                name: "zip",
                ty: &ColumnType::Integer,
            },
        ],
    };

    fn address_type() -> Type {
        Type::new(
            "address".into(),
            90000,
            Kind::Composite(vec![
                postgres_types::Field::new("city".into(), Type::TEXT),
                postgres_types::Field::new("zip".into(), Type::INT4),
            ]),
            "public".into(),
        )
    }

    #[test]
    fn encodes_and_decodes_by_attribute_name() {
        let ty = address_type();
        let mut out = BytesMut::new();
        let mut e = Encoder::start(&ADDRESS, &ty, &mut out).expect("composite");
        e.field(0, "city", &"Paris, \"15e\"".to_owned())
            .expect("composite");
        e.field(1, "zip", &Option::<i32>::None).expect("composite");
        let mut d = Decoder::start(&ADDRESS, &ty, &out).expect("composite");
        assert_eq!(d.next_attribute(), Some("city"));
        assert_eq!(
            d.field::<String>("city").expect("composite"),
            "Paris, \"15e\""
        );
        assert_eq!(d.field::<Option<i32>>("zip").expect("composite"), None);
        assert_eq!(d.next_attribute(), None);
        assert_eq!(d.finish(Some(()), "zip").expect("composite"), ());
    }

    #[test]
    fn mismatches_are_typed_errors() {
        let ty = address_type();
        let mut out = BytesMut::new();
        let mut e = Encoder::start(&ADDRESS, &ty, &mut out).expect("composite");
        let err = e.field(0, "city", &1_i64).expect_err("mismatch");
        assert!(matches!(
            err.downcast_ref::<CompositeMismatch>(),
            Some(CompositeMismatch::AttributeType {
                attribute: "city",
                ..
            })
        ));
        let Err(err) = Encoder::start(&ADDRESS, &Type::TEXT, &mut BytesMut::new()) else {
            panic!("text is not a composite type");
        };
        assert!(matches!(
            err.downcast_ref::<CompositeMismatch>(),
            Some(CompositeMismatch::NotComposite { .. })
        ));
        // A NULL into a non-Option field, and a truncated value.
        let mut out = BytesMut::new();
        let mut e = Encoder::start(&ADDRESS, &ty, &mut out).expect("composite");
        e.field(0, "city", &Option::<String>::None)
            .expect("composite");
        e.field(1, "zip", &7_i32).expect("composite");
        let mut d = Decoder::start(&ADDRESS, &ty, &out).expect("composite");
        let err = d.field::<String>("city").expect_err("mismatch");
        assert!(matches!(
            err.downcast_ref::<CompositeMismatch>(),
            Some(CompositeMismatch::UnexpectedNull {
                attribute: "city",
                ..
            })
        ));
        let mut d = Decoder::start(&ADDRESS, &ty, &out[..out.len() - 2]).expect("composite");
        d.field::<Option<String>>("city").expect("composite");
        let err = d.field::<i32>("zip").expect_err("mismatch");
        assert!(matches!(
            err.downcast_ref::<CompositeMismatch>(),
            Some(CompositeMismatch::Malformed { .. })
        ));
    }
}
