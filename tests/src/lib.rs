//! Shared fixtures for the integration tests: the models several test files use.

#![allow(missing_docs)]

pub mod chinook;
pub mod criteria;
pub mod inherit;
pub mod joined;
pub mod named_types;
pub mod pagila;

use orm_postgres::prelude::*;

/// The users of the users/orders story.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(unique, len = 80)]
    pub name: String,
    pub email: Option<String>,
    #[model(default = "0", check = "age >= 0")]
    pub age: i32,
}

impl User {
    pub fn new(name: &str) -> User {
        User {
            id: 0,
            name: name.into(),
            email: None,
            age: 0,
        }
    }
}

/// Orders, each belonging to a user.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "orders")]
pub struct Order {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "users.id", on_delete = "cascade", index)]
    pub user_id: i64,
    pub total: i32,
    pub note: Option<String>,
}

/// A composite primary key.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "enrollment")]
pub struct Enrollment {
    #[model(primary_key)]
    pub student: i32,
    #[model(primary_key, column = "course_code")]
    pub course: String,
    pub grade: Option<i16>,
}

/// A Postgres enum.
#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[db_enum(name = "mood")]
pub enum Mood {
    Happy,
    Sad,
    #[db_enum(rename = "so-so")]
    SoSo,
}

/// A JSON document stored through `Json<T>`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    pub theme: String,
    pub size: u32,
}

/// One column of every supported type.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "everything")]
pub struct Everything {
    #[model(primary_key, generated)]
    pub id: i64,
    pub b: bool,
    pub i2: i16,
    pub i4: i32,
    pub i8: i64,
    pub f4: f32,
    pub f8: f64,
    pub text: String,
    #[model(len = 10)]
    pub short: String,
    pub bytes: Vec<u8>,
    pub date: chrono::NaiveDate,
    pub time: chrono::NaiveTime,
    pub ts: chrono::NaiveDateTime,
    pub tstz: chrono::DateTime<chrono::Utc>,
    pub uid: uuid::Uuid,
    pub doc: serde_json::Value,
    pub settings: Json<Settings>,
    pub amount: rust_decimal::Decimal,
    pub ints: Vec<i32>,
    pub tags: Vec<String>,
    pub mood: Mood,
    pub moods: Vec<Mood>,
    pub maybe_int: Option<i32>,
    pub maybe_text: Option<String>,
    pub maybe_mood: Option<Mood>,
    #[model(skip)]
    pub not_a_column: String,
}

/// The fault tests' exact reconciliation of keyed writes: no key committed twice, every
/// acknowledged key committed, every committed key attempted. Returns the committed keys.
pub fn assert_reconciled<K: Ord + Copy + std::fmt::Debug>(
    attempted: &std::collections::BTreeSet<K>,
    acknowledged: &std::collections::BTreeSet<K>,
    committed: &[K],
) -> std::collections::BTreeSet<K> {
    let committed_set: std::collections::BTreeSet<K> = committed.iter().copied().collect();
    assert_eq!(committed.len(), committed_set.len(), "no key twice");
    assert!(
        acknowledged.is_subset(&committed_set),
        "acknowledged but not committed: {:?}",
        acknowledged.difference(&committed_set).collect::<Vec<_>>()
    );
    assert!(
        committed_set.is_subset(attempted),
        "committed but never attempted: {:?}",
        committed_set.difference(attempted).collect::<Vec<_>>()
    );
    committed_set
}
