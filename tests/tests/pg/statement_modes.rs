//! The unnamed statement mode (for pgbouncer and other poolers in transaction mode) on the same
//! server as the cached mode: each scenario runs in both modes and must come out the same —
//! every type as a parameter and as a column, Core statements, raw SQL, streams, `EXPLAIN`, the
//! session (flush through `unnest` and `VALUES`, every loader, autoflush, savepoints) and
//! transactions. Then what only the unnamed mode has: a parameter type it cannot declare, and a
//! type created after its connections opened.
//!
//! (`ORM_TEST_STATEMENT_MODE=unnamed` runs this whole suite unnamed; the connect and faults
//! suites run it behind a real pgbouncer.)

use futures_util::StreamExt;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ErrorKind, StatementMode};
use orm_testing::{TestDatabase, test_database};
use orm_tests::{Everything, Mood};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, private::BytesMut, to_sql_checked};

use crate::session::{Order as SOrder, User as SUser};
use crate::types::sample;

const MODES: [StatementMode; 2] = [StatementMode::Cached, StatementMode::Unnamed];

/// A pool on the test's database in `mode`.
pub(crate) async fn in_mode(t: &TestDatabase, mode: StatementMode) -> Database {
    t.builder()
        .max_connections(4)
        .statement_mode(mode)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{mode}: {e}"))
}

#[tokio::test]
async fn every_type_is_a_parameter_and_a_column_in_both_modes() {
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    for mode in MODES {
        let db = in_mode(&t, mode).await;
        let mut v = sample();
        let back = db.fetch_one(insert(&v)).await.unwrap();
        v.id = back.id;
        assert_eq!(back, v, "{mode}");
        // The unnest path (one array per column; the enum array untyped).
        let mut w = sample();
        w.maybe_mood = None;
        w.maybe_int = Some(-1);
        let many = db
            .fetch_all(insert_many(&[w.clone(), w.clone()]))
            .await
            .unwrap();
        w.id = many[1].id;
        assert_eq!(many[1], w, "{mode}");
        // Enum parameters: compared, in a list (`= ANY($1)`), set, and NULL.
        let so_so: i64 = db
            .fetch_one(
                select::<Everything>()
                    .filter(Everything::mood.eq(Mood::SoSo))
                    .filter(Everything::id.is_in([v.id, w.id]))
                    .count(),
            )
            .await
            .unwrap();
        assert_eq!(so_so, 2, "{mode}");
        let listed: i64 = db
            .fetch_one(
                select::<Everything>()
                    .filter(Everything::mood.is_in([Mood::Sad, Mood::SoSo]))
                    .filter(Everything::id.eq(v.id))
                    .count(),
            )
            .await
            .unwrap();
        assert_eq!(listed, 1, "{mode}");
        let changed = db
            .execute(
                update::<Everything>()
                    .set(Everything::mood, Mood::Sad)
                    .set(Everything::maybe_mood, None::<Mood>)
                    .set(Everything::moods, vec![Mood::SoSo, Mood::Happy])
                    .filter(Everything::id.eq(v.id)),
            )
            .await
            .unwrap();
        assert_eq!(changed, 1, "{mode}");
        let reread = db
            .fetch_one(select::<Everything>().by_pk(v.id))
            .await
            .unwrap();
        assert_eq!(
            (reread.mood, reread.maybe_mood, reread.moods),
            (Mood::Sad, None, vec![Mood::SoSo, Mood::Happy]),
            "{mode}"
        );
        let deleted = db
            .execute(delete::<Everything>().filter(Everything::id.is_in([v.id, w.id])))
            .await
            .unwrap();
        assert_eq!(deleted, 2, "{mode}");
    }
}

