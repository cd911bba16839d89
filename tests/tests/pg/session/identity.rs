//! Identity map.

use super::*;

#[tokio::test]
async fn one_object_per_row_and_get_answers_from_the_map() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let jane = s.add(User::named("jane"));
    s.commit().await.unwrap();
    let id = jane.read().id;
    assert!(id > 0, "the generated key came back");
    assert_eq!(jane.status(), Status::Persistent);

    let before = t.statement_count();
    let again = s.get::<User>(id).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&jane, &again));
    assert_eq!(
        t.statement_count(),
        before,
        "get answered from the identity map"
    );

    // A query returning the row gives the same object too.
    let all = s.all(select::<User>()).await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(Tracked::ptr_eq(&jane, &all[0]));

    // A fresh session loads it again (one query), and twice is still one object.
    let mut s2 = t.session();
    let a = s2.get::<User>(id).await.unwrap().unwrap();
    let b = s2.get::<User>(id).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&a, &b));
    assert!(!Tracked::ptr_eq(&a, &jane));
    assert!(s2.get::<User>(id + 1000).await.unwrap().is_none());
}

#[tokio::test]
async fn relationship_loads_give_the_objects_of_the_identity_map() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let mut u = User::named("ann");
    u.orders = Related::loaded(vec![Order::of(1), Order::of(2)]);
    let ann = s.add(u);
    s.commit().await.unwrap();
    let first = s.related(&ann, User::orders).unwrap()[0].clone();
    let first_id = first.read().id;

    let mut s2 = t.session();
    let order = s2.get::<Order>(first_id).await.unwrap().unwrap();
    let users = s2
        .all(select::<User>().load(User::orders.selectin()))
        .await
        .unwrap();
    let orders = s2.related(&users[0], User::orders).unwrap();
    assert_eq!(orders.len(), 2);
    assert!(
        Tracked::ptr_eq(&orders[0], &order),
        "the loader found the object in the map"
    );
    // back_populates: the order knows its user without a query.
    let owner = s2.related_one(&order, Order::user).unwrap().unwrap();
    assert!(Tracked::ptr_eq(&owner, &users[0]));
    // Never loaded: an error, not a query.
    let err = s2.related(&orders[0], Order::user).err();
    assert!(err.is_none(), "loaded through back_populates");
    let lone = s2.add(User::named("zed"));
    let err = s2.related(&lone, User::orders).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotLoaded { .. }));
}
