//! The shard map and routing, without a server.

use super::*;
use crate::ErrorKind;
use crate::prelude::*;

#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "orders", crate = "orm_core")]
struct Order {
    #[model(primary_key)]
    id: i64,
    #[model(shard_key)]
    tenant_id: i64,
    total: i32,
}

fn int(n: i64) -> KeyValue {
    KeyValue::encode(KeyType::Int8, &n)
        .expect("encodes")
        .expect("not null")
}

fn keys(tree: Option<Tree<'_>>) -> Option<Vec<i64>> {
    let routed = route(tree.expect("a tree")).expect("routes");
    assert_eq!((routed.table.name, routed.column), ("orders", "tenant_id"));
    routed
        .keys
        .map(|k| k.iter().map(|v| v.as_i64().expect("int")).collect())
}

#[test]
fn the_key_is_on_the_model() {
    assert_eq!(Order::shard_key().map(|c| c.name), Some("tenant_id"));
    let o = Order {
        id: 1,
        tenant_id: 7,
        total: 3,
    };
    let value = o.shard_key_value().expect("a value");
    assert_eq!(
        KeyValue::encode(KeyType::Int8, &*value).expect("encodes"),
        Some(int(7))
    );
    assert!(<crate::__doc_fixture::User as Model>::shard_key().is_none());
}

#[test]
fn filters_that_fix_the_key() {
    let q = select::<Order>().filter(Order::tenant_id.eq(7));
    assert_eq!(keys(q.tree()), Some(vec![7]));
    let q = select::<Order>().filter(Order::total.gt(1).and(Order::tenant_id.eq(7)));
    assert_eq!(keys(q.tree()), Some(vec![7]));
    let q = select::<Order>().filter(Order::tenant_id.is_in([3, 4, 3]));
    assert_eq!(keys(q.tree()), Some(vec![3, 4]));
    let q = select::<Order>().filter(Order::tenant_id.eq(1).or(Order::tenant_id.eq(2)));
    assert_eq!(keys(q.tree()), Some(vec![1, 2]));
    let q = delete::<Order>().filter(Order::tenant_id.eq(5));
    assert_eq!(keys(q.tree()), Some(vec![5]));
    let q = update::<Order>()
        .set(Order::total, 1)
        .filter(Order::tenant_id.eq(6));
    assert_eq!(keys(q.tree()), Some(vec![6]));
}

#[test]
fn filters_that_do_not() {
    for q in [
        select::<Order>(),
        select::<Order>().filter(Order::total.eq(7)),
        select::<Order>().filter(Order::tenant_id.eq(1).or(Order::total.eq(2))),
        select::<Order>().filter(Order::tenant_id.gt(1)),
        select::<Order>().filter(Order::tenant_id.not_in([1])),
    ] {
        assert_eq!(keys(q.tree()), None, "{q:?}");
    }
}

#[test]
fn inserted_rows_carry_the_key() {
    let o = |id, t| Order {
        id,
        tenant_id: t,
        total: 0,
    };
    assert_eq!(keys(insert(&o(1, 9)).tree()), Some(vec![9]));
    let many = insert_many(&[o(1, 9), o(2, 8), o(3, 9)]);
    assert_eq!(keys(many.tree()), Some(vec![9, 8]));
}

#[test]
fn refusals() {
    let e = route(
        update::<Order>()
            .set(Order::tenant_id, 2)
            .filter(Order::tenant_id.eq(1))
            .tree()
            .expect("tree"),
    )
    .expect_err("moves a row");
    assert!(matches!(e.kind(), ErrorKind::InvalidStatement(_)), "{e}");
    let e = route(select::<crate::__doc_fixture::User>().tree().expect("tree"))
        .expect_err("not sharded");
    assert!(matches!(
        e.kind(),
        ErrorKind::Shard(ShardError::NotRoutable { .. })
    ));
    let routed = route(select::<Order>().tree().expect("tree")).expect("routes");
    let e = routed
        .shards(&ShardMap::hash(), &["a", "b"])
        .expect_err("no key");
    assert!(matches!(
        e.kind(),
        ErrorKind::Shard(ShardError::KeyMissing {
            table: "orders",
            column: "tenant_id"
        })
    ));
}

#[test]
fn hash_is_fnv_of_the_binary_encoding() {
    let shards = ["a", "b", "c"];
    let map = ShardMap::hash();
    for n in [0_i64, 1, 2, 42, -7, i64::MAX] {
        let expected = usize::try_from(fnv1a(&n.to_be_bytes()) % 3).expect("small");
        assert_eq!(map.shard_of(&int(n), &shards), Some(expected));
    }
    // Pinned: a change here moves every user's data.
    assert_eq!(fnv1a(&1_i64.to_be_bytes()) % 2, 0);
    assert_eq!(fnv1a(&2_i64.to_be_bytes()) % 2, 1);
    assert_eq!(fnv1a(b"acme"), 0x0724_d383_f4f6_de0f); // computed independently (Python)
}