#[tokio::test]
async fn core_raw_sql_streams_and_explain_in_both_modes() {
    let t = crate::users_db().await;
    for mode in MODES {
        let db = in_mode(&t, mode).await;
        let names: Vec<String> = (0..50).map(|i| format!("{mode}-{i:02}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let users = crate::add_users(&db, &refs).await;
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let picked: Vec<String> = db
            .fetch_all(
                select::<orm_tests::User>()
                    .filter(orm_tests::User::id.is_in(ids[..3].to_vec()))
                    .order_by(orm_tests::User::id)
                    .columns(orm_tests::User::name),
            )
            .await
            .unwrap();
        assert_eq!(picked, names[..3], "{mode}");
        let raw: Vec<(i64, String)> = db
            .fetch_all(
                query::<(i64, String)>(
                    "SELECT id, name FROM users WHERE name LIKE :prefix || '%' \
                     AND id = ANY(:ids) ORDER BY id LIMIT :n",
                )
                .bind("prefix", format!("{mode}-"))
                .bind("ids", ids.clone())
                .bind("n", 2_i64),
            )
            .await
            .unwrap();
        assert_eq!(
            raw,
            [(ids[0], names[0].clone()), (ids[1], names[1].clone())]
        );
        let aged = db
            .execute(
                query::<()>("UPDATE users SET age = :age WHERE id = ANY(:ids)")
                    .bind("age", 7_i32)
                    .bind("ids", ids.clone()),
            )
            .await
            .unwrap();
        assert_eq!(aged, 50, "{mode}");
        // A stream of rows, larger than one network read.
        let mut stream = db
            .stream(
                select::<orm_tests::User>()
                    .filter(orm_tests::User::name.starts_with(&format!("{mode}-")))
                    .order_by(orm_tests::User::id),
            )
            .await
            .unwrap();
        let mut streamed = Vec::new();
        while let Some(u) = stream.next().await {
            streamed.push(u.unwrap().id);
        }
        assert_eq!(streamed, ids, "{mode}");
        drop(stream);
        let plan = db
            .explain(select::<orm_tests::User>().filter(orm_tests::User::id.eq(ids[0])))
            .await
            .unwrap();
        assert!(!plan.nodes().is_empty(), "{mode}");
        let gone = db
            .execute(delete::<orm_tests::User>().filter(orm_tests::User::id.is_in(ids)))
            .await
            .unwrap();
        assert_eq!(gone, 50, "{mode}");
    }
}

#[tokio::test]
async fn the_session_and_its_loaders_in_both_modes() {
    let t = test_database().await.unwrap();
    t.create_all(&[SUser::TABLE, SOrder::TABLE, Everything::TABLE])
        .await
        .unwrap();
    for mode in MODES {
        let db = in_mode(&t, mode).await;
        let mut s = db.session();
        let user = s.add(SUser {
            name: format!("{mode}"),
            orders: Related::loaded(vec![SOrder::of(1), SOrder::of(2), SOrder::of(3)]),
            ..SUser::default()
        });
        // Arrays and enums through the session's multi-row paths (`VALUES` with arrays).
        let rows = s.add_all([sample(), sample(), sample()]);
        s.flush().await.unwrap();
        let id = user.read().id;
        let ids: Vec<i64> = rows.iter().map(|r| r.read().id).collect();
        rows[1].write().moods = vec![Mood::SoSo];
        // Autoflush: the change is written before the query reads.
        let so_so: i64 = s
            .fetch_one(
                select::<Everything>()
                    .filter(Everything::id.is_in(ids))
                    .filter(Everything::moods.contains_all(vec![Mood::SoSo]))
                    .count(),
            )
            .await
            .unwrap();
        assert_eq!(so_so, 1, "{mode}");
        // A savepoint rolled back keeps the rest.
        s.begin_nested().await.unwrap();
        s.add(SOrder {
            user_id: id,
            ..SOrder::of(99)
        });
        s.flush().await.unwrap();
        s.rollback_nested().await.unwrap();
        s.commit().await.unwrap();

        for load in [
            SUser::orders.selectin(),
            SUser::orders.joined(),
            SUser::orders.subquery(),
        ] {
            let users = db
                .fetch_all(select::<SUser>().filter(SUser::id.eq(id)).load(load))
                .await
                .unwrap();
            let totals: Vec<i32> = users[0]
                .orders
                .get()
                .unwrap()
                .iter()
                .map(|o| o.total)
                .collect();
            assert_eq!(totals, [1, 2, 3], "{mode}");
        }
        let mut s = db.session();
        let loaded = s
            .all(
                select::<SUser>()
                    .filter(SUser::id.eq(id))
                    .load(SUser::orders.selectin()),
            )
            .await
            .unwrap();
        let orders = s.related(&loaded[0], SUser::orders).unwrap();
        orders[0].write().total = 10;
        s.delete(&orders[2]).unwrap();
        s.commit().await.unwrap();
        let totals: Vec<i32> = db
            .fetch_all(
                select::<SOrder>()
                    .filter(SOrder::user_id.eq(id))
                    .order_by(SOrder::id)
                    .columns(SOrder::total),
            )
            .await
            .unwrap();
        assert_eq!(totals, [10, 2], "{mode}");
    }
}

#[tokio::test]
async fn transactions_and_savepoints_in_both_modes() {
    let t = crate::users_db().await;
    for mode in MODES {
        let db = in_mode(&t, mode).await;
        let tx = db.begin().await.unwrap();
        crate::add_users(&tx, &[&format!("{mode}-kept")]).await;
        {
            let mut tx = tx;
            let sp = tx.savepoint().await.unwrap();
            crate::add_users(&sp, &[&format!("{mode}-undone")]).await;
            sp.rollback().await.unwrap();
            // A failed statement: the transaction refuses more until rolled back.
            let err = tx.execute(query::<()>("SELECT 1 / 0")).await.unwrap_err();
            assert_eq!(err.sqlstate(), Some("22012"), "{mode}");
            tx.rollback().await.unwrap();
        }
        let tx = db.begin().await.unwrap();
        crate::add_users(&tx, &[&format!("{mode}-committed")]).await;
        tx.commit().await.unwrap();
        let names: Vec<String> = db
            .fetch_all(
                select::<orm_tests::User>()
                    .filter(orm_tests::User::name.starts_with(&format!("{mode}-")))
                    .columns(orm_tests::User::name),
            )
            .await
            .unwrap();
        assert_eq!(names, [format!("{mode}-committed")]);
    }
}

/// An enum's `ToSql` as postgres-derive writes it (it accepts its type by name only), made a
/// column type by hand.
#[derive(Debug)]
struct NamedMood(String);

impl<'a> FromSql<'a> for NamedMood {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(NamedMood(String::from_utf8(raw.to_vec())?))
    }
    fn accepts(ty: &Type) -> bool {
        ty.name() == "mood"
    }
}

impl SqlType for NamedMood {
    type Base = NamedMood;
    const COLUMN_TYPE: orm_postgres::types::ColumnType = <Mood as SqlType>::COLUMN_TYPE;
}

impl ToSql for NamedMood {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        ty.name() == "mood"
    }
    to_sql_checked!();
}

