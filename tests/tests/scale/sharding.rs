//! A sharded database over two real servers the tests start (`LocalCluster::start_many`):
//! routing seen by counting each server's rows and statements through its own plain
//! connection, hash, range and list maps, fan-out with ordering and limits, refusals raised
//! before anything is sent, sessions whose flush would span shards, transactions on one shard,
//! and a shard that is down.

mod fan_out;
mod sessions;
mod transactions;

use std::sync::OnceLock;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::shard::{ShardMap, fnv1a};
use orm_postgres::{ErrorKind, ShardError, Sharded};
use orm_testing::{ClusterOptions, LocalCluster};

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "sharded_orders")]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    #[model(shard_key)]
    pub tenant_id: i64,
    pub total: i32,
}

fn order(id: i64, tenant_id: i64, total: i32) -> Order {
    Order {
        id,
        tenant_id,
        total,
    }
}

/// The two servers, started once for the binary.
fn servers() -> &'static [LocalCluster] {
    static SERVERS: OnceLock<Vec<LocalCluster>> = OnceLock::new();
    SERVERS.get_or_init(|| LocalCluster::start_many(2, &ClusterOptions::new()).expect("shards"))
}

/// The tests take turns: they share the servers' table.
async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// Plain databases on the two servers ("eu", "us"), with an empty `sharded_orders` table.
async fn fresh_shards() -> (Database, Database) {
    let s = servers();
    let mut dbs = Vec::new();
    for server in s {
        let db = Database::connect(&server.url("postgres"))
            .await
            .expect("connect");
        db.batch_execute("DROP TABLE IF EXISTS sharded_orders")
            .await
            .expect("drop");
        db.create_all(&[Order::TABLE]).await.expect("create");
        dbs.push(db);
    }
    let us = dbs.pop().expect("us");
    (dbs.pop().expect("eu"), us)
}

/// Tenants below 100 on "eu", the others on "us".
fn at_100() -> ShardMap {
    ShardMap::ranges().range(..100, "eu").range(100.., "us")
}

fn sharded(eu: &Database, us: &Database, map: ShardMap) -> Sharded {
    Sharded::builder()
        .shard("eu", eu.clone())
        .shard("us", us.clone())
        .map(map)
        .build()
        .expect("sharded")
}

/// Tenants below 100 on "up" (`up`), the others on "down": a port nothing listens on.
fn up_and_down(up: &Database) -> Sharded {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let down = Database::builder(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
        .connect_timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("build");
    Sharded::builder()
        .shard("up", up.clone())
        .shard("down", down)
        .map(ShardMap::ranges().range(..100, "up").range(100.., "down"))
        .build()
        .expect("sharded")
}

/// `err` is the "down" shard of [`up_and_down`], unavailable: nothing listens on its port.
fn assert_down(err: &orm_postgres::Error) {
    match err.kind() {
        ErrorKind::Shard(ShardError::Unavailable { shard, source }) => {
            assert_eq!(shard, "down");
            assert!(
                matches!(source.kind(), ErrorKind::Connect { .. }),
                "{source}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

/// The ids of the rows a server holds, read through its own connection.
async fn ids_on(db: &Database) -> Vec<i64> {
    db.fetch_all(query::<i64>("SELECT id FROM sharded_orders ORDER BY id"))
        .await
        .expect("ids")
}

#[tokio::test]
async fn statements_go_to_the_shard_of_their_key() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, ShardMap::hash());
    // The hash map: fnv1a of the key's 8 big-endian bytes, modulo 2.
    let home = |t: i64| ["eu", "us"][(fnv1a(&t.to_be_bytes()) % 2) as usize];
    for t in 1..=6_i64 {
        assert_eq!(db.locate::<Order>(&t).expect("locate"), home(t));
        db.execute(insert(&order(t * 10, t, 100 + t as i32)))
            .await
            .expect("insert");
    }
    let expect = |name: &str| -> Vec<i64> {
        (1..=6_i64)
            .filter(|t| home(*t) == name)
            .map(|t| t * 10)
            .collect()
    };
    assert_eq!(ids_on(&eu).await, expect("eu"));
    assert_eq!(ids_on(&us).await, expect("us"));
    assert!(!expect("eu").is_empty() && !expect("us").is_empty());

    // A read by key runs on its shard only: one statement there, none on the other.
    let t = 1_i64;
    let (on, off) = if home(t) == "eu" {
        (&eu, &us)
    } else {
        (&us, &eu)
    };
    let (before_on, before_off) = (on.statement_count(), off.statement_count());
    let rows = db
        .fetch_all(select::<Order>().filter(Order::tenant_id.eq(t).and(Order::total.gt(0))))
        .await
        .expect("routed read");
    assert_eq!(rows, vec![order(10, 1, 101)]);
    assert_eq!(on.statement_count() - before_on, 1);
    assert_eq!(off.statement_count(), before_off);

    // Update and delete by key, and `is_in` of keys on one shard.
    let same: Vec<i64> = (1..=6).filter(|x| home(*x) == home(t)).collect();
    let n = db
        .execute(
            update::<Order>()
                .set(Order::total, 0)
                .filter(Order::tenant_id.is_in(same.clone())),
        )
        .await
        .expect("update");
    assert_eq!(n, same.len() as u64);
    let n = db
        .execute(delete::<Order>().filter(Order::tenant_id.eq(t)))
        .await
        .expect("delete");
    assert_eq!(n, 1);
    assert!(!ids_on(on).await.contains(&10));

    // Keys on both shards: one statement cannot, a fan-out can (and asks only those).
    let on_shard = |name: &str| (2..=6).find(|x| home(*x) == name).expect("a key there");
    let both = select::<Order>().filter(Order::tenant_id.is_in([on_shard("eu"), on_shard("us")]));
    let err = db.fetch_all(both.clone()).await.expect_err("spans shards");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::CrossShard { shards, .. }) if shards == &["eu", "us"]),
        "{err}"
    );
    let rows = db.fan_out().fetch_all(both).await.expect("fan-out");
    assert_eq!(rows.len(), 2);
}