#[test]
fn ranges_and_lists() {
    let shards = ["eu", "us"];
    let map = ShardMap::ranges().range(..1000, "eu").range(1000.., "us");
    map.check(&shards).expect("valid");
    assert_eq!(map.shard_of(&int(999), &shards), Some(0));
    assert_eq!(map.shard_of(&int(1000), &shards), Some(1));
    let gap = ShardMap::ranges().range(0..10, "eu");
    assert_eq!(gap.shard_of(&int(10), &shards), None);
    let lists = ShardMap::lists().list("eu", [1_i64, 2]).list("us", [3_i64]);
    assert_eq!(lists.shard_of(&int(3), &shards), Some(1));
    assert_eq!(lists.shard_of(&int(4), &shards), None);
}

#[test]
fn bad_maps_are_refused() {
    let shards = ["eu", "us"];
    let message = |m: ShardMap| m.check(&shards).expect_err("refused").to_string();
    let overlap = ShardMap::ranges().range(0..10, "eu").range(5..20, "us");
    assert!(message(overlap).contains("overlap at 5"));
    assert!(message(ShardMap::lists().list("mars", [1_i64])).contains("`mars`"));
    #[allow(clippy::reversed_empty_ranges)]
    let empty = ShardMap::ranges().range(5..5, "eu");
    assert!(message(empty).contains("empty"));
    assert!(ShardMap::hash().check(&[]).is_err());
}

#[test]
fn merged_rows_are_sorted_and_cut() {
    let q = select::<Order>()
        .order_by(Order::total.desc())
        .limit(2)
        .offset(1);
    let plan = fan_out_plan(&q).expect("plan");
    let rows = vec![
        ("a", vec![SortValue::Int(1)]),
        ("b", vec![SortValue::Null]),
        ("c", vec![SortValue::Int(3)]),
        ("d", vec![SortValue::Int(2)]),
    ];
    // DESC puts NULL first: b, c, d, a; offset 1, limit 2.
    assert_eq!(plan.merge(rows), vec!["c", "d"]);
}

proptest::proptest! {
    /// Rows copied as they are fix the same keys, in the same order, as an `insert_many` of
    /// them: a checked `COPY` is refused exactly when the insert would be.
    #[test]
    fn copied_rows_route_like_their_insert(tenants in proptest::collection::vec(-3_i64..20, 1..40)) {
        let rows: Vec<Order> = tenants
            .iter()
            .enumerate()
            .map(|(i, t)| Order { id: i as i64, tenant_id: *t, total: 0 })
            .collect();
        let copied = route_rows(&rows).expect("routes");
        proptest::prop_assert_eq!(copied.table.name, "orders");
        let copied: Vec<i64> = copied
            .keys
            .expect("fixed")
            .iter()
            .map(|k| k.as_i64().expect("int"))
            .collect();
        proptest::prop_assert_eq!(Some(copied.clone()), keys(insert_many(&rows).tree()));
        let mut distinct = tenants.clone();
        let mut seen = std::collections::HashSet::new();
        distinct.retain(|t| seen.insert(*t));
        proptest::prop_assert_eq!(copied, distinct);
    }
}

#[test]
fn rows_of_an_unsharded_model_are_not_routable() {
    let err = route_rows(&[crate::__doc_fixture::User {
        id: 1,
        name: "a".into(),
        email: None,
    }])
    .expect_err("not sharded");
    assert!(
        matches!(err.kind(), ErrorKind::Shard(ShardError::NotRoutable { .. })),
        "{err}"
    );
}

#[test]
fn list_look_ups_go_through_an_index_built_per_key_type() {
    let shards = ["eu", "us"];
    let text = |s: &str| {
        KeyValue::encode(KeyType::Text, &s.to_string())
            .expect("encodes")
            .expect("not null")
    };
    let map = ShardMap::lists()
        .list("eu", ["de", "fr", "us"])
        .list("us", ["us", "ca"]);
    // A value in two lists is on the first one's shard.
    assert_eq!(map.shard_of(&text("us"), &shards), Some(0));
    assert_eq!(map.shard_of(&text("ca"), &shards), Some(1));
    assert_eq!(map.shard_of(&text("mx"), &shards), None);
    // Listed integers are no text key's.
    let ints = ShardMap::lists().list("eu", [1_i64]);
    assert_eq!(ints.shard_of(&int(1), &shards), Some(0));
    assert_eq!(ints.shard_of(&text("1"), &shards), None);
    // A list added after a look-up is found, and the map it was made from is unchanged.
    let more = ints.clone().list("us", [2_i64]);
    assert_eq!(more.shard_of(&int(2), &shards), Some(1));
    assert_eq!(ints.shard_of(&int(2), &shards), None);
    // Thousands of values: each key is one look-up, not an encoding of every value before it.
    let big = ShardMap::lists()
        .list("eu", (0..2_000_i64).collect::<Vec<_>>())
        .list("us", (2_000..4_000_i64).collect::<Vec<_>>());
    assert!((0..4_000).all(|k| big.shard_of(&int(k), &shards) == Some(usize::from(k >= 2_000))));
}

