//! The lint's claims checked against a real PostgreSQL, not asserted from memory: each
//! statement runs in an open transaction on one connection while another reads `pg_locks`
//! (the lock it holds on which table), `pg_class.relfilenode` (whether it rewrote the table),
//! or tries to write (whether writers wait). The lint, given the reflected database, must
//! name the same lock.

use std::collections::BTreeMap;
use std::time::Duration;

use orm_migrate::lint::{LintOptions, LockMode, Rule, lint_sql};
use orm_migrate::reflect::{ReflectOptions, reflect};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::{TestDatabase, test_database};

const SETUP: &str = "
CREATE TABLE users (id bigint PRIMARY KEY, email text, age integer, name varchar(80));
INSERT INTO users SELECT g, 'u' || g || '@x', g % 90, 'n' || g FROM generate_series(1, 2000) g;
CREATE INDEX users_age_idx ON users (age);
CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint);
INSERT INTO posts SELECT g, 1 + g % 2000 FROM generate_series(1, 2000) g;
";

async fn database() -> TestDatabase {
    let t = test_database().await.expect("db");
    t.batch_execute(SETUP).await.expect("setup");
    t
}

async fn options(t: &TestDatabase) -> LintOptions {
    LintOptions {
        schema: Some(
            reflect(t, &ReflectOptions::default())
                .await
                .expect("reflect"),
        ),
        ..LintOptions::default()
    }
}

/// What happened while `stmt` ran in a transaction still open.
#[derive(Debug)]
struct Observed {
    /// The strongest lock held per table.
    locks: BTreeMap<String, LockMode>,
    /// Tables whose file changed (rewritten).
    rewritten: Vec<String>,
    /// Whether an INSERT into `users` from another connection had to wait.
    writers_wait: bool,
}

async fn relfilenodes(db: &impl Executor) -> BTreeMap<String, u32> {
    db.fetch_all(query::<(String, i64)>(
        "SELECT relname::text, relfilenode::bigint FROM pg_class \
         WHERE relname IN ('users', 'posts')",
    ))
    .await
    .expect("relfilenodes")
    .into_iter()
    .map(|(n, f)| (n, f as u32))
    .collect()
}

async fn observe(t: &TestDatabase, stmt: &str) -> Observed {
    let before = relfilenodes(&**t).await;
    let tx = t.begin().await.expect("begin");
    let pid = tx
        .fetch_one(query::<i32>("SELECT pg_backend_pid()"))
        .await
        .expect("pid");
    tx.batch_execute(stmt).await.expect("the statement runs");
    let rows = t
        .fetch_all(
            query::<(String, String)>(
                "SELECT c.relname::text, l.mode FROM pg_locks l \
                 JOIN pg_class c ON c.oid = l.relation \
                 WHERE l.pid = :pid AND l.granted AND c.relname IN ('users', 'posts')",
            )
            .bind("pid", pid),
        )
        .await
        .expect("pg_locks");
    let mut locks = BTreeMap::new();
    for (table, mode) in rows {
        let mode = LockMode::from_pg_locks_name(&mode).expect("a table lock mode");
        let e = locks.entry(table).or_insert(mode);
        *e = (*e).max(mode);
    }
    let after = relfilenodes(&tx).await;
    let rewritten = before
        .iter()
        .filter(|(n, f)| after.get(*n) != Some(f))
        .map(|(n, _)| n.clone())
        .collect();
    let writers_wait = {
        let w = t.begin().await.expect("begin");
        w.batch_execute("SET LOCAL lock_timeout = '200ms'")
            .await
            .expect("set");
        let r = w
            .batch_execute("INSERT INTO users (id, age) VALUES (-1, 1)")
            .await;
        let _ = w.rollback().await;
        match r {
            Ok(()) => false,
            Err(e) if e.sqlstate() == Some("55P03") => true,
            Err(e) => panic!("the writer failed otherwise: {e}"),
        }
    };
    tx.rollback().await.expect("rollback");
    Observed {
        locks,
        rewritten,
        writers_wait,
    }
}

