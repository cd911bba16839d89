//! A version column (`#[model(version)]`) on the variant structs of an inheritance enum: every
//! variant declares the same column, the session starts new rows at 1, bumps it with every
//! update of either variant, checks it in the `WHERE` of updates and deletes, and fails a flush
//! that meets a row another writer changed (`StaleData`), in one table and in joined tables
//! (where the column is in the base table).

use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;

/// Single-table: an account is personal or business; both carry the version.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "vv_accounts", discriminator = "kind")]
pub enum Account {
    #[model(value = "personal")]
    Personal(Personal),
    #[model(value = "business")]
    Business(Business),
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Account)]
pub struct Personal {
    #[model(primary_key, generated)]
    pub id: i64,
    pub owner: String,
    #[model(version)]
    pub version: i32,
    pub balance: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Account)]
pub struct Business {
    #[model(primary_key, generated)]
    pub id: i64,
    pub owner: String,
    #[model(version)]
    pub version: i32,
    pub vat: String,
}

fn version_of(a: &Account) -> i32 {
    match a {
        Account::Personal(p) => p.version,
        Account::Business(b) => b.version,
    }
}

fn assert_stale(err: &orm_postgres::Error, model: &str, operation: &str) {
    match err.kind() {
        ErrorKind::StaleData {
            model: m,
            operation: op,
            ..
        } => assert_eq!((*m, *op), (model, operation), "{err}"),
        other => panic!("expected StaleData, got {other:?}"),
    }
}

/// The one object `q` selects, loaded in a new session (whose transaction then ends), after
/// which another writer runs `sql` on its row: the session's copy is stale.
async fn loaded_then_changed<M: orm_postgres::session::Persist>(
    db: &Database,
    q: orm_postgres::Select<M>,
    sql: &'static str,
) -> (Session, Tracked<M>) {
    let mut s = db.session();
    let t = s.one(q).await.unwrap();
    s.rollback().await.unwrap();
    db.execute(query::<()>(sql)).await.unwrap();
    (s, t)
}

