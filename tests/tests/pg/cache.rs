//! The result cache: served from memory until a commit writes a table the result read (Core
//! writes, transactions, sessions; never on rollback), a join invalidated by either table,
//! invalidation across two pools over LISTEN/NOTIFY, time to live, the entry and byte bounds
//! under a flood of keys, the rules inside transactions, raw SQL and per-model caching.

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::stmt::CachePolicy;
use orm_postgres::{CacheMetrics, ErrorKind, IsolationLevel, ResultCache, TxOptions};
use orm_testing::TestDatabase;
use orm_tests::{Order, User};

use super::{add_users, users_db};
use crate::begin::poll_once;

const MINUTE: Duration = Duration::from_secs(60);

/// A second pool on the test's database, with `cache`.
pub(crate) async fn cached_db(t: &TestDatabase, cache: ResultCache) -> Database {
    t.builder()
        .max_connections(4)
        .result_cache(cache)
        .connect()
        .await
        .expect("cached database")
}

pub(crate) fn cache(db: &Database) -> CacheMetrics {
    db.metrics().cache
}

async fn names(db: &impl Executor) -> Vec<String> {
    db.fetch_all(
        select::<User>()
            .columns(User::name)
            .order_by(User::name)
            .cached(MINUTE),
    )
    .await
    .expect("cached names")
}

#[tokio::test]
async fn a_commit_invalidates_the_tables_it_wrote_and_a_rollback_does_not() {
    let t = users_db().await;
    add_users(&t.db, &["ann"]).await;
    let db = cached_db(&t, ResultCache::new()).await;

    assert_eq!(names(&db).await, ["ann"]);
    let before = db.statement_count();
    assert_eq!(names(&db).await, ["ann"]);
    assert_eq!(db.statement_count(), before, "a hit sends nothing");
    let c = cache(&db);
    assert_eq!((c.hits, c.misses, c.entries), (1, 1, 1));

    // A Core write outside a transaction.
    db.execute(insert(&User::new("bob"))).await.expect("insert");
    assert_eq!(names(&db).await, ["ann", "bob"]);
    let c = cache(&db);
    assert_eq!((c.hits, c.misses, c.invalidations), (1, 2, 1));

    // A write to another table leaves it alone.
    let ann = db
        .fetch_one(select::<User>().filter(User::name.eq("ann")))
        .await
        .expect("ann");
    db.execute(insert(&Order {
        id: 0,
        user_id: ann.id,
        total: 5,
        note: None,
    }))
    .await
    .expect("order");
    names(&db).await;
    assert_eq!(cache(&db).hits, 2);

    // A transaction rolled back invalidates nothing.
    let tx = db.begin().await.expect("begin");
    tx.execute(
        update::<User>()
            .set(User::name, "zed")
            .filter(User::name.eq("ann")),
    )
    .await
    .expect("update");
    tx.rollback().await.expect("rollback");
    assert_eq!(names(&db).await, ["ann", "bob"]);
    assert_eq!(cache(&db).hits, 3);

    // A transaction committed does.
    let tx = db.begin().await.expect("begin");
    tx.execute(
        update::<User>()
            .set(User::name, "cat")
            .filter(User::name.eq("bob")),
    )
    .await
    .expect("update");
    tx.commit().await.expect("commit");
    assert_eq!(names(&db).await, ["ann", "cat"]);
    assert_eq!(cache(&db).invalidations, 2);

    // So does a session's flush and commit.
    let mut s = db.session();
    s.add(User::new("dan"));
    s.commit().await.expect("session commit");
    assert_eq!(names(&db).await, ["ann", "cat", "dan"]);
    assert_eq!(cache(&db).invalidations, 3);

    // And raw SQL naming the table, however it is spelled.
    db.batch_execute("update public.USERS set age = 1 where name = 'dan'")
        .await
        .expect("raw update");
    names(&db).await;
    assert_eq!(cache(&db).invalidations, 4);
}

