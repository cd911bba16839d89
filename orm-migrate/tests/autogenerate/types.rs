//! The types of issue 15 through autogenerate: ranges, network addresses, money, bit strings,
//! custom types, domains, extensions' types and an exclusion constraint reach the database through a generated migration, the database then
//! matches the models (a second autogenerate is empty), `create_all` makes the same database,
//! and downgrade removes it all.

use std::net::IpAddr;

use orm_migrate::Target;
use orm_migrate::diff::{DiffOptions, diff};
use orm_migrate::model_schema::schema_of;
use orm_postgres::ColumnType;
use orm_postgres::prelude::*;
use orm_testing::test_database;

use super::{assert_schema, migrator, revisions, schema_of_db};

/// A code stored as text.
#[derive(Debug, Clone, PartialEq, SqlType)]
pub struct RoomCode(String);

impl CustomType for RoomCode {
    type Repr = String;
    fn to_repr(&self) -> String {
        self.0.clone()
    }
    fn from_repr(text: String) -> Result<Self, BoxError> {
        Ok(RoomCode(text))
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "booking", exclude(room = "=", during = "&&"))]
pub struct Booking {
    #[model(primary_key, generated)]
    pub id: i64,
    pub room: i32,
    pub code: RoomCode,
    pub during: Range<chrono::DateTime<chrono::Utc>>,
    pub nights: Option<Range<chrono::NaiveDate>>,
    pub seats: Range<i64>,
    pub from_ip: Option<IpAddr>,
    pub network: Option<Cidr>,
    pub iface: Option<Inet>,
    pub mac: Option<MacAddr>,
    pub mac8: Option<MacAddr8>,
    pub price: Option<Money>,
    pub flags: Option<Bits>,
}

fn model_options() -> DiffOptions {
    DiffOptions {
        models: true,
        ..DiffOptions::default()
    }
}

#[tokio::test]
async fn new_types_and_exclusion_constraints_round_trip_through_autogenerate() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        .await
        .expect("btree_gist");
    let models = schema_of(&[Booking::TABLE], "public");
    let m = diff(&schema_of_db(&t).await, &models, &model_options());
    let up = m.up_sql();
    for expected in [
        "    during tstzrange NOT NULL,",
        "    nights daterange,",
        "    seats int8range NOT NULL,",
        "    from_ip inet,",
        "    network cidr,",
        "    mac macaddr,",
        "    mac8 macaddr8,",
        "    price money,",
        "    flags bit varying,",
        "    code text NOT NULL,",
        "    CONSTRAINT booking_room_during_excl EXCLUDE USING gist (room WITH =, during WITH &&)\n);",
    ] {
        assert!(up.contains(expected), "missing {expected:?} in:\n{up}");
    }
    let mig = migrator(revisions(std::slice::from_ref(&m)));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_schema(&t, &models, "after the upgrade").await;
    let again = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(
        again.is_empty(),
        "a second autogenerate: {}",
        again.up_sql()
    );

    // The constraint holds: a second booking of room 1 overlapping the first is refused.
    let day =
        |d: u32| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, d, 0, 0, 0).unwrap();
    let booking = |room: i32, from: u32, to: u32| Booking {
        id: 0,
        room,
        code: RoomCode(format!("R{room}")),
        during: Range::closed_open(day(from), day(to)),
        nights: None,
        seats: Range::closed_open(1, 3),
        from_ip: None,
        network: None,
        iface: None,
        mac: None,
        mac8: Some(MacAddr8([1, 2, 3, 4, 5, 6, 7, 8])),
        price: Some(Money(-1)),
        flags: Some(Bits::from_bools([true, false])),
    };
    t.execute(insert(&booking(1, 1, 5))).await.expect("first");
    t.execute(insert(&booking(2, 1, 5)))
        .await
        .expect("other room");
    t.execute(insert(&booking(1, 5, 7)))
        .await
        .expect("adjacent");
    let err = t
        .execute(insert(&booking(1, 4, 6)))
        .await
        .expect_err("an overlapping booking is refused");
    assert_eq!(err.sqlstate(), Some("23P01"), "{err}");

    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    assert!(schema_of_db(&t).await.tables.is_empty());
}