#[tokio::test]
async fn range_and_list_maps_place_rows_where_they_say() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let ranges = sharded(&eu, &us, at_100());
    for (id, t) in [(1, 5), (2, 99), (3, 100), (4, 150)] {
        ranges
            .execute(insert(&order(id, t, 1)))
            .await
            .expect("insert");
    }
    assert_eq!(ids_on(&eu).await, vec![1, 2]);
    assert_eq!(ids_on(&us).await, vec![3, 4]);

    let lists = sharded(
        &eu,
        &us,
        ShardMap::lists().list("eu", [7_i64, 8]).list("us", [9_i64]),
    );
    // `insert_many` of rows on one shard: one statement there.
    lists
        .execute(insert_many(&[order(10, 7, 1), order(11, 8, 1)]))
        .await
        .expect("insert_many");
    lists
        .execute(insert(&order(12, 9, 1)))
        .await
        .expect("insert");
    assert_eq!(ids_on(&eu).await, vec![1, 2, 10, 11]);
    assert_eq!(ids_on(&us).await, vec![3, 4, 12]);
    // A key the list map does not cover: a typed error, nothing sent.
    let err = lists
        .execute(insert(&order(13, 1, 1)))
        .await
        .expect_err("unmapped");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::Unmapped { value, .. }) if value == "1"),
        "{err}"
    );
    // An overlapping range map is refused when built.
    let overlap = Sharded::builder()
        .shard("eu", eu.clone())
        .shard("us", us.clone())
        .map(ShardMap::ranges().range(0..10, "eu").range(5..20, "us"))
        .build()
        .expect_err("overlap");
    assert!(
        matches!(overlap.kind(), ErrorKind::Config { .. }),
        "{overlap}"
    );
}

#[tokio::test]
async fn fan_out_merges_in_order_and_cuts_after_the_merge() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    // Interleaved totals: the global order alternates between the shards.
    let mut all = Vec::new();
    for i in 0..20_i64 {
        let t = if i % 2 == 0 { 1 } else { 101 };
        let o = order(i, t, (i * 7 % 20) as i32);
        db.execute(insert(&o)).await.expect("insert");
        all.push(o);
    }
    let q = select::<Order>()
        .order_by(Order::total.desc())
        .order_by(Order::id)
        .limit(5)
        .offset(3);
    let rows = db.fan_out().fetch_all(q).await.expect("fan-out");
    all.sort_by_key(|o| (-o.total, o.id));
    assert_eq!(rows, all[3..8].to_vec());

    // Aggregates are per shard: one count each, summed by the caller.
    let counts = db
        .fan_out()
        .fetch_all(select::<Order>().columns(func::count_star()))
        .await
        .expect("counts");
    assert_eq!(counts, vec![10, 10]);

    // Ordered by a type the merge cannot compare like the server: an error, not a wrong order.
    let err = db
        .fan_out()
        .fetch_all(
            select::<Order>()
                .columns(Order::id)
                .order_by(func::value(orm_postgres::types::Json(serde_json::json!(1)))),
        )
        .await
        .expect_err("json order");
    assert!(err.to_string().contains("cannot merge"), "{err}");
}