/// A value whose `ToSql` accepts its type by name only, and whose column type says which, is
/// an ordinary parameter in both modes (the unnamed mode looks the type up).
#[tokio::test]
async fn a_parameter_naming_its_type_is_looked_up_when_unnamed() {
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    t.fetch_one(insert(&sample())).await.unwrap();
    let count = "SELECT count(*) FROM everything WHERE mood = :m";
    for mode in MODES {
        let db = in_mode(&t, mode).await;
        let n: i64 = db
            .fetch_one(query::<i64>(count).bind("m", NamedMood("so-so".into())))
            .await
            .unwrap();
        assert_eq!(n, 1, "{mode}");
    }
}

/// The same value claiming to be `text`: its `ToSql` refuses `text`, so the unnamed mode has
/// no type to declare it as: an encode error naming the parameter, before anything is sent.
#[derive(Debug)]
struct MislabeledMood(NamedMood);

impl<'a> FromSql<'a> for MislabeledMood {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        NamedMood::from_sql(ty, raw).map(MislabeledMood)
    }
    fn accepts(ty: &Type) -> bool {
        <NamedMood as FromSql>::accepts(ty)
    }
}

impl SqlType for MislabeledMood {
    type Base = MislabeledMood;
    const COLUMN_TYPE: orm_postgres::types::ColumnType = orm_postgres::types::ColumnType::Text;
}

