//! `#[derive(DbEnum)]`: labels, metadata and the wire format.

use orm_postgres::ColumnType;
use orm_postgres::prelude::*;
use orm_postgres::types::EnumType;
use tokio_postgres::types::{FromSql, Kind, ToSql, Type};

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[db_enum(name = "mood", schema = "app")]
pub enum Mood {
    Happy,
    #[db_enum(rename = "so-so")]
    SoSo,
    VerySad,
}

/// Default type name: the enum's name in snake_case.
#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Open,
    Closed,
}

#[derive(Model, Debug, Clone)]
pub struct Diary {
    #[model(primary_key, generated)]
    pub id: i64,
    pub mood: Mood,
    pub maybe: Option<Mood>,
    pub history: Vec<Mood>,
}

fn main() {
    assert_eq!(
        <Mood as SqlType>::COLUMN_TYPE,
        ColumnType::Enum(&EnumType {
            name: "mood",
            schema: Some("app"),
            labels: &["happy", "so-so", "very_sad"],
        })
    );
    assert_eq!(
        <OrderStatus as SqlType>::COLUMN_TYPE
            .enum_type()
            .map(|e| e.name),
        Some("order_status")
    );
    assert_eq!(
        Diary::TABLE.columns[3].ty,
        ColumnType::Array(&<Mood as SqlType>::COLUMN_TYPE)
    );
    assert!(Diary::TABLE.columns[2].nullable);

    let ty = Type::new(
        "mood".into(),
        0,
        Kind::Enum(vec!["happy".into(), "so-so".into(), "very_sad".into()]),
        "app".into(),
    );
    assert!(<Mood as ToSql>::accepts(&ty));
    assert!(<Mood as FromSql>::accepts(&ty));
    assert!(!<Mood as ToSql>::accepts(&Type::TEXT));

    // `BytesMut` as the driver re-exports it (the tests crate does not depend on `bytes`).
    let mut buf = tokio_postgres::types::private::BytesMut::new();
    Mood::SoSo.to_sql_checked(&ty, &mut buf).unwrap();
    assert_eq!(&buf[..], b"so-so");
    assert_eq!(Mood::from_sql(&ty, b"very_sad").unwrap(), Mood::VerySad);

    // A label the enum lacks: a typed ValueOutOfRange naming the label and both types.
    let err = Mood::from_sql(&ty, b"angry").unwrap_err();
    let out = err
        .downcast_ref::<orm_postgres::ValueOutOfRange>()
        .expect("a ValueOutOfRange");
    assert_eq!((out.sql_type(), out.value()), ("mood", "angry"));
    assert!(out.rust_type().ends_with("Mood"), "{out}");
    assert!(out.to_string().starts_with("the mood value angry does not fit "), "{out}");

    let q = select::<Diary>()
        .filter(Diary::mood.eq(Mood::Happy))
        .compile()
        .unwrap();
    assert_eq!(q.params.len(), 1);
}
