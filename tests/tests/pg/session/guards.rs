//! A `read()`/`write()` guard held while the session touches its object (issue 13, item 8):
//! every path fails at once with a typed `ObjectInUse` naming the operation, the model, the key
//! and the guard, changes nothing, and works once the guard is dropped — never a wait for
//! ever. One test per path: flush, commit, autoflush, `has_changes`, `refresh`, `expire` /
//! `expire_all` / `expunge`, a query or `get` that reloads a held object, `Session::load`,
//! `delete` with cascades, `merge`, `rollback_nested`, `rollback`.
//!
//! Each test runs under [`watchdog`]: a regression blocks its thread on the object's lock
//! (which no async timeout can interrupt), and the test fails with "hung" instead of hanging
//! CI.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use orm_postgres::{ErrorKind, HeldGuard};

use super::*;

/// How long a test may run before it counts as hung (generous: it includes creating the test
/// database on a busy machine; a hang is for ever).
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs a test body on a thread of its own, with its own runtime, and fails with "hung" when
/// it has not finished within [`WATCHDOG`]: a session waiting for a guard blocks the thread it
/// runs on, so the wait must be watched from another one.
fn watchdog<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(body())
        }));
        let _ = done.send(outcome);
    });
    match finished.recv_timeout(WATCHDOG) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("hung: the test did not finish within {WATCHDOG:?}"),
    }
}

/// Asserts that `err` is `ObjectInUse` with exactly these fields, and that its message names
/// them all.
#[track_caller]
fn assert_in_use(
    err: &orm_postgres::Error,
    operation: &str,
    model: &str,
    key: &str,
    guard: HeldGuard,
) {
    match err.kind() {
        ErrorKind::ObjectInUse {
            operation: o,
            model: m,
            key: k,
            guard: g,
        } => assert_eq!(
            (*o, *m, k.as_str(), *g),
            (operation, model, key, guard),
            "{err}"
        ),
        other => panic!("expected ObjectInUse, got {other:?}"),
    }
    assert!(err.is_object_in_use());
    assert_eq!(
        err.to_string(),
        format!(
            "cannot {operation}: {model}({key}) is borrowed by a {guard} guard; drop the guard first"
        )
    );
}

/// A database with users `names` (ids 1, 2, ... in order), committed.
async fn with_users(names: &[&str]) -> TestDatabase {
    let t = setup().await;
    let mut s = t.session();
    s.add_all(names.iter().map(|n| User::named(n)));
    s.commit().await.unwrap();
    t
}

/// A constraint checked only at COMMIT: the server refuses the commit after the flush.
async fn unique_age_at_commit(t: &TestDatabase) {
    t.batch_execute(
        "ALTER TABLE s_user ADD CONSTRAINT s_user_age_once UNIQUE (age) \
         DEFERRABLE INITIALLY DEFERRED",
    )
    .await
    .unwrap();
}

async fn age_of(t: &TestDatabase, id: i64) -> i64 {
    let ages: Vec<(i64, i32)> = t
        .fetch_all(select::<User>().filter(User::id.eq(id)))
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.id, u.age))
        .collect();
    match ages.as_slice() {
        [(_, age)] => i64::from(*age),
        other => panic!("expected one user {id}, got {other:?}"),
    }
}

/// The recovery a test ends with: the guard dropped, a change to `user` commits and its row
/// holds it.
async fn change_and_commit(t: &TestDatabase, s: &mut Session, user: &Tracked<User>, age: i32) {
    user.write().age = age;
    s.commit().await.expect("commit, the guard dropped");
    let id = user.read().id;
    assert_eq!(age_of(t, id).await, i64::from(age));
}

#[test]
fn flush_with_a_write_guard_held_is_a_typed_error_and_then_succeeds() {
    watchdog(|| async {
        let t = with_users(&["ada"]).await;
        let mut s = t.session();
        let ada = s.get::<User>(1).await.unwrap().expect("ada");
        let mut guard = ada.write();
        guard.age = 37;
        let before = t.statement_count();
        let err = s.flush().await.expect_err("a guard is held");
        assert_in_use(&err, "flush", "User", "id=1", HeldGuard::Write);
        assert_eq!(t.statement_count(), before, "nothing was sent");
        assert!(!s.is_pending_rollback(), "the session stays usable");
        drop(guard);
        s.flush().await.expect("the same flush, guard dropped");
        s.commit().await.unwrap();
        assert_eq!(age_of(&t, 1).await, 37);
    });
}