impl ToSql for MislabeledMood {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }
    fn accepts(ty: &Type) -> bool {
        <NamedMood as ToSql>::accepts(ty)
    }
    to_sql_checked!();
}

#[tokio::test]
async fn a_parameter_of_no_type_it_can_declare_is_an_encode_error_when_unnamed() {
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    let count = "SELECT count(*) FROM everything WHERE mood = :m";
    let bad = || MislabeledMood(NamedMood("happy".into()));
    let cached = in_mode(&t, StatementMode::Cached).await;
    let n: i64 = cached
        .fetch_one(query::<i64>(count).bind("m", bad()))
        .await
        .unwrap();
    assert_eq!(n, 0);
    let unnamed = in_mode(&t, StatementMode::Unnamed).await;
    let err = unnamed
        .fetch_one(query::<i64>(count).bind("m", bad()))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Encode { index, source } => {
            assert_eq!(*index, 1);
            // The message says what to do: declare the type in the value's `SqlType`.
            let msg = source.to_string();
            assert!(msg.contains("DbEnum"), "{msg}");
            assert!(
                msg.contains("Declare the type its ToSql encodes for in its SqlType impl"),
                "{msg}"
            );
            assert!(msg.contains("ColumnType::Named"), "{msg}");
            assert!(
                err.to_string().starts_with("cannot encode parameter $1: "),
                "{err}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing was sent: the connection is fine.
    let n: i64 = unnamed
        .fetch_one(query::<i64>(count).bind("m", Mood::Happy))
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn types_created_after_a_connection_opened() {
    let t = test_database().await.unwrap();
    // A type exists when the unnamed connection opens (so it loads types at once).
    t.create_all(&[Everything::TABLE]).await.unwrap();
    let db = t
        .builder()
        .max_connections(1)
        .statement_mode(StatementMode::Unnamed)
        .connect()
        .await
        .unwrap();
    let other = &t.db;
    let shade = "SELECT 'dark'::shade";

    // Another client creates a type: the connection cannot load it. The statement fails with
    // an explanation, and the connection is replaced.
    other
        .batch_execute("CREATE TYPE shade AS ENUM ('light', 'dark')")
        .await
        .unwrap();
    let err = db.fetch_one(query::<String>(shade)).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("26000"), "{err:?}");
    let hint = match err.kind() {
        ErrorKind::Database(db_error) => db_error.hint.clone().unwrap_or_default(),
        other => panic!("{other:?}"),
    };
    assert!(hint.contains("created later"), "{hint}");
    let decoded = db
        .fetch_all(query::<(i64,)>("SELECT 1::int8"))
        .await
        .unwrap();
    assert_eq!(decoded, [(1,)]);
    let raw: i64 = db
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM (SELECT 'dark'::shade) s",
        ))
        .await
        .unwrap();
    assert_eq!(raw, 1);

    // Told about it, the database replaces its connections before they meet the type.
    other
        .batch_execute("CREATE TYPE tone AS ENUM ('warm', 'cool'); \
                        CREATE TABLE tones AS SELECT g, 'cool'::tone AS t FROM generate_series(1, 5000) g")
        .await
        .unwrap();
    db.types_changed();
    let n: i64 = db
        .fetch_one(query::<i64>("SELECT count(*) FROM tones WHERE t = 'cool'"))
        .await
        .unwrap();
    assert_eq!(n, 5000);
    // A large result of the new type decodes (no lookup inside the statement).
    let mut rows = db
        .stream(query::<(i32, Tone)>("SELECT g, t FROM tones ORDER BY g"))
        .await
        .unwrap();
    let mut seen = 0;
    while let Some(row) = rows.next().await {
        assert_eq!(row.unwrap().1, Tone::Cool);
        seen += 1;
    }
    assert_eq!(seen, 5000);
    drop(rows);

    // Its own DDL needs no telling.
    db.batch_execute("CREATE TYPE hue AS ENUM ('red', 'blue')")
        .await
        .unwrap();
    let h: Hue = db
        .fetch_one(query::<Hue>("SELECT 'blue'::hue"))
        .await
        .unwrap();
    assert_eq!(h, Hue::Blue);
}

