//! Real processes: twenty `orm-migrate upgrade` at once, and one killed with SIGKILL in the
//! middle of a revision, then run again.

use std::process::Stdio;
use std::time::{Duration, Instant};

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

#[tokio::test]
async fn twenty_processes_apply_each_revision_exactly_once() {
    let t = test_database().await.expect("db");
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    let revisions: Vec<_> = (1..=4)
        .map(|n| {
            let create = if n == 1 {
                "CREATE TABLE counter (rev int NOT NULL);\n"
            } else {
                ""
            };
            rev(
                n,
                &format!("{create}INSERT INTO counter VALUES ({n});\nSELECT pg_sleep(0.02);\n"),
                "",
            )
        })
        .collect();
    write(&dir, &revisions);
    let children: Vec<_> = (0..20)
        .map(|_| {
            cli(&dir)
                .env("DATABASE_URL", url(&t))
                .arg("upgrade")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut applied_lines = 0;
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        applied_lines += stdout.lines().filter(|l| l.starts_with("applied ")).count();
    }
    assert_eq!(
        applied_lines, 4,
        "each revision applied by exactly one process"
    );
    let counter: Vec<i32> = t
        .fetch_all(query::<i32>("SELECT rev FROM counter ORDER BY rev"))
        .await
        .expect("counter");
    assert_eq!(counter, [1, 2, 3, 4]);
    let versions: Vec<String> = t
        .fetch_all(query::<String>("SELECT id FROM orm_migrations ORDER BY id"))
        .await
        .expect("versions");
    assert_eq!(versions, [id(1), id(2), id(3), id(4)]);
}

/// Polls `f` every 50 ms until it is true, for at most `limit`.
async fn wait_for<F, Fut>(limit: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_runner_killed_mid_revision_leaves_the_previous_one_and_a_rerun_completes() {
    let t = test_database().await.expect("db");
    // How long revision 2 sleeps in the middle of its DDL: long for the first run.
    t.batch_execute(
        "CREATE TABLE kill_control (seconds float8); INSERT INTO kill_control VALUES (30)",
    )
    .await
    .expect("control");
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    write(
        &dir,
        &[
            rev(
                1,
                "CREATE TABLE before_kill (id int);",
                "DROP TABLE before_kill;",
            ),
            rev(
                2,
                "CREATE TABLE half (id int);\n\
                 SELECT pg_sleep(seconds) FROM kill_control;\n\
                 CREATE TABLE done (id int);\n",
                "DROP TABLE done; DROP TABLE half;",
            ),
        ],
    );
    let mut child = cli(&dir)
        .env("DATABASE_URL", url(&t))
        .arg("upgrade")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");

    // Wait until the server runs the sleep, inside revision 2's transaction.
    let start = Instant::now();
    let backend = loop {
        let found = t
            .fetch_optional(query::<i32>(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'orm-migrate' \
                 AND state = 'active' AND query LIKE '%pg_sleep(seconds)%'",
            ))
            .await
            .expect("activity");
        if let Some(pid) = found {
            break pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the runner never reached the sleep"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    // The server notices the client is gone (client_connection_check_interval) and ends the
    // backend, rolling revision 2 back and releasing the lock.
    let pid = backend;
    let gone = wait_for(Duration::from_secs(10), || async {
        let n: i64 = t
            .fetch_one(
                query::<i64>("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
                    .bind("pid", pid),
            )
            .await
            .expect("activity");
        n == 0
    })
    .await;
    assert!(gone, "the killed runner's backend lingers");
    let ids: Vec<String> = t
        .fetch_all(query::<String>("SELECT id FROM orm_migrations ORDER BY id"))
        .await
        .expect("versions");
    assert_eq!(ids, [id(1)], "at the previous revision");
    let half: bool = t
        .fetch_one(query::<bool>("SELECT to_regclass('half') IS NOT NULL"))
        .await
        .expect("regclass");
    assert!(!half, "revision 2's DDL was rolled back");

    // Rerun, with a short sleep this time: it completes cleanly.
    t.batch_execute("UPDATE kill_control SET seconds = 0")
        .await
        .expect("control");
    let (code, out, err) = run(cli(&dir).env("DATABASE_URL", url(&t)).arg("upgrade"));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.starts_with("applied  20260101000002 rev 2 ("), "{out}");
    let ids: Vec<String> = t
        .fetch_all(query::<String>("SELECT id FROM orm_migrations ORDER BY id"))
        .await
        .expect("versions");
    assert_eq!(ids, [id(1), id(2)]);
    let tables: Vec<String> = t
        .fetch_all(query::<String>(
            "SELECT tablename::text FROM pg_tables WHERE tablename IN ('before_kill', 'half', 'done') ORDER BY 1",
        ))
        .await
        .expect("tables");
    assert_eq!(tables, ["before_kill", "done", "half"]);
}
