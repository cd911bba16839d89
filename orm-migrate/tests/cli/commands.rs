//! Each command through the binary: exit codes, the plain output lines, `--sql`, revisions and
//! merges written into the directory, and `check` (exit 3) through the library entry point.

use orm_migrate::cli::{EXIT_DRIFT, Models, run_async};
use orm_migrate::schema::Schema;
use orm_migrate::{Graph, Migrator, Target, files};
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

/// Lines with the `(N ms)` durations replaced by `(_)`.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| match (l.rfind(" ("), l.ends_with(" ms)")) {
            (Some(i), true) => format!("{} (_)", &l[..i]),
            _ => l.to_owned(),
        })
        .collect()
}

#[test]
fn usage_errors_exit_2_and_errors_exit_1() {
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    let (code, _, err) = run(cli(&dir).arg("frobnicate"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
    let (code, _, err) = run(cli(&dir).args(["upgrade", "sideways"]));
    assert_eq!(code, 2);
    assert!(err.contains("\"sideways\" is not a target"), "{err}");
    let (code, _, err) = run(cli(&dir).args(["upgrade", "--lock-wait", "10"]));
    assert_eq!(code, 2);
    assert!(err.contains("\"10\" is not a duration"), "{err}");
    let (code, _, err) = run(cli(&dir).args(["upgrade", "--from", "base"]));
    assert_eq!(code, 2, "--from needs --sql: {err}");
    let (code, out, _) = run(cli(&dir).arg("--help"));
    assert_eq!(code, 0);
    assert!(
        out.contains("Usage: orm-migrate [OPTIONS] <COMMAND>"),
        "{out}"
    );

    let (code, _, err) = run(cli(&dir).arg("upgrade"));
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: no migrations directory at "),
        "{err}"
    );
    write(&dir, &chain());
    let (code, _, err) = run(cli(&dir).arg("upgrade"));
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: no database: pass --database-url"),
        "{err}"
    );
    let (code, _, err) = run(cli(&dir).arg("check"));
    assert_eq!(code, 1);
    assert!(err.contains("src/bin/migrate.rs"), "{err}");
    let (code, _, err) = run(cli(&dir).args(["revision", "-m", "x", "--autogenerate"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("cargo run --bin migrate -- revision --autogenerate"),
        "{err}"
    );
    let (code, _, err) = run(cli(&dir).args([
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
        "current",
    ]));
    assert_eq!(code, 1, "{err}");
}

#[tokio::test]
async fn upgrade_current_history_downgrade_and_stamp() {
    let t = test_database().await.expect("db");
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    write(&dir, &chain());
    let db = |c: &mut std::process::Command| {
        c.env("DATABASE_URL", url(&t));
    };
    let mut c = cli(&dir);
    db(&mut c);
    let (code, out, err) = run(c.arg("current"));
    assert_eq!(
        (code, out.as_str()),
        (0, "base (no revision applied)\n"),
        "{err}"
    );

    let mut c = cli(&dir);
    db(&mut c);
    let (code, out, err) = run(c.args(["upgrade", "+2"]));
    assert_eq!(code, 0, "{err}");
    let got = lines(&out);
    assert_eq!(got.len(), 3, "{out}");
    assert_eq!(got[0], "applied  20260101000001 rev 1 (_)");
    assert_eq!(got[1], "applied  20260101000002 rev 2 (_)");
    assert!(got[2].starts_with("upgraded 2 revisions in "), "{out}");
    assert!(
        got[2].ends_with("; the database is at 20260101000002"),
        "{out}"
    );

    let mut c = cli(&dir);
    db(&mut c);
    let (code, out, _) = run(c.arg("history"));
    assert_eq!(code, 0);
    let marks: Vec<&str> = out.lines().map(|l| &l[..34.min(l.len())]).collect();
    assert_eq!(
        marks,
        [
            "[x] 20260101000001 rev 1  applied ",
            "[x] 20260101000002 rev 2  applied ",
            "[ ] 20260101000003 rev 3 (head)",
        ]
    );
    assert!(
        out.lines()
            .next()
            .is_some_and(|l| l.contains(" UTC by postgres (")),
        "{out}"
    );

    let mut c = cli(&dir);
    db(&mut c);
    let (code, out, _) = run(c.arg("upgrade"));
    assert_eq!(code, 0);
    assert_eq!(lines(&out)[0], "applied  20260101000003 rev 3 (_)");
    let mut c = cli(&dir);
    db(&mut c);
    let (_, out, _) = run(c.arg("upgrade"));
    assert_eq!(out, "nothing to do: the database is already at head\n");
    let mut c = cli(&dir);
    db(&mut c);
    let (_, out, _) = run(c.arg("current"));
    assert_eq!(out, "20260101000003 rev 3 (head)\n");

    let mut c = cli(&dir);
    db(&mut c);
    let (code, out, _) = run(c.args(["downgrade", "-2"]));
    assert_eq!(code, 0);
    let got = lines(&out);
    assert_eq!(got[0], "reverted 20260101000003 rev 3 (_)");
    assert_eq!(got[1], "reverted 20260101000002 rev 2 (_)");
    assert!(
        got[2].ends_with("the database is at 20260101000001"),
        "{out}"
    );

    let mut c = cli(&dir);
    db(&mut c);
    let (code, out, _) = run(c.args(["stamp", "head"]));
    assert_eq!(code, 0);
    assert_eq!(out, "stamped   20260101000002\nstamped   20260101000003\n");
    let tables: Vec<String> = t
        .fetch_all(query::<String>(
            "SELECT tablename::text FROM pg_tables WHERE tablename LIKE 't_' ORDER BY 1",
        ))
        .await
        .expect("tables");
    assert_eq!(tables, ["t1"], "stamp ran nothing");
    let mut c = cli(&dir);
    db(&mut c);
    let (_, out, _) = run(c.args(["history"]));
    assert!(
        out.lines()
            .nth(2)
            .is_some_and(|l| l.contains("(stamped) (head)")),
        "{out}"
    );

    let mut c = cli(&dir);
    db(&mut c);
    let (code, out, _) = run(c.args(["stamp", "base"]));
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3);
    let mut c = cli(&dir);
    db(&mut c);
    let (code, _, err) = run(c.args(["downgrade", "-1"]));
    assert_eq!(code, 1);
    assert!(err.contains("only 0 revision(s) are applied"), "{err}");
}

#[test]
fn sql_prints_the_offline_script_without_a_database() {
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    write(&dir, &chain());
    let m = Migrator::from_dir(&dir).expect("migrator");
    // history, heads and branches need no database either.
    let (code, out, _) = run(cli(&dir).arg("history"));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "20260101000001 rev 1\n20260101000002 rev 2\n20260101000003 rev 3 (head)\n"
    );
    let (code, out, err) = run(cli(&dir).args(["upgrade", "--sql"]));
    assert_eq!(code, 0, "{err}");
    let all = m
        .sql_for_upgrade(&Default::default(), &Target::Head)
        .expect("sql");
    assert_eq!(out, all);
    assert!(
        out.contains("BEGIN;\nCREATE TABLE t1 (id int);\nINSERT INTO"),
        "{out}"
    );

    let (_, out, _) = run(cli(&dir).args(["upgrade", "--sql", "--from", &id(2)]));
    let from2 = m.applied_at(&Target::Id(id(2))).expect("applied");
    assert_eq!(out, m.sql_for_upgrade(&from2, &Target::Head).expect("sql"));
    assert!(
        out.starts_with("-- orm-migrate: upgrade to head (1 revision)\n"),
        "{out}"
    );

    let (_, out, _) = run(cli(&dir).args(["downgrade", "base", "--sql", "--lock-timeout", "0"]));
    assert!(
        out.starts_with("-- orm-migrate: downgrade to base (3 revisions)\nSET lock_timeout = 0;\n"),
        "{out}"
    );
    assert!(out.contains("BEGIN;\nDROP TABLE t3;\nDELETE FROM \"public\".\"orm_migrations\" WHERE id = '20260101000003';\nCOMMIT;"), "{out}");
}