/// The enum the database's own statement creates.
#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[db_enum(name = "hue")]
enum Hue {
    Red,
    Blue,
}

/// The enum another client creates while the database runs.
#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[db_enum(name = "tone")]
enum Tone {
    Warm,
    Cool,
}

/// A `u32` parameter (the driver's `oid`, bound through `expr::param`): in the unnamed mode it
/// is declared `int8`, so the server range-checks it into `int4` instead of casting its bits
/// (4,000,000,000 became -294,967,296), and still takes it as an `oid`; an array of them stays
/// `oid[]`. The cached mode, where the server infers `int4` or `int8`, refuses a `u32` outright.
#[tokio::test]
async fn a_u32_parameter_is_never_wrapped_into_int4() {
    use orm_postgres::ColumnType;
    use orm_postgres::expr::{CastType, Node, func, param};
    let t = test_database().await.unwrap();
    let big = 4_000_000_000_u32;
    // `abs($1::int4)`, `abs($1::int8)`.
    let cast = |v: u32, ty| Node::Cast(Box::new(Node::Param(param(v))), CastType::Column(ty));
    let as_int4 = |v: u32| select_values(func::<i32>("abs", [cast(v, ColumnType::Integer)]));
    let as_int8 = |v: u32| select_values(func::<i64>("abs", [cast(v, ColumnType::BigInt)]));
    let same_oid = |v: u32| {
        select_values(func::<bool>(
            "oideq",
            [Node::Param(param(v)), Node::Param(param(v))],
        ))
    };
    for mode in MODES {
        let db = in_mode(&t, mode).await;
        let err = db.fetch_one(as_int4(big)).await.unwrap_err();
        match mode {
            // The server's "integer out of range".
            StatementMode::Unnamed => assert_eq!(err.sqlstate(), Some("22003"), "{err}"),
            // The driver refuses a `u32` for `int4`.
            _ => assert!(
                matches!(err.kind(), ErrorKind::Encode { index: 1, .. }),
                "{err}"
            ),
        }
        let fits = db.fetch_one(as_int4(7)).await;
        let wide = db.fetch_one(as_int8(u32::MAX)).await;
        match mode {
            StatementMode::Unnamed => {
                assert_eq!(fits.unwrap(), 7);
                assert_eq!(wide.unwrap(), i64::from(u32::MAX));
                let n: i32 = db
                    .fetch_one(select_values(func::<i32>(
                        "cardinality",
                        [Node::Param(param(vec![1_u32, big]))],
                    )))
                    .await
                    .unwrap();
                assert_eq!(n, 2);
                // An array of them stays `oid[]`: array operators take it as it is.
                let contains: bool = db
                    .fetch_one(select_values(func::<bool>(
                        "arraycontains",
                        [
                            Node::Param(param(vec![1_u32, big])),
                            Node::Param(param(vec![big])),
                        ],
                    )))
                    .await
                    .unwrap();
                assert!(contains);
            }
            _ => {
                assert!(fits.is_err() && wide.is_err());
            }
        }
        // Where the server wants an `oid`, both modes take it.
        assert!(db.fetch_one(same_oid(big)).await.unwrap(), "{mode}");
    }
}

