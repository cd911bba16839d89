//! The README's tour, compiled and run against a real server, so the README stays true.
//!
//! It mirrors the README section by section, in its order (the tour here, the relationship and
//! session sections in `relationships` and `session`, the models of "Models" as written there in
//! `models`), so that a change to one is found next to the other. Each `rust` block of the
//! README that can run against one server is here or in the test its section names; the list is
//! at the end of this file.

use std::time::Duration;

use orm_postgres::prelude::*;
use orm_postgres::raw::{query, text};
use orm_postgres::{IsolationLevel, TxOptions, alias};
use orm_testing::test_database;
use orm_tests::{Order, User};

#[derive(Model, Debug, Clone)]
#[model(table = "employee")]
pub struct Employee {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    #[model(references = "employee.id")]
    pub manager_id: Option<i32>,
}

#[derive(FromRow, Debug)]
struct Spender {
    name: String,
    orders: i64,
}

#[tokio::test]
async fn the_tour_runs() -> orm_postgres::Result<()> {
    let t = test_database().await?;
    let db = &t.db;
    db.create_all(&[User::TABLE, Order::TABLE, Employee::TABLE])
        .await?;

    // Writes
    let jane = db.fetch_one(insert(&User::new("Jane"))).await?;
    let orders: Vec<Order> = (1..=3)
        .map(|i| Order {
            id: 0,
            user_id: jane.id,
            total: i * 100,
            note: None,
        })
        .collect();
    let many: Vec<Order> = db.fetch_all(insert_many(&orders)).await?;
    assert_eq!(many.len(), 3);
    db.execute(
        update::<Order>()
            .set(Order::total, Order::total.add(20))
            .filter(Order::id.eq(many[0].id)),
    )
    .await?;
    let saved: User = db.fetch_one(update_model(&jane)).await?;
    assert_eq!(saved.name, "Jane");
    let users = vec![User::new("Jane"), User::new("Bob")];
    db.execute(insert_many(&users).on_conflict(User::name).do_update(|u| {
        u.set(User::email, excluded(User::email))
            .where_(User::email.is_null())
    }))
    .await?;
    db.execute(insert(&User::new("Bob")).on_conflict_do_nothing())
        .await?;
    db.execute(
        update::<Order>()
            .from::<User>()
            .set(Order::note, User::name)
            .filter(Order::user_id.eq(User::id)),
    )
    .await?;
    db.execute(
        delete::<Order>()
            .using::<User>()
            .filter(Order::user_id.eq(User::id).and(User::name.eq("bob"))),
    )
    .await?;
    db.execute(insert_select::<User, _, _>(
        (User::name,),
        select::<Order>()
            .filter(Order::note.is_not_null())
            .limit(1)
            .columns(Order::note),
    ))
    .await
    .unwrap_err(); // "Jane" exists: a unique violation, as it should be
    let gone: Vec<i64> = db
        .fetch_all(
            delete::<Order>()
                .filter(Order::total.lt(10))
                .returning(Order::id),
        )
        .await?;
    assert!(gone.is_empty());

    // Queries
    let big: Vec<Order> = db
        .fetch_all(
            select::<Order>()
                .filter(Order::user_id.eq(jane.id) & Order::total.between(100, 500))
                .order_by(Order::total.desc())
                .limit(10),
        )
        .await?;
    assert_eq!(big.len(), 3);
    let _names: Vec<(i64, String)> = db
        .fetch_all(select::<User>().columns((User::id, User::name)))
        .await?;
    let n: i64 = db
        .fetch_one(select::<Order>().filter(Order::total.gt(100)).count())
        .await?;
    assert_eq!(n, 3);
    let any: bool = db
        .fetch_one(select::<User>().filter(User::email.is_null()).exists())
        .await?;
    assert!(any);

    // Joins, subqueries
    let rows: Vec<(String, Option<i32>)> = db
        .fetch_all(
            select::<User>()
                .left_join::<Order>(Order::user_id.eq(User::id))
                .columns((User::name, Order::total)),
        )
        .await?;
    assert_eq!(rows.len(), 4);
    let pairs: Vec<(User, Option<Order>)> = db
        .fetch_all(
            select::<User>()
                .left_join_fk::<Order>()
                .columns((User::star(), Order::star())),
        )
        .await?;
    assert_eq!(pairs.len(), 4);
    alias!(Manager = Employee);
    let _reports: Vec<(String, String)> = db
        .fetch_all(
            select::<Employee>()
                .join::<Manager>(Manager::col(Employee::id).eq(Employee::manager_id))
                .columns((Employee::name, Manager::col(Employee::name))),
        )
        .await?;
    let (big_orders, (user_id, total)) = select::<Order>()
        .filter(Order::total.ge(100))
        .columns((Order::user_id, Order::total))
        .subquery("big");
    let joined: Vec<(String, i32)> = db
        .fetch_all(
            select::<User>()
                .join_derived(&big_orders, user_id.eq(User::id))
                .columns((User::name, total)),
        )
        .await?;
    assert_eq!(joined.len(), 3);
    orm_postgres::derived!(Spend = "spend");
    let (spend, (spend_user, orders)) = select::<Order>()
        .group_by(Order::user_id)
        .columns((Order::user_id, func::count_star()))
        .cte(Spend);
    let rows: Vec<(String, Option<i64>)> = db
        .fetch_all(
            select::<User>()
                .left_join_derived(&spend, spend_user.eq(User::id))
                .columns((User::name, orders)),
        )
        .await?;
    assert!(rows.iter().any(|(_, n)| n.is_none()), "{rows:?}");
    let cursor = ("A".to_string(), 0_i64);
    let _page: Vec<User> = db
        .fetch_all(
            select::<User>()
                .after((User::name, User::id), cursor)
                .limit(20),
        )
        .await?;
    let _p3: Vec<User> = db
        .fetch_all(select::<User>().order_by(User::name).page(3, 20))
        .await?;
    let _: Vec<User> = db
        .fetch_all(
            select::<User>().filter(
                text::<bool>("\"users\".\"age\" BETWEEN :lo AND :hi")
                    .bind("lo", 1)
                    .bind("hi", 9),
            ),
        )
        .await?;
    let _: Vec<(i64, String)> = db
        .fetch_all(
            query::<(i64, String)>("SELECT id, name FROM users WHERE name = :name")
                .bind("name", "Jane".to_string()),
        )
        .await?;

    // Functions
    let per_user: Vec<(i64, Option<i64>, i64)> = db
        .fetch_all(
            select::<Order>()
                .group_by(Order::user_id)
                .having(func::count_all().gt(2))
                .columns((
                    Order::user_id,
                    func::sum(Order::total),
                    func::count_all().filter(Order::total.gt(100)),
                )),
        )
        .await?;
    assert_eq!(per_user, [(jane.id, Some(620), 3)]);
    let running: Vec<(i64, Option<i64>, i64)> = db
        .fetch_all(
            select::<Order>().order_by(Order::id).columns((
                Order::id,
                func::sum(Order::total).over(
                    func::window()
                        .partition_by(Order::user_id)
                        .order_by(Order::id)
                        .rows_between(func::unbounded_preceding(), func::current_row()),
                ),
                func::rank().over(func::window().order_by(Order::total.desc())),
            )),
        )
        .await?;
    assert_eq!(
        running.iter().map(|r| r.1).collect::<Vec<_>>(),
        [Some(120), Some(320), Some(620)]
    );

    // Results
    let top: Vec<Spender> = db
        .fetch_all(
            select::<User>()
                .join_fk::<Order>()
                .group_by(User::name)
                .columns((User::name, func::count_star()))
                .into_rows::<Spender>(),
        )
        .await?;
    assert_eq!((top[0].name.as_str(), top[0].orders), ("Jane", 3));

    // Transactions
    let total = db
        .transaction(|tx| {
            async move {
                tx.execute(
                    update::<Order>()
                        .set(Order::total, 0)
                        .filter(Order::user_id.eq(1)),
                )
                .await?;
                let sp = tx.savepoint().await?;
                sp.execute(delete::<Order>().filter(Order::total.eq(0)))
                    .await?;
                sp.rollback().await?;
                tx.fetch_one(select::<Order>().count()).await
            }
            .scoped()
        })
        .await?;
    assert_eq!(total, 3);
    let tx = db
        .begin_with(
            TxOptions::default()
                .isolation(IsolationLevel::Serializable)
                .read_only(),
        )
        .await?;
    assert_eq!(tx.execute(select::<Order>().count()).await?, 1);
    tx.commit().await?;
    Ok(())
}

