//! Composite types (`CREATE TYPE address AS (...)`): a struct deriving `SqlType` with
//! `#[sql_type(composite = "...")]`, in models (also `Option` and arrays of it), filters on the
//! whole value and on one attribute, `create_all`/`drop_all`, and the typed errors when the
//! server's type and the struct disagree.

use orm_postgres::ErrorKind;
use orm_postgres::prelude::*;
use orm_postgres::types::CompositeMismatch;
use orm_testing::test_database;

/// A postal address; `zip` may be `NULL`.
#[derive(Debug, Clone, PartialEq, SqlType)]
#[sql_type(composite = "address")]
pub struct Address {
    pub street: String,
    pub city: String,
    pub zip: Option<String>,
}

/// A point on a map, with its address: a composite type with a composite attribute.
#[derive(Debug, Clone, PartialEq, SqlType)]
#[sql_type(composite = "site")]
pub struct Site {
    pub label: String,
    pub at: Address,
    pub floor: i32,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "customers")]
pub struct Customer {
    #[model(primary_key, generated)]
    pub id: i64,
    pub home: Address,
    pub work: Option<Address>,
    pub previous: Vec<Address>,
    pub site: Option<Site>,
}

fn tricky() -> Address {
    Address {
        street: "1, \"Quoted\" Lane (rear), \\ 'x'".into(),
        city: "Saint-Étienne, (Loire)".into(),
        zip: None,
    }
}

fn customer() -> Customer {
    Customer {
        id: 0,
        home: tricky(),
        work: Some(Address {
            street: String::new(),
            city: "Paris".into(),
            zip: Some("75001".into()),
        }),
        previous: vec![tricky(), tricky()],
        site: Some(Site {
            label: "HQ".into(),
            at: tricky(),
            floor: -2,
        }),
    }
}