#[tokio::test]
async fn a_statement_without_the_key_is_refused_before_anything_is_sent() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, ShardMap::hash());
    let before = (eu.statement_count(), us.statement_count());

    let err = db
        .fetch_all(select::<Order>().filter(Order::total.gt(1)))
        .await
        .expect_err("no key");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Shard(ShardError::KeyMissing {
                table: "sharded_orders",
                column: "tenant_id"
            })
        ),
        "{err}"
    );
    // `OR` with a side that does not fix the key fixes nothing.
    let err = db
        .execute(delete::<Order>().filter(Order::tenant_id.eq(1).or(Order::total.eq(3))))
        .await
        .expect_err("no key");
    assert!(matches!(
        err.kind(),
        ErrorKind::Shard(ShardError::KeyMissing { .. })
    ));
    let err = db
        .fetch_all(query::<i64>("SELECT 1"))
        .await
        .expect_err("raw");
    assert!(matches!(
        err.kind(),
        ErrorKind::Shard(ShardError::NotRoutable { .. })
    ));
    let err = db
        .execute(
            update::<Order>()
                .set(Order::tenant_id, 2)
                .filter(Order::tenant_id.eq(1)),
        )
        .await
        .expect_err("moves a row");
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err}"
    );
    let err = db.shard_unchecked("mars").expect_err("unknown shard");
    assert!(matches!(err.kind(), ErrorKind::Shard(ShardError::UnknownShard(n)) if n == "mars"));
    assert_eq!((eu.statement_count(), us.statement_count()), before);
}

#[tokio::test]
async fn an_upsert_that_would_move_its_row_is_refused_and_excluded_keys_are_not() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    db.execute(insert(&order(1, 5, 10))).await.expect("insert");
    let before = (eu.statement_count(), us.statement_count());

    // Routed to tenant 5's shard ("eu"), it would leave the row there with key 150 (a "us"
    // key): refused like an `UPDATE` of the key, before anything is sent, also in a
    // transaction on that shard.
    let moving = || {
        insert(&order(1, 5, 20))
            .on_conflict(Order::id)
            .do_update(|u| u.set(Order::tenant_id, 150_i64))
    };
    let err = db.execute(moving()).await.expect_err("moves a row");
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err}"
    );
    let tx = db.transaction_for::<Order>(&5_i64).expect("transaction");
    let err = tx.execute(moving()).await.expect_err("moves a row");
    assert_eq!(err.shard(), Some("eu"), "{err}");
    assert!(
        matches!(err.root().kind(), ErrorKind::InvalidStatement(_)),
        "{err}"
    );
    tx.rollback().await.expect("rollback");
    assert_eq!((eu.statement_count(), us.statement_count()), before);

    // `EXCLUDED.tenant_id` (`set_all_excluded` writes it) is the routed key: the row stays.
    db.execute(
        insert(&order(1, 5, 30))
            .on_conflict(Order::id)
            .do_update(|u| u.set_all_excluded()),
    )
    .await
    .expect("upsert");
    let on_eu = eu
        .fetch_all(query::<(i64, i64, i32)>(
            "SELECT id, tenant_id, total FROM sharded_orders",
        ))
        .await
        .expect("rows");
    assert_eq!(on_eu, vec![(1, 5, 30)]);
    assert!(ids_on(&us).await.is_empty());
}

