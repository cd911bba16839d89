//! Sessions on one shard: statements whose shard key is on another shard are refused before
//! anything is sent (reads, writes, `get` by a key that holds the shard key, relationship
//! loads), statements without a key run on the session's shard, and errors from a shard (a
//! constraint, a lost connection, a row count) name it while keeping their kind.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ErrorKind, ShardError, Sharded};

use super::{Order, at_100, fresh_shards, order, sharded, turn};

/// A tenant: its key is the shard key.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "sharded_tenants")]
pub struct Tenant {
    #[model(primary_key, shard_key)]
    pub id: i64,
    pub name: String,
    #[relationship(has_many = Invoice, foreign_key = "tenant_id", order_by = "id")]
    pub invoices: Related<Vec<Invoice>>,
}

/// A tenant's invoice, on the tenant's shard.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "sharded_invoices")]
pub struct Invoice {
    #[model(primary_key)]
    pub id: i64,
    #[model(shard_key)]
    pub tenant_id: i64,
    pub amount: i32,
    #[relationship(belongs_to = Tenant, foreign_key = "tenant_id")]
    pub tenant: Related<Tenant>,
}

pub(super) fn tenant(id: i64, name: &str) -> Tenant {
    Tenant {
        id,
        name: name.into(),
        invoices: Related::not_loaded(),
    }
}

pub(super) fn invoice(id: i64, tenant_id: i64, amount: i32) -> Invoice {
    Invoice {
        id,
        tenant_id,
        amount,
        tenant: Related::not_loaded(),
    }
}

/// Creates the tenants and invoices tables on a shard's server.
pub(super) async fn create_tables(db: &Database) {
    db.batch_execute("DROP TABLE IF EXISTS sharded_invoices, sharded_tenants")
        .await
        .expect("drop");
    db.create_all(&[Tenant::TABLE, Invoice::TABLE])
        .await
        .expect("create");
}

/// Tenants 1 (on "eu") and 150 (on "us") with invoices 1 and 2 of tenant 1 and 3 of tenant
/// 150, and a misplaced row: invoice 4 of tenant 150 written on eu behind the map's back.
/// The plain databases of eu and us, and the sharded one.
pub(super) async fn tenants_and_a_misplaced_invoice() -> (Database, Database, Sharded) {
    let (eu, us) = fresh_shards().await;
    create_tables(&eu).await;
    create_tables(&us).await;
    let db = sharded(&eu, &us, at_100());
    for t in [tenant(1, "one"), tenant(150, "many")] {
        db.execute(insert(&t)).await.expect("tenant");
    }
    for i in [invoice(1, 1, 10), invoice(2, 1, 20), invoice(3, 150, 30)] {
        db.execute(insert(&i)).await.expect("invoice");
    }
    eu.execute(insert(&invoice(4, 150, 40)))
        .await
        .expect("misplaced");
    (eu, us, db)
}

/// The misplaced invoice of [`tenants_and_a_misplaced_invoice`], loading its tenant (on
/// "us").
pub(super) fn misplaced_with_its_tenant() -> Select<Invoice> {
    select::<Invoice>()
        .filter(Invoice::id.eq(4))
        .load(Invoice::tenant.selectin())
}

pub(super) fn is_wrong_shard(err: &orm_postgres::Error, session: &str, shards: &[&str]) -> bool {
    matches!(
        err.kind(),
        ErrorKind::Shard(ShardError::WrongShard { session: s, shards: on, .. })
            if s == session && on == shards
    )
}

#[tokio::test]
async fn a_session_refuses_statements_whose_key_is_on_another_shard() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    for (id, t) in [(1, 1), (2, 2), (3, 150)] {
        db.execute(insert(&order(id, t, 10 * id as i32)))
            .await
            .expect("insert");
    }
    let mut s = db.session_for::<Order>(&1_i64).expect("session");
    let before = (eu.statement_count(), us.statement_count());

    // Every statement path, with tenant 150 (on "us"): refused, nothing sent anywhere.
    let elsewhere = || select::<Order>().filter(Order::tenant_id.eq(150));
    let errs = [
        s.all(elsewhere()).await.map(drop).expect_err("all"),
        s.one(elsewhere()).await.map(drop).expect_err("one"),
        s.optional(elsewhere())
            .await
            .map(drop)
            .expect_err("optional"),
        s.fetch_all(elsewhere())
            .await
            .map(drop)
            .expect_err("fetch_all"),
        s.fetch_one(elsewhere().count())
            .await
            .map(drop)
            .expect_err("count"),
        s.fetch_all(elsewhere().without_criteria())
            .await
            .map(drop)
            .expect_err("without_criteria"),
        s.execute(
            update::<Order>()
                .set(Order::total, 0)
                .filter(Order::tenant_id.eq(150)),
        )
        .await
        .map(drop)
        .expect_err("update"),
        s.execute(delete::<Order>().filter(Order::tenant_id.eq(150)))
            .await
            .map(drop)
            .expect_err("delete"),
        s.execute(insert(&order(9, 150, 1)))
            .await
            .map(drop)
            .expect_err("insert"),
    ];
    for err in &errs {
        assert!(is_wrong_shard(err, "eu", &["us"]), "{err}");
    }
    // Keys on both shards: refused too, naming both.
    let err = s
        .fetch_all(select::<Order>().filter(Order::tenant_id.is_in([1, 150])))
        .await
        .expect_err("both");
    assert!(is_wrong_shard(&err, "eu", &["eu", "us"]), "{err}");
    assert_eq!((eu.statement_count(), us.statement_count()), before);
    // A refusal is not a server error: the session goes on.
    assert!(!s.is_pending_rollback());

    // The session's own key, and no key at all, run on its shard ("eu" holds 1 and 2).
    let mine = s
        .all(select::<Order>().filter(Order::tenant_id.eq(2)))
        .await
        .expect("own key");
    assert_eq!(mine.len(), 1);
    let all: Vec<i64> = s
        .fetch_all(select::<Order>().columns(Order::id).order_by(Order::id))
        .await
        .expect("no key");
    assert_eq!(all, vec![1, 2]);
    assert!(s.get::<Order>(1).await.expect("get").is_some());
    assert!(
        s.get::<Order>(3).await.expect("get").is_none(),
        "3 lives on us"
    );
    assert_eq!(
        s.execute(
            update::<Order>()
                .set(Order::total, 7)
                .filter(Order::tenant_id.eq(1))
        )
        .await
        .expect("update own"),
        1
    );
    s.commit().await.expect("commit");
    assert_eq!(us.statement_count(), before.1, "nothing ever went to us");
}