#[test]
fn an_upsert_cannot_set_the_shard_key() {
    let o = Order {
        id: 1,
        tenant_id: 7,
        total: 0,
    };
    // `DO UPDATE SET tenant_id = 99` would leave the row with key 99 on tenant 7's shard; an
    // expression of the existing row moves it as well.
    for q in [
        insert(&o)
            .on_conflict(Order::id)
            .do_update(|u| u.set(Order::tenant_id, 99_i64)),
        insert(&o).on_conflict(Order::id).do_update(|u| {
            u.set(Order::total, 1)
                .set(Order::tenant_id, Order::tenant_id.add(1))
        }),
    ] {
        let e = route(q.tree().expect("tree")).expect_err("moves a row");
        assert!(matches!(e.kind(), ErrorKind::InvalidStatement(_)), "{e}");
        assert!(e.to_string().contains("`orders`.`tenant_id`"), "{e}");
    }
    // `EXCLUDED.tenant_id` is the inserted row's key, the one the statement is routed by.
    let all = insert(&o)
        .on_conflict(Order::id)
        .do_update(|u| u.set_all_excluded());
    let sql = all.compile().expect("compiles").sql;
    assert!(
        sql.contains(r#""tenant_id" = EXCLUDED."tenant_id""#),
        "{sql}"
    );
    assert_eq!(keys(all.tree()), Some(vec![7]));
    for q in [
        insert(&o)
            .on_conflict(Order::id)
            .do_update(|u| u.set_excluded(Order::tenant_id)),
        insert(&o).on_conflict(Order::id).do_update(|u| {
            u.set(Order::tenant_id, excluded(Order::tenant_id))
                .set(Order::total, 5)
        }),
        insert(&o)
            .on_conflict(Order::id)
            .do_update(|u| u.set(Order::total, 5)),
        insert(&o).on_conflict(Order::id).do_nothing(),
    ] {
        assert_eq!(keys(q.tree()), Some(vec![7]));
    }
}

/// Sharded by a key of another type than [`Order`]'s: the same value hashes elsewhere.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "order_lines", crate = "orm_core")]
struct Line {
    #[model(primary_key)]
    id: i64,
    #[model(shard_key)]
    tenant_id: i32,
}

#[test]
fn insert_select_is_routed_by_the_key_it_inserts() {
    use crate::expr::value;
    let columns = (Order::id, Order::tenant_id, Order::total);
    let tenant_7 = || select::<Order>().filter(Order::tenant_id.eq(7));
    // Tenant 7's rows copied as tenant 9: written with key 9, read where tenant 7 lives; the
    // statement needs both on its shard.
    let q = insert_select::<Order, _, _>(
        columns,
        tenant_7().columns((Order::id.add(1000), value(9_i64), Order::total)),
    );
    assert_eq!(keys(q.tree()), Some(vec![9, 7]));
    // A value over a sharded source whose filter fixes no key: that source is on every shard,
    // and a run on the value's shard would copy only its rows: no key.
    let q = insert_select::<Order, _, _>(
        columns,
        select::<Order>().columns((Order::id.add(1000), value(9_i64), Order::total)),
    );
    assert_eq!(keys(q.tree()), None);
    // The source's own key: the rows stay on the shard they are read from.
    let q = insert_select::<Order, _, _>(
        columns,
        tenant_7().columns((Order::id.add(1000), Order::tenant_id, Order::total)),
    );
    assert_eq!(keys(q.tree()), Some(vec![7]));
    let q = insert_select::<Order, _, _>(
        columns,
        select::<Order>().columns((Order::id.add(1000), Order::tenant_id, Order::total)),
    );
    assert_eq!(keys(q.tree()), None);
    // Each side of a set operation.
    let q = insert_select::<Order, _, _>(
        columns,
        tenant_7()
            .columns((Order::id, value(9_i64), Order::total))
            .union_all(select::<Order>().filter(Order::tenant_id.eq(8)).columns((
                Order::id,
                Order::tenant_id,
                Order::total,
            ))),
    );
    assert_eq!(keys(q.tree()), Some(vec![9, 7, 8]));
    // A computed key, a key of another type, or no key at all: not fixed (`KeyMissing` when
    // run, or run on the shard a transaction names).
    for q in [
        insert_select::<Order, _, _>(
            columns,
            tenant_7().columns((Order::id, Order::tenant_id.add(2), Order::total)),
        ),
        insert_select::<Order, _, _>(
            columns,
            tenant_7().columns((Order::id, Order::id, Order::total)),
        ),
        insert_select::<Order, _, _>(
            columns,
            tenant_7().columns((Order::id, Order::total.cast::<i64>(), Order::total)),
        ),
        insert_select::<Order, _, _>(
            columns,
            select::<Line>().filter(Line::tenant_id.eq(7)).columns((
                Line::id,
                Line::tenant_id,
                Line::id,
            )),
        ),
        insert_select::<Order, _, _>(
            (Order::id, Order::total),
            tenant_7().columns((Order::id, Order::total)),
        ),
    ] {
        assert_eq!(keys(q.tree()), None, "{q:?}");
    }
}