#[tokio::test]
async fn insert_select_goes_to_the_shard_of_the_key_it_inserts() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    for o in [order(1, 7, 10), order(2, 150, 20)] {
        db.execute(insert(&o)).await.expect("insert");
    }
    let columns = (Order::id, Order::tenant_id, Order::total);
    // Tenant 7's rows copied as tenant `to`: written with that key, read on tenant 7's shard.
    let copy_7_as = |to: i64, id: i64| {
        insert_select::<Order, _, _>(
            columns,
            select::<Order>().filter(Order::tenant_id.eq(7)).columns((
                Order::id.add(id),
                func::value(to),
                Order::total,
            )),
        )
    };
    // Both on "eu": runs there.
    assert_eq!(db.execute(copy_7_as(8, 100)).await.expect("copy"), 1);
    assert_eq!(ids_on(&eu).await, vec![1, 101]);

    // As a "us" tenant: the rows read are on "eu", those written belong on "us". Routed by
    // the filter, it wrote tenant 150's row on "eu"; now refused before anything is sent, and
    // in a transaction on "eu" too.
    let before = (eu.statement_count(), us.statement_count());
    let err = db.execute(copy_7_as(150, 200)).await.expect_err("spans");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::CrossShard { shards, .. }) if shards == &["eu", "us"]),
        "{err}"
    );
    let tx = db.transaction_for::<Order>(&7_i64).expect("transaction");
    let err = tx.execute(copy_7_as(150, 200)).await.expect_err("us key");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::WrongShard { shards, .. }) if shards == &["eu", "us"]),
        "{err}"
    );
    tx.rollback().await.expect("rollback");
    // A computed key tells no shard.
    let err = db
        .execute(insert_select::<Order, _, _>(
            columns,
            select::<Order>().filter(Order::tenant_id.eq(7)).columns((
                Order::id.add(300),
                Order::tenant_id.add(143),
                Order::total,
            )),
        ))
        .await
        .expect_err("computed key");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::KeyMissing { .. })),
        "{err}"
    );
    assert_eq!((eu.statement_count(), us.statement_count()), before);

    // The source's own key: the rows stay on their shard.
    let n = db
        .execute(insert_select::<Order, _, _>(
            columns,
            select::<Order>().filter(Order::tenant_id.eq(150)).columns((
                Order::id.add(400),
                Order::tenant_id,
                Order::total,
            )),
        ))
        .await
        .expect("copy on us");
    assert_eq!(n, 1);
    assert_eq!(ids_on(&eu).await, vec![1, 101]);
    assert_eq!(ids_on(&us).await, vec![2, 402]);
}

#[tokio::test]
async fn a_session_flush_spanning_shards_is_refused_with_nothing_written() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());

    let mut s = db.session_for::<Order>(&1_i64).expect("session");
    s.add(order(1, 1, 10));
    s.add(order(2, 150, 20));
    let err = s.commit().await.expect_err("spans shards");
    match err.kind() {
        ErrorKind::Shard(ShardError::CrossShard { table, shards }) => {
            assert_eq!(*table, "sharded_orders");
            assert_eq!(shards, &["eu".to_string(), "us".to_string()]);
        }
        other => panic!("expected CrossShard, got {other:?}"),
    }
    assert!(ids_on(&eu).await.is_empty());
    assert!(ids_on(&us).await.is_empty());

    // A session whose objects are all on its shard commits there; so does a transaction on
    // the shard of its key.
    let mut s = db.session_for::<Order>(&150_i64).expect("session");
    s.add(order(3, 150, 30));
    s.add(order(4, 101, 40));
    s.commit().await.expect("commit");
    assert_eq!(ids_on(&us).await, vec![3, 4]);
    let tx = db.transaction_for::<Order>(&5_i64).expect("transaction");
    tx.execute(insert(&order(5, 5, 50))).await.expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(ids_on(&eu).await, vec![5]);
    // A loaded object changed to another shard's key is refused too.
    let mut s = db.session_on("us").expect("session");
    let o = s.get::<Order>(3).await.expect("get").expect("found");
    o.write().tenant_id = 7;
    let err = s.commit().await.expect_err("moves shard");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::CrossShard { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn a_shard_that_is_down_is_named_and_nothing_is_written_elsewhere() {
    let _turn = turn().await;
    let (eu, _us) = fresh_shards().await;
    let db = up_and_down(&eu);
    db.execute(insert(&order(1, 1, 10))).await.expect("up");

    let err = db
        .execute(insert(&order(2, 150, 20)))
        .await
        .expect_err("down");
    assert_down(&err);
    // Rows for both shards in one statement: refused before either is written.
    let err = db
        .execute(insert_many(&[order(3, 2, 1), order(4, 160, 1)]))
        .await
        .expect_err("spans shards");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::CrossShard { .. })),
        "{err}"
    );
    assert_eq!(ids_on(&eu).await, vec![1]);

    // A fan-out read fails naming the shard, or returns the others' rows when asked.
    let err = db
        .fan_out()
        .fetch_all(select::<Order>())
        .await
        .expect_err("down");
    assert_eq!(
        match err.kind() {
            ErrorKind::Shard(e) => e.shard(),
            _ => None,
        },
        Some("down"),
        "{err}"
    );
    let partial = db
        .fan_out()
        .fetch_all_partial(select::<Order>())
        .await
        .expect("partial");
    assert_eq!(partial.rows, vec![order(1, 1, 10)]);
    assert_eq!(partial.failed.len(), 1);
    assert_eq!(partial.failed[0].0, "down");
}
