//! `expire` / `expire_all` of objects with unflushed relationship changes: as an expired
//! object's column changes, the link changes involving it (an append to or removal from its
//! collections, its many-to-one set, its own foreign key pointed elsewhere through a parent's
//! collection) are dropped, never written by a later flush; its collections are back to what
//! was loaded. A new object keeps its links (it has no database state to go back to).

use super::*;

/// ann and bob, bob with two orders (totals 1 and 2); a fresh session (no expiry on commit)
/// with both users and their orders loaded, in name order.
async fn ann_and_bob(t: &TestDatabase) -> (Session, Vec<Tracked<User>>) {
    let mut s = t.session();
    let _ann = s.add(User::named("ann"));
    let bob = s.add(User::named("bob"));
    for total in [1, 2] {
        let o = s.add(Order::of(total));
        s.append(&bob, User::orders, &o).unwrap();
    }
    s.commit().await.unwrap();
    let mut s = t.session_with(no_expire());
    let users = s
        .all(
            select::<User>()
                .order_by(User::name)
                .load(User::orders.selectin()),
        )
        .await
        .unwrap();
    (s, users)
}

/// The totals of the orders the database holds for the user named `name`.
async fn totals_of(t: &TestDatabase, name: &str) -> Vec<i32> {
    t.fetch_all(
        orm_postgres::raw::query::<i32>(
            "SELECT o.total FROM s_order o JOIN s_user u ON u.id = o.user_id \
             WHERE u.name = :name ORDER BY o.total",
        )
        .bind("name", name.to_string()),
    )
    .await
    .unwrap()
}

/// The totals of `user`'s orders as the session lists them.
fn listed(s: &Session, user: &Tracked<User>) -> Vec<i32> {
    s.related(user, User::orders)
        .unwrap()
        .iter()
        .map(|o| o.read().total)
        .collect()
}

#[tokio::test]
async fn expiring_a_parent_drops_the_children_appended_to_and_removed_from_it() {
    let t = setup().await;
    let (mut s, users) = ann_and_bob(&t).await;
    let (ann, bob) = (&users[0], &users[1]);
    let bobs = s.related(bob, User::orders).unwrap();
    // Order 1 moves to ann (back_populates takes it out of bob's collection).
    s.append(ann, User::orders, &bobs[0]).unwrap();
    assert_eq!((listed(&s, ann), listed(&s, bob)), (vec![1], vec![2]));
    s.expire(ann).unwrap();
    // Both collections are as loaded (the order back in bob's at the end), the order's
    // many-to-one too; its foreign key was never changed.
    assert_eq!((listed(&s, ann), listed(&s, bob)), (vec![], vec![2, 1]));
    let user = s.related_one(&bobs[0], Order::user).unwrap();
    assert!(user.is_some_and(|u| Tracked::ptr_eq(&u, bob)));
    s.commit().await.unwrap();
    assert_eq!(totals_of(&t, "ann").await, Vec::<i32>::new());
    assert_eq!(totals_of(&t, "bob").await, [1, 2]);
    // Nothing left to write later either (a link kept would be written with the next change
    // of the order).
    bobs[0].write().total = 10;
    s.commit().await.unwrap();
    assert_eq!(totals_of(&t, "bob").await, [2, 10]);

    // Order 2 taken out of bob's collection: its foreign key would be set to NULL, which the
    // NOT NULL column refuses. Expiring bob drops that: the flush does not try.
    s.remove(bob, User::orders, &bobs[1]).unwrap();
    s.expire(bob).unwrap();
    assert_eq!(listed(&s, bob), [2, 10]);
    s.commit().await.unwrap();
    assert_eq!(totals_of(&t, "bob").await, [2, 10]);
}

#[tokio::test]
async fn expiring_a_child_drops_the_move_made_through_its_new_parent() {
    let t = setup().await;
    let (mut s, users) = ann_and_bob(&t).await;
    let (ann, bob) = (&users[0], &users[1]);
    let order = s.related(bob, User::orders).unwrap().remove(0);
    s.append(ann, User::orders, &order).unwrap();
    s.expire(&order).unwrap();
    assert_eq!(listed(&s, ann), Vec::<i32>::new(), "no longer listed");
    s.commit().await.unwrap();
    assert_eq!(totals_of(&t, "bob").await, [1, 2]);
    order.write().total = 10;
    s.commit().await.unwrap();
    assert_eq!(totals_of(&t, "bob").await, [2, 10]);
    assert_eq!(totals_of(&t, "ann").await, Vec::<i32>::new());
}