/// Lints `stmt` against the database, runs it, and checks that the lint's finding of `rule`
/// names the lock the server shows; returns what was observed.
async fn claim_holds(t: &TestDatabase, rule: Rule, stmt: &str) -> Observed {
    let opts = options(t).await;
    let found = lint_sql(stmt, true, &opts);
    let f = found
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("{} not reported for {stmt}: {found:?}", rule.name()));
    let claim = f.lock.clone().expect("the finding names a lock");
    let seen = observe(t, stmt).await;
    assert_eq!(
        seen.locks.get(&claim.table.name),
        Some(&claim.mode),
        "{stmt}: the lint says {claim}, the server shows {:?}",
        seen.locks
    );
    seen
}

#[tokio::test]
async fn create_index_holds_share_and_writers_wait() {
    let t = database().await;
    let seen = claim_holds(
        &t,
        Rule::IndexNotConcurrent,
        "CREATE INDEX users_email_idx ON users (email)",
    )
    .await;
    assert!(seen.writers_wait, "{seen:?}");
    assert!(seen.rewritten.is_empty());
}

#[tokio::test]
async fn drop_index_holds_access_exclusive_on_its_table() {
    let t = database().await;
    let seen = claim_holds(&t, Rule::IndexNotConcurrent, "DROP INDEX users_age_idx").await;
    assert!(seen.writers_wait);
}

#[tokio::test]
async fn set_not_null_holds_access_exclusive() {
    let t = database().await;
    let seen = claim_holds(
        &t,
        Rule::SettingNotNull,
        "ALTER TABLE users ALTER COLUMN age SET NOT NULL",
    )
    .await;
    assert!(seen.writers_wait);
}

#[tokio::test]
async fn a_foreign_key_holds_share_row_exclusive_on_both_tables() {
    let t = database().await;
    let seen = claim_holds(
        &t,
        Rule::ConstraintNotValid,
        "ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id)",
    )
    .await;
    assert_eq!(seen.locks.get("users"), Some(&LockMode::ShareRowExclusive));
    assert!(seen.writers_wait, "writes to the referenced table wait too");
}

#[tokio::test]
async fn a_check_and_a_unique_constraint_hold_access_exclusive() {
    let t = database().await;
    claim_holds(
        &t,
        Rule::ConstraintNotValid,
        "ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0)",
    )
    .await;
    claim_holds(
        &t,
        Rule::AddingUniqueConstraint,
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)",
    )
    .await;
}

#[tokio::test]
async fn type_changes_rewrite_exactly_when_the_lint_says() {
    let t = database().await;
    let seen = claim_holds(
        &t,
        Rule::ChangingColumnType,
        "ALTER TABLE users ALTER COLUMN age TYPE bigint",
    )
    .await;
    assert_eq!(seen.rewritten, vec!["users".to_string()]);
    // The binary-compatible changes the lint lets through keep the table's file.
    let opts = options(&t).await;
    for stmt in [
        "ALTER TABLE users ALTER COLUMN name TYPE varchar(200)",
        "ALTER TABLE users ALTER COLUMN name TYPE text",
    ] {
        assert!(
            lint_sql(stmt, true, &opts).is_empty(),
            "{stmt}: {:?}",
            lint_sql(stmt, true, &opts)
        );
        let seen = observe(&t, stmt).await;
        assert!(seen.rewritten.is_empty(), "{stmt} rewrote: {seen:?}");
    }
}

#[tokio::test]
async fn volatile_defaults_rewrite_and_constant_ones_do_not() {
    let t = database().await;
    let seen = claim_holds(
        &t,
        Rule::AddingVolatileDefault,
        "ALTER TABLE users ADD COLUMN token double precision DEFAULT random()",
    )
    .await;
    assert_eq!(seen.rewritten, vec!["users".to_string()]);
    let stmt = "ALTER TABLE users ADD COLUMN score integer NOT NULL DEFAULT 0";
    assert!(lint_sql(stmt, true, &options(&t).await).is_empty());
    assert!(observe(&t, stmt).await.rewritten.is_empty());
}

