//! The test kit, used as a user would: `#[orm_postgres::test]` (templates set up once per test
//! binary, a fresh copy per test, or a shared copy inside rolled-back transactions) and
//! `assert_queries!` (the statements a block sends, listed when the count is wrong).

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use orm_postgres::prelude::*;
use orm_postgres::{Error, assert_queries};
use orm_testing::TestDatabase;
use orm_tests::{Order, User};

/// How many times [`seed`] ran in this process.
static SEED_RUNS: AtomicUsize = AtomicUsize::new(0);

async fn seed(db: &Database) -> orm_postgres::Result<()> {
    SEED_RUNS.fetch_add(1, Ordering::SeqCst);
    db.batch_execute(
        "CREATE TABLE kit_seeded (n int PRIMARY KEY); INSERT INTO kit_seeded VALUES (1), (2)",
    )
    .await
}

async fn user_count(ex: &impl Executor) -> i64 {
    ex.fetch_one(select::<User>().count()).await.unwrap()
}

#[orm_postgres::test(tables(User, Order))]
async fn tables_are_created_in_a_fresh_database(db: Database) {
    assert_eq!(user_count(&db).await, 0);
    db.execute(insert(&User::new("only-here"))).await.unwrap();
    assert_eq!(user_count(&db).await, 1);
}

#[orm_postgres::test(tables(User, Order))]
async fn each_test_gets_its_own_copy(t: TestDatabase) {
    // The sibling test above inserted into its own copy, never into this one or the template.
    assert_eq!(user_count(&*t).await, 0);
    assert!(t.name().starts_with("orm_test_"), "{}", t.name());
    t.execute(insert(&User::new("only-here"))).await.unwrap();
}

#[orm_postgres::test(tables(User, Order), fixtures("fixtures/kit_users.sql"))]
async fn fixtures_run_after_the_tables(db: Database) -> orm_postgres::Result<()> {
    let names: Vec<String> = db
        .fetch_all(select::<User>().order_by(User::name).columns(User::name))
        .await?;
    assert_eq!(names, ["ann", "bob", "cid"]);
    Ok(())
}

#[orm_postgres::test(setup = seed)]
async fn a_setup_function_runs_once_per_binary_a(db: Database) {
    let n: i64 = db
        .fetch_one(orm_postgres::raw::query::<i64>(
            "SELECT count(*) FROM kit_seeded",
        ))
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        SEED_RUNS.load(Ordering::SeqCst),
        1,
        "set up in the template, once"
    );
}

#[orm_postgres::test(setup = seed)]
async fn a_setup_function_runs_once_per_binary_b(db: Database) {
    db.batch_execute("DELETE FROM kit_seeded").await.unwrap();
    assert_eq!(
        SEED_RUNS.load(Ordering::SeqCst),
        1,
        "set up in the template, once"
    );
}

#[orm_postgres::test(tables(User, Order))]
async fn a_session_on_a_fresh_database(mut s: Session) -> orm_postgres::Result<()> {
    let ann = s.add(User::new("ann"));
    s.commit().await?;
    assert!(ann.read().id > 0);
    assert_eq!(s.fetch_one(select::<User>().count()).await?, 1);
    Ok(())
}

#[orm_postgres::test(tables(User, Order), fixtures("fixtures/kit_users.sql"), rollback)]
async fn inside_a_rolled_back_transaction_a(tx: &mut Transaction<'_>) {
    // Both tests insert the same unique name: each sees only its own, and neither commits.
    tx.execute(insert(&User::new("dee"))).await.unwrap();
    assert_eq!(user_count(&*tx).await, 4);
    meet();
}

#[orm_postgres::test(tables(User, Order), fixtures("fixtures/kit_users.sql"), rollback)]
async fn inside_a_rolled_back_transaction_b(tx: &mut Transaction<'_>) {
    tx.execute(insert(&User::new("dee"))).await.unwrap();
    assert_eq!(user_count(&*tx).await, 4);
    meet();
}

/// Where [`both_rolled_back_tests_at_once`] has the two tests above wait for each other, each
/// holding its uncommitted row: `(arrived, its condition)`.
type Meeting = Arc<(Mutex<u32>, Condvar)>;

thread_local! {
    /// Set only on the threads of [`both_rolled_back_tests_at_once`]; the harness's own runs
    /// of the two tests do not wait.
    static MEETING: RefCell<Option<Meeting>> = const { RefCell::new(None) };
}

