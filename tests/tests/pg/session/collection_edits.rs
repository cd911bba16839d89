//! Changing long collections one item at a time: `append` and `remove` change a collection in
//! place (with an undo record for that item), so each call costs a scan of the collection's
//! ids, not a copy of it and of every child; the other side (`back_populates`) follows, and a
//! rollback puts every item back where it was.

use super::*;

/// The totals of `user`'s orders, in the collection's order.
fn totals(s: &orm_postgres::Session, user: &Tracked<User>) -> Vec<i32> {
    s.related(user, User::orders)
        .unwrap()
        .iter()
        .map(|o| o.read().total)
        .collect()
}

/// How many orders the database holds for the user named `name`.
async fn orders_of(t: &TestDatabase, name: &str) -> i64 {
    t.fetch_one(
        orm_postgres::raw::query::<i64>(
            "SELECT count(*) FROM s_order o JOIN s_user u ON u.id = o.user_id WHERE u.name = :name",
        )
        .bind("name", name.to_string()),
    )
    .await
    .unwrap()
}

/// Whether `order`'s user (its `back_populates` side) is `user`.
fn belongs_to(s: &orm_postgres::Session, order: &Tracked<Order>, user: &Tracked<User>) -> bool {
    match s.related(order, Order::user).unwrap_or_default().as_slice() {
        [u] => Tracked::ptr_eq(u, user),
        _ => false,
    }
}

#[tokio::test]
async fn thousands_of_children_appended_one_by_one_then_moved_and_rolled_back() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let ann = s.add(User::named("ann"));
    s.add(User::named("bob"));
    let orders: Vec<_> = (0..3000).map(|i| s.add(Order::of(i))).collect();
    for o in &orders {
        s.append(&ann, User::orders, o).unwrap();
    }
    // Appending one that is there already changes nothing.
    s.append(&ann, User::orders, &orders[0]).unwrap();
    assert_eq!(totals(&s, &ann), (0..3000).collect::<Vec<_>>());
    assert!(orders.iter().all(|o| belongs_to(&s, o, &ann)));
    s.commit().await.unwrap();
    let ann_id = ann.read().id;
    assert!(orders.iter().all(|o| o.read().user_id == ann_id));
    assert_eq!(orders_of(&t, "ann").await, 3000);

    // Persistent parents, their collections loaded: every third order moves to bob, one by
    // one; back_populates takes each out of ann's collection.
    let mut s = t.session_with(no_expire());
    let users = s
        .all(
            select::<User>()
                .order_by(User::name)
                .load(User::orders.selectin()),
        )
        .await
        .unwrap();
    let (ann, bob) = (&users[0], &users[1]);
    let orders = s.related(ann, User::orders).unwrap();
    s.begin_nested().await.unwrap();
    for o in orders.iter().step_by(3) {
        s.append(bob, User::orders, o).unwrap();
    }
    let kept: Vec<i32> = (0..3000).filter(|i| i % 3 != 0).collect();
    assert_eq!(totals(&s, ann), kept);
    assert_eq!(totals(&s, bob), (0..3000).step_by(3).collect::<Vec<_>>());
    assert!(orders.iter().step_by(3).all(|o| belongs_to(&s, o, bob)));
    s.flush().await.unwrap();
    assert_eq!(orders_of(&t, "bob").await, 0, "not committed yet");

    // The savepoint's rollback puts every order back in ann's collection, in its place.
    s.rollback_nested().await.unwrap();
    assert_eq!(totals(&s, ann), (0..3000).collect::<Vec<_>>());
    assert_eq!(totals(&s, bob), Vec::<i32>::new());
    assert!(orders.iter().all(|o| belongs_to(&s, o, ann)));
    assert!(orders.iter().all(|o| o.read().user_id == ann_id));

    // Moved again, and committed this time.
    for o in orders.iter().take(10) {
        s.append(bob, User::orders, o).unwrap();
    }
    s.commit().await.unwrap();
    assert_eq!(orders_of(&t, "bob").await, 10);
}