#[tokio::test]
async fn create_all_makes_the_same_database() {
    let t = test_database().await.expect("db");
    t.batch_execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        .await
        .expect("btree_gist");
    t.create_all(&[Booking::TABLE]).await.expect("create_all");
    let models = schema_of(&[Booking::TABLE], "public");
    let m = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(m.is_empty(), "{}", m.up_sql());
}

/// A year as the database checks it: a domain the migration creates.
#[derive(Debug, Clone, Copy, PartialEq, SqlType)]
pub struct Year(i32);

impl CustomType for Year {
    type Repr = i32;
    const COLUMN_TYPE: ColumnType = ColumnType::Domain(
        &orm_postgres::types::DomainType::new("year", &ColumnType::Integer)
            .check("VALUE >= 1901 AND VALUE <= 2155"),
    );
    fn to_repr(&self) -> i32 {
        self.0
    }
    fn from_repr(year: i32) -> Result<Self, BoxError> {
        Ok(Year(year))
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "film")]
pub struct Film {
    #[model(primary_key, generated)]
    pub id: i64,
    pub released: Year,
    pub title: Citext,
    pub path: Option<Ltree>,
    pub attrs: std::collections::HashMap<String, Option<String>>,
}

#[tokio::test]
async fn domains_and_extensions_round_trip_through_autogenerate() {
    let t = test_database().await.expect("db");
    let models = schema_of(&[Film::TABLE], "public");
    let m = diff(&schema_of_db(&t).await, &models, &model_options());
    let up = m.up_sql();
    for expected in [
        "CREATE EXTENSION IF NOT EXISTS citext;",
        "CREATE EXTENSION IF NOT EXISTS hstore;",
        "CREATE EXTENSION IF NOT EXISTS ltree;",
        "CREATE DOMAIN public.year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);",
        "    released public.year NOT NULL,",
        "    title public.citext NOT NULL,",
        "    attrs public.hstore NOT NULL,",
    ] {
        assert!(up.contains(expected), "missing {expected:?} in:\n{up}");
    }
    let mig = migrator(revisions(std::slice::from_ref(&m)));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    let again = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(
        again.is_empty() && again.warnings.is_empty(),
        "a second autogenerate: {}\n{:?}",
        again.up_sql(),
        again.warnings
    );
    t.execute(insert(&Film {
        id: 0,
        released: Year(1999),
        title: Citext("Title".into()),
        path: Some(Ltree("a.b".into())),
        attrs: Default::default(),
    }))
    .await
    .expect("insert through the models");
    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    let left = schema_of_db(&t).await;
    assert!(
        left.tables.is_empty() && left.objects.is_empty(),
        "{left:#?}"
    );
    assert!(!left.extensions.contains("citext"), "{:?}", left.extensions);

    // create_all makes a database the models match.
    t.create_all(&[Film::TABLE]).await.expect("create_all");
    let m = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(m.is_empty() && m.warnings.is_empty(), "{}", m.up_sql());
}

/// A postal address, stored as a composite type.
#[derive(Debug, Clone, PartialEq, SqlType)]
#[sql_type(composite = "address")]
pub struct Address {
    pub street: String,
    pub city: Option<String>,
}

/// The same type a release later, with a country.
#[derive(Debug, Clone, PartialEq, SqlType)]
#[sql_type(composite = "address")]
pub struct AddressV2 {
    pub street: String,
    pub country: Option<String>,
    pub city: Option<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "shop")]
pub struct Shop {
    #[model(primary_key, generated)]
    pub id: i64,
    pub at: Address,
    pub branches: Vec<Address>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "shop")]
pub struct ShopV2 {
    #[model(primary_key, generated)]
    pub id: i64,
    pub at: AddressV2,
    pub branches: Vec<AddressV2>,
}