#[tokio::test]
async fn a_join_is_invalidated_by_a_write_to_either_table() {
    let t = users_db().await;
    let users = add_users(&t.db, &["ann", "bob"]).await;
    let db = cached_db(&t, ResultCache::new()).await;
    let totals = || {
        db.fetch_all(
            select::<User>()
                .join_fk::<Order>()
                .group_by(User::name)
                .order_by(User::name)
                .columns((User::name, func::count_star()))
                .cached(MINUTE),
        )
    };
    assert!(totals().await.expect("empty").is_empty());
    db.execute(insert(&Order {
        id: 0,
        user_id: users[0].id,
        total: 1,
        note: None,
    }))
    .await
    .expect("order");
    assert_eq!(totals().await.expect("one"), [("ann".to_string(), 1)]);
    totals().await.expect("hit");
    assert_eq!(cache(&db).hits, 1);
    db.execute(
        update::<User>()
            .set(User::name, "amy")
            .filter(User::id.eq(users[0].id)),
    )
    .await
    .expect("rename");
    assert_eq!(totals().await.expect("renamed"), [("amy".to_string(), 1)]);
    assert_eq!(cache(&db).invalidations, 2);

    // A subquery's table counts too.
    let with_orders = || {
        db.fetch_all(
            select::<User>()
                .columns(User::name)
                .filter(User::id.in_query(select::<Order>().columns(Order::user_id)))
                .cached(MINUTE),
        )
    };
    assert_eq!(with_orders().await.expect("amy"), ["amy"]);
    db.execute(insert(&Order {
        id: 0,
        user_id: users[1].id,
        total: 2,
        note: None,
    }))
    .await
    .expect("order for bob");
    let mut got = with_orders().await.expect("both");
    got.sort();
    assert_eq!(got, ["amy", "bob"]);
}

#[tokio::test]
async fn invalidations_travel_between_two_pools_over_notify() {
    let t = users_db().await;
    let users = add_users(&t.db, &["ann"]).await;
    let channel = format!("{}_cache", t.name());
    // Built, not connected: its listener waits to be started.
    let a = t
        .builder()
        .max_connections(4)
        .result_cache(ResultCache::new().notify_channel(&channel))
        .build()
        .expect("built");
    // Connected: it listens already.
    let b = cached_db(&t, ResultCache::new().notify_channel(&channel)).await;
    // Until its listener runs, a cache with a channel keeps nothing.
    names(&a).await;
    names(&a).await;
    assert_eq!((cache(&a).hits, cache(&a).misses), (0, 0));
    a.start_cache_listener().await.expect("listen a");
    a.start_cache_listener().await.expect("twice is once");
    b.start_cache_listener()
        .await
        .expect("after connect, once more is nothing");

    // B caches from the start, and hears of A's write.
    names(&b).await;
    names(&b).await;
    assert_eq!((cache(&b).hits, cache(&b).misses), (1, 1));
    a.execute(insert(&User::new("abe")))
        .await
        .expect("insert abe");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while names(&b).await != ["abe", "ann"] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "B never heard of A's insert"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.execute(delete::<User>().filter(User::name.eq("abe")))
        .await
        .expect("delete abe");
    let orders = |db: Database| async move {
        db.fetch_all(select::<Order>().columns(Order::total).cached(MINUTE))
            .await
            .expect("orders")
    };

    assert_eq!(names(&a).await, ["ann"]);
    assert!(orders(a.clone()).await.is_empty());
    names(&a).await;
    assert_eq!(cache(&a).hits, 1);

    // B writes users outside a transaction: A hears of it.
    b.execute(insert(&User::new("bob"))).await.expect("insert");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while names(&a).await != ["ann", "bob"] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never heard of B's insert"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // B rolls back a write to users, then commits one to orders: notifications arrive in
    // commit order, so once A sees the second, it would have seen the first.
    let hits = cache(&a).hits;
    let tx = b.begin().await.expect("begin");
    tx.execute(
        update::<User>()
            .set(User::name, "zed")
            .filter(User::name.eq("ann")),
    )
    .await
    .expect("update");
    tx.rollback().await.expect("rollback");
    let tx = b.begin().await.expect("begin");
    tx.execute(insert(&Order {
        id: 0,
        user_id: users[0].id,
        total: 7,
        note: None,
    }))
    .await
    .expect("order");
    tx.commit().await.expect("commit");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while orders(a.clone()).await != [7] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never heard of B's commit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(names(&a).await, ["ann", "bob"]);
    assert_eq!(
        cache(&a).hits,
        hits + 1,
        "the users result survived the rollback"
    );
}

#[tokio::test]
async fn a_result_expires_after_its_time_to_live() {
    let t = users_db().await;
    add_users(&t.db, &["ann"]).await;
    let db = cached_db(&t, ResultCache::new()).await;
    let q = || {
        db.fetch_one(
            select::<User>()
                .columns(User::name)
                .cached(Duration::from_millis(300)),
        )
    };
    q().await.expect("miss");
    q().await.expect("hit");
    assert_eq!((cache(&db).hits, cache(&db).misses), (1, 1));
    tokio::time::sleep(Duration::from_millis(400)).await;
    q().await.expect("expired");
    let c = cache(&db);
    assert_eq!((c.hits, c.misses), (1, 2));
    assert_eq!(c.expirations, 1);
}

