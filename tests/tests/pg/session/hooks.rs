//! Hooks and validators.

use super::*;

#[tokio::test]
async fn hooks_hash_passwords_once_and_write_audit_rows() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let m = s.add(Member {
        name: "mia".into(),
        password: "secret".into(),
        ..Member::default()
    });
    s.commit().await.unwrap();
    assert_eq!(m.read().password, "hashed(secret)");
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM h_audit WHERE message = 'member mia created'"
        )
        .await,
        1
    );

    // An update that does not touch the password does not re-hash it.
    m.write().name = "mia2".into();
    s.commit().await.unwrap();
    assert_eq!(m.read().password, "hashed(secret)");
    assert_eq!(m.read().updates, 1);
    // `audit_update` sees the old values: one audit row for the rename, in the same commit.
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM h_audit WHERE message = 'member renamed mia -> mia2'"
        )
        .await,
        1
    );
    m.write().password = "new".into();
    s.commit().await.unwrap();
    assert_eq!(m.read().password, "hashed(new)");
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM h_member WHERE password = 'hashed(new)' AND updates = 2"
        )
        .await,
        1
    );

    // Session-level hooks.
    let commits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = commits.clone();
    s.on_after_commit(move || {
        c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    s.on_before_flush(|uow| {
        uow.add(Audit {
            id: 0,
            message: "flushed".into(),
        });
        Ok(())
    });
    // Nothing to flush: the before-flush hook does not run (no audit row), the commit does.
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM h_audit WHERE message = 'flushed'").await,
        0
    );
    assert_eq!(commits.load(std::sync::atomic::Ordering::SeqCst), 1);
    m.write().name = "mia3".into();
    s.commit().await.unwrap();
    assert_eq!(commits.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        count(&t, "SELECT count(*) FROM h_audit WHERE message = 'flushed'").await,
        1
    );
    // Only renames are audited: the password change above wrote no rename row.
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM h_audit WHERE message LIKE 'member renamed%'"
        )
        .await,
        2
    );
}

/// A session holding member `mia`, committed, and her values then.
async fn with_mia(t: &TestDatabase) -> (Session, Tracked<Member>, Member) {
    let mut s = t.session_with(no_expire());
    let m = s.add(Member {
        name: "mia".into(),
        password: "secret".into(),
        ..Member::default()
    });
    s.commit().await.unwrap();
    let before = m.read().clone();
    (s, m, before)
}

#[tokio::test]
async fn a_failing_later_round_undoes_the_objects_of_the_rounds_before_it() {
    let t = setup().await;
    // The rename's audit row (written by a second round: `audit_update` adds it) is refused.
    t.batch_execute(
        "ALTER TABLE h_audit ADD CONSTRAINT h_audit_no_boom CHECK (message NOT LIKE '%boom%')",
    )
    .await
    .unwrap();
    let (mut s, m, before) = with_mia(&t).await;
    m.write().name = "boom".into();
    let err = s.commit().await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::CheckViolation(_)), "{err}");
    // The first round's UPDATE ran and its hook counted it; the object is as before the
    // flush (the caller's change kept, the hook's undone), and still to be written.
    assert_eq!(
        *m.read(),
        Member {
            name: "boom".into(),
            ..before.clone()
        }
    );
    assert!(m.is_modified());
    // The transaction holds that UPDATE: only a rollback goes on.
    assert!(s.is_pending_rollback());
    assert!(s.flush().await.is_err());
    s.rollback().await.unwrap();
    assert_eq!(*m.read(), before);
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM h_member WHERE name = 'mia' AND updates = 0"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_hook_error_stops_the_flush_before_any_sql_and_undoes_the_hook() {
    let t = setup().await;
    let (mut s, m, before) = with_mia(&t).await;
    m.write().name = "frozen".into();
    let sent = t.statement_count();
    let err = s.commit().await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Validation { field: "name", .. }),
        "{err}"
    );
    assert_eq!(t.statement_count(), sent, "nothing sent, BEGIN included");
    // The hook's own change (the update count) is undone; the caller's is kept.
    assert_eq!(
        *m.read(),
        Member {
            name: "frozen".into(),
            ..before.clone()
        }
    );
    // Nothing was sent: no rollback needed, and the same object flushes once fixed.
    assert!(!s.is_pending_rollback());
    m.write().name = "mia2".into();
    s.commit().await.unwrap();
    assert_eq!(m.read().updates, before.updates + 1);
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM h_member WHERE name = 'mia2' AND updates = 1"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn hooks_that_keep_adding_objects_stop_after_eight_rounds() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let first = s.add(Member {
        name: "chain".into(),
        ..Member::default()
    });
    let err = s.commit().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("hooks kept adding objects to flush after 8 rounds"),
        "{err}"
    );
    // The rounds' INSERTs are in the transaction; the objects are as before the flush.
    assert!(s.is_pending_rollback());
    assert_eq!(first.status(), Status::Pending);
    s.rollback().await.unwrap();
    assert_eq!(first.status(), Status::Detached);
    assert_eq!(count(&t, "SELECT count(*) FROM h_member").await, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM h_audit").await, 0);
}