#[tokio::test]
async fn a_guard_on_a_child_already_there_does_not_stop_an_append() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let ann = s.add(User::named("ann"));
    let first = s.add(Order::of(1));
    s.append(&ann, User::orders, &first).unwrap();
    let second = s.add(Order::of(2));
    {
        // Only the appended child's foreign key changes: a guard on another is no obstacle.
        let _held = first.write();
        s.append(&ann, User::orders, &second).unwrap();
    }
    assert_eq!(totals(&s, &ann), [1, 2]);

    // A guard on the appended child stops it, and nothing changes.
    let third = s.add(Order::of(3));
    let held = third.read();
    let err = s.append(&ann, User::orders, &third).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ObjectInUse { .. }), "{err}");
    drop(held);
    assert_eq!(totals(&s, &ann), [1, 2]);
    assert!(!belongs_to(&s, &third, &ann));
    // Free again: it goes in.
    s.append(&ann, User::orders, &third).unwrap();
    assert_eq!(totals(&s, &ann), [1, 2, 3]);
    s.commit().await.unwrap();
    let ann_id = ann.read().id;
    assert_eq!(
        [&first, &second, &third].map(|o| o.read().user_id),
        [ann_id; 3]
    );
}

#[tokio::test]
async fn thousands_of_orphans_removed_one_by_one_are_deleted_and_a_rollback_restores_them() {
    let t = setup().await;
    let mut s = t.session();
    let mut post = Post {
        title: "long".into(),
        ..Post::default()
    };
    post.comments = Related::loaded(
        (0..2000)
            .map(|i| Comment {
                body: format!("c{i}"),
                ..Comment::default()
            })
            .collect(),
    );
    s.add(Author {
        name: "ann".into(),
        posts: Related::loaded(vec![post]),
        ..Author::default()
    });
    s.commit().await.unwrap();

    let mut s = t.session_with(no_expire());
    let post = s
        .one(select::<Post>().load(Post::comments.selectin()))
        .await
        .unwrap();
    let comments = s.related(&post, Post::comments).unwrap();
    let bodies = |s: &orm_postgres::Session| -> Vec<String> {
        s.related(&post, Post::comments)
            .unwrap()
            .iter()
            .map(|c| c.read().body.clone())
            .collect()
    };
    let all: Vec<String> = (0..2000).map(|i| format!("c{i}")).collect();
    assert_eq!(bodies(&s), all);

    // Removed and rolled back: each comment back in its place, none deleted.
    s.begin_nested().await.unwrap();
    for c in comments.iter().rev().step_by(7) {
        s.remove(&post, Post::comments, c).unwrap();
    }
    assert_eq!(bodies(&s).len(), 2000 - 286);
    s.rollback_nested().await.unwrap();
    assert_eq!(bodies(&s), all);
    assert!(comments.iter().all(|c| c.status() == Status::Persistent));

    // Every other comment removed, one by one: delete-orphan deletes each.
    for c in comments.iter().step_by(2) {
        s.remove(&post, Post::comments, c).unwrap();
    }
    // Removing one that is gone already changes nothing.
    s.remove(&post, Post::comments, &comments[0]).unwrap();
    let odd: Vec<String> = (0..2000)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("c{i}"))
        .collect();
    assert_eq!(bodies(&s), odd);
    assert!(
        comments
            .iter()
            .step_by(2)
            .all(|c| c.status() == Status::Deleted)
    );
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM b_comment").await, 1000);
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM b_comment WHERE substr(body, 2)::int % 2 = 1"
        )
        .await,
        1000
    );
}

