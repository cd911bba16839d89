//! Fan-out beyond `fetch_all`: keyset pages merged across shards, writes run on every shard
//! (counts per shard, a partial write when one is down), and relationship loads run on the
//! shard each parent row came from. Rows and statements are counted on each server.

use orm_postgres::prelude::*;
use orm_postgres::stmt::Desc;
use orm_postgres::{ErrorKind, ShardError, Sharded};

use super::sessions::{Invoice, Tenant, create_tables, invoice, tenant};
use super::{Order, at_100, fresh_shards, ids_on, order, sharded, turn};

/// 20 orders, even ids on eu (tenant 1), odd ids on us (tenant 101), totals interleaved and
/// repeated; returned in the order `total DESC, id` (the id breaks ties, as a keyset needs).
async fn twenty_orders(db: &Sharded) -> Vec<Order> {
    let mut all = Vec::new();
    for i in 0..20_i64 {
        let t = if i % 2 == 0 { 1 } else { 101 };
        let o = order(i, t, (i * 7 % 20) as i32 / 3);
        db.execute(insert(&o)).await.expect("insert");
        all.push(o);
    }
    all.sort_by_key(|o| (-o.total, o.id));
    all
}

#[tokio::test]
async fn fetch_page_walks_keyset_pages_merged_across_shards() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    let all = twenty_orders(&db).await;

    let before = (eu.statement_count(), us.statement_count());
    let mut cursor = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = db
            .fan_out()
            .fetch_page(
                select::<Order>()
                    .keyset((Desc(Order::total), Order::id))
                    .after(cursor)
                    .limit(6),
            )
            .await
            .expect("page");
        pages += 1;
        assert!(page.rows.len() <= 6);
        seen.extend(page.rows);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 4, "6 + 6 + 6 + 2 rows");
    assert_eq!(seen, all);
    // One statement per page on each server.
    assert_eq!(eu.statement_count() - before.0, pages);
    assert_eq!(us.statement_count() - before.1, pages);

    // A key the merge cannot order like the server: an error, not a wrong page.
    let err = db
        .fan_out()
        .fetch_page(select::<Order>().keyset(func::value(rust_decimal::Decimal::ONE)))
        .await
        .expect_err("numeric key");
    assert!(err.to_string().contains("cannot merge"), "{err}");
}

#[tokio::test]
async fn stream_merges_the_shards_rows_as_they_arrive() {
    use futures_util::TryStreamExt;
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    let all = twenty_orders(&db).await;

    // Ordered: a k-way merge, cut to OFFSET 2 LIMIT 7; one statement on each server.
    let before = (eu.statement_count(), us.statement_count());
    let stream = db
        .fan_out()
        .stream(
            select::<Order>()
                .order_by(Order::total.desc())
                .order_by(Order::id)
                .limit(7)
                .offset(2),
        )
        .await
        .expect("stream");
    let rows: Vec<Order> = stream.try_collect().await.expect("rows");
    assert_eq!(rows, all[2..9].to_vec());
    assert_eq!(eu.statement_count() - before.0, 1);
    assert_eq!(us.statement_count() - before.1, 1);

    // The whole ordered result, and an unordered one (every row once).
    let rows: Vec<Order> = db
        .fan_out()
        .stream(
            select::<Order>()
                .order_by(Order::total.desc())
                .order_by(Order::id),
        )
        .await
        .expect("stream")
        .try_collect()
        .await
        .expect("rows");
    assert_eq!(rows, all);
    let mut ids: Vec<i64> = db
        .fan_out()
        .stream(select::<Order>().columns(Order::id))
        .await
        .expect("stream")
        .try_collect()
        .await
        .expect("ids");
    ids.sort_unstable();
    assert_eq!(ids, (0..20).collect::<Vec<i64>>());

    // Dropped halfway: the shards' connections are discarded, the next call works.
    let mut stream = db
        .fan_out()
        .stream(select::<Order>().order_by(Order::id))
        .await
        .expect("stream");
    assert_eq!(stream.try_next().await.expect("row").map(|o| o.id), Some(0));
    drop(stream);
    let n = db
        .fan_out()
        .fetch_all(select::<Order>().columns(func::count_star()))
        .await
        .expect("count");
    assert_eq!(n, vec![10, 10]);

    // A shard that cannot start: the call fails naming it.
    let down = super::up_and_down(&eu);
    let err = down
        .fan_out()
        .stream(select::<Order>())
        .await
        .expect_err("down");
    assert_eq!(err.shard(), Some("down"), "{err}");
}

