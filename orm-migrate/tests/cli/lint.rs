//! `lint` through the binary, and the lint that `upgrade` runs first: exit codes, the report's
//! lines, silences, `--pending` against the database, `--no-lint`.

use orm_postgres::Executor;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

/// A table with rows, then a revision that indexes it without CONCURRENTLY.
fn revisions() -> Vec<Revision> {
    vec![
        rev(
            1,
            "CREATE TABLE t1 (id bigint PRIMARY KEY, email text);\n\
             INSERT INTO t1 SELECT g, 'u' || g FROM generate_series(1, 100) g;\n",
            "DROP TABLE t1;\n",
        ),
        rev(
            2,
            "CREATE INDEX t1_email_idx ON t1 (email);\n",
            "DROP INDEX t1_email_idx;\n",
        ),
    ]
}

#[test]
fn lint_reports_each_finding_and_exits_1_on_errors() {
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    write(&dir, &revisions());
    let (code, out, err) = run(cli(&dir).arg("lint"));
    assert_eq!(code, 1, "{out}\n{err}");
    // Offline, t1 is assumed to exist when revision 2 runs (it was applied long before).
    assert!(
        err.contains(
            "error[index-not-concurrent] line 4: builds an index on public.t1, which exists, without CONCURRENTLY\n    CREATE INDEX t1_email_idx ON t1 (email)\n  lock: SHARE on public.t1 (blocks every write (reads go on))"
        ),
        "{err}"
    );
    assert!(err.contains("20260101000002_rev_2/up.sql"), "{err}");
    assert_eq!(
        out.trim(),
        "lint: 2 scripts checked, 1 error, 0 warnings, 0 silenced"
    );

    // One revision by id prefix: the first alone is clean.
    let (code, out, _) = run(cli(&dir).args(["lint", "20260101000001"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim(),
        "lint: 1 script checked, 0 errors, 0 warnings, 0 silenced"
    );
    let (code, _, err) = run(cli(&dir).args(["lint", "29990101000000"]));
    assert_eq!(code, 1);
    assert!(err.contains("29990101000000"), "{err}");
}

#[test]
fn a_silence_with_a_reason_passes_and_one_without_fails() {
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    let mut revs = revisions();
    revs[1] = rev(
        2,
        "-- lint: allow index-not-concurrent: t1 holds 100 rows\nCREATE INDEX t1_email_idx ON t1 (email);\n",
        "DROP INDEX t1_email_idx;\n",
    );
    write(&dir, &revs);
    let (code, out, err) = run(cli(&dir).arg("lint"));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("silenced: t1 holds 100 rows"), "{err}");
    assert_eq!(
        out.trim(),
        "lint: 2 scripts checked, 0 errors, 0 warnings, 1 silenced"
    );

    let tmp = TempDir::new();
    let dir = tmp.migrations();
    revs[1] = rev(
        2,
        "-- lint: allow index-not-concurrent\nCREATE INDEX t1_email_idx ON t1 (email);\n",
        "DROP INDEX t1_email_idx;\n",
    );
    write(&dir, &revs);
    let (code, _, err) = run(cli(&dir).arg("lint"));
    assert_eq!(code, 1);
    assert!(err.contains("error[bad-silence] line 4"), "{err}");
    assert!(err.contains("gives no reason"), "{err}");
}

#[tokio::test]
async fn upgrade_stops_on_lint_errors_before_running_anything() {
    let t = test_database().await.expect("db");
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    let revs = revisions();
    write(&dir, &revs[..1]);
    let (code, _, err) = run(cli(&dir).args(["--database-url", &url(&t), "upgrade"]));
    assert_eq!(code, 0, "{err}");

    // Revision 2 indexes a table that now exists with rows: the upgrade refuses.
    write(&dir, &revs[1..]);
    let (code, out, err) = run(cli(&dir).args(["--database-url", &url(&t), "upgrade"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("error[index-not-concurrent]"), "{err}");
    assert!(
        err.contains("upgrade stopped by the lint: nothing was run"),
        "{err}"
    );
    let applied: Vec<String> = t
        .fetch_all(query::<String>("SELECT id FROM orm_migrations ORDER BY id"))
        .await
        .expect("rows");
    assert_eq!(applied, vec![id(1)]);

    // `lint --pending` says the same against the database.
    let (code, out, _) = run(cli(&dir).args(["--database-url", &url(&t), "lint", "--pending"]));
    assert_eq!(code, 1);
    assert_eq!(
        out.trim(),
        "lint: 1 script checked, 1 error, 0 warnings, 0 silenced"
    );

    // --no-lint runs it.
    let (code, out, err) =
        run(cli(&dir).args(["--database-url", &url(&t), "upgrade", "--no-lint"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("upgraded 1 revision"), "{out}");
}

#[tokio::test]
async fn a_fresh_database_runs_the_whole_chain_since_its_tables_are_new() {
    // Against an empty database, t1 does not exist before the run: revision 1 creates it
    // empty, so indexing it in revision 2 blocks no one.
    let t = test_database().await.expect("db");
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    write(&dir, &revisions());
    let (code, out, err) = run(cli(&dir).args(["--database-url", &url(&t), "upgrade"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("upgraded 2 revisions"), "{out}");
    assert!(!err.contains("error["), "{err}");
}

#[test]
fn explain_prints_a_rule_and_its_examples() {
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    let (code, out, _) = run(cli(&dir).args(["lint", "--explain", "setting-not-null"]));
    assert_eq!(code, 0);
    assert!(
        out.starts_with("setting-not-null (error)\n\nwhy: SET NOT NULL scans"),
        "{out}"
    );
    assert!(
        out.contains("reported:\n    ALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
        "{out}"
    );
    let (code, out, _) = run(cli(&dir).args(["lint", "--explain", "all"]));
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), orm_migrate::lint::Rule::ALL.len());
    let (code, _, err) = run(cli(&dir).args(["lint", "--explain", "no-such"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("\"no-such\" is not a rule; the rules: adding-required-column"),
        "{err}"
    );
}
