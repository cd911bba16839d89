//! Optimistic concurrency and errors.

use super::*;

#[tokio::test]
async fn a_lost_update_is_stale_data_and_nothing_is_half_written() {
    let t = setup().await;
    let mut s = t.session();
    s.add_all([
        Account {
            owner: "a".into(),
            balance: 10,
            ..Account::default()
        },
        Account {
            owner: "b".into(),
            balance: 10,
            ..Account::default()
        },
    ]);
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM v_account WHERE version = 1").await,
        2
    );

    let mut s1 = t.session();
    let mut s2 = t.session();
    let a1 = s1
        .all(select::<Account>().order_by(Account::owner))
        .await
        .unwrap();
    let a2 = s2
        .all(select::<Account>().order_by(Account::owner))
        .await
        .unwrap();
    s1.rollback().await.unwrap();
    s2.rollback().await.unwrap();
    a1[0].write().balance = 20;
    s1.commit().await.unwrap();
    assert_eq!(a1[0].read().version, 2);

    // s2 changes two accounts with different columns... the stale one fails the flush.
    a2[0].write().balance = 30;
    a2[1].write().balance = 40;
    let err = s2.commit().await.unwrap_err();
    assert!(err.is_stale_data(), "{err}");
    assert!(matches!(
        err.kind(),
        ErrorKind::StaleData {
            model: "Account",
            operation: "UPDATE",
            expected: 2,
            actual: 1
        }
    ));
    // Nothing half-written: the objects are as before the flush, the database unchanged.
    assert_eq!(a2[1].read().version, 1);
    assert!(a2[1].is_modified());
    assert!(
        s2.get::<Account>(1)
            .await
            .unwrap_err()
            .is_pending_rollback()
    );
    s2.rollback().await.unwrap();
    assert_eq!(
        count(&t, "SELECT sum(balance)::bigint FROM v_account").await,
        30
    );

    // Deleting a row another writer changed is stale too.
    let mut s3 = t.session();
    let b_id = a1[1].read().id;
    let stale = s3.get::<Account>(b_id).await.unwrap().unwrap();
    t.execute(
        update::<Account>()
            .set(Account::version, 9)
            .filter(Account::owner.eq("b")),
    )
    .await
    .unwrap();
    s3.delete(&stale).unwrap();
    let err = s3.commit().await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::StaleData {
                operation: "DELETE",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn after_an_error_only_rollback_is_accepted() {
    let t = setup().await;
    let mut s = t.session();
    s.add(User::named("dup"));
    s.commit().await.unwrap();
    let mut s = t.session();
    let first = s.add(User::named("fine"));
    s.add(User::named("dup"));
    let err = s.flush().await.unwrap_err();
    assert!(err.is_unique_violation(), "{err}");
    assert_eq!(
        first.status(),
        Status::Pending,
        "the failed flush changed nothing"
    );
    for err in [
        s.get::<User>(1).await.unwrap_err(),
        s.flush().await.unwrap_err(),
        s.commit().await.unwrap_err(),
        s.fetch_all(select::<User>()).await.unwrap_err(),
    ] {
        assert!(err.is_pending_rollback(), "{err}");
        assert!(
            err.to_string().contains("unique"),
            "names the original error: {err}"
        );
        assert_eq!(err.sqlstate(), Some("23505"), "keeps the server's error");
    }
    s.rollback().await.unwrap();
    assert_eq!(first.status(), Status::Detached);
    assert_eq!(s.all(select::<User>()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn retry_reruns_on_serialization_failures_only() {
    let t = setup().await;
    let mut attempts = 0;
    let n = t
        .retry(
            RetryPolicy::attempts(3).base_delay(std::time::Duration::from_millis(1)),
            |s| {
                attempts += 1;
                let attempt = attempts;
                async move {
                    s.add(User::named(&format!("try{attempt}")));
                    s.flush().await?;
                    if attempt < 3 {
                        return Err(Error::from_db(DbError::new(
                            "40001",
                            "could not serialize access",
                        )));
                    }
                    Ok(attempt)
                }
                .scoped()
            },
        )
        .await
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user").await,
        1,
        "failed attempts rolled back"
    );

    let mut attempts = 0;
    let err = t
        .retry(RetryPolicy::attempts(5), |_s| {
            attempts += 1;
            async move { Err::<(), _>(Error::from_db(DbError::new("23505", "duplicate"))) }.scoped()
        })
        .await
        .unwrap_err();
    assert!(err.is_unique_violation());
    assert_eq!(attempts, 1, "not retryable");

    // Bounded: the last failure is returned.
    let mut attempts = 0;
    let err = t
        .retry(
            RetryPolicy::attempts(2).base_delay(std::time::Duration::from_millis(1)),
            |_s| {
                attempts += 1;
                async move { Err::<(), _>(Error::from_db(DbError::new("40P01", "deadlock"))) }
                    .scoped()
            },
        )
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(attempts, 2);
}

#[tokio::test]
async fn retry_survives_a_real_serialization_conflict() {
    let t = setup().await;
    let mut s = t.session();
    s.add(Account {
        owner: "x".into(),
        balance: 0,
        ..Account::default()
    });
    s.commit().await.unwrap();
    let serializable =
        SessionOptions::default().isolation(orm_postgres::IsolationLevel::Serializable);
    // A concurrent writer commits between this attempt's read and write, once.
    let mut attempts = 0;
    let db = (*t).clone();
    t.retry(RetryPolicy::attempts(5).options(serializable), |s| {
        attempts += 1;
        let (first, db) = (attempts == 1, &db);
        async move {
            let acc = s.one(select::<Account>()).await?;
            if first {
                db.execute(update::<Account>().set(Account::balance, 100))
                    .await?;
            }
            acc.write().balance += 1;
            Ok(())
        }
        .scoped()
    })
    .await
    .unwrap();
    assert_eq!(attempts, 2);
    assert_eq!(count(&t, "SELECT balance FROM v_account").await, 101);
}

/// Waits until a backend of the test's database (other tests' databases share the server, and
/// may wait on advisory locks of their own) waits on an advisory lock: a statement held at the
/// gate of [`in_flight_changes_are_written_before_the_commit`].
async fn wait_at_gate(t: &TestDatabase) {
    for _ in 0..3000 {
        let waiting = count(
            t,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
        )
        .await;
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no statement reached the gate within 30 s");
}

/// Commits `s` while the gate holds its statements at the server (the test holds advisory lock
/// 7, which the triggers wait for), and runs `change` once one waits there.
async fn commit_changing_in_flight(
    t: &TestDatabase,
    gate: &orm_postgres::Connection,
    s: &mut orm_postgres::Session,
    change: impl FnOnce(),
) -> orm_postgres::Result<()> {
    gate.batch_execute("SELECT pg_advisory_lock(7)")
        .await
        .unwrap();
    let meddle = async {
        wait_at_gate(t).await;
        change();
        gate.batch_execute("SELECT pg_advisory_unlock(7)")
            .await
            .unwrap();
    };
    let (flushed, ()) = tokio::join!(s.commit(), meddle);
    flushed
}

/// A change made through a handle while the flush that writes its object is at the server (from
/// another task, or another thread) is not lost: the statement carries the values the object
/// had when it was built, the object stays dirty with the change, and the commit, which
/// flushes until nothing is left, writes it before its COMMIT. A trigger holds each statement
/// on an advisory lock the test holds, so the change lands exactly during the flight; once for
/// an UPDATE, once for an INSERT (whose generated key the second statement matches by).
#[tokio::test]
async fn in_flight_changes_are_written_before_the_commit() {
    let t = setup().await;
    t.batch_execute(
        "CREATE FUNCTION s_user_gate() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN PERFORM pg_advisory_xact_lock_shared(7); RETURN NEW; END $$; \
         CREATE TRIGGER s_user_gate BEFORE INSERT OR UPDATE ON s_user \
         FOR EACH ROW EXECUTE FUNCTION s_user_gate()",
    )
    .await
    .unwrap();
    let gate = t.connection().await.unwrap();
    let age = |name: &'static str| {
        let t = &t;
        async move {
            t.fetch_one(
                select::<User>()
                    .filter(User::name.eq(name))
                    .columns(User::age),
            )
            .await
            .unwrap()
        }
    };
    let mut s = t.session_with(no_expire());
    let ann = s.add(User::named("ann"));
    s.commit().await.unwrap();

    // An UPDATE in flight.
    ann.write().age = 1;
    commit_changing_in_flight(&t, &gate, &mut s, || {
        ann.write().age = 2;
    })
    .await
    .unwrap();
    assert_eq!(age("ann").await, 2, "the change made in flight is written");
    assert!(!ann.is_modified());

    // An INSERT in flight.
    let bob = s.add(User::named("bob"));
    commit_changing_in_flight(&t, &gate, &mut s, || {
        bob.write().age = 3;
    })
    .await
    .unwrap();
    assert_eq!(age("bob").await, 3);
    assert_eq!(bob.status(), Status::Persistent);
    assert!(!bob.is_modified());
    assert!(!s.has_changes());

    // A versioned object: the second UPDATE matches the version the first one wrote.
    t.batch_execute(
        "CREATE TRIGGER v_account_gate BEFORE UPDATE ON v_account \
         FOR EACH ROW EXECUTE FUNCTION s_user_gate()",
    )
    .await
    .unwrap();
    let acct = s.add(Account {
        owner: "cy".into(),
        balance: 1,
        ..Account::default()
    });
    s.commit().await.unwrap();
    acct.write().balance = 10;
    commit_changing_in_flight(&t, &gate, &mut s, || {
        acct.write().balance = 20;
    })
    .await
    .unwrap();
    let row: (i64, i32) = t
        .fetch_one(select::<Account>().columns((Account::balance, Account::version)))
        .await
        .unwrap();
    assert_eq!(row, (20, 3), "two updates, each bumping the version");
    assert_eq!(acct.read().version, 3);
    assert!(!acct.is_modified());

    // A statement that fails: the failed flush unwinds to its start, the change made in
    // flight with it (a change of the failed transaction, as every one since its BEGIN); the
    // copy the flight took is never taken for written, and the next commit writes it all.
    t.batch_execute(
        "CREATE FUNCTION v_account_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.balance = 666 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER v_account_refuse BEFORE UPDATE ON v_account \
         FOR EACH ROW EXECUTE FUNCTION v_account_refuse()",
    )
    .await
    .unwrap();
    acct.write().balance = 666;
    let flushed = commit_changing_in_flight(&t, &gate, &mut s, || {
        acct.write().owner = "dee".into();
    })
    .await;
    assert!(flushed.is_err());
    assert_eq!(
        (acct.read().owner.as_str(), acct.read().balance),
        ("cy", 666)
    );
    assert!(acct.is_modified());
    s.rollback().await.unwrap();
    acct.write().balance = 40;
    acct.write().owner = "eve".into();
    s.commit().await.unwrap();
    let row: (String, i64, i32) = t
        .fetch_one(select::<Account>().columns((
            Account::owner,
            Account::balance,
            Account::version,
        )))
        .await
        .unwrap();
    assert_eq!(row, ("eve".into(), 40, 4));
    assert!(!acct.is_modified());
}