/// The flush checks a changed object's guard as it takes it; when code runs before that (a
/// session `before_flush` hook, or a new object's insert), the guard is checked first, so
/// that nothing runs and nothing is sent.
#[test]
fn a_guard_on_a_changed_object_stops_the_flush_before_hooks_and_inserts() {
    watchdog(|| async {
        let t = with_users(&["dee"]).await;
        let mut s = t.session();
        let dee = s.get::<User>(1).await.unwrap().expect("dee");
        let hooks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hooks.clone();
        s.on_before_flush(move |_| {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        let eve = s.add(User::named("eve"));
        dee.write().age = 9;
        let reading = dee.read();
        let before = t.statement_count();
        let err = s.flush().await.expect_err("dee is read-locked");
        assert_in_use(&err, "flush", "User", "id=1", HeldGuard::Read);
        assert_eq!(
            hooks.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "no hook ran"
        );
        assert_eq!(t.statement_count(), before, "nothing was sent");
        assert_eq!(eve.status(), Status::Pending, "eve not inserted");
        drop(reading);
        s.commit().await.expect("commit, the guard dropped");
        assert_eq!(hooks.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(age_of(&t, 1).await, 9);
        assert_eq!(eve.status(), Status::Persistent);
    });
}

/// A guard on the last of several changed objects stops the flush as it takes them, after the
/// others were taken: nothing sent, and every change still pending.
#[test]
fn a_guard_on_the_last_changed_object_stops_an_update_only_flush_before_it_sends() {
    watchdog(|| async {
        let t = with_users(&["fay", "gus"]).await;
        let mut s = t.session();
        let fay = s.get::<User>(1).await.unwrap().expect("fay");
        let gus = s.get::<User>(2).await.unwrap().expect("gus");
        // fay's change is invalid too: the guard is reported first (no validator runs before
        // every guard was checked).
        fay.write().email = Some("fay-at-example".into());
        gus.write().age = 22;
        let reading = gus.read();
        let before = t.statement_count();
        let err = s.commit().await.expect_err("gus is read-locked");
        assert_in_use(&err, "commit", "User", "id=2", HeldGuard::Read);
        assert_eq!(t.statement_count(), before, "nothing was sent");
        assert!(!s.is_pending_rollback(), "the session stays usable");
        assert!(fay.is_modified(), "fay's change is still pending");
        drop(reading);
        let err = s.commit().await.expect_err("fay's email is invalid");
        assert!(err.to_string().contains("not an email address"), "{err}");
        fay.write().email = None;
        fay.write().age = 21;
        assert!(gus.is_modified(), "gus's change is still pending");
        s.commit().await.expect("commit, the guard dropped");
        assert_eq!(age_of(&t, 1).await, 21);
        assert_eq!(age_of(&t, 2).await, 22);
    });
}

#[test]
fn a_read_guard_stops_only_a_flush_that_writes_its_object() {
    watchdog(|| async {
        let t = with_users(&["a", "b"]).await;
        let mut s = t.session();
        let a = s.get::<User>(1).await.unwrap().expect("a");
        let b = s.get::<User>(2).await.unwrap().expect("b");
        b.write().age = 5;
        // Reading an object the flush does not change is fine.
        {
            let reading = a.read();
            s.flush().await.expect("a is not written");
            assert_eq!(reading.name, "a");
        }
        // Reading the object it changes stops its write lock.
        b.write().age = 6;
        let reading = b.read();
        let err = s.flush().await.expect_err("b is read-locked");
        assert_in_use(&err, "flush", "User", "id=2", HeldGuard::Read);
        drop(reading);
        s.commit().await.expect("commit");
        assert_eq!(age_of(&t, 2).await, 6);
    });
}

#[test]
fn commit_with_a_guard_held_is_a_typed_error_and_then_succeeds() {
    watchdog(|| async {
        let t = with_users(&["cy"]).await;
        let mut s = t.session();
        let cy = s.get::<User>(1).await.unwrap().expect("cy");
        cy.write().age = 41;
        let reading = cy.read();
        let err = s.commit().await.expect_err("commit flushes cy");
        assert_in_use(&err, "commit", "User", "id=1", HeldGuard::Read);
        assert!(s.in_transaction(), "the transaction is still open");
        assert!(s.has_changes(), "the change is still pending");
        drop(reading);
        s.commit().await.expect("commit after the guard is gone");
        assert_eq!(age_of(&t, 1).await, 41);
    });
}

#[test]
fn autoflush_before_a_query_refuses_a_held_new_object() {
    watchdog(|| async {
        let t = setup().await;
        let mut s = t.session();
        let new = s.add(User::named("new"));
        let mut guard = new.write();
        guard.age = 3;
        let err = s
            .all(select::<User>())
            .await
            .expect_err("the autoflush would insert it");
        assert_in_use(&err, "autoflush", "User", "new", HeldGuard::Write);
        assert_eq!(new.status(), Status::Pending, "nothing inserted");
        drop(guard);
        let found = s
            .all(select::<User>())
            .await
            .expect("the query, autoflushed");
        assert_eq!(found.len(), 1);
        assert!(Tracked::ptr_eq(&found[0], &new));
        s.commit().await.unwrap();
        assert_eq!(
            count(
                &t,
                "SELECT count(*) FROM s_user WHERE name = 'new' AND age = 3"
            )
            .await,
            1
        );
    });
}

#[test]
fn has_changes_and_debug_answer_while_a_write_guard_is_held() {
    watchdog(|| async {
        let t = with_users(&["dee"]).await;
        let mut s = t.session();
        let dee = s.get::<User>(1).await.unwrap().expect("dee");
        assert!(!s.has_changes());
        let mut guard = dee.write();
        guard.age = 9;
        // Neither reads the object: no wait, whatever the guard.
        assert!(s.has_changes());
        assert_eq!(dee.status(), Status::Persistent);
        let printed = format!("{dee:?} {:?}", s.unit_of_work());
        assert!(printed.contains("<held by a write() guard>"), "{printed}");
        let err = s.flush().await.expect_err("the change is held");
        assert_in_use(&err, "flush", "User", "id=1", HeldGuard::Write);
        drop(guard);
        assert!(s.has_changes());
        s.commit().await.unwrap();
        assert!(!s.has_changes());
        assert_eq!(age_of(&t, 1).await, 9);
    });
}

#[test]
fn refresh_of_a_held_object_is_a_typed_error_and_changes_nothing() {
    watchdog(|| async {
        let t = with_users(&["eve"]).await;
        let mut s = t.session_with(no_expire());
        let eve = s.get::<User>(1).await.unwrap().expect("eve");
        t.execute(update::<User>().set(User::age, 50).filter(User::id.eq(1)))
            .await
            .unwrap();
        eve.write().age = 2;
        for guard in [HeldGuard::Read, HeldGuard::Write] {
            let before = t.statement_count();
            let err = match guard {
                HeldGuard::Read => {
                    let _g = eve.read();
                    s.refresh(&eve).await.expect_err("read-held")
                }
                HeldGuard::Write => {
                    let _g = eve.write();
                    s.refresh(&eve).await.expect_err("write-held")
                }
            };
            assert_in_use(&err, "refresh", "User", "id=1", guard);
            assert_eq!(t.statement_count(), before, "no query ran");
            assert_eq!(eve.read().age, 2, "the unflushed change is still there");
        }
        s.refresh(&eve).await.expect("refresh, guard dropped");
        assert_eq!(eve.read().age, 50);
        change_and_commit(&t, &mut s, &eve, 51).await;
    });
}

#[test]
fn expire_expire_all_and_expunge_of_a_held_object_change_nothing() {
    watchdog(|| async {
        let t = with_users(&["fay", "gus"]).await;
        let mut s = t.session_with(no_expire());
        let fay = s.get::<User>(1).await.unwrap().expect("fay");
        let gus = s.get::<User>(2).await.unwrap().expect("gus");
        let mut guard = fay.write();
        guard.age = 12;
        let err = s.expire(&fay).expect_err("expire needs fay");
        assert_in_use(&err, "expire", "User", "id=1", HeldGuard::Write);
        let err = s.expire_all().expect_err("expire_all needs fay");
        assert_in_use(&err, "expire_all", "User", "id=1", HeldGuard::Write);
        assert!(
            !s.unit_of_work().is_expired(&gus),
            "gus was not expired either"
        );
        let err = s.expunge(&fay).expect_err("expunge needs fay");
        assert_in_use(&err, "expunge", "User", "id=1", HeldGuard::Write);
        assert_eq!(fay.status(), Status::Persistent, "still in the session");
        assert!(!s.unit_of_work().is_expired(&fay));
        assert!(s.has_changes(), "the change is still pending");
        drop(guard);
        s.commit().await.expect("the change survived");
        assert_eq!(age_of(&t, 1).await, 12);
        // Guards dropped, each works.
        s.expire(&fay).unwrap();
        assert!(fay.is_expired());
        s.expire_all().unwrap();
        assert!(gus.is_expired());
        s.expunge(&fay).unwrap();
        assert_eq!(fay.status(), Status::Detached);
    });
}

#[test]
fn a_query_reloading_a_held_expired_object_is_a_typed_error() {
    watchdog(|| async {
        let t = with_users(&["hal"]).await;
        let mut s = t.session();
        let hal = s.get::<User>(1).await.unwrap().expect("hal");
        s.commit().await.unwrap();
        assert!(hal.is_expired(), "expire_on_commit");
        t.execute(update::<User>().set(User::age, 60).filter(User::id.eq(1)))
            .await
            .unwrap();
        let reading = hal.read();
        let err = s
            .all(select::<User>())
            .await
            .expect_err("the row would replace hal's values");
        assert_in_use(&err, "load", "User", "id=1", HeldGuard::Read);
        assert!(!s.is_pending_rollback(), "the transaction stays usable");
        assert_eq!(reading.age, 0, "hal's values were not replaced");
        drop(reading);
        let found = s
            .all(select::<User>())
            .await
            .expect("the query, reloading hal");
        assert!(Tracked::ptr_eq(&found[0], &hal));
        assert_eq!(hal.read().age, 60);
        change_and_commit(&t, &mut s, &hal, 61).await;
    });
}

#[test]
fn a_query_returns_held_objects_that_are_not_expired() {
    watchdog(|| async {
        let t = setup().await;
        let mut s = t.session_with(no_expire());
        let mut ivy = User::named("ivy");
        ivy.orders = Related::loaded(vec![Order::of(10), Order::of(20)]);
        let ivy = s.add(ivy);
        s.commit().await.unwrap();
        let mut s = t.session_with(no_expire());
        let orders = s.all(select::<Order>().order_by(Order::id)).await.unwrap();
        let id = ivy.read().id;
        let ivy_again = s.get::<User>(id).await.unwrap().expect("ivy");
        // Loading users with their orders links the held orders (no lock needed: they are
        // not expired) and answers with the same objects.
        let (first, user) = (orders[0].read(), ivy_again.read());
        let users = s
            .all(select::<User>().load(User::orders.selectin()))
            .await
            .expect("nothing to reload");
        assert_eq!(first.total, 10);
        assert_eq!(user.name, "ivy");
        drop((first, user));
        assert!(Tracked::ptr_eq(&users[0], &ivy_again));
        let linked = s.related(&users[0], User::orders).unwrap();
        assert!(Tracked::ptr_eq(&linked[0], &orders[0]));
        // Session::load copies its parents: a write() guard on one stops it.
        s.set_autoflush(false);
        let guard = ivy_again.write();
        let err = s
            .load(std::slice::from_ref(&ivy_again), User::orders.selectin())
            .await
            .expect_err("ivy is write-held");
        assert_in_use(&err, "load", "User", "id=1", HeldGuard::Write);
        drop(guard);
        s.load(std::slice::from_ref(&ivy_again), User::orders.selectin())
            .await
            .expect("load, guard dropped");
        orders[1].write().total = 21;
        s.commit().await.unwrap();
        assert_eq!(
            count(&t, "SELECT total::bigint FROM s_order WHERE id = 2").await,
            21
        );
    });
}

#[test]
fn get_of_a_held_object_answers_from_the_map_and_fails_typed_when_it_must_reload() {
    watchdog(|| async {
        let t = with_users(&["jo"]).await;
        let mut s = t.session();
        let jo = s.get::<User>(1).await.unwrap().expect("jo");
        {
            // Not expired: answered from the identity map, guard or not.
            let _guard = jo.write();
            let again = s.get::<User>(1).await.unwrap().expect("jo");
            assert!(Tracked::ptr_eq(&jo, &again));
        }
        s.commit().await.unwrap();
        assert!(jo.is_expired());
        t.execute(update::<User>().set(User::age, 70).filter(User::id.eq(1)))
            .await
            .unwrap();
        let reading = jo.read();
        let err = s.get::<User>(1).await.expect_err("get must reload jo");
        assert_in_use(&err, "load", "User", "id=1", HeldGuard::Read);
        drop(reading);
        let again = s.get::<User>(1).await.unwrap().expect("jo");
        assert!(Tracked::ptr_eq(&jo, &again));
        assert_eq!(jo.read().age, 70);
        change_and_commit(&t, &mut s, &jo, 71).await;
    });
}

#[test]
fn delete_with_a_held_child_changes_nothing() {
    watchdog(|| async {
        let t = setup().await;
        let mut s = t.session_with(no_expire());
        let author = s.add(Author {
            name: "kim".into(),
            ..Author::default()
        });
        s.flush().await.unwrap();
        let mut post = Post {
            author_id: author.read().id,
            title: "p".into(),
            ..Post::default()
        };
        post.comments = Related::loaded(vec![
            Comment {
                body: "c1".into(),
                ..Comment::default()
            },
            Comment {
                body: "c2".into(),
                ..Comment::default()
            },
        ]);
        s.add(post);
        s.commit().await.unwrap();

        let mut s = t.session_with(no_expire());
        let post = s
            .one(select::<Post>().load(Post::comments.selectin()))
            .await
            .unwrap();
        let comments = s.related(&post, Post::comments).unwrap();
        let reading = comments[1].read();
        let err = s
            .delete(&post)
            .expect_err("the cascade reaches a held comment");
        assert_in_use(&err, "delete", "Comment", "id=2", HeldGuard::Read);
        assert_eq!(post.status(), Status::Persistent, "the post is not deleted");
        assert_eq!(
            comments[0].status(),
            Status::Persistent,
            "nor its first comment"
        );
        assert!(!s.has_changes(), "nothing to flush");
        drop(reading);
        s.delete(&post).expect("delete, guard dropped");
        assert_eq!(comments[1].status(), Status::Deleted);
        s.commit().await.unwrap();
        assert_eq!(count(&t, "SELECT count(*) FROM b_post").await, 0);
        assert_eq!(count(&t, "SELECT count(*) FROM b_comment").await, 0);
    });
}

#[test]
fn merge_into_a_held_object_is_a_typed_error() {
    watchdog(|| async {
        let t = with_users(&["lou"]).await;
        let mut s = t.session_with(no_expire());
        let lou = s.get::<User>(1).await.unwrap().expect("lou");
        let detached = User {
            id: 1,
            name: "lou".into(),
            age: 80,
            ..User::default()
        };
        let reading = lou.read();
        let err = s
            .merge(detached.clone())
            .await
            .expect_err("merge writes lou");
        assert_in_use(&err, "merge", "User", "id=1", HeldGuard::Read);
        assert_eq!(reading.age, 0);
        drop(reading);
        assert!(!s.has_changes(), "nothing merged");
        let merged = s.merge(detached).await.expect("merge, guard dropped");
        assert!(Tracked::ptr_eq(&merged, &lou));
        s.commit().await.unwrap();
        assert_eq!(age_of(&t, 1).await, 80);
    });
}

#[test]
fn rollback_nested_with_a_guard_on_an_object_to_restore_changes_nothing() {
    watchdog(|| async {
        let t = with_users(&["max"]).await;
        let mut s = t.session_with(no_expire());
        let max = s.get::<User>(1).await.unwrap().expect("max");
        max.write().age = 1;
        s.begin_nested().await.unwrap();
        max.write().age = 2;
        s.flush().await.unwrap();
        let reading = max.read();
        let err = s.rollback_nested().await.expect_err("max must be restored");
        assert_in_use(&err, "rollback_nested", "User", "id=1", HeldGuard::Read);
        assert_eq!(reading.age, 2, "not restored");
        drop(reading);
        s.rollback_nested()
            .await
            .expect("the same savepoint, guard dropped");
        assert_eq!(max.read().age, 1, "back to the savepoint");
        assert!(
            s.rollback_nested().await.is_err(),
            "that savepoint is gone: the first call did nothing"
        );
        s.commit().await.unwrap();
        assert_eq!(age_of(&t, 1).await, 1);
    });
}

#[test]
fn rollback_with_a_guard_on_an_object_to_restore_changes_nothing() {
    watchdog(|| async {
        let t = setup().await;
        let mut s = t.session_with(no_expire());
        let ned = s.add(User::named("ned"));
        s.flush().await.unwrap();
        assert_eq!(ned.status(), Status::Persistent);
        let reading = ned.read();
        let err = s.rollback().await.expect_err("ned must be detached");
        assert_in_use(&err, "rollback", "User", "id=1", HeldGuard::Read);
        assert!(s.in_transaction(), "not rolled back");
        assert_eq!(ned.status(), Status::Persistent);
        drop(reading);
        s.rollback().await.expect("rollback, guard dropped");
        assert_eq!(ned.status(), Status::Detached);
        assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 0);
        s.add(User::named("ned"));
        s.commit().await.unwrap();
        assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 1);
    });
}

#[test]
fn a_failed_commit_that_cannot_restore_a_held_object_requires_the_rollback_that_does() {
    watchdog(|| async {
        let t = setup().await;
        unique_age_at_commit(&t).await;
        let mut s = t.session_with(no_expire());
        let mut first = User::named("first");
        first.age = 5;
        let first = s.add(first);
        s.flush().await.unwrap();
        let mut second = User::named("second");
        second.age = 5;
        let second = s.add(second);
        s.flush().await.unwrap();
        // Nothing left to flush, so the commit's check passes; the server then refuses the
        // COMMIT, and restoring `first` meets the guard.
        let reading = first.read();
        let err = s.commit().await.expect_err("the deferred constraint fails");
        assert!(err.is_unique_violation(), "{err:?}");
        assert_eq!(second.status(), Status::Detached, "restored");
        assert_eq!(first.status(), Status::Persistent, "held: not restored yet");
        assert!(s.is_pending_rollback());
        let err = s.get::<User>(1).await.expect_err("pending rollback");
        assert!(err.is_pending_rollback(), "{err:?}");
        let err = s.rollback().await.expect_err("first is still held");
        assert_in_use(&err, "rollback", "User", "id=1", HeldGuard::Read);
        drop(reading);
        s.rollback().await.expect("the rest restored");
        assert_eq!(first.status(), Status::Detached);
        assert!(!s.is_pending_rollback());
        let mut third = User::named("third");
        third.age = 5;
        s.add(third);
        s.commit().await.unwrap();
        assert_eq!(
            count(&t, "SELECT count(*) FROM s_user WHERE age = 5").await,
            1
        );
    });
}

#[test]
fn a_failed_commit_restores_the_changed_objects_a_guard_does_not_hold_and_a_rollback_the_rest() {
    watchdog(|| async {
        let t = with_users(&["max", "lou", "ned"]).await;
        // The three start at age 0 (not unique): distinct ages first.
        t.batch_execute("UPDATE s_user SET age = id * 10")
            .await
            .unwrap();
        unique_age_at_commit(&t).await;
        let mut s = t.session_with(no_expire());
        let users = s.all(select::<User>().order_by(User::id)).await.unwrap();
        // One undo record holds the three saved states; the server refuses the COMMIT.
        for u in &users {
            u.write().age = 7;
        }
        s.flush().await.unwrap();
        let reading = users[0].read();
        let err = s.commit().await.expect_err("the deferred constraint fails");
        assert!(err.is_unique_violation(), "{err:?}");
        let ages =
            |users: &[Tracked<User>]| -> Vec<i32> { users.iter().map(|u| u.read().age).collect() };
        assert_eq!(reading.age, 7, "held: not restored yet");
        drop(reading);
        assert_eq!(
            ages(&users),
            [7, 20, 30],
            "the others restored, newest first"
        );
        assert!(s.is_pending_rollback());
        s.rollback().await.expect("the rest restored");
        assert_eq!(ages(&users), [10, 20, 30]);
        assert!(users.iter().all(|u| !u.is_modified()));
        users[1].write().age = 21;
        s.commit().await.unwrap();
        assert_eq!(age_of(&t, 1).await, 10);
        assert_eq!(age_of(&t, 2).await, 21);
    });
}