/// "Queries": the pool from `DATABASE_URL`. Compiled, not run: the tests take their database
/// from `orm_testing` (and never set `DATABASE_URL` for a test of their own).
#[allow(dead_code)]
async fn queries_connect_env() -> orm_postgres::Result<Database> {
    Database::connect_env().await // DATABASE_URL, pooled
}

#[tokio::test]
async fn the_listen_notify_section_runs() -> orm_postgres::Result<()> {
    use orm_postgres::notify::ListenEvent;

    let t = test_database().await?;
    let db = &t.db;
    let mut listener = db.listener().await?; // a connection of its own, not the pool's
    listener.listen("orders").await?; // LISTEN "orders" (names quoted as written)

    db.notify("orders", "42").await?; // SELECT pg_notify($1, $2): delivered at once
    let tx = db.begin().await?;
    tx.notify("orders", "43").await?; // delivered at COMMIT, never after a rollback
    tx.commit().await?;
    let tx = db.begin().await?;
    tx.notify("orders", "lost").await?;
    tx.rollback().await?;
    db.notify("orders", "44").await?;

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(10), listener.recv())
            .await
            .expect("a notification within 10 s")?;
        match event {
            ListenEvent::Notification(n) => {
                println!("{} {} from {}", n.channel, n.payload, n.process_id);
                seen.push(n.payload);
            }
            ListenEvent::Disconnected => panic!("the listener's connection was lost"),
            ListenEvent::Reconnected { .. } => panic!("the listener reconnected"),
            _ => {}
        }
    }
    assert_eq!(seen, ["42", "43", "44"]);
    let long = "x".repeat(orm_postgres::notify::MAX_PAYLOAD_BYTES + 1);
    let err = db.notify("orders", &long).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidPayload { .. }),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn the_advisory_locks_section_runs() -> orm_postgres::Result<()> {
    use orm_postgres::AdvisoryKey;

    let t = test_database().await?;
    let db = &t.db;
    let lock = db.advisory_lock(42).await?; // waits (bounded by the query timeout)
    lock.batch_execute("SELECT 1").await?; // the guard derefs to its Connection
    assert!(db.try_advisory_lock(42).await?.is_none(), "held");
    lock.unlock().await?; // the connection goes back to the pool

    let lock = db
        .advisory_lock_within(AdvisoryKey::named("nightly"), Duration::from_secs(5))
        .await?;
    let err = db
        .advisory_lock_within(AdvisoryKey::named("nightly"), Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::LockTimeout(_)), "{err}");
    assert!(err.is_timeout());
    assert_eq!(err.sqlstate(), Some("55P03"));
    lock.unlock().await?;
    let Some(lock) = db.try_advisory_lock((7, 1001)).await? else {
        panic!("nobody holds (7, 1001)");
    };
    assert!(db.try_advisory_lock((7, 1001)).await?.is_none()); // None while held
    lock.unlock().await?;

    let tx = db.begin().await?;
    tx.advisory_xact_lock(42).await?; // released at commit or rollback
    let got: bool = tx.try_advisory_xact_lock(43).await?;
    assert!(got);
    assert!(db.try_advisory_lock(42).await?.is_none());
    tx.commit().await?;
    assert!(db.try_advisory_lock(42).await?.is_some());
    Ok(())
}

