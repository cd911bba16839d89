//! Transactions.

use super::*;

#[tokio::test]
async fn rollback_restores_every_object() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let kept = s.add(User::named("kept"));
    let doomed = s.add(User::named("doomed"));
    s.commit().await.unwrap();

    kept.write().age = 99;
    s.delete(&doomed).unwrap();
    let added = s.add(User::named("added"));
    s.flush().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user").await,
        2,
        "not committed yet"
    );
    s.rollback().await.unwrap();

    assert_eq!(kept.read().age, 0);
    assert_eq!(doomed.status(), Status::Persistent);
    assert_eq!(added.status(), Status::Detached);
    assert!(!s.has_changes(), "{:?}", s.unit_of_work());
    // Rollback expires: another writer's change is seen at the next load.
    assert!(kept.is_expired());
    t.execute(
        update::<User>()
            .set(User::age, 5)
            .filter(User::name.eq("kept")),
    )
    .await
    .unwrap();
    let users = s.all(select::<User>().order_by(User::name)).await.unwrap();
    assert_eq!(users.len(), 2);
    assert!(Tracked::ptr_eq(&users[0], &doomed));
    assert!(Tracked::ptr_eq(&users[1], &kept));
    assert_eq!(kept.read().age, 5);
}

#[tokio::test]
async fn rolling_back_a_savepoint_restores_those_objects() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let u = s.add(User::named("sp"));
    s.flush().await.unwrap();
    u.write().age = 1;
    s.begin_nested().await.unwrap();
    u.write().age = 2;
    let inner = s.add(User::named("inner"));
    s.flush().await.unwrap();
    s.rollback_nested().await.unwrap();
    // begin_nested flushed age = 1 first; the savepoint's change is undone.
    assert_eq!(u.read().age, 1, "back to its state at the savepoint");
    assert!(!u.is_modified());
    assert_eq!(inner.status(), Status::Detached);
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name = 'sp' AND age = 1"
        )
        .await,
        1
    );
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 1);

    // The closure form: an error rolls the savepoint back, Ok releases it.
    let mut s = t.session();
    let r: Result<()> = s
        .nested(|s| {
            async move {
                s.add(User::named("nope"));
                s.flush().await?;
                Err(Error::object_state("changed my mind"))
            }
            .scoped()
        })
        .await;
    assert!(r.is_err());
    s.nested(|s| {
        async move {
            s.add(User::named("yes"));
            Ok(())
        }
        .scoped()
    })
    .await
    .unwrap();
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name IN ('nope', 'yes')"
        )
        .await,
        1
    );
}

/// A loop that changes many objects saves their states in several undo records (each grows
/// to a bounded size, then the next starts): a savepoint's rollback restores exactly its own
/// changes, a transaction's rollback every change, the newest record first.
#[tokio::test]
async fn a_server_error_inside_a_savepoint_is_cleared_by_rolling_it_back() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let kept = s.add(User::named("kept"));
    // Flushes `kept` first, outside the savepoint.
    s.begin_nested().await.unwrap();
    let twin = s.add(User::named("kept"));
    let err = s.flush().await.unwrap_err();
    assert!(err.is_unique_violation(), "{err}");
    // The server's error leaves the session refusing work...
    assert!(s.is_pending_rollback());
    let err = s.all(select::<User>()).await.unwrap_err();
    assert!(err.is_pending_rollback(), "{err}");
    // ... until the savepoint is rolled back: the transaction goes on, without the twin.
    s.rollback_nested().await.unwrap();
    assert!(!s.is_pending_rollback());
    assert_eq!(twin.status(), Status::Detached);
    assert_eq!(kept.status(), Status::Persistent);
    s.add(User::named("after"));
    s.commit().await.unwrap();
    let mut names: Vec<String> = t
        .fetch_all(select::<User>().columns(User::name))
        .await
        .unwrap();
    names.sort();
    assert_eq!(names, ["after", "kept"]);
}

#[tokio::test]
async fn rollbacks_restore_every_object_a_long_loop_changed() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let users = s.add_all((0..700).map(|i| User::named(&format!("loop{i:03}"))));
    s.commit().await.unwrap();

    // 600 changes in the transaction, 400 more in a savepoint (half of them again).
    for (i, u) in users.iter().enumerate().take(600) {
        u.write().age = i as i32 + 1;
    }
    s.begin_nested().await.unwrap();
    for u in users.iter().skip(300) {
        u.write().age = -1;
    }
    s.flush().await.unwrap();
    s.rollback_nested().await.unwrap();
    for (i, u) in users.iter().enumerate() {
        let want = if i < 600 { i as i32 + 1 } else { 0 };
        assert_eq!(
            u.read().age,
            want,
            "object {i} after the savepoint's rollback"
        );
    }
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE age = -1").await,
        0
    );

    s.rollback().await.unwrap();
    assert!(
        users.iter().all(|u| u.read().age == 0),
        "every change undone"
    );
    assert!(!s.has_changes());
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name LIKE 'loop%' AND age = 0"
        )
        .await,
        700
    );
}

