//! User-named types as parameters, one round-trip suite for every statement mode: the contrib
//! extensions' types (`citext`, `ltree`, `hstore`), an enum, domains over text and integer, a
//! composite type (with an enum attribute), and arrays of the enum, the composite type and
//! `citext`. The pg binary runs it in the cached and the unnamed mode, the connect binary
//! through a real pgbouncer.

use std::collections::HashMap;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::types::DomainType;
use orm_postgres::{ColumnType, Database};

/// An enum type.
#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[db_enum(name = "nt_weather")]
pub enum Weather {
    Sunny,
    Rainy,
    Foggy,
}

/// A ticket code: a domain over text.
#[derive(Debug, Clone, PartialEq, SqlType)]
pub struct Code(pub String);

impl CustomType for Code {
    type Repr = String;
    const COLUMN_TYPE: ColumnType = ColumnType::Domain(
        &DomainType::new("nt_code", &ColumnType::Text).check("VALUE ~ '^[A-Z]+-[0-9]+$'"),
    );
    fn to_repr(&self) -> String {
        self.0.clone()
    }
    fn from_repr(text: String) -> Result<Self, BoxError> {
        Ok(Code(text))
    }
}

/// A rank: a domain over integer.
#[derive(Debug, Clone, Copy, PartialEq, SqlType)]
pub struct Rank(pub i32);

impl CustomType for Rank {
    type Repr = i32;
    const COLUMN_TYPE: ColumnType =
        ColumnType::Domain(&DomainType::new("nt_rank", &ColumnType::Integer).check("VALUE > 0"));
    fn to_repr(&self) -> i32 {
        self.0
    }
    fn from_repr(rank: i32) -> Result<Self, BoxError> {
        Ok(Rank(rank))
    }
}

/// A composite type with an enum attribute.
#[derive(Debug, Clone, PartialEq, SqlType)]
#[sql_type(composite = "nt_spot")]
pub struct Spot {
    pub label: String,
    pub level: Option<i32>,
    pub weather: Weather,
}

/// One column of each user-named type.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "nt_sheets")]
pub struct Sheet {
    #[model(primary_key, generated)]
    pub id: i64,
    pub email: Citext,
    pub path: Ltree,
    pub attrs: HashMap<String, Option<String>>,
    pub weather: Weather,
    pub maybe_weather: Option<Weather>,
    pub forecast: Vec<Weather>,
    pub code: Code,
    pub rank: Rank,
    pub spot: Spot,
    pub spots: Vec<Spot>,
    pub tags: Vec<Citext>,
}

/// A spot with quotes, commas and parentheses in its label.
pub fn spot(label: &str, weather: Weather) -> Spot {
    Spot {
        label: format!("{label}, \"quoted\" (x)"),
        level: None,
        weather,
    }
}

/// A sheet whose values depend on `n`.
pub fn sheet(email: &str, n: i32) -> Sheet {
    Sheet {
        id: 0,
        email: Citext(email.into()),
        path: Ltree(format!("Top.Science.N{n}")),
        attrs: HashMap::from([
            ("n".to_string(), Some(n.to_string())),
            ("quote\"d =>".to_string(), None),
        ]),
        weather: Weather::Rainy,
        maybe_weather: Some(Weather::Foggy),
        forecast: vec![Weather::Sunny, Weather::Rainy],
        code: Code(format!("AB-{n}")),
        rank: Rank(n),
        spot: spot("here", Weather::Sunny),
        spots: vec![spot("a", Weather::Foggy), spot("b", Weather::Rainy)],
        tags: vec![Citext("Ünïcödé".into()), Citext("b".into())],
    }
}