#[tokio::test]
async fn validators_reject_bad_values_before_any_sql() {
    let t = setup().await;
    let mut s = t.session();
    let u = s.add(User {
        email: Some("not-an-email".into()),
        ..User::named("v")
    });
    let before = t.statement_count();
    let err = s.commit().await.unwrap_err();
    assert_eq!(t.statement_count(), before, "no SQL ran");
    assert!(matches!(
        err.kind(),
        ErrorKind::Validation {
            model: "User",
            field: "email",
            ..
        }
    ));
    assert!(err.to_string().contains("not an email"), "{err}");
    // Not a database error: the session is still usable once the value is fixed.
    u.write().email = Some("v@x.y".into());
    s.commit().await.unwrap();
    // Changed columns are validated too, before any SQL (the BEGIN of the next transaction
    // included).
    u.write().email = Some("broken".into());
    let before = t.statement_count();
    assert!(s.flush().await.unwrap_err().is_validation());
    assert_eq!(t.statement_count(), before, "no SQL ran");
}

/// A model without validators spares the flush its validation pass over the changed objects;
/// one with validators keeps it (the test above).
#[test]
fn only_models_with_validators_are_validated_before_a_flush() {
    let validates = [
        <User as Persist>::VALIDATES,
        <Post as Persist>::VALIDATES,
        <Order as Persist>::VALIDATES,
    ];
    assert_eq!(validates, [true, false, false]);
}

/// A guard held on one changed object stops the flush before any object's `before_update`
/// hook runs (the flush checks the changed objects' guards as it takes them, before hooks).
#[tokio::test]
async fn a_guard_stops_the_flush_before_any_update_hook_runs() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let members: Vec<_> = ["ann", "bob"]
        .into_iter()
        .map(|name| {
            s.add(Member {
                name: name.into(),
                password: "pw".into(),
                ..Member::default()
            })
        })
        .collect();
    s.commit().await.unwrap();
    for m in &members {
        m.write().password = "new".into();
    }
    let reading = members[1].read();
    let err = s.commit().await.expect_err("bob is read-locked");
    assert!(
        matches!(
            err.kind(),
            orm_postgres::ErrorKind::ObjectInUse {
                operation: "commit",
                model: "Member",
                ..
            }
        ),
        "{err}"
    );
    drop(reading);
    // No hook ran: ann's new password is not hashed yet, and no update was counted.
    assert_eq!(members[0].read().password, "new");
    assert_eq!(members[0].read().updates, 0);
    s.commit().await.expect("commit, the guard dropped");
    for m in &members {
        assert_eq!(m.read().password, "hashed(new)");
        assert_eq!(m.read().updates, 1);
    }
}