#[tokio::test]
async fn a_flood_of_distinct_keys_stays_within_the_entry_and_byte_bounds() {
    let t = users_db().await;
    add_users(&t.db, &["ann"]).await;
    let (max_entries, max_bytes) = (40, 48 * 1024);
    let db = cached_db(
        &t,
        ResultCache::new()
            .max_entries(max_entries)
            .max_bytes(max_bytes),
    )
    .await;
    for i in 0..400_i64 {
        db.fetch_all(select::<User>().filter(User::id.ne(i)).cached(MINUTE))
            .await
            .expect("flood");
        let c = cache(&db);
        assert!(c.entries <= max_entries, "{c:?}");
        assert!(c.bytes <= max_bytes, "{c:?}");
    }
    let c = cache(&db);
    assert_eq!((c.hits, c.misses), (0, 400));
    assert!(c.evictions >= 400 - max_entries, "{c:?}");

    // Large results (10 kB each, 4 fit): the byte bound binds first.
    let big = "x".repeat(10_000);
    db.execute(update::<User>().set(User::email, big.clone()))
        .await
        .expect("big email");
    for i in 0..20_i64 {
        let rows = db
            .fetch_all(select::<User>().filter(User::id.ne(-1 - i)).cached(MINUTE))
            .await
            .expect("big");
        assert_eq!(rows[0].email.as_deref(), Some(&*big));
        let c = cache(&db);
        assert!(c.bytes <= max_bytes && c.entries <= max_entries, "{c:?}");
    }
    // A result over the whole byte bound is served but never stored.
    let before = cache(&db);
    let huge = "y".repeat(60_000);
    db.execute(update::<User>().set(User::email, huge))
        .await
        .expect("huge email");
    for _ in 0..2 {
        db.fetch_all(select::<User>().cached(MINUTE))
            .await
            .expect("huge");
    }
    let c = cache(&db);
    assert_eq!((c.hits, c.misses), (before.hits, before.misses + 2));
}

#[tokio::test]
async fn inside_a_transaction_a_result_is_never_older_than_its_own_writes() {
    let t = users_db().await;
    add_users(&t.db, &["ann"]).await;
    let db = cached_db(&t, ResultCache::new()).await;
    names(&db).await;

    // Read committed, nothing written yet: served from the cache.
    let tx = db.begin().await.expect("begin");
    assert_eq!(names(&tx).await, ["ann"]);
    assert_eq!(cache(&db).hits, 1);
    tx.execute(insert(&User::new("bob"))).await.expect("insert");
    // Its own write is seen: the cache steps aside (no hit, no miss, nothing stored).
    let c = cache(&db);
    assert_eq!(names(&tx).await, ["ann", "bob"]);
    assert_eq!(names(&tx).await, ["ann", "bob"]);
    assert_eq!(cache(&db), c);
    // Others still get the committed result.
    assert_eq!(names(&db).await, ["ann"]);
    tx.commit().await.expect("commit");
    assert_eq!(names(&db).await, ["ann", "bob"]);

    // A session's autoflushed changes count as its transaction's writes.
    let mut s = db.session();
    s.add(User::new("cat"));
    assert_eq!(
        s.fetch_all(
            select::<User>()
                .columns(User::name)
                .order_by(User::name)
                .cached(MINUTE)
        )
        .await
        .expect("session read"),
        ["ann", "bob", "cat"]
    );
    s.rollback().await.expect("rollback");
    assert_eq!(names(&db).await, ["ann", "bob"]);

    // Serializable: not used unless asked.
    let c = cache(&db);
    let tx = db
        .begin_with(TxOptions::default().isolation(IsolationLevel::Serializable))
        .await
        .expect("serializable");
    assert_eq!(names(&tx).await, ["ann", "bob"]);
    assert_eq!(cache(&db), c);
    let asked = tx
        .fetch_all(
            select::<User>()
                .columns(User::name)
                .order_by(User::name)
                .cached(CachePolicy::ttl(MINUTE).in_serializable()),
        )
        .await
        .expect("asked");
    assert_eq!(asked, ["ann", "bob"]);
    assert_eq!(cache(&db).hits, c.hits + 1);
    tx.commit().await.expect("commit");
}