/// Single-table inheritance: a variant's row leaves the other variant's columns `NULL`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "um_people", discriminator = "kind")]
pub enum Person {
    #[model(value = "plain")]
    Plain(Plain),
    #[model(value = "hired")]
    Hired(Hired),
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Person)]
pub struct Plain {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Person)]
pub struct Hired {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub since: chrono::NaiveDate,
    pub rate: f64,
}

/// The `NULL`s of the columns a variant lacks (a date, a float) are sent as what the
/// statement needs in both modes. They were one shared parameter, so one `$n` for columns of
/// two types (42P08 in both modes); and in the unnamed mode declared `bigint` (the first type
/// a typeless `NULL` accepts), which the server refused for a `date[]` (42846, the session's
/// arrays).
#[tokio::test]
async fn a_variants_missing_columns_are_nulls_of_their_types_in_both_modes() {
    let t = test_database().await.unwrap();
    t.create_all(&[Person::TABLE]).await.unwrap();
    for mode in MODES {
        let db = in_mode(&t, mode).await;
        let name = |n: &str| format!("{mode}-{n}");
        db.execute(insert(&Person::from(Plain {
            id: 0,
            name: name("one"),
        })))
        .await
        .unwrap_or_else(|e| panic!("{mode}: insert: {e}"));
        let mut s = db.session();
        s.add(Person::from(Plain {
            id: 0,
            name: name("ann"),
        }));
        s.add(Person::from(Plain {
            id: 0,
            name: name("bob"),
        }));
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("{mode}: commit: {e}"));
        let mut s = db.session();
        s.add(Person::from(Hired {
            id: 0,
            name: name("cy"),
            since: chrono::NaiveDate::from_ymd_opt(2020, 1, 2).unwrap(),
            rate: 1.5,
        }));
        s.add(Person::from(Plain {
            id: 0,
            name: name("dee"),
        }));
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("{mode}: mixed commit: {e}"));
    }
    let people = t.fetch_all(select::<Person>()).await.unwrap();
    assert_eq!(people.len(), 10);
    let hired: Vec<_> = people
        .iter()
        .filter_map(|p| match p {
            Person::Hired(h) => Some((h.since.to_string(), h.rate)),
            Person::Plain(_) => None,
        })
        .collect();
    let one = ("2020-01-02".to_string(), 1.5);
    assert_eq!(hired, [one.clone(), one]);
}

/// A joined-table enum loaded `selectin` binds the keys the first query read, as the server
/// sent them: declared as their own types in the unnamed mode (an `int4` key was declared
/// `int8`, 08P01 "insufficient data left in message").
#[tokio::test]
async fn polymorphic_keys_are_bound_as_their_own_types_in_both_modes() {
    use orm_tests::joined::{Asset, Boat, Car};
    let t = test_database().await.unwrap();
    t.create_all(&[Asset::TABLE]).await.unwrap();
    let mut s = t.session();
    s.add(Asset::from(Car {
        owner: 1,
        n: 2,
        label: "car".into(),
        wheels: 4,
    }));
    s.add(Asset::from(Boat {
        owner: 1,
        n: 3,
        label: "boat".into(),
        sails: None,
    }));
    s.commit().await.unwrap();
    for mode in MODES {
        let db = in_mode(&t, mode).await;
        let all = db
            .fetch_all(select::<Asset>().order_by(Car::n))
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        let kinds: Vec<(i32, bool)> = all
            .iter()
            .map(|a| match a {
                Asset::Car(c) => (c.n, true),
                Asset::Boat(b) => (b.n, false),
            })
            .collect();
        assert_eq!(kinds, [(2, true), (3, false)], "{mode}");
    }
}
