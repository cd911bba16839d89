//! `merge` with the `merge` cascade: related objects loaded on the detached object are merged
//! too (from the identity map, loaded, or added as new) and linked to the merged parent.

use orm_postgres::assert_queries;

use super::reads_send_drop::poll_once;

use super::*;

/// A user with two orders, committed; returns the ids (user, orders).
async fn seeded(t: &TestDatabase) -> (i64, Vec<i64>) {
    let mut s = t.session();
    let mut u = User::named("ann");
    u.orders = Related::loaded(vec![Order::of(10), Order::of(20)]);
    let ann = s.add(u);
    s.commit().await.unwrap();
    let orders = s.related(&ann, User::orders).unwrap();
    let ids = orders.iter().map(|o| o.read().id).collect();
    let id = ann.read().id;
    (id, ids)
}

#[tokio::test]
async fn merge_follows_has_many_children() {
    let t = setup().await;
    let (ann_id, order_ids) = seeded(&t).await;

    // A detached graph (from an API payload, say): the user renamed, the first order
    // changed, the second dropped, a new one added.
    let mut detached = User {
        id: ann_id,
        name: "ann b.".into(),
        ..User::default()
    };
    detached.orders = Related::loaded(vec![
        Order {
            id: order_ids[0],
            user_id: ann_id,
            total: 11,
            ..Order::default()
        },
        Order::of(30),
    ]);
    let mut s = t.session_with(no_expire());
    // One query per level: the user, then its orders the session lacks.
    let ann = assert_queries!(
        s,
        [
            "BEGIN*",
            "SELECT * FROM \"s_user\" JOIN unnest(*",
            "SELECT * FROM \"s_order\" JOIN unnest(*"
        ],
        async { s.merge(detached).await }
    )
    .unwrap();
    assert_eq!(ann.read().name, "ann b.");
    let orders = s.related(&ann, User::orders).unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0].status(), Status::Persistent);
    assert_eq!(orders[0].read().total, 11);
    assert_eq!(orders[1].status(), Status::Pending);
    // The merged order is the session's object for that key.
    let again = s.get::<Order>(order_ids[0]).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&again, &orders[0]));
    s.commit().await.unwrap();

    let rows: Vec<(i64, i32)> = t
        .fetch_all(
            select::<Order>()
                .filter(Order::user_id.eq(ann_id))
                .order_by(Order::total)
                .columns((Order::user_id, Order::total)),
        )
        .await
        .unwrap();
    assert_eq!(rows, [(ann_id, 11), (ann_id, 20), (ann_id, 30)]);
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE name = 'ann b.'").await,
        1
    );
}

#[tokio::test]
async fn merge_follows_belongs_to_and_uses_the_identity_map() {
    let t = setup().await;
    let (ann_id, order_ids) = seeded(&t).await;
    let mut s = t.session_with(no_expire());
    let bob = s.add(User::named("bob"));
    s.flush().await.unwrap();
    let bob_id = bob.read().id;

    // The order moves to bob, whom the session already has: only the order is loaded.
    let mut detached = Order {
        id: order_ids[1],
        user_id: ann_id,
        total: 21,
        ..Order::default()
    };
    detached.user = Related::loaded(User {
        id: bob_id,
        name: "bob r.".into(),
        ..User::default()
    });
    let order = assert_queries!(s, ["SELECT * FROM \"s_order\" JOIN unnest(*"], async {
        s.merge(detached).await
    })
    .unwrap();
    assert_eq!(bob.read().name, "bob r.", "merged onto the session's bob");
    let parent = s.related_one(&order, Order::user).unwrap().unwrap();
    assert!(Tracked::ptr_eq(&parent, &bob));
    s.commit().await.unwrap();
    let moved: Order = t
        .fetch_one(select::<Order>().filter(Order::id.eq(order_ids[1])))
        .await
        .unwrap();
    assert_eq!((moved.user_id, moved.total), (bob_id, 21));
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE name = 'bob r.'").await,
        1
    );

    // A new parent: added, inserted first, its key in the order.
    let mut detached = Order {
        id: order_ids[0],
        user_id: ann_id,
        total: 12,
        ..Order::default()
    };
    detached.user = Related::loaded(User::named("cy"));
    let order = s.merge(detached).await.unwrap();
    s.commit().await.unwrap();
    let cy = s.related_one(&order, Order::user).unwrap().unwrap();
    assert!(cy.read().id > 0);
    assert_eq!(order.read().user_id, cy.read().id);
}