/// Waits (at most 5 s) until the users table, read without the cache, has `n` rows.
async fn committed(t: &TestDatabase, n: i64) {
    for _ in 0..500 {
        let rows: i64 =
            t.db.fetch_one(select::<User>().count())
                .await
                .expect("count");
        if rows == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the users table never had {n} rows");
}

/// A COMMIT dropped in flight may have committed (here it did: it is dropped once the server
/// has committed, before its answer is read, as a timeout around it would): what its
/// transaction wrote is invalidated, for a transaction of the pool (whose connection is then
/// closed) and one on a held connection (whose next statement rolls back whatever is left).
/// Before, neither invalidated anything: both connections still had the transaction open, so
/// the result cached before the commit was served after it.
#[tokio::test]
async fn a_commit_dropped_in_flight_invalidates_what_its_transaction_wrote() {
    let t = users_db().await;
    add_users(&t.db, &["ann"]).await;
    let db = cached_db(&t, ResultCache::new()).await;
    assert_eq!(names(&db).await, ["ann"]);

    // A transaction of the pool.
    let tx = db.begin().await.expect("begin");
    add_users(&tx, &["bob"]).await;
    let mut commit = Box::pin(tx.commit());
    poll_once(&mut commit).await;
    committed(&t, 2).await;
    drop(commit);
    assert_eq!(names(&db).await, ["ann", "bob"]);

    // A transaction on a held connection.
    let mut conn = db.connection().await.expect("connection");
    let tx = conn.begin().await.expect("begin");
    add_users(&tx, &["cat"]).await;
    let mut commit = Box::pin(tx.commit());
    poll_once(&mut commit).await;
    committed(&t, 3).await;
    drop(commit);
    assert_eq!(names(&db).await, ["ann", "bob", "cat"]);
    // Its next statement settles it; what was cached meanwhile is still right after.
    assert_eq!(names(&conn).await, ["ann", "bob", "cat"]);
    assert_eq!(names(&db).await, ["ann", "bob", "cat"]);
}

#[tokio::test]
async fn raw_sql_is_cached_only_with_its_tables_declared() {
    let t = users_db().await;
    add_users(&t.db, &["ann"]).await;
    let db = cached_db(&t, ResultCache::new()).await;
    let e = db
        .fetch_all(query::<String>("SELECT name FROM users").cached(MINUTE))
        .await
        .expect_err("undeclared");
    assert!(matches!(e.kind(), ErrorKind::InvalidStatement(_)), "{e:?}");

    let declared = || {
        db.fetch_all(
            query::<String>("SELECT name FROM users ORDER BY name")
                .cached(CachePolicy::ttl(MINUTE).reads(User::TABLE)),
        )
    };
    assert_eq!(declared().await.expect("miss"), ["ann"]);
    assert_eq!(declared().await.expect("hit"), ["ann"]);
    db.execute(insert(&User::new("bob"))).await.expect("insert");
    assert_eq!(declared().await.expect("invalidated"), ["ann", "bob"]);

    // Relationship loads cannot be cached (refused before anything is sent).
    use orm_tests::chinook::Artist;
    let e = db
        .fetch_all(
            select::<Artist>()
                .load(Artist::albums.selectin())
                .cached(MINUTE),
        )
        .await
        .expect_err("loads");
    assert!(matches!(e.kind(), ErrorKind::InvalidStatement(_)), "{e:?}");
}

#[tokio::test]
async fn models_registered_with_a_time_to_live_are_cached_without_asking() {
    let t = users_db().await;
    add_users(&t.db, &["ann"]).await;
    let db = cached_db(&t, ResultCache::new().model::<User>(MINUTE)).await;
    for _ in 0..3 {
        db.fetch_all(select::<User>()).await.expect("users");
    }
    assert_eq!((cache(&db).hits, cache(&db).misses), (2, 1));
    // Orders are not registered: a join reading them is not cached.
    for _ in 0..2 {
        db.fetch_all(select::<User>().join_fk::<Order>().columns(User::name))
            .await
            .expect("join");
    }
    assert_eq!((cache(&db).hits, cache(&db).misses), (2, 1));
    // A delete of a user cascades to orders: an orders result depends on users too.
    let db = cached_db(&t, ResultCache::new().model::<Order>(MINUTE)).await;
    db.fetch_all(select::<Order>()).await.expect("orders");
    db.execute(delete::<User>()).await.expect("delete users");
    db.fetch_all(select::<Order>()).await.expect("orders again");
    assert_eq!(cache(&db).invalidations, 1);
}