#[tokio::test]
async fn composite_types_round_trip_through_autogenerate() {
    let t = test_database().await.expect("db");
    let v1 = schema_of(&[Shop::TABLE], "public");
    let m1 = diff(&schema_of_db(&t).await, &v1, &model_options());
    let up = m1.up_sql();
    for expected in [
        "CREATE TYPE public.address AS (street text, city text);",
        "    at public.address NOT NULL,",
        "    branches public.address[] NOT NULL,",
    ] {
        assert!(up.contains(expected), "missing {expected:?} in:\n{up}");
    }
    assert!(
        up.find("CREATE TYPE").expect("create type")
            < up.find("CREATE TABLE").expect("create table"),
        "{up}"
    );
    let mig = migrator(revisions(std::slice::from_ref(&m1)));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_schema(&t, &v1, "after the upgrade").await;
    let again = diff(&schema_of_db(&t).await, &v1, &model_options());
    assert!(
        again.is_empty(),
        "a second autogenerate: {}",
        again.up_sql()
    );
    t.execute(insert(&Shop {
        id: 0,
        at: Address {
            street: "1, \"Main\" St".into(),
            city: None,
        },
        branches: vec![],
    }))
    .await
    .expect("insert through the models");

    // A new attribute: `ADD ATTRIBUTE` (appended last; the struct has it in the middle, which
    // is no difference: attributes are matched by name).
    let v2 = schema_of(&[ShopV2::TABLE], "public");
    let m2 = diff(&schema_of_db(&t).await, &v2, &model_options());
    assert_eq!(
        m2.up_sql().trim(),
        "-- add attribute country to type public.address\nALTER TYPE public.address ADD ATTRIBUTE country text;",
        "{}",
        m2.up_sql()
    );
    let mig = migrator(revisions(&[m1.clone(), m2.clone()]));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade to v2");
    let again = diff(&schema_of_db(&t).await, &v2, &model_options());
    assert!(
        again.is_empty(),
        "a second autogenerate: {}",
        again.up_sql()
    );
    // A new connection reads the old row through the new struct.
    let db = Database::builder(t.admin_url())
        .dbname(t.name())
        .max_connections(1)
        .connect()
        .await
        .expect("pool");
    let shop = db.fetch_one(select::<ShopV2>()).await.expect("read v2");
    assert_eq!(shop.at.street, "1, \"Main\" St");
    assert_eq!(shop.at.country, None);

    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
    let left = schema_of_db(&t).await;
    assert!(
        left.tables.is_empty() && left.composites.is_empty(),
        "{left:#?}"
    );

    // create_all makes a database the models match.
    t.create_all(&[ShopV2::TABLE]).await.expect("create_all");
    let m = diff(&schema_of_db(&t).await, &v2, &model_options());
    assert!(m.is_empty() && m.warnings.is_empty(), "{}", m.up_sql());
}

/// The same table as `Room` before the multirange columns were added.
mod before {
    use orm_postgres::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = "room")]
    pub struct Room {
        #[model(primary_key, generated)]
        pub id: i64,
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "room")]
pub struct Room {
    #[model(primary_key, generated)]
    pub id: i64,
    pub free: orm_postgres::types::Multirange<i32>,
    pub open: Option<orm_postgres::types::Multirange<chrono::DateTime<chrono::Utc>>>,
    pub seasons: Option<Vec<orm_postgres::types::Multirange<chrono::NaiveDate>>>,
}

#[tokio::test]
async fn adding_multirange_columns_round_trips_through_autogenerate() {
    let t = test_database().await.expect("db");
    t.create_all(&[before::Room::TABLE])
        .await
        .expect("create_all");
    let models = schema_of(&[Room::TABLE], "public");
    let m = diff(&schema_of_db(&t).await, &models, &model_options());
    let up = m.up_sql();
    for expected in [
        "ALTER TABLE public.room ADD COLUMN free int4multirange NOT NULL;",
        "ALTER TABLE public.room ADD COLUMN open tstzmultirange;",
        "ALTER TABLE public.room ADD COLUMN seasons datemultirange[];",
    ] {
        assert!(up.contains(expected), "missing {expected:?} in:\n{up}");
    }
    let mig = migrator(revisions(std::slice::from_ref(&m)));
    mig.upgrade(&t, &Target::Head).await.expect("upgrade");
    assert_schema(&t, &models, "after the upgrade").await;
    let again = diff(&schema_of_db(&t).await, &models, &model_options());
    assert!(
        again.is_empty() && again.warnings.is_empty(),
        "a second autogenerate: {}\n{:?}",
        again.up_sql(),
        again.warnings
    );
    // The reflected columns carry the multirange types, as `format_type` prints them.
    let db = schema_of_db(&t).await;
    let room = db
        .tables
        .values()
        .find(|t| t.name.name == "room")
        .expect("room");
    let types: Vec<&str> = room.columns.iter().map(|c| c.data_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "bigint",
            "int4multirange",
            "tstzmultirange",
            "datemultirange[]"
        ]
    );
    mig.downgrade(&t, &Target::Base).await.expect("downgrade");
}
