//! Change tracking.

use super::*;

#[tokio::test]
async fn flush_updates_only_changed_columns_of_changed_objects() {
    let t = setup().await;
    let mut s = t.session();
    s.add_all((0..100).map(|i| User::named(&format!("u{i:03}"))));
    s.commit().await.unwrap();

    let mut s = t.session();
    let users = s.all(select::<User>().order_by(User::name)).await.unwrap();
    assert_eq!(users.len(), 100);
    // Three objects with the same changed column: one UPDATE.
    for u in &users[..3] {
        u.write().age = 30;
    }
    // A write that changes nothing: no UPDATE for it.
    users[50].write().age = 0;
    assert!(!users[50].is_modified());
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(
        t.statement_count() - before,
        1,
        "one UPDATE for three objects"
    );

    // Two different column sets: two UPDATEs, pipelined.
    users[10].write().age = 5;
    users[11].write().email = Some("x@y.z".into());
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count() - before, 2);
    // Nothing changed since: a flush sends nothing.
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count(), before);
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE age = 30").await,
        3
    );
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE email = 'x@y.z'").await,
        1
    );
    // Only the changed column was written: a concurrent change of another column survives.
    let mut s = t.session();
    let u = s
        .one(select::<User>().filter(User::name.eq("u000")))
        .await
        .unwrap();
    t.execute(
        update::<User>()
            .set(User::email, Some("other@x.y".to_string()))
            .filter(User::name.eq("u000")),
    )
    .await
    .unwrap();
    u.write().age = 31;
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name = 'u000' AND age = 31 AND email = 'other@x.y'"
        )
        .await,
        1
    );
}

/// An object changed, expired (its change dropped) and changed again is in the flush's queue
/// twice: the flush writes it once (twice in one `UPDATE … FROM unnest` would match one row
/// for two and fail the row count).
#[tokio::test]
async fn an_object_queued_twice_is_written_once() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    s.add_all([User::named("twice0"), User::named("twice1")]);
    s.commit().await.unwrap();
    let users = s
        .all(
            select::<User>()
                .filter(User::name.like("twice%"))
                .order_by(User::name),
        )
        .await
        .unwrap();
    users[0].write().age = 1;
    s.expire(&users[0]).unwrap();
    assert!(!users[0].is_modified(), "expire drops the change");
    users[0].write().age = 2;
    users[1].write().age = 2;
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count() - before, 1, "one UPDATE");
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name LIKE 'twice%' AND age = 2"
        )
        .await,
        2
    );
    // Nothing left to write.
    let before = t.statement_count();
    s.commit().await.unwrap();
    assert_eq!(t.statement_count(), before);
}

/// After a flush, the next changes are compared with what that flush wrote: a column written
/// by the first flush and not touched since is not written again, and a value set back to the
/// flushed one is no change.
#[tokio::test]
async fn changes_after_a_flush_are_compared_with_what_it_wrote() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    s.add(User::named("spare0"));
    s.commit().await.unwrap();
    let u = s
        .one(select::<User>().filter(User::name.eq("spare0")))
        .await
        .unwrap();

    // First flush: two columns.
    {
        let mut w = u.write();
        w.name = "spare1".into();
        w.email = Some("first@x.y".into());
    }
    s.commit().await.unwrap();
    // Another writer changes both columns the first flush wrote.
    t.execute(
        update::<User>()
            .set(User::name, "other".to_string())
            .set(User::email, Some("other@x.y".to_string()))
            .filter(User::name.eq("spare1")),
    )
    .await
    .unwrap();
    // Second flush: one other column only.
    u.write().age = 7;
    assert!(u.is_modified());
    let before = t.statement_count();
    s.commit().await.unwrap();
    assert!(t.statement_count() > before, "the change of age was sent");
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name = 'other' AND email = 'other@x.y' AND age = 7"
        )
        .await,
        1,
        "only age was written by the second flush"
    );

    // Set back to the flushed value: no change.
    u.write().age = 8;
    u.write().age = 7;
    assert!(!u.is_modified());

    // From a value to NULL and back, each flushed.
    u.write().email = None;
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name = 'other' AND email IS NULL"
        )
        .await,
        1
    );
    u.write().email = Some("first@x.y".into());
    assert!(u.is_modified());
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name = 'other' AND email = 'first@x.y' AND age = 7"
        )
        .await,
        1
    );

    // A change rolled back after a flush in the same transaction: the object has the flushed
    // values again, and is not modified.
    u.write().age = 9;
    s.flush().await.unwrap();
    u.write().age = 10;
    s.rollback().await.unwrap();
    assert_eq!(u.read().age, 7);
}

