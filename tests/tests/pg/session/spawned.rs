//! Every public async entry point can be awaited inside `tokio::spawn` (as in an axum
//! handler): the futures are `Send` for the lifetimes a spawned task gives them. This module
//! is also a compile test: if one of them stops being `Send`, the test binary does not build.

use super::*;
use futures_util::StreamExt;

/// Runs `fut` as a spawned task, so `fut` must be `Send + 'static`, and returns its output.
async fn spawned<T: Send + 'static>(
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    tokio::spawn(fut).await.expect("the spawned task panicked")
}

#[tokio::test]
async fn database_entry_points_run_in_spawned_tasks() {
    let t = test_database().await.expect("test database");
    let db: Database = (*t).clone();

    let names = spawned({
        let db = db.clone();
        async move {
            db.create_all(&[User::TABLE, Order::TABLE]).await?;
            let second = String::from("bob"); // borrowed by the closure's future
            let second = second.as_str();
            db.transaction(|tx| {
                async move {
                    tx.execute(insert(&User::named("ann"))).await?;
                    tx.execute(insert(&User::named(second))).await?;
                    Ok::<_, orm_postgres::Error>(())
                }
                .scoped()
            })
            .await?;
            let tx = db.begin().await?;
            tx.execute(insert(&User::named("cid"))).await?;
            tx.commit().await?;
            let mut conn = db.connection().await?;
            let tx = conn.begin().await?;
            tx.execute(insert(&User::named("dee"))).await?;
            tx.commit().await?;
            let one: User = db
                .fetch_one(select::<User>().filter(User::name.eq("ann")))
                .await?;
            let none: Option<User> = db
                .fetch_optional(select::<User>().filter(User::name.eq("nobody")))
                .await?;
            assert_eq!(one.name, "ann");
            assert!(none.is_none());
            let mut stream = db.stream(select::<User>().order_by(User::id)).await?;
            let mut streamed = Vec::new();
            while let Some(u) = stream.next().await {
                streamed.push(u?.name);
            }
            Ok::<_, orm_postgres::Error>(streamed)
        }
    })
    .await
    .unwrap();
    assert_eq!(names, ["ann", "bob", "cid", "dee"]);

    let orders = spawned({
        let db = db.clone();
        async move {
            let who = String::from("ann");
            let who = who.as_str();
            db.retry(RetryPolicy::attempts(3), |s| {
                async move {
                    let ann = s
                        .one(
                            select::<User>()
                                .filter(User::name.eq(who))
                                .load(User::orders.selectin()),
                        )
                        .await?;
                    s.nested(|s| {
                        async move {
                            let order = s.add(Order::of(5));
                            s.append(&ann, User::orders, &order)?;
                            s.flush().await
                        }
                        .scoped()
                    })
                    .await
                }
                .scoped()
            })
            .await?;
            let mut s = db.session();
            let users = s.all(select::<User>().order_by(User::id)).await?;
            let first = users[0].read().id; // a guard is not held across an await
            let got = s.get::<User>(first).await?;
            assert!(got.is_some());
            let mut plain: Vec<User> = db.fetch_all(select::<User>().order_by(User::id)).await?;
            db.load(&mut plain, User::orders.selectin()).await?;
            s.commit().await?;
            Ok::<_, orm_postgres::Error>(plain[0].orders.get()?.len())
        }
    })
    .await
    .unwrap();
    assert_eq!(
        orders, 1,
        "the order added in the nested transaction was committed"
    );
}

#[tokio::test]
async fn session_and_tooling_entry_points_run_in_spawned_tasks() {
    let t = test_database().await.expect("test database");
    let db: Database = (*t).clone();
    let checked = spawned({
        let db = db.clone();
        async move {
            db.create_all(&[User::TABLE, Order::TABLE]).await?;
            let mut s = db.session();
            let ann = s.add(User::named("ann"));
            s.flush().await?;
            let id = ann.read().id;
            s.execute(insert(&Order {
                user_id: id,
                total: 3,
                ..Order::default()
            }))
            .await?;
            let n: i64 = s.fetch_one(select::<User>().count()).await?;
            let rows: Vec<User> = s.fetch_all(select::<User>()).await?;
            let none: Option<User> = s
                .fetch_optional(select::<User>().filter(User::id.eq(-1)))
                .await?;
            let missing = s.optional(select::<User>().filter(User::id.eq(-1))).await?;
            s.load(std::slice::from_ref(&ann), User::orders.selectin())
                .await?;
            let orders = s.related(&ann, User::orders)?.len();
            s.refresh(&ann).await?;
            let merged = s
                .merge(User {
                    id,
                    name: "ann".into(),
                    age: 7,
                    ..User::default()
                })
                .await?;
            s.connection().await?.batch_execute("SELECT 1").await?;
            s.commit().await?;
            let age = merged.read().age;
            let mut s = db.session();
            let gone = s.one(select::<User>()).await?;
            s.delete(&gone)?;
            s.rollback().await?;

            let plan = db.explain(select::<User>().filter(User::id.eq(id))).await?;
            let tx = db.begin().await?;
            let mut tx = tx;
            let sp = tx.savepoint().await?;
            sp.batch_execute("SELECT 1").await?;
            sp.commit().await?;
            tx.rollback().await?;
            db.drop_all(&[User::TABLE, Order::TABLE]).await?;
            Ok::<_, orm_postgres::Error>((
                n,
                rows.len(),
                none.is_none() && missing.is_none(),
                orders,
                age,
                plan.root.node_type.is_empty(),
            ))
        }
    })
    .await
    .unwrap();
    assert_eq!(checked, (1, 1, true, 1, 7, false));
    let left: Option<String> = t
        .fetch_one(orm_postgres::raw::query::<Option<String>>(
            "SELECT to_regclass('s_user')::text",
        ))
        .await
        .unwrap();
    assert_eq!(left, None, "drop_all ran in the spawned task");
}
