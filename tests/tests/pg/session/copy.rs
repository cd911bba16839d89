//! The flush's binary `COPY` path: new objects that need nothing back from the server go by
//! `COPY` from `SessionOptions::copy_threshold` objects on (or when `add_all_copy` asks), with
//! the values, identity map, statuses, hooks and errors of an `INSERT`.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use orm_postgres::assert_queries;
use rust_decimal::Decimal;

use super::*;

/// How many `after_insert` hooks ran, per test (each test uses its own `site`).
static INSERTED: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

/// A row whose key the application sets: nothing to read back, so it can go by `COPY`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "bulk_reading", hooks)]
pub struct Reading {
    #[model(primary_key)]
    pub id: i64,
    #[model(unique)]
    pub code: String,
    pub site: i32,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub samples: Vec<Option<i32>>,
    pub labels: Option<Vec<Option<String>>>,
    pub doc: serde_json::Value,
    pub amount: Decimal,
    pub at: DateTime<Utc>,
    pub seen: Option<DateTime<Utc>>,
    #[model(version)]
    pub version: i32,
}

impl Hooks for Reading {
    fn before_insert(&mut self, _: &mut HookContext) -> Result<()> {
        self.note = self.note.take().map(|n| n.to_uppercase());
        Ok(())
    }

