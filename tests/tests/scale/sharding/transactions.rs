//! Transactions on one shard (`Sharded::transaction_on`, `transaction_for`): a statement
//! whose shard key is on another shard is refused before anything is sent (not even
//! `BEGIN`), seen from both servers' statement logs and rows; statements of the shard's own
//! keys, and those without a key, run and commit there; relationship loads, streams and keyset
//! pages are checked too; a server lost mid-transaction is `Unavailable` naming the shard, with
//! nothing committed.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{ErrorKind, ShardError, ShardTransaction, TxOptions};

use super::sessions::{
    Invoice, Tenant, is_wrong_shard, misplaced_with_its_tenant, tenants_and_a_misplaced_invoice,
};
use super::{Order, assert_down, at_100, fresh_shards, ids_on, order, sharded, turn, up_and_down};

#[tokio::test]
async fn a_transaction_refuses_statements_of_another_shard_before_sending_anything() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    db.execute(insert(&order(1, 1, 10))).await.expect("eu row");
    db.execute(insert(&order(3, 150, 30)))
        .await
        .expect("us row");
    let (eu_log, us_log) = (eu.statement_log(), us.statement_log());

    let tx = db.transaction_on("eu").expect("transaction");
    assert_eq!(tx.shard(), "eu");
    // Tenant 150 is on "us": every kind of statement is refused, the transaction's first
    // included, so not even its BEGIN is sent.
    let elsewhere = || select::<Order>().filter(Order::tenant_id.eq(150));
    let errs = [
        tx.execute(insert(&order(9, 150, 1)))
            .await
            .expect_err("insert"),
        tx.execute(insert_many(&[order(10, 151, 1), order(11, 152, 1)]))
            .await
            .expect_err("insert_many"),
        tx.execute(
            update::<Order>()
                .set(Order::total, 0)
                .filter(Order::tenant_id.eq(150)),
        )
        .await
        .expect_err("update"),
        tx.execute(delete::<Order>().filter(Order::tenant_id.eq(150)))
            .await
            .expect_err("delete"),
        tx.fetch_all(elsewhere())
            .await
            .map(drop)
            .expect_err("fetch_all"),
        tx.fetch_one(elsewhere().count())
            .await
            .map(drop)
            .expect_err("count"),
        tx.fetch_optional(elsewhere())
            .await
            .map(drop)
            .expect_err("fetch_optional"),
        tx.copy_in(&[order(12, 150, 1)]).await.expect_err("copy_in"),
    ];
    for err in &errs {
        assert!(is_wrong_shard(err, "eu", &["us"]), "{err}");
        assert_eq!(err.shard(), None, "a refusal is not an error from a server");
    }
    // Rows of both shards in one insert: refused, naming both.
    let err = tx
        .execute(insert_many(&[order(13, 2, 1), order(14, 150, 1)]))
        .await
        .expect_err("both");
    assert!(is_wrong_shard(&err, "eu", &["eu", "us"]), "{err}");
    let err = tx
        .copy_in(&[order(15, 2, 1), order(16, 150, 1)])
        .await
        .expect_err("both");
    assert!(is_wrong_shard(&err, "eu", &["eu", "us"]), "{err}");
    assert_eq!(eu_log.statements(), Vec::<String>::new(), "not even BEGIN");
    assert_eq!(us_log.statements(), Vec::<String>::new());

    // A refusal does not fail the transaction: its own key runs, BEGIN first.
    tx.execute(insert(&order(5, 2, 50))).await.expect("own key");
    let err = tx
        .execute(delete::<Order>().filter(Order::tenant_id.eq(150)))
        .await
        .expect_err("still refused");
    assert!(is_wrong_shard(&err, "eu", &["us"]), "{err}");
    let sent = eu_log.statements();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].starts_with("BEGIN"), "{sent:?}");
    assert!(
        sent[1].starts_with("INSERT INTO \"sharded_orders\""),
        "{sent:?}"
    );
    tx.commit().await.expect("commit");
    assert_eq!(
        us_log.finish(),
        Vec::<String>::new(),
        "nothing ever went to us"
    );
    assert_eq!(ids_on(&eu).await, vec![1, 5]);
    assert_eq!(ids_on(&us).await, vec![3]);

    // A transaction whose statements were all refused sent nothing at all, even to end.
    let eu_log = eu.statement_log();
    let tx = db.transaction_for::<Order>(&7_i64).expect("transaction");
    tx.execute(insert(&order(20, 150, 1)))
        .await
        .expect_err("refused");
    tx.rollback().await.expect("rollback");
    assert_eq!(eu_log.finish(), Vec::<String>::new());

    // The unknown shard, and the plain database that is unchecked by name.
    let err = db.transaction_on("mars").expect_err("unknown");
    assert!(matches!(err.kind(), ErrorKind::Shard(ShardError::UnknownShard(n)) if n == "mars"));
    let plain = db.shard_unchecked("eu").expect("plain");
    plain
        .execute(insert(&order(21, 150, 1)))
        .await
        .expect("unchecked: a misplaced row goes through");
    assert_eq!(ids_on(&eu).await, vec![1, 5, 21]);
}