/// A foreign key set by hand moves an object the session linked to its old parent: the link
/// copies the parent's key once, at the flush after the change that made it, not at every
/// flush over the user's value.
#[tokio::test]
async fn writing_a_foreign_key_column_moves_a_linked_child() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let mut u = User::named("ann");
    u.orders = Related::loaded(vec![Order::of(1)]);
    let ann = s.add(u);
    let bob = s.add(User::named("bob"));
    s.commit().await.unwrap();
    let order = s.related(&ann, User::orders).unwrap()[0].clone();
    let (order_id, bob_id) = (order.read().id, bob.read().id);
    assert_eq!(order.read().user_id, ann.read().id);
    order.write().user_id = bob_id;
    s.commit().await.unwrap();
    let owner = t
        .fetch_one(
            orm_postgres::raw::query::<i64>("SELECT user_id FROM s_order WHERE id = :id")
                .bind("id", order_id),
        )
        .await
        .unwrap();
    assert_eq!(owner, bob_id, "the UPDATE wrote the hand-set key");
    // A later change of another column keeps it.
    order.write().total = 2;
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_order WHERE total = 2 AND user_id <> (SELECT id FROM s_user WHERE name = 'ann')").await,
        1
    );
}

/// A link a load recorded is not written back: another session's move of the row, read by a
/// reload, survives this session's change of another column.
#[tokio::test]
async fn a_loaded_link_never_reverts_another_sessions_move() {
    let t = setup().await;
    let mut s = t.session();
    let mut u = User::named("ann");
    u.orders = Related::loaded(vec![Order::of(1)]);
    s.add(u);
    s.add(User::named("bob"));
    s.commit().await.unwrap();

    let mut s1 = t.session();
    let users = s1
        .all(
            select::<User>()
                .load(User::orders.selectin())
                .order_by(User::name),
        )
        .await
        .unwrap();
    let order = s1.related(&users[0], User::orders).unwrap()[0].clone();
    let order_id = order.read().id;
    s1.commit().await.unwrap();

    let mut s2 = t.session();
    let moved = s2.get::<Order>(order_id).await.unwrap().unwrap();
    moved.write().user_id = users[1].read().id;
    s2.commit().await.unwrap();

    // Expired by the commit: reloaded with bob's key, then another column changed.
    let again = s1.get::<Order>(order_id).await.unwrap().unwrap();
    assert_eq!(again.read().user_id, users[1].read().id);
    again.write().total += 1;
    s1.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_order o JOIN s_user u ON u.id = o.user_id WHERE u.name = 'bob' AND o.total = 2").await,
        1
    );
}

/// A flush a validator refuses leaves the object changed against the database: the changes
/// it carried beside the invalid one are written once the invalid one is fixed.
#[tokio::test]
async fn a_refused_update_keeps_every_change_for_the_next_flush() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let u = s.add(User::named("val"));
    s.commit().await.unwrap();
    {
        let mut w = u.write();
        w.age = 5;
        w.email = Some("not an address".into());
    }
    let err = s.flush().await.unwrap_err();
    assert!(err.to_string().contains("is not an email address"), "{err}");
    assert!(u.is_modified());
    u.write().email = Some("val@example.com".into());
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE name = 'val' AND age = 5 AND email = 'val@example.com'").await,
        1
    );
}

/// Changes are found as the database tells values apart: `-0.0` over `0.0` and `10.50` over
/// `10.5` are written (`==` calls them equal), and a NaN read back is not "changed" by a
/// `write()` that leaves it alone (`NaN != NaN`).
#[tokio::test]
async fn floats_by_their_bits_and_decimals_with_their_scale() {
    use orm_tests::Everything;
    let t = test_database().await.unwrap();
    t.create_all(&[Everything::TABLE]).await.unwrap();
    let mut s = t.session_with(no_expire());
    let mut v = crate::types::sample();
    v.f8 = 0.0;
    v.amount = rust_decimal::Decimal::new(105, 1);
    let e = s.add(v);
    s.commit().await.unwrap();
    {
        let mut w = e.write();
        w.f8 = -0.0;
        w.amount = rust_decimal::Decimal::new(1050, 2);
    }
    assert!(e.is_modified());
    s.commit().await.unwrap();
    let stored = t
        .fetch_one(orm_postgres::raw::query::<(String, String)>(
            "SELECT f8::text, amount::text FROM everything",
        ))
        .await
        .unwrap();
    assert_eq!(stored, ("-0".to_string(), "10.50".to_string()));

    e.write().f8 = f64::NAN;
    s.commit().await.unwrap();
    let mut s = t.session_with(no_expire());
    let e = s.one(select::<Everything>()).await.unwrap();
    assert!(e.read().f8.is_nan());
    let _ = e.write();
    assert!(!e.is_modified(), "a NaN left alone is no change");
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count() - before, 0, "nothing to write");
}
