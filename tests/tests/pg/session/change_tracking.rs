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
