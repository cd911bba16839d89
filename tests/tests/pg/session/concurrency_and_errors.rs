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