#[test]
fn ddl_and_attribute_access_compile() {
    let ddl = orm_postgres::ddl::create_composite(<Site as orm_postgres::types::Composite>::TYPE)
        .unwrap();
    assert_eq!(
        ddl,
        r#"CREATE TYPE "site" AS ("label" TEXT, "at" "address", "floor" INTEGER)"#
    );
    let q = select::<Customer>()
        .columns(Customer::work.field(Address::city))
        .filter(Customer::home.field(Address::zip).is_null());
    insta::assert_snapshot!(q.compile().unwrap().sql, @r#"SELECT ("customers"."work")."city" FROM "customers" WHERE ("customers"."home")."zip" IS NULL"#);
}

#[tokio::test]
async fn composites_round_trip_and_filter() {
    let t = test_database().await.unwrap();
    // `create_all` creates `address` before `site` (made of it) before the table; twice is fine.
    t.create_all(&[Customer::TABLE]).await.unwrap();
    t.create_all(&[Customer::TABLE]).await.unwrap();
    let mut c = customer();
    let back = t.fetch_one(insert(&c)).await.unwrap();
    c.id = back.id;
    assert_eq!(back, c);

    // NULLs: a NULL column, and a value whose every nullable attribute is NULL.
    let mut empty = customer();
    empty.work = None;
    empty.site = None;
    empty.previous = vec![];
    let many = t
        .fetch_all(insert_many(&[empty.clone(), c.clone()]))
        .await
        .unwrap();
    empty.id = many[0].id;
    assert_eq!(many[0], empty);
    assert_eq!(many[1].site, c.site);

    // Equality on the whole value (a parameter of the composite type) and on one attribute.
    let n = t
        .fetch_one(
            select::<Customer>()
                .filter(Customer::home.eq(tricky()))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(n, 3);
    let cities: Vec<Option<String>> = t
        .fetch_all(
            select::<Customer>()
                .columns(Customer::work.field(Address::city))
                .order_by(Customer::id.asc()),
        )
        .await
        .unwrap();
    assert_eq!(cities, [Some("Paris".into()), None, Some("Paris".into())]);
    let paris = t
        .fetch_all(select::<Customer>().filter(Customer::work.field(Address::city).eq("Paris")))
        .await
        .unwrap();
    assert_eq!(paris.len(), 2);

    // The session tracks a change inside the value.
    let mut s = t.session();
    let tracked = s.get::<Customer>(c.id).await.unwrap().unwrap();
    tracked.write().home.zip = Some("42000".into());
    s.commit().await.unwrap();
    let zip: Option<String> = t
        .fetch_one(
            select::<Customer>()
                .columns(Customer::home.field(Address::zip))
                .filter(Customer::id.eq(c.id)),
        )
        .await
        .unwrap();
    assert_eq!(zip.as_deref(), Some("42000"));

    // What the server holds, in its text form: quotes and commas intact.
    let text: String = t
        .fetch_one(orm_postgres::raw::query::<String>(
            "SELECT (home).street FROM customers ORDER BY id LIMIT 1",
        ))
        .await
        .unwrap();
    assert_eq!(text, tricky().street);

    // `drop_all` drops the types after the table, `site` before `address`.
    t.drop_all(&[Customer::TABLE]).await.unwrap();
    let left: i64 = t
        .fetch_one(orm_postgres::raw::query::<i64>(
            "SELECT count(*) FROM pg_type WHERE typname IN ('address', 'site')",
        ))
        .await
        .unwrap();
    assert_eq!(left, 0);
}

/// A new pool on the test's database: the driver keeps each type's attributes per connection,
/// so after an `ALTER TYPE` only a new connection sees the new ones.
async fn fresh(t: &orm_testing::TestDatabase) -> Database {
    t.builder().max_connections(1).connect().await.unwrap()
}

/// The same struct read from a type that has other attributes: typed errors, never a value
/// put in the wrong field.
#[tokio::test]
async fn a_type_that_disagrees_with_the_struct_is_a_typed_error() {
    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = "letters")]
    pub struct Letter {
        #[model(primary_key, generated)]
        pub id: i64,
        pub to: Address,
    }
    let mismatch = |err: &orm_postgres::Error| -> CompositeMismatch {
        let source = match err.kind() {
            ErrorKind::Decode { source, .. } | ErrorKind::Encode { source, .. } => source,
            other => panic!("expected a decode or encode error, got {other:?}"),
        };
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
        while let Some(c) = cause {
            if let Some(m) = c.downcast_ref::<CompositeMismatch>() {
                return m.clone();
            }
            cause = c.source();
        }
        panic!("no CompositeMismatch in {err:?}")
    };

    // Attributes in another order than the fields: matched by name, so it just works.
    let t = test_database().await.unwrap();
    t.batch_execute(
        "CREATE TYPE address AS (zip text, city text, street text);
         CREATE TABLE letters (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \"to\" address NOT NULL)",
    )
    .await
    .unwrap();
    let back = t
        .fetch_one(insert(&Letter {
            id: 0,
            to: tricky(),
        }))
        .await
        .unwrap();
    assert_eq!(back.to, tricky());

    // An attribute of another type than the field's.
    t.batch_execute("ALTER TYPE address DROP ATTRIBUTE city, ADD ATTRIBUTE city integer")
        .await
        .unwrap();
    t.batch_execute("UPDATE letters SET \"to\" = ROW('1', 'x', 7)::address")
        .await
        .unwrap();
    let err = fresh(&t)
        .await
        .fetch_one(select::<Letter>())
        .await
        .unwrap_err();
    assert!(
        matches!(
            mismatch(&err),
            CompositeMismatch::AttributeType {
                attribute: "city",
                ..
            }
        ),
        "{err:?}"
    );

    // One attribute more than the struct has fields.
    t.batch_execute(
        "ALTER TYPE address DROP ATTRIBUTE city, ADD ATTRIBUTE city text, ADD ATTRIBUTE country text",
    )
    .await
    .unwrap();
    let db = fresh(&t).await;
    let err = db.fetch_one(select::<Letter>()).await.unwrap_err();
    assert_eq!(
        mismatch(&err),
        CompositeMismatch::FieldCount {
            composite: "address",
            expected: 3,
            found: 4
        }
    );
    // Writing one is refused before anything is sent.
    let err = db
        .execute(insert(&Letter {
            id: 0,
            to: tricky(),
        }))
        .await
        .unwrap_err();
    assert!(
        matches!(mismatch(&err), CompositeMismatch::FieldCount { .. }),
        "{err:?}"
    );

    // A NULL in an attribute whose field is not an `Option`.
    t.batch_execute(
        "ALTER TYPE address DROP ATTRIBUTE country; UPDATE letters SET \"to\" = ROW(NULL, 's', NULL)::address",
    )
    .await
    .unwrap();
    let err = fresh(&t)
        .await
        .fetch_one(select::<Letter>())
        .await
        .unwrap_err();
    assert!(
        matches!(
            mismatch(&err),
            CompositeMismatch::UnexpectedNull {
                attribute: "city",
                ..
            }
        ),
        "{err:?}"
    );
}

/// Behind pgbouncer (the unnamed statement mode) a composite value names its type, which the
/// client looks up (with its attributes' types) and declares: writing, filtering on and reading
/// composites work as in the cached mode, nested composites and arrays of them included.
#[tokio::test]
async fn the_unnamed_statement_mode_reads_and_sends_composites() {
    let t = test_database().await.unwrap();
    t.create_all(&[Customer::TABLE]).await.unwrap();
    let c = t.fetch_one(insert(&customer())).await.unwrap();
    let db = t
        .builder()
        .max_connections(1)
        .statement_mode(orm_postgres::StatementMode::Unnamed)
        .connect()
        .await
        .unwrap();
    let back = db
        .fetch_one(select::<Customer>().by_pk(c.id))
        .await
        .unwrap();
    assert_eq!(back, c);
    let mut sent = customer();
    let written = db.fetch_one(insert(&sent)).await.unwrap();
    sent.id = written.id;
    assert_eq!(written, sent);
    let n = db
        .fetch_one(
            select::<Customer>()
                .filter(Customer::home.eq(tricky()))
                .filter(Customer::site.field(Site::at).eq(tricky()))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
}