#[tokio::test]
async fn execute_writes_on_every_shard_and_counts_per_shard() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    let db = sharded(&eu, &us, at_100());
    let all = twenty_orders(&db).await;
    let low = |t: i64| {
        all.iter()
            .filter(|o| o.tenant_id == t && o.total < 2)
            .count() as u64
    };
    assert!(low(1) > 0 && low(101) > 0);

    let counts = db
        .fan_out()
        .execute(
            update::<Order>()
                .set(Order::total, -1)
                .filter(Order::total.lt(2)),
        )
        .await
        .expect("update everywhere");
    assert_eq!(counts.on("eu"), Some(low(1)));
    assert_eq!(counts.on("us"), Some(low(101)));
    assert_eq!(counts.total(), low(1) + low(101));
    let counts = db
        .fan_out()
        .execute(delete::<Order>().filter(Order::total.eq(-1)))
        .await
        .expect("delete everywhere");
    assert_eq!(
        counts.per_shard,
        [("eu".into(), low(1)), ("us".into(), low(101))]
    );
    let kept = |t: i64| -> Vec<i64> {
        let mut ids: Vec<i64> = all
            .iter()
            .filter(|o| o.tenant_id == t && o.total >= 2)
            .map(|o| o.id)
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(ids_on(&eu).await, kept(1));
    assert_eq!(ids_on(&us).await, kept(101));

    // A key in the filter: only its shard is asked.
    let before = eu.statement_count();
    let counts = db
        .fan_out()
        .execute(delete::<Order>().filter(Order::tenant_id.is_in([101_i64])))
        .await
        .expect("delete on us");
    assert_eq!(counts.per_shard, [("us".into(), kept(101).len() as u64)]);
    assert_eq!(eu.statement_count(), before);

    // Inserts and reads are not fan-out writes.
    let err = db
        .fan_out()
        .execute(insert(&order(99, 1, 1)))
        .await
        .expect_err("insert");
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err}"
    );
}

#[tokio::test]
async fn a_fan_out_write_with_a_shard_down_reports_what_committed() {
    let _turn = turn().await;
    let (eu, _us) = fresh_shards().await;
    let db = super::up_and_down(&eu);
    for id in 1..=3 {
        db.execute(insert(&order(id, 1, 5))).await.expect("insert");
    }
    let err = db
        .fan_out()
        .execute(delete::<Order>().filter(Order::total.eq(5)))
        .await
        .expect_err("partial");
    match err.kind() {
        ErrorKind::Shard(ShardError::PartialWrite { failed, done }) => {
            assert_eq!(done, &[("up".to_string(), 3)]);
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].0, "down");
            assert!(
                matches!(
                    failed[0].1.kind(),
                    ErrorKind::Shard(ShardError::Unavailable { .. })
                ),
                "{}",
                failed[0].1
            );
        }
        other => panic!("expected PartialWrite, got {other:?}"),
    }
    assert_eq!(err.shard(), Some("down"));
    assert!(err.to_string().contains("not atomic"), "{err}");
    // The shard that was up committed its part.
    assert!(ids_on(&eu).await.is_empty());
}

#[tokio::test]
async fn fan_out_loads_relationships_on_each_parents_shard() {
    let _turn = turn().await;
    let (eu, us) = fresh_shards().await;
    create_tables(&eu).await;
    create_tables(&us).await;
    let db = sharded(&eu, &us, at_100());
    for (id, name) in [(1, "a"), (2, "b"), (150, "c"), (151, "d")] {
        db.execute(insert(&tenant(id, name))).await.expect("tenant");
    }
    let invoices = [(1, 1), (2, 1), (3, 2), (4, 150), (5, 150), (6, 151)];
    for (id, t) in invoices {
        db.execute(insert(&invoice(id, t, id as i32 * 10)))
            .await
            .expect("invoice");
    }
    let ids = |t: &Tenant| -> Vec<i64> {
        t.invoices
            .get()
            .expect("loaded")
            .iter()
            .map(|i| i.id)
            .collect()
    };

    // Every tenant's invoices, from its own shard: a parent query and a load on each.
    let before = (eu.statement_count(), us.statement_count());
    let tenants = db
        .fan_out()
        .fetch_all(
            select::<Tenant>()
                .order_by(Tenant::id)
                .load(Tenant::invoices.selectin()),
        )
        .await
        .expect("fan-out with loads");
    let got: Vec<(i64, Vec<i64>)> = tenants.iter().map(|t| (t.id, ids(t))).collect();
    assert_eq!(
        got,
        vec![
            (1, vec![1, 2]),
            (2, vec![3]),
            (150, vec![4, 5]),
            (151, vec![6])
        ]
    );
    assert_eq!(eu.statement_count() - before.0, 2);
    assert_eq!(us.statement_count() - before.1, 2);

    // After the cut, only the page's parents load (a joined load runs the selectin way).
    let page = db
        .fan_out()
        .fetch_all(
            select::<Tenant>()
                .order_by(Tenant::id.desc())
                .limit(1)
                .load(Tenant::invoices.joined()),
        )
        .await
        .expect("page with loads");
    assert_eq!(page.len(), 1);
    assert_eq!((page[0].id, ids(&page[0])), (151, vec![6]));

    // Belongs-to: each invoice's tenant, from the invoice's shard.
    let rows = db
        .fan_out()
        .fetch_all(
            select::<Invoice>()
                .order_by(Invoice::id)
                .load(Invoice::tenant.selectin()),
        )
        .await
        .expect("belongs-to");
    let owners: Vec<(i64, String)> = rows
        .iter()
        .map(|i| (i.id, i.tenant.get().expect("loaded").name.clone()))
        .collect();
    assert_eq!(
        owners,
        [(1, "a"), (2, "a"), (3, "b"), (4, "c"), (5, "c"), (6, "d")]
            .map(|(i, n)| (i, n.to_string()))
    );
}

/// The README's fan-out lines, compiled (the tests above run them).
#[allow(dead_code)]
async fn readme_lines(sharded: Sharded, cursor: Option<i64>) -> orm_postgres::Result<()> {
    let page = sharded
        .fan_out()
        .fetch_page(select::<Order>().keyset(Order::id).after(cursor).limit(100))
        .await?;
    let counts = sharded
        .fan_out()
        .execute(delete::<Order>().filter(Order::total.eq(0)))
        .await?;
    let _ = (page, counts);
    Ok(())
}