#[tokio::test]
async fn a_transaction_commits_several_statements_on_its_own_shard() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    db.execute(insert(&order(1, 1, 10))).await.expect("eu row");
    let eu_before = eu.statement_count();

    let tx = db.transaction_for::<Order>(&150_i64).expect("transaction");
    assert_eq!(tx.shard(), "us");
    tx.execute(insert(&order(2, 150, 20)))
        .await
        .expect("insert");
    let many = tx
        .fetch_all(insert_many(&[order(3, 151, 30), order(4, 150, 40)]))
        .await
        .expect("insert_many");
    assert_eq!(many.len(), 2);
    let copied = tx
        .copy_in(&[order(5, 152, 50), order(6, 152, 60)])
        .await
        .expect("copy_in");
    assert_eq!(copied, 2);
    let n = tx
        .execute(
            update::<Order>()
                .set(Order::total, Order::total.add(1))
                .filter(Order::tenant_id.is_in([150_i64, 151])),
        )
        .await
        .expect("update");
    assert_eq!(n, 3);
    let n = tx
        .execute(delete::<Order>().filter(Order::tenant_id.eq(152).and(Order::id.eq(6))))
        .await
        .expect("delete");
    assert_eq!(n, 1);
    let mine = tx
        .fetch_one(select::<Order>().filter(Order::tenant_id.eq(150).and(Order::id.eq(4))))
        .await
        .expect("read own key");
    assert_eq!(mine, order(4, 150, 41));
    // No key: runs here, and sees the transaction's own rows (and no row of eu).
    let ids: Vec<i64> = tx
        .fetch_all(select::<Order>().columns(Order::id).order_by(Order::id))
        .await
        .expect("no key");
    assert_eq!(ids, vec![2, 3, 4, 5]);
    let n = tx
        .execute(
            update::<Order>()
                .set(Order::total, 0)
                .filter(Order::total.gt(40)),
        )
        .await
        .expect("keyless update");
    assert_eq!(n, 2, "tenant 150's 41 and tenant 152's 50");
    // Nothing is visible outside before the commit.
    assert_eq!(ids_on(&us).await, Vec::<i64>::new());
    tx.commit().await.expect("commit");

    assert_eq!(ids_on(&us).await, vec![2, 3, 4, 5]);
    let totals: Vec<i32> = us
        .fetch_all(query::<i32>("SELECT total FROM sharded_orders ORDER BY id"))
        .await
        .expect("totals");
    assert_eq!(totals, vec![21, 31, 0, 0]);
    assert_eq!(ids_on(&eu).await, vec![1]);
    assert_eq!(
        eu.statement_count() - eu_before,
        1,
        "only the read of ids_on went to eu"
    );

    // Options reach the BEGIN of the first statement: a read-only transaction refuses the
    // write on its server, named.
    let tx = db
        .transaction_on("us")
        .expect("transaction")
        .with_options(TxOptions::default().read_only())
        .expect("options before the first statement");
    let err = tx
        .execute(insert(&order(7, 150, 1)))
        .await
        .expect_err("read only");
    assert_eq!(err.shard(), Some("us"));
    assert_eq!(err.sqlstate(), Some("25006"), "{err}");
    let err = tx
        .with_options(TxOptions::default())
        .expect_err("already begun");
    assert!(
        matches!(err.kind(), ErrorKind::TransactionState(_)),
        "{err}"
    );
}

