//! Adding graphs.

use super::*;

#[tokio::test]
async fn a_thousand_orders_for_ten_new_users_is_two_inserts() {
    let t = setup().await;
    let mut s = t.session();
    let users: Vec<User> = (0..10)
        .map(|u| {
            let mut user = User::named(&format!("user{u}"));
            user.orders = Related::loaded((0..100).map(|o| Order::of(u * 1000 + o)).collect());
            user
        })
        .collect();
    let before = t.statement_count();
    let handles = s.add_all(users);
    s.commit().await.unwrap();
    assert_eq!(
        t.statement_count() - before,
        5,
        "BEGIN, INSERT users, the orders' keys from their sequence, COPY orders, COMMIT"
    );
    assert_eq!(count(&t, "SELECT count(*) FROM s_order").await, 1000);
    // Every order points at its own user: the generated keys were filled in.
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_order o JOIN s_user u ON u.id = o.user_id \
             WHERE o.total / 1000 = substr(u.name, 5)::int"
        )
        .await,
        1000
    );
    let orders = s.related(&handles[3], User::orders).unwrap();
    assert_eq!(orders.len(), 100);
    let uid = handles[3].read().id;
    assert!(orders.iter().all(|o| o.read().user_id == uid));
}

#[tokio::test]
async fn an_order_pointing_at_a_new_user_inserts_the_user_first() {
    let t = setup().await;
    let mut s = t.session();
    let mut o = Order::of(42);
    o.user = Related::loaded(User::named("new"));
    let order = s.add(o);
    s.commit().await.unwrap();
    let user = s.related_one(&order, Order::user).unwrap().unwrap();
    assert_eq!(order.read().user_id, user.read().id);
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_order o JOIN s_user u ON u.id = o.user_id WHERE u.name = 'new'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn appending_to_a_collection_of_a_loaded_parent_sets_the_key() {
    let t = setup().await;
    let mut s = t.session();
    let ann = s.add(User::named("ann"));
    let bob = s.add(User::named("bob"));
    s.commit().await.unwrap();
    let mut s = t.session();
    let users = s
        .all(
            select::<User>()
                .order_by(User::name)
                .load(User::orders.selectin()),
        )
        .await
        .unwrap();
    let order = s.add(Order::of(7));
    s.append(&users[1], User::orders, &order).unwrap();
    s.commit().await.unwrap();
    let bob_id = bob.read().id;
    assert_eq!(order.read().user_id, bob_id);
    let _ = ann;
    // Moving the order to the other user is an UPDATE of its key.
    let mut s = t.session();
    let users = s
        .all(
            select::<User>()
                .order_by(User::name)
                .load(User::orders.selectin()),
        )
        .await
        .unwrap();
    let moved = s.related(&users[1], User::orders).unwrap()[0].clone();
    s.append(&users[0], User::orders, &moved).unwrap();
    // Both sides follow (back_populates): the order left bob's collection, knows ann.
    assert!(s.related(&users[1], User::orders).unwrap().is_empty());
    let owner = s.related_one(&moved, Order::user).unwrap().unwrap();
    assert!(Tracked::ptr_eq(&owner, &users[0]));
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_order o JOIN s_user u ON u.id = o.user_id WHERE u.name = 'ann'"
        )
        .await,
        1
    );
}
