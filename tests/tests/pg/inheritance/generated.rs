//! Stored generated columns (`computed`) on the variant structs of an inheritance enum, in one
//! table and in joined tables: `create_all` declares them, no insert or update writes them, and
//! the session and Core inserts read them back.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;

/// Single-table: a shape, square or rectangle; each computes its area its own way.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "gi_shapes", discriminator = "kind")]
pub enum Shape {
    #[model(value = "square")]
    Square(Square),
    #[model(value = "rect")]
    Rect(Rect),
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(inherits = Shape)]
pub struct Square {
    #[model(primary_key, generated)]
    pub id: i64,
    pub label: String,
    pub side: i32,
    #[model(computed = "side * side")]
    pub area: i32,
    /// Both variants declare it, with one definition: one column.
    #[model(computed = "upper(label)")]
    pub tag: String,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(inherits = Shape)]
pub struct Rect {
    #[model(primary_key, generated)]
    pub id: i64,
    pub label: String,
    pub width: i32,
    pub height: i32,
    #[model(computed = "width * height")]
    pub surface: i32,
    #[model(computed = "upper(label)")]
    pub tag: String,
}

fn square(label: &str, side: i32) -> Square {
    Square {
        label: label.into(),
        side,
        ..Square::default()
    }
}

fn rect(label: &str, width: i32, height: i32) -> Rect {
    Rect {
        label: label.into(),
        width,
        height,
        ..Rect::default()
    }
}

/// Joined-table: a vehicle's subtype tables each hold a generated column, and the base table
/// one from a shared column.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "gi_vehicles", discriminator = "kind", polymorphic = "joined")]
pub enum Vehicle {
    #[model(value = "car")]
    Car(Car),
    #[model(value = "truck")]
    Truck(Truck),
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(inherits = Vehicle, table = "gi_cars")]
pub struct Car {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub name: String,
    #[model(shared, computed = "lower(name)")]
    pub slug: String,
    pub seats: i32,
    #[model(computed = "seats * 80")]
    pub legroom: i32,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(inherits = Vehicle, table = "gi_trucks")]
pub struct Truck {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub name: String,
    pub load_kg: i32,
    #[model(computed = "load_kg / 1000")]
    pub load_t: i32,
}

/// The generated columns of `table`, in order.
async fn generated_columns(db: &Database, table: &str) -> Vec<String> {
    db.fetch_all(
        query::<String>(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = :t::text::regclass AND attnum > 0 \
             AND attgenerated = 's' ORDER BY attnum",
        )
        .bind("t", table.to_string()),
    )
    .await
    .unwrap()
}

#[orm_postgres::test(tables(Shape, Vehicle))]
async fn create_all_declares_them_in_the_tables_holding_them(db: Database) {
    let ddl = orm_postgres::ddl::create_table(Shape::TABLE).unwrap();
    assert!(
        ddl[0].contains(r#""area" INTEGER GENERATED ALWAYS AS (side * side) STORED"#),
        "{}",
        ddl[0]
    );
    assert_eq!(
        generated_columns(&db, "gi_shapes").await,
        ["area", "tag", "surface"]
    );
    assert_eq!(generated_columns(&db, "gi_vehicles").await, ["slug"]);
    assert_eq!(generated_columns(&db, "gi_cars").await, ["legroom"]);
    assert_eq!(generated_columns(&db, "gi_trucks").await, ["load_t"]);
}

#[orm_postgres::test(tables(Shape))]
async fn single_table_writes_leave_them_out_and_read_them_back(db: Database) {
    // Core: the insert names no generated column and returns them.
    let q = insert(&square("a", 3)).compile().unwrap();
    assert!(
        q.sql
            .starts_with(r#"INSERT INTO "gi_shapes" ("label", "side", "kind") VALUES"#),
        "{}",
        q.sql
    );
    let a = db.fetch_one(insert(&square("a", 3))).await.unwrap();
    assert_eq!((a.area, a.tag.as_str()), (9, "A"));

    // The session: inserted without them, read back after the flush.
    let mut s = db.session();
    let b = s.add(Shape::from(rect("b", 2, 5)));
    let c = s.add(Shape::from(square("c", 4)));
    s.commit().await.unwrap();
    match &*b.read() {
        Shape::Rect(r) => assert_eq!((r.surface, r.tag.as_str()), (10, "B")),
        other => panic!("{other:?}"),
    }
    match &*c.read() {
        Shape::Square(sq) => assert_eq!((sq.area, sq.tag.as_str()), (16, "C")),
        other => panic!("{other:?}"),
    }

    // An update recomputes them; the session reads the new values back.
    if let Shape::Square(sq) = &mut *c.write() {
        sq.side = 5;
        sq.area = -1;
    }
    s.commit().await.unwrap();
    match &*c.read() {
        Shape::Square(sq) => assert_eq!(sq.area, 25),
        other => panic!("{other:?}"),
    }

    // And every query reads them, as the enum or as a variant.
    let all = db
        .fetch_all(select::<Shape>().order_by(Square::id))
        .await
        .unwrap();
    let areas: Vec<i32> = all
        .iter()
        .map(|s| match s {
            Shape::Square(sq) => sq.area,
            Shape::Rect(r) => r.surface,
        })
        .collect();
    assert_eq!(areas, [9, 10, 25]);
    let big = db
        .fetch_all(select::<Square>().filter(Square::area.gt(10)))
        .await
        .unwrap();
    assert_eq!(big.len(), 1);
    assert_eq!(big[0].label, "c");
}

#[orm_postgres::test(tables(Vehicle))]
async fn joined_table_writes_leave_them_out_and_read_them_back(db: Database) {
    let mut s = db.session();
    let car = s.add(Vehicle::from(Car {
        name: "Zoe".into(),
        seats: 4,
        ..Car::default()
    }));
    let truck = s.add(Vehicle::from(Truck {
        name: "Atego".into(),
        load_kg: 7500,
        ..Truck::default()
    }));
    s.commit().await.unwrap();
    match &*car.read() {
        Vehicle::Car(c) => assert_eq!((c.slug.as_str(), c.legroom), ("zoe", 320)),
        other => panic!("{other:?}"),
    }
    match &*truck.read() {
        Vehicle::Truck(t) => assert_eq!(t.load_t, 7),
        other => panic!("{other:?}"),
    }
    // An update of each table recomputes its generated columns.
    if let Vehicle::Car(c) = &mut *car.write() {
        c.name = "Twingo".into();
        c.seats = 5;
    }
    s.commit().await.unwrap();
    match &*car.read() {
        Vehicle::Car(c) => assert_eq!((c.slug.as_str(), c.legroom), ("twingo", 400)),
        other => panic!("{other:?}"),
    }
    let read = db
        .fetch_all(select::<Vehicle>().order_by(Car::id))
        .await
        .unwrap();
    assert_eq!(read.len(), 2);
    match &read[0] {
        Vehicle::Car(c) => assert_eq!((c.slug.as_str(), c.legroom), ("twingo", 400)),
        other => panic!("{other:?}"),
    }
    let heavy = db
        .fetch_all(select::<Truck>().filter(Truck::load_t.ge(7)))
        .await
        .unwrap();
    assert_eq!(heavy.len(), 1);
}