#[tokio::test]
async fn a_shard_lost_mid_transaction_is_unavailable_and_nothing_is_committed() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());

    let tx = db.transaction_on("eu").expect("transaction");
    tx.execute(insert(&order(1, 1, 10))).await.expect("insert");
    // Raw SQL goes through the explicit, unchecked escape hatch.
    let pid: i32 = tx
        .unchecked()
        .await
        .expect("begun")
        .fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid");
    let killed: bool = eu
        .fetch_one(query::<bool>("SELECT pg_terminate_backend(:pid)").bind("pid", pid))
        .await
        .expect("terminate");
    assert!(killed);
    let err = tx
        .execute(insert(&order(2, 2, 20)))
        .await
        .expect_err("connection lost");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::Unavailable { shard, .. }) if shard == "eu"),
        "{err:?}"
    );
    assert!(err.is_connection_lost(), "{err}");
    let err = tx.commit().await.expect_err("nothing to commit");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::Unavailable { shard, .. }) if shard == "eu"),
        "{err:?}"
    );
    assert!(
        matches!(err.root().kind(), ErrorKind::TransactionLost(_)),
        "{err:?}"
    );
    assert_eq!(ids_on(&eu).await, Vec::<i64>::new());
    assert_eq!(ids_on(&us).await, Vec::<i64>::new());

    // A server that is down from the start: its first statement's BEGIN fails, named, and
    // the other shard got nothing.
    let db = up_and_down(&eu);
    let tx = db.transaction_for::<Order>(&150_i64).expect("transaction");
    let err = tx
        .execute(insert(&order(3, 150, 30)))
        .await
        .expect_err("down");
    assert_down(&err);
    tx.rollback().await.expect("nothing to roll back");
    assert_eq!(ids_on(&eu).await, Vec::<i64>::new());
}

#[tokio::test]
async fn a_transaction_checks_the_relationship_loads_of_its_queries() {
    let _turn = turn().await;
    // Invoice 4 of tenant 150 ("us") is misplaced on eu.
    let (eu, us, db) = tenants_and_a_misplaced_invoice().await;
    let us_log = us.statement_log();

    let tx = db.transaction_for::<Tenant>(&1_i64).expect("transaction");
    // A has-many load from this shard's tenants runs here.
    let tenants = tx
        .fetch_all(select::<Tenant>().load(Tenant::invoices.selectin()))
        .await
        .expect("load");
    assert_eq!(tenants.len(), 1);
    assert_eq!(invoice_amounts(&tenants[0]), vec![10, 20]);
    // The misplaced invoice's tenant is on us: its belongs-to load is refused, and the
    // transaction goes on.
    let err = tx
        .fetch_all(misplaced_with_its_tenant())
        .await
        .expect_err("load on the other shard");
    assert!(is_wrong_shard(&err, "eu", &["us"]), "{err}");
    let n = tx
        .execute(delete::<Invoice>().filter(Invoice::id.eq(4)))
        .await
        .expect("keyless delete runs here");
    assert_eq!(n, 1);
    tx.commit().await.expect("commit");
    assert_eq!(us_log.finish(), Vec::<String>::new(), "nothing went to us");
    let left: Vec<i64> = eu
        .fetch_all(query::<i64>("SELECT id FROM sharded_invoices ORDER BY id"))
        .await
        .expect("ids");
    assert_eq!(left, vec![1, 2]);
}