#[tokio::test]
async fn expiring_an_object_drops_its_many_to_one_set() {
    let t = setup().await;
    let (mut s, users) = ann_and_bob(&t).await;
    let (ann, bob) = (&users[0], &users[1]);
    let order = s.related(bob, User::orders).unwrap().remove(0);
    s.set_related(&order, Order::user, vec![ann.clone()])
        .unwrap();
    assert_eq!(listed(&s, ann), [1], "back_populates");
    s.expire(&order).unwrap();
    assert_eq!(listed(&s, ann), Vec::<i32>::new());
    let user = s.related_one(&order, Order::user).unwrap();
    assert!(user.is_some_and(|u| Tracked::ptr_eq(&u, bob)), "as loaded");
    s.commit().await.unwrap();
    order.write().total = 10;
    s.commit().await.unwrap();
    assert_eq!(totals_of(&t, "bob").await, [2, 10]);
}

#[tokio::test]
async fn expire_all_drops_every_unflushed_link_but_a_new_objects() {
    let t = setup().await;
    let (mut s, users) = ann_and_bob(&t).await;
    let (ann, bob) = (&users[0], &users[1]);
    let order = s.related(bob, User::orders).unwrap().remove(0);
    s.append(ann, User::orders, &order).unwrap();
    // A new order appended to ann: its insert takes ann's key, expired or not.
    let new = s.add(Order::of(3));
    s.append(ann, User::orders, &new).unwrap();
    s.expire_all().unwrap();
    assert_eq!(listed(&s, ann), [3]);
    s.commit().await.unwrap();
    assert_eq!(totals_of(&t, "ann").await, [3]);
    assert_eq!(totals_of(&t, "bob").await, [1, 2]);
}

/// The titles of the courses with an enrollment, in order.
async fn enrolled(t: &TestDatabase) -> Vec<String> {
    t.fetch_all(orm_postgres::raw::query::<String>(
        "SELECT c.title FROM e_enrollment e JOIN e_course c ON c.id = e.course_id ORDER BY 1",
    ))
    .await
    .unwrap()
}

#[tokio::test]
async fn expiring_either_side_drops_an_unflushed_many_to_many_change() {
    let t = ann_in_algebra().await;
    let mut s = t.session_with(no_expire());
    let ann = s
        .one(select::<Student>().load(Student::courses.selectin()))
        .await
        .unwrap();
    let all = s
        .all(select::<Course>().order_by(Course::title))
        .await
        .unwrap();
    // Drop algebra, add biology and chemistry; then expire the student.
    s.set_related(&ann, Student::courses, vec![all[1].clone(), all[2].clone()])
        .unwrap();
    s.expire(&ann).unwrap();
    let titles: Vec<String> = s
        .related(&ann, Student::courses)
        .unwrap()
        .iter()
        .map(|c| c.read().title.clone())
        .collect();
    assert_eq!(titles, ["algebra"], "as loaded");
    s.commit().await.unwrap();
    assert_eq!(enrolled(&t).await, ["algebra"]);

    // Expiring a target drops its pair only.
    s.append(&ann, Student::courses, &all[1]).unwrap();
    s.append(&ann, Student::courses, &all[2]).unwrap();
    s.expire(&all[2]).unwrap();
    s.commit().await.unwrap();
    assert_eq!(enrolled(&t).await, ["algebra", "biology"]);

    // A row to a new course is part of inserting it: kept.
    let drama = s.add(Course {
        title: "drama".into(),
        ..Course::default()
    });
    s.append(&ann, Student::courses, &drama).unwrap();
    s.expire(&ann).unwrap();
    s.commit().await.unwrap();
    assert_eq!(enrolled(&t).await, ["algebra", "biology", "drama"]);
}

#[tokio::test]
async fn refresh_drops_unflushed_links_too() {
    let t = setup().await;
    let (mut s, users) = ann_and_bob(&t).await;
    let (ann, bob) = (&users[0], &users[1]);
    let order = s.related(bob, User::orders).unwrap().remove(0);
    s.append(ann, User::orders, &order).unwrap();
    s.refresh(&order).await.unwrap();
    assert_eq!((listed(&s, ann), listed(&s, bob)), (vec![], vec![2, 1]));
    order.write().total = 10;
    s.commit().await.unwrap();
    assert_eq!(totals_of(&t, "bob").await, [2, 10]);
}

/// What `expire` discards is saved in the undo log like any change: rolling back a savepoint
/// in which a change was made and then discarded leaves the session as the savepoint found it,
/// ready for the same change again.
#[tokio::test]
async fn a_savepoint_rolled_back_after_expire_is_as_it_began() {
    let t = setup().await;
    let (mut s, users) = ann_and_bob(&t).await;
    let (ann, bob) = (&users[0], &users[1]);
    let order = s.related(bob, User::orders).unwrap().remove(0);
    s.begin_nested().await.unwrap();
    s.append(ann, User::orders, &order).unwrap();
    s.expire(ann).unwrap();
    s.rollback_nested().await.unwrap();
    assert_eq!((listed(&s, ann), listed(&s, bob)), (vec![], vec![1, 2]));
    s.append(ann, User::orders, &order).unwrap();
    s.commit().await.unwrap();
    assert_eq!(totals_of(&t, "ann").await, [1]);
    assert_eq!(totals_of(&t, "bob").await, [2]);
}