/// Writes, filters on and reads back every user-named type through `db`, panicking with `label`
/// on any difference. The table is `Sheet::TABLE`, created and empty.
pub async fn round_trips(db: &Database, label: &str) {
    // INSERT … RETURNING: one parameter per column.
    let mut one = sheet("Ann@Example.org", 1);
    let back = db
        .fetch_one(insert(&one))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    one.id = back.id;
    assert_eq!(back, one, "{label}");
    // The unnest path: one array per column (arrays of arrays flattened).
    let many = db
        .fetch_all(insert_many(&[
            sheet("bob@example.org", 2),
            sheet("cy@example.org", 3),
        ]))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(many.len(), 2, "{label}");
    assert_eq!(
        many[1],
        Sheet {
            id: many[1].id,
            ..sheet("cy@example.org", 3)
        },
        "{label}"
    );

    // Filters: each type's parameter is compared as the column's type (citext's `=` ignores
    // case), in lists, and inside composite values.
    let count = |filter: Expr<bool>| async move {
        db.fetch_one(select::<Sheet>().filter(filter).count())
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"))
    };
    assert_eq!(
        count(Sheet::email.eq(Citext("ANN@example.ORG".into()))).await,
        1,
        "{label}"
    );
    assert_eq!(count(Sheet::weather.eq(Weather::Rainy)).await, 3, "{label}");
    assert_eq!(
        count(Sheet::maybe_weather.is_in([Weather::Sunny, Weather::Foggy])).await,
        3,
        "{label}"
    );
    assert_eq!(
        count(Sheet::code.eq(Code("AB-2".into()))).await,
        1,
        "{label}"
    );
    assert_eq!(
        count(Sheet::rank.is_in([Rank(1), Rank(3)])).await,
        2,
        "{label}"
    );
    assert_eq!(
        count(Sheet::spot.eq(spot("here", Weather::Sunny))).await,
        3,
        "{label}"
    );
    assert_eq!(
        count(Sheet::path.eq(Ltree("Top.Science.N3".into()))).await,
        1,
        "{label}"
    );
    assert_eq!(
        count(Sheet::path.descendant_of(Ltree("Top.Science".into()))).await,
        3,
        "{label}"
    );
    assert_eq!(count(Sheet::attrs.holds_key("n")).await, 3, "{label}");
    assert_eq!(
        count(Sheet::forecast.eq(vec![Weather::Sunny, Weather::Rainy])).await,
        3,
        "{label}"
    );
    assert_eq!(
        count(Sheet::tags.eq(vec![Citext("Ünïcödé".into()), Citext("B".into())])).await,
        3,
        "{label}"
    );

    // UPDATE … SET of every named type, read back.
    let mut changed = one.clone();
    changed.email = Citext("ann@changed.org".into());
    changed.weather = Weather::Foggy;
    changed.maybe_weather = None;
    changed.forecast = vec![];
    changed.code = Code("ZZ-9".into());
    changed.rank = Rank(9);
    changed.spot = spot("there", Weather::Rainy);
    changed.spots = vec![spot("c", Weather::Sunny)];
    changed.tags = vec![Citext("x".into())];
    changed.attrs = HashMap::from([("k".to_string(), None)]);
    let n = db
        .execute(
            update::<Sheet>()
                .set(Sheet::email, changed.email.clone())
                .set(Sheet::weather, changed.weather)
                .set(Sheet::maybe_weather, None::<Weather>)
                .set(Sheet::forecast, changed.forecast.clone())
                .set(Sheet::code, changed.code.clone())
                .set(Sheet::rank, changed.rank)
                .set(Sheet::spot, changed.spot.clone())
                .set(Sheet::spots, changed.spots.clone())
                .set(Sheet::tags, changed.tags.clone())
                .set(Sheet::attrs, changed.attrs.clone())
                .filter(Sheet::id.eq(one.id)),
        )
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(n, 1, "{label}");
    let read = db
        .fetch_one(select::<Sheet>().by_pk(one.id))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(read, changed, "{label}");

    // The session's multi-row UPDATE (`FROM unnest(...)`) of two changed rows.
    let mut s = db.session();
    let rows = s
        .all(select::<Sheet>().filter(Sheet::id.is_in(many.iter().map(|m| m.id))))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    for row in &rows {
        let mut w = row.write();
        w.spots.push(spot("new", Weather::Foggy));
        w.forecast = vec![Weather::Foggy];
        w.tags.push(Citext("added".into()));
    }
    s.commit().await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let grown = db
        .fetch_one(
            select::<Sheet>()
                .filter(Sheet::forecast.eq(vec![Weather::Foggy]))
                .filter(Sheet::tags.contains_all(vec![Citext("ADDED".into())]))
                .count(),
        )
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(grown, 2, "{label}");
    // The same columns changed again: the statement's text comes from the flush's cache, and the
    // arrays bind in the order it numbers them (an array of composites names its elements
    // before their owners).
    for row in &rows {
        let mut w = row.write();
        w.spots.push(spot("again", Weather::Sunny));
        w.forecast = vec![Weather::Foggy, Weather::Sunny];
        w.tags.push(Citext("again".into()));
    }
    s.commit().await.unwrap_or_else(|e| panic!("{label}: {e}"));
    for row in &rows {
        let read = db
            .fetch_one(select::<Sheet>().by_pk(row.read().id))
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(read, row.to_detached(), "{label}");
        assert_eq!(
            read.spots.last(),
            Some(&spot("again", Weather::Sunny)),
            "{label}"
        );
    }

    // Raw SQL binds name their types too.
    let raw: i64 = db
        .fetch_one(
            query::<i64>(
                "SELECT count(*) FROM nt_sheets \
                 WHERE email = :email AND spot = CAST(:spot AS nt_spot) AND :weather = ANY(forecast)",
            )
            .bind("email", Citext("BOB@example.org".into()))
            .bind("spot", spot("here", Weather::Sunny))
            .bind("weather", Weather::Foggy),
        )
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(raw, 1, "{label}");
}