#[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
#[db_enum(name = "mood")]
enum Mood {
    Happy,
    Sad,
    #[db_enum(rename = "so-so")]
    SoSo,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "diary")]
struct Diary {
    #[model(primary_key, generated)]
    id: i64,
    mood: Mood,
}

#[tokio::test]
async fn the_types_section_enum_runs() -> orm_postgres::Result<()> {
    let t = test_database().await?;
    let db = &t.db;
    db.create_all(&[Diary::TABLE]).await?; // the ENUM type with the table
    let labels: String = db
        .fetch_one(query::<String>("SELECT enum_range(NULL::mood)::text"))
        .await?;
    assert_eq!(labels, "{happy,sad,so-so}");
    for mood in [Mood::Happy, Mood::Sad, Mood::SoSo] {
        db.execute(insert(&Diary { id: 0, mood })).await?;
    }
    let so_so: Vec<Mood> = db
        .fetch_all(
            select::<Diary>()
                .filter(Diary::mood.eq(Mood::SoSo))
                .columns(Diary::mood),
        )
        .await?;
    assert_eq!(so_so, [Mood::SoSo]);
    Ok(())
}

/// "Errors": `is_timeout()` is true for the timeouts that end a statement, not for a pool that
/// had no connection to give.
#[tokio::test]
async fn the_errors_section_timeouts() -> orm_postgres::Result<()> {
    let t = test_database().await?;
    let db = t
        .builder()
        .max_connections(1)
        .wait_timeout(Duration::from_millis(50))
        .connect()
        .await?;
    let held = db.connection().await?;
    let err = db.fetch_one(query::<i32>("SELECT 1")).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::PoolTimeout(_)), "{err}");
    assert!(!err.is_timeout());
    drop(held);
    let err = db
        .with_query_timeout(Some(Duration::from_millis(50)))
        .batch_execute("SELECT pg_sleep(5)")
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::QueryTimeout { .. }),
        "{err}"
    );
    assert!(err.is_timeout());
    let tx = db.begin().await?;
    tx.batch_execute("SET LOCAL statement_timeout = '50ms'")
        .await?;
    let err = tx.batch_execute("SELECT pg_sleep(5)").await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::StatementTimeout(_)),
        "{err}"
    );
    assert!(err.is_timeout());
    drop(tx);
    // A lock another transaction holds, waited for past `lock_timeout`.
    let two = t.builder().max_connections(2).connect().await?;
    let holder = two.begin().await?;
    holder
        .batch_execute("SELECT pg_advisory_xact_lock(17)")
        .await?;
    let waiter = two.begin().await?;
    waiter
        .batch_execute("SET LOCAL lock_timeout = '50ms'")
        .await?;
    let err = waiter
        .batch_execute("SELECT pg_advisory_xact_lock(17)")
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::LockTimeout(_)), "{err}");
    assert_eq!(err.sqlstate(), Some("55P03"));
    assert!(err.is_timeout());
    Ok(())
}