#[tokio::test]
async fn a_transaction_streams_pages_and_loads_its_own_shard_and_refuses_the_others() {
    use futures_util::TryStreamExt;

    let _turn = turn().await;
    let (eu, us, db) = tenants_and_a_misplaced_invoice().await;
    for (id, t) in [(1, 150), (2, 150), (3, 150), (4, 1)] {
        db.execute(insert(&order(id, t, 10 * id as i32)))
            .await
            .expect("order");
    }
    let eu_before = eu.statement_count();

    let tx = db.transaction_for::<Order>(&150_i64).expect("transaction");
    tx.execute(insert(&order(5, 150, 50)))
        .await
        .expect("insert");
    // A stream of this shard's key sees the transaction's own row.
    let rows: Vec<Order> = tx
        .stream(
            select::<Order>()
                .filter(Order::tenant_id.eq(150))
                .order_by(Order::id),
        )
        .await
        .expect("stream")
        .try_collect()
        .await
        .expect("rows");
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 5]);
    // Pages of this shard, in key order, to the end.
    let mut cursor = None;
    let mut pages = Vec::new();
    loop {
        let page = tx
            .fetch_page(
                select::<Order>()
                    .filter(Order::tenant_id.eq(150))
                    .keyset(Order::id)
                    .after(cursor)
                    .limit(3),
            )
            .await
            .expect("page");
        pages.push(page.rows.iter().map(|o| o.id).collect::<Vec<i64>>());
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, vec![vec![1, 2, 3], vec![5]]);
    // Tenant 1 is on eu: the stream and the page are refused, named, before anything is
    // sent there, and the transaction goes on.
    let err = tx
        .stream(select::<Order>().filter(Order::tenant_id.eq(1)))
        .await
        .map(drop)
        .expect_err("stream of eu");
    assert!(is_wrong_shard(&err, "us", &["eu"]), "{err}");
    let err = tx
        .fetch_page(
            select::<Order>()
                .filter(Order::tenant_id.eq(1))
                .keyset(Order::id)
                .limit(3),
        )
        .await
        .map(drop)
        .expect_err("page of eu");
    assert!(is_wrong_shard(&err, "us", &["eu"]), "{err}");
    assert_eq!(eu.statement_count(), eu_before, "nothing went to eu");
    tx.commit().await.expect("commit");
    assert_eq!(ids_on(&us).await, vec![1, 2, 3, 5]);

    // Relationship loads on fetched parents: this shard's run here; a load reaching the
    // other shard's rows is refused.
    let tx = db.transaction_for::<Tenant>(&1_i64).expect("transaction");
    let mut tenants = tx
        .fetch_all(select::<Tenant>().filter(Tenant::id.eq(1)))
        .await
        .expect("tenants");
    tx.load(&mut tenants, Tenant::invoices.selectin())
        .await
        .expect("load");
    assert_eq!(invoice_amounts(&tenants[0]), vec![10, 20]);
    // Invoice 4 sits on eu but belongs to tenant 150, whose row is on us.
    let mut misplaced = tx
        .fetch_all(select::<Invoice>().filter(Invoice::id.eq(4)))
        .await
        .expect("misplaced invoice");
    let us_log = us.statement_log();
    let err = tx
        .load(&mut misplaced, Invoice::tenant.selectin())
        .await
        .expect_err("load from us");
    assert!(is_wrong_shard(&err, "eu", &["us"]), "{err}");
    assert!(misplaced[0].tenant.get().is_err(), "nothing loaded");
    tx.rollback().await.expect("rollback");
    assert_eq!(us_log.finish(), Vec::<String>::new(), "nothing went to us");
}

#[tokio::test]
async fn a_savepoint_is_checked_and_undoes_only_its_own_statements() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    let eu_before = eu.statement_count();

    // A savepoint before any statement begins the transaction first.
    let mut tx = db.transaction_for::<Order>(&150_i64).expect("transaction");
    {
        let sp = tx.savepoint().await.expect("savepoint");
        assert_eq!(sp.shard(), "us");
        sp.execute(insert(&order(1, 150, 10)))
            .await
            .expect("insert");
        sp.commit().await.expect("release");
    }
    {
        // Checked like the transaction, and rolled back alone.
        let sp = tx.savepoint().await.expect("savepoint");
        sp.execute(insert(&order(2, 150, 20)))
            .await
            .expect("inside");
        let err = sp
            .execute(insert(&order(3, 1, 30)))
            .await
            .expect_err("a key of eu");
        assert!(is_wrong_shard(&err, "us", &["eu"]), "{err}");
        assert_eq!(ids_in(&sp).await, vec![1, 2]);
        sp.rollback().await.expect("rollback to it");
    }
    {
        // A statement failing inside: rolling the savepoint back lets the transaction go on.
        let sp = tx.savepoint().await.expect("savepoint");
        let err = sp
            .execute(insert(&order(1, 150, 11)))
            .await
            .expect_err("duplicate key");
        assert!(
            matches!(err.kind(), ErrorKind::Shard(ShardError::OnShard { shard, .. }) if shard == "us"),
            "{err}"
        );
        sp.rollback().await.expect("rollback to it");
    }
    {
        // Dropped without either: undone before the transaction's next statement.
        let sp = tx.savepoint().await.expect("savepoint");
        sp.execute(insert(&order(5, 152, 50)))
            .await
            .expect("dropped");
    }
    tx.execute(insert(&order(4, 151, 40)))
        .await
        .expect("after the savepoints");
    assert_eq!(ids_in(&tx).await, vec![1, 4]);
    tx.commit().await.expect("commit");
    assert_eq!(ids_on(&us).await, vec![1, 4]);
    assert_eq!(eu.statement_count(), eu_before, "nothing went to eu");
}

/// The ids of the orders a transaction (or savepoint) sees, in order.
async fn ids_in(tx: &ShardTransaction<'_>) -> Vec<i64> {
    tx.fetch_all(select::<Order>().columns(Order::id).order_by(Order::id))
        .await
        .expect("ids")
}

/// The amounts of a tenant's loaded invoices.
fn invoice_amounts(tenant: &Tenant) -> Vec<i32> {
    let invoices = tenant.invoices.get().expect("loaded");
    invoices.iter().map(|i| i.amount).collect()
}