#[test]
fn revision_heads_branches_and_merge_write_the_directory() {
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    let (code, out, _) = run(cli(&dir).arg("init"));
    assert_eq!(code, 0);
    assert_eq!(out, format!("created {}\n", dir.display()));
    assert!(dir.join("README.md").is_file());

    let (code, out, err) = run(cli(&dir).args(["revision", "-m", "Create users"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("_create_users\n"), "{out}");
    // Empty, it does not read back until filled in.
    let (code, _, err) = run(cli(&dir).arg("heads"));
    assert_eq!(code, 1);
    assert!(err.contains("the up script is empty"), "{err}");
    let fill = |message_slug: &str, sql: &str| {
        let entry = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .find(|p| p.to_string_lossy().ends_with(message_slug))
            .expect("the revision");
        let up = entry.join("up.sql");
        let text = std::fs::read_to_string(&up).expect("up.sql");
        std::fs::write(&up, format!("{text}{sql}\n")).expect("write");
    };
    fill("_create_users", "CREATE TABLE users (id int);");
    let (code, out, _) = run(cli(&dir).arg("heads"));
    assert_eq!(code, 0);
    assert!(out.ends_with(" Create users\n"), "{out}");
    let first = out[..14].to_owned();

    let (code, _, err) = run(cli(&dir).args(["revision", "-m", "Add email"]));
    assert_eq!(code, 0, "{err}");
    fill("_add_email", "ALTER TABLE users ADD COLUMN email text;");
    // A branch from the first revision: two heads.
    let (code, _, err) = run(cli(&dir).args(["revision", "-m", "Add posts", "--head", &first]));
    assert_eq!(code, 0, "{err}");
    fill("_add_posts", "CREATE TABLE posts (id int);");
    let graph = Graph::new(files::read_dir(&dir).expect("read")).expect("graph");
    assert_eq!(graph.heads().len(), 2);
    let (code, _, err) = run(cli(&dir).args(["revision", "-m", "Next"]));
    assert_eq!(code, 1);
    assert!(err.contains("the graph has 2 heads"), "{err}");
    let (_, out, _) = run(cli(&dir).arg("branches"));
    assert!(
        out.starts_with(&format!("{first} Create users -> ")),
        "{out}"
    );

    let (code, out, err) = run(cli(&dir).args(["merge", "-m", "Merge heads"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("_merge_heads\n"), "{out}");
    let graph = Graph::new(files::read_dir(&dir).expect("read")).expect("graph");
    let heads = graph.heads();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].message, "Merge heads");
    assert_eq!(heads[0].parents.len(), 2);
    let (code, _, err) = run(cli(&dir).args(["merge", "-m", "Again"]));
    assert_eq!(code, 1);
    assert!(err.contains("the graph has 1 head"), "{err}");
    let (code, _, err) = run(cli(&dir).arg("init"));
    assert_eq!(code, 1);
    assert!(err.contains("already holds revisions"), "{err}");
}

#[tokio::test]
async fn check_exits_3_when_the_database_is_behind_or_edited() {
    let t = test_database().await.expect("db");
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    write(&dir, &chain());
    let models = Models::from_schema(Schema::default());
    let args = |cmd: &str| {
        vec![
            "orm-migrate".to_owned(),
            "--dir".into(),
            dir.display().to_string(),
            "--database-url".into(),
            url(&t),
            cmd.into(),
        ]
    };
    assert_eq!(run_async(args("check"), Some(&models)).await, EXIT_DRIFT);
    assert_eq!(run_async(args("upgrade"), Some(&models)).await, 0);
    // Edit an applied revision: drift too.
    let up = dir.join(format!("{}_rev_2/up.sql", id(2)));
    let text = std::fs::read_to_string(&up).expect("read");
    std::fs::write(&up, format!("{text}-- edited\n")).expect("write");
    assert_eq!(run_async(args("check"), Some(&models)).await, EXIT_DRIFT);
    // An edited revision is refused by upgrade (exit 1), accepted with --allow-edited.
    assert_eq!(run_async(args("upgrade"), None).await, 1);
    let mut allowed = args("upgrade");
    allowed.insert(1, "--allow-edited".into());
    assert_eq!(run_async(allowed, None).await, 0);
}

#[tokio::test]
async fn on_a_terminal_the_output_is_coloured() {
    // `script` runs the binary on a pseudo-terminal (util-linux); skip where it is missing.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` command to make a terminal");
        return;
    }
    let t = test_database().await.expect("db");
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    write(&dir, &chain());
    let command = format!("{BIN} --dir {} upgrade", dir.display());
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("DATABASE_URL", url(&t))
        .env_remove("NO_COLOR")
        .output()
        .expect("script");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("\x1b[32mapplied \x1b[0m \x1b[33m20260101000001\x1b[0m rev 1"),
        "{text:?}"
    );
    assert!(
        text.contains("\x1b[32mupgraded\x1b[0m 3 revisions in "),
        "{text:?}"
    );
}
