//! Row locks.

use super::*;

#[tokio::test]
async fn for_update_skip_locked_skips_the_row_locked_by_another_transaction() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1), ("b", 2), ("c", 3)]).await;
    let tx1 = t.begin().await.unwrap();
    let locked = tx1
        .fetch_one(select::<User>().filter(User::name.eq("b")).for_update())
        .await
        .unwrap();
    assert_eq!(locked.name, "b");

    let tx2 = t.begin().await.unwrap();
    let free: Vec<String> = tx2
        .fetch_all(
            select::<User>()
                .columns(User::name)
                .order_by(User::name)
                .for_update()
                .skip_locked(),
        )
        .await
        .unwrap();
    assert_eq!(free, vec!["a".to_owned(), "c".to_owned()]);
    tx2.rollback().await.unwrap();
    tx1.rollback().await.unwrap();

    // Once released, it is there again.
    let all: Vec<String> = t
        .fetch_all(
            select::<User>()
                .columns(User::name)
                .for_update()
                .skip_locked(),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
}

#[tokio::test]
async fn nowait_on_a_locked_row_fails_with_55p03() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1)]).await;
    let tx1 = t.begin().await.unwrap();
    tx1.fetch_one(select::<User>().for_no_key_update())
        .await
        .unwrap();

    let tx2 = t.begin().await.unwrap();
    let err = tx2
        .fetch_all(select::<User>().for_update().nowait())
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::LockTimeout(_)), "{err:?}");
    assert_eq!(err.sqlstate(), Some("55P03"));
    assert!(!err.is_retryable());
    tx2.rollback().await.unwrap();

    // FOR KEY SHARE does not conflict with FOR NO KEY UPDATE.
    let tx3 = t.begin().await.unwrap();
    let n = tx3
        .fetch_all(select::<User>().for_key_share().nowait())
        .await
        .unwrap();
    assert_eq!(n.len(), 1);
    tx3.rollback().await.unwrap();
    tx1.rollback().await.unwrap();
}

#[tokio::test]
async fn for_share_allows_another_for_share_but_not_for_update() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1)]).await;
    let tx1 = t.begin().await.unwrap();
    tx1.fetch_one(select::<User>().for_share()).await.unwrap();

    let tx2 = t.begin().await.unwrap();
    let shared = tx2
        .fetch_one(select::<User>().for_share().nowait())
        .await
        .unwrap();
    assert_eq!(shared.name, "a");
    tx2.rollback().await.unwrap();

    let tx3 = t.begin().await.unwrap();
    let err = tx3
        .fetch_one(select::<User>().for_update().nowait())
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("55P03"), "{err:?}");
    tx3.rollback().await.unwrap();
    tx1.rollback().await.unwrap();
}

#[tokio::test]
async fn lock_of_one_source_leaves_the_joined_table_free() {
    let t = users_db().await;
    let u = add_users(&t.db, &[("a", 1)]).await;
    add_order(&t.db, u[0].id, 5).await;
    let tx1 = t.begin().await.unwrap();
    let q = select::<Order>()
        .join::<User>(User::id.eq(Order::user_id))
        .columns((Order::id, User::name))
        .for_update()
        .of::<Order>();
    assert!(
        q.compile()
            .unwrap()
            .sql
            .ends_with(r#" FOR UPDATE OF "orders""#)
    );
    tx1.fetch_one(q).await.unwrap();

    let tx2 = t.begin().await.unwrap();
    tx2.fetch_one(select::<User>().for_update().nowait())
        .await
        .expect("users are not locked");
    let err = tx2
        .fetch_one(select::<Order>().for_update().nowait())
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("55P03"));
    tx2.rollback().await.unwrap();
    tx1.rollback().await.unwrap();
}