/// Waits, inside the test's transaction, until the other test has inserted its row too.
fn meet() {
    let Some(meeting) = MEETING.with(|m| m.borrow().clone()) else {
        return;
    };
    let (arrived, cond) = &*meeting;
    let mut n = arrived.lock().unwrap_or_else(|e| e.into_inner());
    *n += 1;
    cond.notify_all();
    let (n, waited) = cond
        .wait_timeout_while(n, Duration::from_secs(20), |n| *n < 2)
        .unwrap_or_else(|e| e.into_inner());
    assert!(
        !waited.timed_out() && *n == 2,
        "the other test's insert of the same unique name waited on this test's uncommitted \
         row: the two tests share a database"
    );
}

#[test]
fn both_rolled_back_tests_at_once() {
    // The two tests above, run at the same time, each holding its uncommitted "dee" until the
    // other has inserted its own: on one shared copy the second insert would wait for the first
    // transaction to end, and the first would wait for the second.
    let meeting: Meeting = Arc::default();
    let run = |test: fn()| {
        let meeting = meeting.clone();
        std::thread::spawn(move || {
            MEETING.with(|m| *m.borrow_mut() = Some(meeting));
            test();
        })
    };
    let a = run(inside_a_rolled_back_transaction_a);
    let b = run(inside_a_rolled_back_transaction_b);
    let (a, b) = (a.join(), b.join());
    assert!(a.is_ok() && b.is_ok(), "a test failed: see its panic above");
}

#[orm_postgres::test(multi_thread)]
async fn an_empty_setup_and_a_multi_thread_runtime(db: Database) {
    let flavor = tokio::runtime::Handle::current().runtime_flavor();
    assert_eq!(flavor, tokio::runtime::RuntimeFlavor::MultiThread);
    let n: i64 = db
        .fetch_one(orm_postgres::raw::query::<i64>(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        ))
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[orm_postgres::test(tables(User, Order), fixtures("fixtures/kit_users.sql"))]
async fn assert_queries_counts_and_matches_statements(db: Database) {
    let users = assert_queries!(db, 1, async { db.fetch_all(select::<User>()).await }).unwrap();
    assert_eq!(users.len(), 3);
    assert_queries!(
        db,
        [r#"SELECT * FROM "users" WHERE "users"."name" = $1"#],
        async {
            db.fetch_optional(select::<User>().filter(User::name.eq("ann")))
                .await
        }
    )
    .unwrap();
    // A session counts through its database: BEGIN, INSERT, COMMIT.
    let mut s = db.session();
    s.add(User::new("eve"));
    assert_queries!(s, ["BEGIN*", "INSERT INTO \"users\"*", "COMMIT"], async {
        s.commit().await
    })
    .unwrap();
}

#[orm_postgres::test(tables(User, Order), fixtures("fixtures/kit_users.sql"))]
async fn assert_queries_lists_what_ran_when_it_fails(db: Database) {
    // An N+1: one query per user instead of one in all.
    let failed = std::panic::AssertUnwindSafe(async {
        assert_queries!(db, 1, async {
            let users = db.fetch_all(select::<User>().order_by(User::id)).await?;
            for u in &users {
                db.fetch_all(select::<Order>().filter(Order::user_id.eq(u.id)))
                    .await?;
            }
            Ok::<_, Error>(())
        })
    })
    .catch_unwind()
    .await
    .expect_err("four statements are not one");
    let msg = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.starts_with("assert_queries! failed: expected 1 statement(s), 4 ran:"),
        "{msg}"
    );
    assert_eq!(msg.matches(r#"FROM "orders" WHERE"#).count(), 3, "{msg}");
}

/// A `tables(..)` list missing a table its models reference fails the setup naming the step and
/// what is missing, as a failing fixture does, not with the server's bare `UndefinedTable`.
#[tokio::test]
async fn a_tables_list_missing_a_referenced_table_says_so() {
    let setup = orm_testing::kit::Setup::new("test_kit::missing_referenced_table")
        .tables(vec![Order::TABLE]);
    let err = orm_testing::kit::database(&setup).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("the test setup of test_kit::missing_referenced_table: create_all of tables(..) failed (`orders` references `users`, which tables(..) does not list)")
            && message.contains("relation \"users\" does not exist"),
        "{message}"
    );
}

/// A failing fixture ends the test with the setup's message as it reads, the server's quotes
/// and all, not with the error's `Debug` form (which `expect` printed: `\"kit_nope\"`).
#[orm_postgres::test(tables(User), fixtures("fixtures/kit_broken.sql"))]
#[should_panic(
    expected = r#"fixture fixtures/kit_broken.sql failed: undefined table: relation "kit_nope" does not exist (SQLSTATE 42P01)"#
)]
async fn a_failing_fixture_fails_the_test_with_its_message(_db: Database) {}