#[tokio::test]
async fn merge_without_loaded_relationships_copies_columns_only() {
    let t = setup().await;
    let (ann_id, _) = seeded(&t).await;
    let mut s = t.session();
    let ann = s
        .merge(User {
            id: ann_id,
            name: "ann c.".into(),
            ..User::default()
        })
        .await
        .unwrap();
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_order").await,
        2,
        "orders untouched"
    );
    assert!(s.related(&ann, User::orders).is_err(), "not loaded");
}

/// Ann renamed, her orders' totals changed: a detached graph over the seeded rows.
fn renamed_graph(ann_id: i64, order_ids: &[i64]) -> User {
    let mut detached = User {
        id: ann_id,
        name: "ann b.".into(),
        ..User::default()
    };
    detached.orders = Related::loaded(
        order_ids
            .iter()
            .map(|&id| Order {
                id,
                user_id: ann_id,
                total: 99,
                ..Order::default()
            })
            .collect(),
    );
    detached
}

async fn stored_names_and_totals(t: &TestDatabase, ann_id: i64) -> (String, Vec<i32>) {
    let name: String = t
        .fetch_one(
            select::<User>()
                .filter(User::id.eq(ann_id))
                .columns(User::name),
        )
        .await
        .unwrap();
    let totals = t
        .fetch_all(
            select::<Order>()
                .filter(Order::user_id.eq(ann_id))
                .order_by(Order::id)
                .columns(Order::total),
        )
        .await
        .unwrap();
    (name, totals)
}

/// The rows still hold the seeded values; then the merge goes through and is committed.
async fn unchanged_then_merged(t: &TestDatabase, s: &mut Session, ann_id: i64, order_ids: &[i64]) {
    assert_eq!(
        stored_names_and_totals(t, ann_id).await,
        ("ann".into(), vec![10, 20])
    );
    s.merge(renamed_graph(ann_id, order_ids)).await.unwrap();
    s.commit().await.unwrap();
    assert_eq!(
        stored_names_and_totals(t, ann_id).await,
        ("ann b.".into(), vec![99, 99])
    );
}

#[tokio::test]
async fn a_merge_that_fails_part_way_changes_nothing() {
    let t = setup().await;
    let (ann_id, order_ids) = seeded(&t).await;
    let mut s = t.session_with(no_expire());
    let ann = s.get::<User>(ann_id).await.unwrap().expect("ann");
    let orders = s
        .all(
            select::<Order>()
                .filter(Order::user_id.eq(ann_id))
                .order_by(Order::id),
        )
        .await
        .unwrap();

    // A guard on an order: the user's level merges, the orders' level fails.
    let held = orders[0].read();
    let err = s
        .merge(renamed_graph(ann_id, &order_ids))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ObjectInUse { .. }),
        "{err:?}"
    );
    drop(held);
    assert_eq!(ann.read().name, "ann", "the user merged first is restored");
    assert_eq!(orders[1].read().total, 20);
    assert!(!s.is_pending_rollback());
    s.commit().await.unwrap();
    // The guard gone, the same merge goes through.
    unchanged_then_merged(&t, &mut s, ann_id, &order_ids).await;
}

#[tokio::test]
async fn a_merge_cancelled_part_way_is_undone_by_the_rollback_it_requires() {
    let t = setup().await;
    let (ann_id, order_ids) = seeded(&t).await;
    let mut s = t.session_with(no_expire());
    let ann = s.get::<User>(ann_id).await.unwrap().expect("ann");

    // Polled once: ann merges from the identity map, then her orders' level waits for its
    // load; dropped there.
    assert!(poll_once(s.merge(renamed_graph(ann_id, &order_ids))).await);
    assert!(s.is_pending_rollback());
    let err = s.commit().await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::PendingRollback { .. }),
        "{err:?}"
    );
    s.rollback().await.unwrap();
    assert_eq!(
        ann.read().name,
        "ann",
        "the rollback restored the merged user"
    );
    assert!(!s.is_pending_rollback());
    unchanged_then_merged(&t, &mut s, ann_id, &order_ids).await;
}