#[tokio::test]
async fn the_observability_builder_runs() -> orm_postgres::Result<()> {
    let t = test_database().await?;
    let db = t
        .builder()
        .echo(true) // each statement and its outcome on stderr
        .slow_statement_threshold(Some(Duration::from_millis(200))) // WARN `slow statement` above 200 ms
        .build()?;
    assert_eq!(db.fetch_one(query::<i32>("SELECT 1")).await?, 1);
    Ok(())
}

// "Tests and the local database", as written there but for the fixture's path (the README's
// is relative to a crate's own `tests/`, this one to this file) and the second test's setup
// (`migrations` and `rollback` together run in `orm-migrate/tests/kit.rs`).
#[orm_postgres::test(tables(User, Order), fixtures("../fixtures/kit_users.sql"))]
async fn lists_users(db: Database) -> orm_postgres::Result<()> {
    assert_eq!(db.fetch_one(select::<User>().count()).await?, 3);
    Ok(())
}

#[orm_postgres::test(tables(User, Order), rollback)]
async fn never_commits(tx: &mut Transaction<'_>) {
    tx.execute(insert(&User::new("ann"))).await.unwrap();
}

mod models;
mod relationships;
mod session;

// Where each `rust` block of the README runs, in README order (tests/tests/pg unless named):
// - Models: readme/models.rs. Generated, deferred, properties, hybrids: shape/readme.rs.
// - Queries: readme/models.rs (its first line), the tour above (the rest; `connect_env`
//   compiled only). Relationships: readme/relationships.rs.
// - Inheritance, single table and joined table: inheritance/single_table.rs and
//   inheritance/joined_table.rs (`the_readme_example`).
// - Joins, the subquery, `derived!`, Functions, Upserts, Results, Transactions: the tour above.
//   Keyset paging: shape/keyset.rs. Writes and "compiled once per shape": readme/models.rs.
//   The session's `add_all_copy`: session/copy.rs.
// - LISTEN / NOTIFY, advisory locks: above. The session section: readme/session.rs, but for
//   `merge` (session/merge.rs). Global criteria: session/model_criteria.rs and
//   session/criteria.rs (`the_readme_example_runs`).
// - Types: the exclusion constraint, types/range.rs; multiranges, types/multirange.rs; the
//   enum, above; custom types, types/custom.rs; the domain, types/named.rs; composites,
//   types/composite.rs.
// - Observability: the builder, above; plans, explain.rs; the result cache, cache.rs; call-site
//   tags, call_site.rs. Cancelling: tests/tests/connect/cancel.rs. Connection strings:
//   tests/tests/connect. Behind pgbouncer: statement_modes.rs, tests/tests/connect/pgbouncer.rs.
// - Scaling out (replicas, read-your-writes, sharding): tests/tests/scale, against servers it
//   starts.
// - Tests and the local database: above (`lists_users`, `never_commits`); `migrations` with
//   `rollback`: orm-migrate/tests/kit.rs.
// - Migrations: `renamed_from`, orm-migrate/tests/autogenerate/renames.rs; `embed_migrations!`
//   and `Migrator::from_embedded`, orm-migrate/tests/runner/embedded.rs and the axum example;
//   the migrate binary's `Models::new`, through `cli::run_async` in
//   orm-migrate/tests/cli/autogenerate.rs (`main_with`, its one-line wrapper, is not run).