    fn after_insert(&self, _: &mut HookContext) -> Result<()> {
        INSERTED[self.site as usize].fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn reading(i: i64, site: i32) -> Reading {
    Reading {
        id: i,
        code: format!("r{i:06}"),
        site,
        note: (i % 3 != 0).then(|| format!("note {i}")),
        tags: match i % 4 {
            0 => vec![],
            1 => vec!["a".into()],
            _ => vec!["x".into(), "".into(), "a,b \"q\"".into()],
        },
        samples: vec![Some(i as i32), None, Some(-1)],
        labels: (i % 2 == 0).then(|| vec![None, Some(format!("l{i}"))]),
        doc: serde_json::json!({"i": i, "nested": [1, null, {"k": "v"}]}),
        amount: Decimal::new(i * 12_345 - 7, 3),
        at: Utc.timestamp_opt(1_700_000_000 + i, 123_456_000).unwrap(),
        seen: (i % 5 == 0).then(|| Utc.timestamp_opt(0, 0).unwrap()),
        version: 0,
    }
}

/// A row with a server-generated column besides its identity key: it needs `RETURNING`.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "bulk_stamped")]
pub struct Stamped {
    #[model(primary_key, generated)]
    pub id: i64,
    pub n: i32,
    #[model(generated, default = "nextval('bulk_made')")]
    pub made: i64,
}

impl Stamped {
    fn new(n: i32) -> Stamped {
        Stamped {
            n,
            ..Stamped::default()
        }
    }
}

/// An `i32` identity key.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "bulk_small")]
pub struct Small {
    #[model(primary_key, generated)]
    pub id: i32,
    pub label: String,
}

async fn copy_setup() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.batch_execute("CREATE SEQUENCE bulk_made").await.unwrap();
    t.create_all(&[
        Reading::TABLE,
        User::TABLE,
        Order::TABLE,
        Stamped::TABLE,
        Small::TABLE,
    ])
    .await
    .unwrap();
    t
}

#[tokio::test]
async fn a_large_batch_that_needs_nothing_back_goes_by_copy() {
    let t = copy_setup().await;
    let n = SessionOptions::DEFAULT_COPY_THRESHOLD as i64 + 500;
    let mut s = t.session_with(no_expire());
    let objects = s.add_all((1..=n).map(|i| reading(i, 0)));
    assert!(objects.iter().all(|o| o.status() == Status::Pending));
    assert_queries!(
        s,
        [
            "BEGIN*",
            "COPY \"bulk_reading\" (\"id\", \"code\", *) FROM STDIN (FORMAT binary)",
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();

    // Statuses, version, hooks and the identity map as after an INSERT.
    assert!(objects.iter().all(|o| o.status() == Status::Persistent));
    assert_eq!(INSERTED[0].load(Ordering::SeqCst), n as usize);
    let first = objects[0].read().clone();
    assert_eq!(first.version, 1, "a new row starts at version 1");
    assert_eq!(first.note.as_deref(), Some("NOTE 1"), "before_insert ran");
    let again = assert_queries!(s, 0, async { s.get::<Reading>(7).await })
        .unwrap()
        .unwrap();
    assert!(Tracked::ptr_eq(&again, &objects[6]));

    // Every value landed as the objects hold it (NULLs, arrays with NULL elements, jsonb,
    // numeric, timestamps).
    let rows = t
        .fetch_all(select::<Reading>().order_by(Reading::id))
        .await
        .unwrap();
    let held: Vec<Reading> = objects.iter().map(|o| o.read().clone()).collect();
    assert_eq!(rows.len(), n as usize);
    assert_eq!(rows, held);

    // Changing a copied object is an ordinary UPDATE, checked against its version.
    objects[0].write().tags = vec!["changed".into()];
    assert_queries!(
        s,
        ["BEGIN*", "UPDATE \"bulk_reading\" SET *", "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();
    assert_eq!(objects[0].read().version, 2);
}

#[tokio::test]
async fn copy_is_chosen_only_when_allowed() {
    let t = copy_setup().await;
    let big = SessionOptions::DEFAULT_COPY_THRESHOLD;
    // A small batch: INSERT.
    let mut s = t.session();
    s.add_all((1..=10).map(|i| reading(i, 1)));
    assert_queries!(
        s,
        ["BEGIN*", "INSERT INTO \"bulk_reading\" *", "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();
    // A large batch whose identity keys the server generates: the keys taken from the
    // sequence first, then COPY with them; keys filled in.
    let users = s.add_all((0..big).map(|i| User::named(&format!("u{i}"))));
    assert_queries!(
        s,
        [
            "BEGIN*",
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence($1, $2)::regclass AS seq) SELECT s.seq IS NOT NULL, ARRAY(SELECT nextval(s.seq) FROM (SELECT generate_series(1, $3)) AS n) FROM s",
            "COPY \"s_user\" (\"id\", \"name\", \"email\", \"age\") FROM STDIN (FORMAT binary)",
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    let mut ids: Vec<i64> = users.iter().map(|u| u.read().id).collect();
    ids.dedup();
    assert_eq!(ids.len(), big);
    assert!(ids.iter().all(|&id| id > 0));
    // A large batch with another server-generated column: INSERT ... RETURNING both.
    let stamped = s.add_all((0..big).map(|i| Stamped::new(i as i32)));
    assert_queries!(
        s,
        [
            "BEGIN*",
            "INSERT INTO \"bulk_stamped\" * RETURNING \"id\", \"made\"",
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    assert!(stamped.iter().all(|o| o.read().id > 0 && o.read().made > 0));
    // COPY switched off: INSERT whatever the size.
    let mut s = t.session_with(SessionOptions::default().copy_threshold(None));
    s.add_all((100..100 + big as i64).map(|i| reading(i, 1)));
    assert_queries!(
        s,
        ["BEGIN*", "INSERT INTO \"bulk_reading\" *", "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();
    // A lower threshold: COPY from there.
    let mut s = t.session_with(SessionOptions::default().copy_threshold(Some(3)));
    s.add_all((5_000..5_003).map(|i| reading(i, 1)));
    assert_queries!(s, ["BEGIN*", "COPY \"bulk_reading\" *", "COMMIT"], async {
        s.commit().await
    })
    .unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM bulk_reading").await,
        10 + big as i64 + 3
    );
}

#[tokio::test]
async fn add_all_copy_asks_for_copy_and_refuses_objects_that_need_keys_back() {
    let t = copy_setup().await;
    let mut s = t.session();
    let few = s.add_all_copy((1..=3).map(|i| reading(i, 2))).unwrap();
    assert_queries!(s, ["BEGIN*", "COPY \"bulk_reading\" *", "COMMIT"], async {
        s.commit().await
    })
    .unwrap();
    assert!(few.iter().all(|o| o.status() == Status::Persistent));
    assert_eq!(INSERTED[2].load(Ordering::SeqCst), 3);
    // The request was for that flush: the next small batch is an INSERT again.
    s.add(reading(4, 2));
    assert_queries!(
        s,
        ["BEGIN*", "INSERT INTO \"bulk_reading\" *", "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();

    // Server-generated values other than an identity key cannot come back from COPY: a
    // typed error, nothing added.
    let err = s.add_all_copy(vec![Stamped::new(1)]).unwrap_err();
    match err.kind() {
        ErrorKind::CopyNeedsReturning { model, columns } => {
            assert_eq!(
                (*model, columns.as_slice()),
                ("Stamped", &["id", "made"][..])
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("COPY"), "{err}");
    assert!(!s.has_changes());
    assert!(!s.is_pending_rollback());
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 0);
}

#[tokio::test]
async fn a_unique_violation_inside_copy_is_typed_and_rolls_back_cleanly() {
    let t = copy_setup().await;
    let mut s = t.session();
    s.add(reading(1, 3));
    s.commit().await.unwrap();

    // The 700th row repeats the committed row's code.
    let mut rows: Vec<Reading> = (2..=1_500).map(|i| reading(i, 3)).collect();
    rows[698].code = "r000001".into();
    let added = s.add_all_copy(rows).unwrap();
    let err = s.commit().await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    assert_eq!(err.constraint(), Some("bulk_reading_code_key"), "{err:?}");
    // As after a failed INSERT: objects still pending, the session needs a rollback.
    assert!(added.iter().all(|o| o.status() == Status::Pending));
    assert_eq!(added[0].read().version, 0, "the flush's changes are undone");
    let refused = s.get::<Reading>(1).await.unwrap_err();
    assert!(
        matches!(refused.kind(), ErrorKind::PendingRollback { .. }),
        "{refused:?}"
    );
    assert_eq!(refused.sqlstate(), Some("23505"));

    s.rollback().await.unwrap();
    assert!(added.iter().all(|o| o.status() == Status::Detached));
    assert_eq!(count(&t, "SELECT count(*) FROM bulk_reading").await, 1);
    // Usable again, by COPY too.
    s.add_all_copy((2..=5).map(|i| reading(i, 3))).unwrap();
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM bulk_reading").await, 5);
}

/// Objects with an identity key go by `COPY` with keys taken from the sequence: each object
/// gets the key of its own row (checked against the table), in the order they were added,
/// and their new children (inserted one level later) point at them.
#[tokio::test]
async fn identity_keys_are_taken_from_the_sequence_and_land_in_their_objects() {
    let t = copy_setup().await;
    let mut s = t.session_with(no_expire());
    // Names in no particular order, some alike apart from case and spaces.
    let names: Vec<String> = (0..2_500u32)
        .map(|i| match i % 3 {
            0 => format!("user {}", (i * 7_919) % 2_500),
            1 => format!("USER {i}"),
            _ => format!("user {i} "),
        })
        .collect();
    let users: Vec<Tracked<User>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut u = User::named(name);
            u.age = i as i32;
            if i % 10 == 0 {
                u.orders = Related::loaded(vec![Order::of(i as i32), Order::of(-(i as i32))]);
            }
            s.add(u)
        })
        .collect();
    s.commit().await.unwrap();

    let in_db: std::collections::HashMap<String, (i64, i32)> = t
        .fetch_all(orm_postgres::raw::query::<(i64, String, i32)>(
            "SELECT id, name, age FROM s_user",
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|(id, name, age)| (name, (id, age)))
        .collect();
    assert_eq!(in_db.len(), names.len());
    let mut last = 0;
    for u in &users {
        let u = u.read();
        assert_eq!(in_db[&u.name], (u.id, u.age), "{}", u.name);
        assert!(
            u.id > last,
            "keys ascend in the order the objects were added"
        );
        last = u.id;
    }
    // The identity map has them under their keys.
    let again = s
        .get::<User>(users[1_234].read().id)
        .await
        .unwrap()
        .unwrap();
    assert!(Tracked::ptr_eq(&again, &users[1_234]));
    // Each order points at its own user.
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_order o JOIN s_user u ON u.id = o.user_id WHERE abs(o.total) = u.age"
        )
        .await,
        500
    );
    // The sequence moved on: a plain INSERT afterwards gets a key after them.
    s.add(User::named("after"));
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name = 'after' AND id > (SELECT max(id) FROM s_user WHERE name <> 'after')"
        )
        .await,
        1
    );

    // An `i32` key, asked for with `add_all_copy`.
    let small = s
        .add_all_copy((0..5).map(|i| Small {
            id: 0,
            label: format!("s{i}"),
        }))
        .unwrap();
    assert_queries!(
        s,
        [
            "BEGIN*",
            "WITH s AS MATERIALIZED *",
            "COPY \"bulk_small\" (\"id\", \"label\") *",
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    let keys: Vec<i32> = small.iter().map(|o| o.read().id).collect();
    assert_eq!(keys, [1, 2, 3, 4, 5]);
}

/// A key column whose default comes from a sequence it does not own: the flush fails before
/// anything is written, with an error naming the column and the way out; the session rolls
/// back and inserts the objects with `INSERT` when `COPY` is off.
#[tokio::test]
async fn a_key_without_its_own_sequence_is_a_typed_error_and_nothing_is_written() {
    let t = test_database().await.unwrap();
    t.batch_execute(
        "CREATE SEQUENCE free_seq; \
         CREATE TABLE bulk_small (id integer PRIMARY KEY DEFAULT nextval('free_seq'), label text NOT NULL)",
    )
    .await
    .unwrap();
    let mut s = t.session();
    let added = s.add_all((0..1_000).map(|i| Small {
        id: 0,
        label: format!("s{i}"),
    }));
    let err = s.commit().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no sequence owns the generated key `id` of table `bulk_small`")
            && text.contains("copy_threshold(None)"),
        "{text}"
    );
    assert!(added.iter().all(|o| o.status() == Status::Pending));
    s.rollback().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM bulk_small").await, 0);

    let mut s = t.session_with(SessionOptions::default().copy_threshold(None));
    let added = s.add_all((0..1_000).map(|i| Small {
        id: 0,
        label: format!("s{i}"),
    }));
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM bulk_small").await, 1_000);
    assert!(added.iter().all(|o| o.status() == Status::Persistent));
}