#[tokio::test]
async fn a_session_checks_get_and_relationship_loads_by_their_keys() {
    let _turn = turn().await;
    let (_eu, us, db) = tenants_and_a_misplaced_invoice().await;

    let mut s = db.session_for::<Tenant>(&1_i64).expect("session");
    // `get` by a primary key that is the shard key: checked like any query.
    let err = s.get::<Tenant>(150).await.expect_err("other shard");
    assert!(is_wrong_shard(&err, "eu", &["us"]), "{err}");
    let one = s.get::<Tenant>(1).await.expect("get").expect("found");

    // A has-many load from the session's parents filters by their keys: it runs here.
    let before = us.statement_count();
    let tenants = s
        .all(select::<Tenant>().load(Tenant::invoices.selectin()))
        .await
        .expect("load");
    assert_eq!(tenants.len(), 1);
    let invoices = s.related(&one, Tenant::invoices).expect("related");
    let amounts: Vec<i32> = invoices.iter().map(|i| i.read().amount).collect();
    assert_eq!(amounts, vec![10, 20]);

    // The misplaced invoice's tenant is on us: its belongs-to load is refused rather than
    // quietly finding nothing here.
    let err = s
        .all(misplaced_with_its_tenant())
        .await
        .expect_err("load on the other shard");
    assert!(is_wrong_shard(&err, "eu", &["us"]), "{err}");
    let mine = s
        .all(select::<Invoice>().filter(Invoice::id.lt(3)))
        .await
        .expect("invoices");
    let err = s
        .load(&mine[..1], Invoice::tenant.selectin())
        .await
        .map(drop);
    assert!(err.is_ok(), "tenant 1 is here: {err:?}");
    assert_eq!(us.statement_count(), before, "nothing went to us");
}

#[tokio::test]
async fn errors_from_a_shard_name_it_and_keep_their_kind() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    db.execute(insert(&order(1, 1, 10))).await.expect("insert");

    // A single-shard call: a constraint violation, named, still a unique violation.
    let err = db
        .execute(insert(&order(1, 2, 10)))
        .await
        .expect_err("duplicate");
    assert_eq!(err.shard(), Some("eu"));
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::OnShard { .. })),
        "{err}"
    );
    assert!(err.is_unique_violation(), "{err}");
    assert!(matches!(err.root().kind(), ErrorKind::UniqueViolation(_)));
    assert_eq!(err.sqlstate(), Some("23505"));
    assert!(err.to_string().starts_with("on shard `eu`: "), "{err}");
    // A row count, named, still `is_not_found`.
    let err = db
        .fetch_one(select::<Order>().filter(Order::tenant_id.eq(150)))
        .await
        .expect_err("none");
    assert_eq!(err.shard(), Some("us"));
    assert!(err.is_not_found(), "{err}");

    // In a session: the flush's violation names the shard; the session needs a rollback.
    let mut s = db.session_on("eu").expect("session");
    s.add(order(1, 3, 10));
    let err = s.commit().await.expect_err("duplicate");
    assert_eq!(err.shard(), Some("eu"));
    assert!(err.is_unique_violation(), "{err}");
    assert_eq!(err.constraint(), Some("sharded_orders_pkey"));
    let pending = s.fetch_all(select::<Order>()).await.expect_err("pending");
    assert!(pending.is_pending_rollback(), "{pending}");
    s.rollback().await.expect("rollback");

    // The session's connection is lost mid-transaction: unavailable, naming the shard.
    let pid: i32 = s
        .fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid");
    let killed: bool = eu
        .fetch_one(query::<bool>("SELECT pg_terminate_backend(:pid)").bind("pid", pid))
        .await
        .expect("terminate");
    assert!(killed);
    let err = s
        .fetch_all(select::<Order>())
        .await
        .expect_err("connection lost");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::Unavailable { shard, .. }) if shard == "eu"),
        "{err:?}"
    );
    assert!(err.is_connection_lost(), "{err}");
    s.rollback().await.expect("rollback after loss");
    assert_eq!(
        s.fetch_all(select::<Order>()).await.expect("again").len(),
        1
    );

    // A guard held on a changed object: refused before anything is sent, and not named after
    // the shard (a shard's session has a before_flush hook, so the check comes before it).
    let mut s = db.session_on("eu").expect("session");
    let orders = s.all(select::<Order>()).await.expect("orders");
    orders[0].write().total = 11;
    let reading = orders[0].read();
    let err = s.commit().await.expect_err("a guard is held");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::ObjectInUse {
                operation: "commit",
                ..
            }
        ),
        "{err:?}"
    );
    drop(reading);
    s.commit().await.expect("commit, the guard dropped");
}