#[tokio::test]
async fn autoflush_before_queries_can_be_switched_off() {
    let t = setup().await;
    let mut s = t.session();
    s.add(User::named("pending"));
    let found = s.all(select::<User>()).await.unwrap();
    assert_eq!(found.len(), 1, "autoflush wrote it before the query");
    s.rollback().await.unwrap();

    let mut s = t.session_with(SessionOptions::default().autoflush(false));
    s.add(User::named("pending"));
    let found = s.all(select::<User>()).await.unwrap();
    assert!(found.is_empty());
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 1);
}

#[tokio::test]
async fn expire_on_commit_reloads_at_the_next_access() {
    let t = setup().await;
    let mut s = t.session();
    let u = s.add(User::named("exp"));
    s.commit().await.unwrap();
    assert!(u.is_expired());
    let id = u.read().id;
    t.execute(update::<User>().set(User::age, 7).filter(User::id.eq(id)))
        .await
        .unwrap();
    let before = t.statement_count();
    let again = s.get::<User>(id).await.unwrap().unwrap();
    assert!(
        t.statement_count() > before,
        "an expired object is reloaded"
    );
    assert!(Tracked::ptr_eq(&u, &again));
    assert_eq!(u.read().age, 7);
    assert!(!u.is_expired());

    // Without expire_on_commit, the object keeps its values and get needs no query.
    let mut s = t.session_with(no_expire());
    let v = s.add(User::named("keep"));
    s.commit().await.unwrap();
    assert!(!v.is_expired());
    let before = t.statement_count();
    let vid = v.read().id;
    s.get::<User>(vid).await.unwrap().unwrap();
    assert_eq!(t.statement_count(), before);
}

#[tokio::test]
async fn refresh_expire_expunge_and_merge() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let u = s.add(User::named("r"));
    s.commit().await.unwrap();
    let id = u.read().id;

    // refresh: reload now, dropping unflushed changes.
    t.execute(update::<User>().set(User::age, 3).filter(User::id.eq(id)))
        .await
        .unwrap();
    u.write().name = "unsaved".into();
    s.refresh(&u).await.unwrap();
    assert_eq!(u.read().name, "r");
    assert_eq!(u.read().age, 3);
    assert!(!s.has_changes());

    // expire: values replaced at the next load.
    u.write().age = 100;
    s.expire(&u).unwrap();
    assert_eq!(u.read().age, 3, "unflushed change dropped");
    assert!(u.is_expired());

    // expunge: no longer tracked.
    s.expunge(&u).unwrap();
    assert_eq!(u.status(), Status::Detached);
    u.write().age = 55;
    assert!(!s.has_changes());
    let fresh = s.get::<User>(id).await.unwrap().unwrap();
    assert!(!Tracked::ptr_eq(&fresh, &u));

    // merge: a detached copy's values land on the session's object; one UPDATE of the
    // changed column.
    let mut detached = fresh.to_detached();
    detached.age = 21;
    let merged = s.merge(detached).await.unwrap();
    assert!(Tracked::ptr_eq(&merged, &fresh));
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count() - before, 1);
    // merge of an object with no row adds it.
    let new = s
        .merge(User {
            id: 0,
            ..User::named("merged-new")
        })
        .await
        .unwrap();
    assert_eq!(new.status(), Status::Pending);
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE age = 21").await,
        1
    );
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 2);
}

#[tokio::test]
async fn read_only_sessions_refuse_writes() {
    let t = setup().await;
    let mut s = t.session_with(SessionOptions::default().read_only());
    s.add(User::named("ro"));
    let err = s.commit().await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("25006"), "{err}");
    let err = s.get::<User>(1).await.unwrap_err();
    assert!(err.is_pending_rollback(), "{err}");
    s.rollback().await.unwrap();
    assert!(
        !s.has_changes(),
        "the added object was expunged by the rollback"
    );
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 0);
}

#[tokio::test]
async fn isolation_level_is_applied() {
    let t = setup().await;
    let mut s = t.session_with(
        SessionOptions::default().isolation(orm_postgres::IsolationLevel::Serializable),
    );
    let level: String = s
        .fetch_one(orm_postgres::raw::query::<String>(
            "SHOW transaction_isolation",
        ))
        .await
        .unwrap();
    assert_eq!(level, "serializable");
}