#[orm_postgres::test(tables(Account))]
async fn a_single_table_enum_checks_and_bumps_the_variants_version(db: Database) {
    let mut s = db.session();
    let p = s.add(Account::from(Personal {
        id: 0,
        owner: "ann".into(),
        version: 0,
        balance: 10,
    }));
    let b = s.add(Account::from(Business {
        id: 0,
        owner: "acme".into(),
        version: 0,
        vat: "DE1".into(),
    }));
    s.commit().await.unwrap();
    // New rows start at 1.
    assert_eq!(version_of(&p.read()), 1);
    assert_eq!(version_of(&b.read()), 1);

    // An update of either variant checks the version it read and writes the next one.
    let mut s = db.session();
    let all = s
        .all(select::<Account>().order_by(Personal::id))
        .await
        .unwrap();
    match &mut *all[0].write() {
        Account::Personal(p) => p.balance = 20,
        other => panic!("{other:?}"),
    }
    match &mut *all[1].write() {
        Account::Business(b) => b.vat = "DE2".into(),
        other => panic!("{other:?}"),
    }
    let log = db.statement_log();
    s.commit().await.unwrap();
    let sql = log.finish();
    assert!(
        sql.iter()
            .any(|q| q.starts_with(r#"UPDATE "vv_accounts" SET"#)
                && q.contains(r#""vv_accounts"."version" = "orm_v"."ver""#)),
        "{sql:?}"
    );
    assert_eq!(version_of(&all[0].read()), 2);
    assert_eq!(version_of(&all[1].read()), 2);
    let versions = db
        .fetch_all(query::<i32>("SELECT version FROM vv_accounts ORDER BY id"))
        .await
        .unwrap();
    assert_eq!(versions, [2, 2]);

    // Another writer changes ann's row: the session's update is stale, nothing is written.
    let (mut s, ann) = loaded_then_changed(
        &db,
        select::<Account>().filter(Personal::owner.eq("ann")),
        "UPDATE vv_accounts SET version = 7 WHERE owner = 'ann'",
    )
    .await;
    match &mut *ann.write() {
        Account::Personal(p) => p.balance = 99,
        other => panic!("{other:?}"),
    }
    let err = s.commit().await.unwrap_err();
    assert_stale(&err, "Account", "UPDATE");
    assert_eq!(version_of(&ann.read()), 2, "the bump is undone");
    s.rollback().await.unwrap();
    let balance = db
        .fetch_one(query::<i64>(
            "SELECT balance FROM vv_accounts WHERE owner = 'ann'",
        ))
        .await
        .unwrap();
    assert_eq!(balance, 20);

    // Deleting a row another writer changed is stale too.
    let (mut s, acme) = loaded_then_changed(
        &db,
        select::<Account>().filter(Business::owner.eq("acme")),
        "UPDATE vv_accounts SET version = 9 WHERE owner = 'acme'",
    )
    .await;
    s.delete(&acme).unwrap();
    let err = s.commit().await.unwrap_err();
    assert_stale(&err, "Account", "DELETE");
    s.rollback().await.unwrap();
    let left = db
        .fetch_one(query::<i64>("SELECT count(*) FROM vv_accounts"))
        .await
        .unwrap();
    assert_eq!(left, 2);
}

/// Joined-table: a vehicle is a truck or a bike; the version is a shared (base-table) column.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "vv_vehicles", discriminator = "kind")]
pub enum Vehicle {
    #[model(value = "truck")]
    Truck(Truck),
    #[model(value = "bike")]
    Bike(Bike),
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Vehicle, table = "vv_trucks")]
pub struct Truck {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub plate: String,
    #[model(shared, version)]
    pub version: i64,
    pub load_kg: i32,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Vehicle, table = "vv_bikes")]
pub struct Bike {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub plate: String,
    #[model(shared, version)]
    pub version: i64,
    pub gears: i16,
}

fn vehicle_version(v: &Vehicle) -> i64 {
    match v {
        Vehicle::Truck(t) => t.version,
        Vehicle::Bike(b) => b.version,
    }
}

#[orm_postgres::test(tables(Vehicle))]
async fn a_joined_table_enum_checks_the_version_in_its_base_table(db: Database) {
    let mut s = db.session();
    let truck = s.add(Vehicle::from(Truck {
        id: 0,
        plate: "T-1".into(),
        version: 0,
        load_kg: 1000,
    }));
    s.add(Vehicle::from(Bike {
        id: 0,
        plate: "B-1".into(),
        version: 0,
        gears: 21,
    }));
    s.commit().await.unwrap();
    assert_eq!(vehicle_version(&truck.read()), 1);

    // A change to the subtype table's column: the base table's version is bumped and checked,
    // the subtype table updated by key.
    let mut s = db.session();
    let t = s
        .one(select::<Vehicle>().filter(Truck::load_kg.eq(1000)))
        .await
        .unwrap();
    match &mut *t.write() {
        Vehicle::Truck(t) => t.load_kg = 2000,
        other => panic!("{other:?}"),
    }
    let log = db.statement_log();
    s.commit().await.unwrap();
    let sql = log.finish();
    let base = sql
        .iter()
        .find(|q| q.starts_with(r#"UPDATE "vv_vehicles""#))
        .unwrap_or_else(|| panic!("no base update: {sql:?}"));
    assert!(
        base.contains(r#"SET "version""#)
            && base.contains(r#""vv_vehicles"."version" = "orm_v"."ver""#),
        "{base}"
    );
    let part = sql
        .iter()
        .find(|q| q.starts_with(r#"UPDATE "vv_trucks""#))
        .unwrap_or_else(|| panic!("no subtype update: {sql:?}"));
    assert!(!part.contains("version"), "{part}");
    assert_eq!(vehicle_version(&t.read()), 2);
    let row = db
        .fetch_one(query::<(i64, i32)>(
            "SELECT v.version, t.load_kg FROM vv_vehicles v JOIN vv_trucks t USING (id)",
        ))
        .await
        .unwrap();
    assert_eq!(row, (2, 2000));

    // Stale: another writer bumped the truck; the subtype change is not written either.
    let (mut s, t) = loaded_then_changed(
        &db,
        select::<Vehicle>().filter(Truck::plate.eq("T-1")),
        "UPDATE vv_vehicles SET version = 5 WHERE plate = 'T-1'",
    )
    .await;
    match &mut *t.write() {
        Vehicle::Truck(t) => t.load_kg = 1,
        other => panic!("{other:?}"),
    }
    let err = s.commit().await.unwrap_err();
    assert_stale(&err, "Vehicle", "UPDATE");
    s.rollback().await.unwrap();
    let load = db
        .fetch_one(query::<i32>("SELECT load_kg FROM vv_trucks"))
        .await
        .unwrap();
    assert_eq!(load, 2000);

    // A stale delete removes neither row.
    let (mut s, bike) = loaded_then_changed(
        &db,
        select::<Vehicle>().filter(Bike::gears.eq(21)),
        "UPDATE vv_vehicles SET version = 3 WHERE plate = 'B-1'",
    )
    .await;
    s.delete(&bike).unwrap();
    let err = s.commit().await.unwrap_err();
    assert_stale(&err, "Vehicle", "DELETE");
    s.rollback().await.unwrap();
    let counts = db
        .fetch_one(query::<(i64, i64)>(
            "SELECT (SELECT count(*) FROM vv_vehicles), (SELECT count(*) FROM vv_bikes)",
        ))
        .await
        .unwrap();
    assert_eq!(counts, (2, 1));
    // Deleted with the right version: both rows go.
    let mut s = db.session();
    let bike = s
        .one(select::<Vehicle>().filter(Bike::gears.eq(21)))
        .await
        .unwrap();
    s.delete(&bike).unwrap();
    s.commit().await.unwrap();
    let counts = db
        .fetch_one(query::<(i64, i64)>(
            "SELECT (SELECT count(*) FROM vv_vehicles), (SELECT count(*) FROM vv_bikes)",
        ))
        .await
        .unwrap();
    assert_eq!(counts, (1, 0));
}