#[tokio::test]
async fn thousands_of_links_appended_and_removed_one_by_one() {
    let t = setup().await;
    let mut s = t.session();
    let ann = s.add(Student {
        name: "ann".into(),
        ..Student::default()
    });
    let courses = s.add_all((0..1500).map(|i| Course {
        title: format!("course {i:04}"),
        ..Course::default()
    }));
    for c in &courses {
        s.append(&ann, Student::courses, c).unwrap();
    }
    let log = t.statement_log();
    s.commit().await.unwrap();
    let links: Vec<String> = log
        .finish()
        .into_iter()
        .filter(|sql| sql.contains("e_enrollment"))
        .collect();
    assert_eq!(links.len(), 1, "one INSERT of every link: {links:?}");
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 1500);

    let mut s = t.session();
    let ann = s
        .one(select::<Student>().load(Student::courses.selectin()))
        .await
        .unwrap();
    let courses = s.related(&ann, Student::courses).unwrap();
    assert_eq!(courses.len(), 1500);
    for c in courses.iter().skip(1000) {
        s.remove(&ann, Student::courses, c).unwrap();
    }
    let log = t.statement_log();
    s.flush().await.unwrap();
    let sql = log.finish();
    assert_eq!(sql.len(), 1, "one DELETE of the 500 links: {sql:?}");
    assert!(
        sql[0].starts_with("DELETE FROM \"e_enrollment\""),
        "{}",
        sql[0]
    );
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 1000);
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM e_enrollment e JOIN e_course c ON c.id = e.course_id \
             WHERE c.title >= 'course 1000'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn appending_a_listed_child_again_points_it_back_at_the_parent() {
    // A has-many without back_populates: a child appended to another parent stays listed in
    // the first one's collection.
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let mut author = Author {
        name: "ann".into(),
        ..Author::default()
    };
    author.posts = Related::loaded(vec![]);
    let ann = s.add(author);
    let bob = s.add(Author {
        name: "bob".into(),
        posts: Related::loaded(vec![]),
        ..Author::default()
    });
    let post = s.add(Post {
        title: "moving".into(),
        ..Post::default()
    });
    let other = s.add(Post {
        title: "staying".into(),
        ..Post::default()
    });
    s.append(&ann, Author::posts, &post).unwrap();
    s.append(&bob, Author::posts, &other).unwrap();
    s.append(&ann, Author::posts, &other).unwrap();
    s.append(&bob, Author::posts, &post).unwrap();
    s.append(&ann, Author::posts, &post).unwrap();
    // Appending to ann again re-points the appended post only: `other`, listed under ann
    // too, stays with bob, its last parent.
    s.append(&bob, Author::posts, &other).unwrap();
    s.append(&ann, Author::posts, &post).unwrap();
    s.commit().await.unwrap();
    assert_eq!(post.read().author_id, ann.read().id);
    assert_eq!(other.read().author_id, bob.read().id);
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM b_post p JOIN b_author a ON a.id = p.author_id WHERE a.name = 'ann'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn bad_appends_and_removes_fail_with_typed_errors_and_change_nothing() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let ann = s.add(User::named("ann"));
    let kept = s.add(Order::of(1));
    s.append(&ann, User::orders, &kept).unwrap();

    // A target that left the session.
    let gone = s.add(Order::of(2));
    s.expunge(&gone).unwrap();
    let err = s.append(&ann, User::orders, &gone).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ObjectState(_)), "{err}");
    assert!(err.to_string().contains("not in the session"), "{err}");
    assert_eq!(totals(&s, &ann), [1]);

    // Removing one that is not listed changes nothing.
    let other = s.add(Order::of(3));
    s.remove(&ann, User::orders, &other).unwrap();
    assert_eq!(totals(&s, &ann), [1]);
    s.expunge(&other).unwrap();

    // A guard on the target stops a remove, before anything changes.
    let held = kept.read();
    let err = s.remove(&ann, User::orders, &kept).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ObjectInUse { .. }), "{err}");
    drop(held);
    assert_eq!(totals(&s, &ann), [1]);
    assert!(belongs_to(&s, &kept, &ann));
    s.commit().await.unwrap();
    assert_eq!(kept.read().user_id, ann.read().id);

    // A collection never loaded: a remove needs it loaded.
    let mut s = t.session_with(no_expire());
    let ann = s.one(select::<User>()).await.unwrap();
    let order = s.one(select::<Order>()).await.unwrap();
    let err = s.remove(&ann, User::orders, &order).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotLoaded { .. }), "{err}");
    assert_eq!(orders_of(&t, "ann").await, 1);
}