#[tokio::test]
async fn a_required_column_without_default_fails_on_a_table_with_rows() {
    let t = database().await;
    let stmt = "ALTER TABLE users ADD COLUMN born date NOT NULL";
    let found = lint_sql(stmt, true, &options(&t).await);
    assert_eq!(found[0].rule, Rule::AddingRequiredColumn);
    let e = t.batch_execute(stmt).await.expect_err("rows exist");
    assert_eq!(e.sqlstate(), Some("23502"), "{e}");
}

#[tokio::test]
async fn the_safe_forms_let_writers_through() {
    let t = database().await;
    // NOT VALID, then VALIDATE in its own transaction: SHARE UPDATE EXCLUSIVE, writes go on.
    t.batch_execute(
        "ALTER TABLE users ADD CONSTRAINT users_age_nn CHECK (age IS NOT NULL) NOT VALID",
    )
    .await
    .expect("not valid");
    let seen = observe(&t, "ALTER TABLE users VALIDATE CONSTRAINT users_age_nn").await;
    assert_eq!(
        seen.locks.get("users"),
        Some(&LockMode::ShareUpdateExclusive)
    );
    assert!(!seen.writers_wait, "{seen:?}");
    let script = "ALTER TABLE users ADD CONSTRAINT users_age_nn2 CHECK (age IS NOT NULL) NOT VALID;\n\
                  ALTER TABLE users VALIDATE CONSTRAINT users_age_nn2;\n\
                  ALTER TABLE users ALTER COLUMN age SET NOT NULL;";
    assert!(
        lint_sql(script, false, &options(&t).await).is_empty(),
        "the check path passes the lint"
    );
}

#[tokio::test]
async fn concurrently_in_a_transaction_fails_as_the_lint_says() {
    let t = database().await;
    let stmt = "CREATE INDEX CONCURRENTLY users_email_idx ON users (email)";
    let found = lint_sql(stmt, true, &options(&t).await);
    assert_eq!(found[0].rule, Rule::ConcurrentlyInTransaction);
    let tx = t.begin().await.expect("begin");
    let e = tx.batch_execute(stmt).await.expect_err("refused");
    assert_eq!(e.sqlstate(), Some("25001"), "{e}");
    tx.rollback().await.ok();
    // Outside a transaction it builds while writers go on (no lock is left once it is done).
    tokio::time::timeout(Duration::from_secs(30), t.batch_execute(stmt))
        .await
        .expect("in time")
        .expect("builds");
}

#[tokio::test]
async fn validating_a_domain_check_makes_writers_wait_and_an_index_s_storage_does_not() {
    // The two statements autogenerate writes that the parser does not read: the lint judges
    // them by their words, and the server agrees.
    let t = database().await;
    t.batch_execute(
        "CREATE DOMAIN age_years AS integer;
         ALTER TABLE users ALTER COLUMN age TYPE age_years;
         ALTER DOMAIN age_years ADD CONSTRAINT age_years_check CHECK (VALUE >= 0) NOT VALID",
    )
    .await
    .expect("a domain check left NOT VALID");
    let opts = options(&t).await;
    let validate = "ALTER DOMAIN age_years VALIDATE CONSTRAINT age_years_check";
    let rules: Vec<Rule> = lint_sql(validate, true, &opts)
        .iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(rules, [Rule::ValidatingDomainConstraint]);
    let seen = observe(&t, validate).await;
    assert_eq!(seen.locks.get("users"), Some(&LockMode::Share), "{seen:?}");
    assert!(seen.writers_wait, "{seen:?}");

    let storage = "ALTER INDEX users_age_idx SET (fillfactor = 70)";
    assert!(lint_sql(storage, true, &opts).is_empty());
    let seen = observe(&t, storage).await;
    assert!(!seen.writers_wait, "{seen:?}");
    assert!(seen.rewritten.is_empty(), "{seen:?}");
}
