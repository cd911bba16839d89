//! Migrations: reflecting Pagila, diffing it, and applying 200 small revisions (issue 11's
//! targets: reflect Pagila under 100 ms on loopback; 200 revisions under 5 s).
//!
//! ```text
//! cargo bench -p orm-bench --bench migrate
//! ```
//!
//! - reflect: the Pagila schema (`pagila-schema.sql` from `../shared/datasets` or
//!   `ORM_DATASETS`; skipped, loudly, when missing) loaded once, then `reflect` in rounds: median
//!   and minimum;
//! - diff: Pagila against itself (the `check` of an up-to-date database), and the rendering of
//!   the whole schema from empty (`up_sql` of `diff(empty, pagila)`), no IO;
//! - 200 revisions: `Migrator::upgrade` to the head on a fresh database (advisory lock, version
//!   table, one transaction per revision), then `downgrade` to base; next to it, the same 200
//!   up scripts sent by hand over one connection (`Database::connection`, tokio-postgres'
//!   `batch_execute` underneath), each in its own transaction
//!   (`BEGIN; ...; COMMIT`) with no lock and no bookkeeping, as the floor. The ratio is
//!   runner time / floor.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use orm_migrate::diff::{DiffOptions, diff};
use orm_migrate::lint::{LintOptions, lint_sql};
use orm_migrate::reflect::{ReflectOptions, reflect};
use orm_migrate::schema::Schema;
use orm_migrate::{Graph, Migrator, Revision, Target};
use orm_postgres::prelude::*;
use orm_testing::test_database;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn datasets_dir() -> PathBuf {
    match std::env::var_os("ORM_DATASETS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"),
    }
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[0])
}

async fn pagila(rounds: usize) -> Result<(), BoxError> {
    let path = datasets_dir().join("pagila/pagila-schema.sql");
    let Ok(sql) = std::fs::read_to_string(&path) else {
        eprintln!(
            "\n*** SKIPPED the Pagila part: {} is missing (set ORM_DATASETS to the directory \
             holding pagila/) ***\n",
            path.display()
        );
        return Ok(());
    };
    let sql: String = sql
        .lines()
        .filter(|l| !l.contains(" OWNER TO "))
        .flat_map(|l| [l, "\n"])
        .collect();
    let t = test_database().await?;
    t.batch_execute(&sql).await?;
    let options = ReflectOptions::schemas(["public"]);
    let schema = reflect(&t, &options).await?;
    let mut times = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let again = reflect(&t, &options).await?;
        times.push(start.elapsed());
        assert_eq!(again, schema, "reflection is stable");
    }
    let (med, min) = median(times);
    println!(
        "| reflect Pagila ({} tables, {} enums, {} views) | median {:>7.2} ms | min {:>7.2} ms | target < 100 ms |",
        schema.tables.len(),
        schema.enums.len(),
        schema.views.len(),
        med.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3
    );

    let mut times = Vec::new();
    for _ in 0..rounds.max(5) {
        let start = Instant::now();
        let m = diff(&schema, &schema, &DiffOptions::default());
        times.push(start.elapsed());
        assert!(m.ops.is_empty());
    }
    let (med, _) = median(times);
    println!(
        "| diff Pagila against itself | median {:>7.3} ms |",
        med.as_secs_f64() * 1e3
    );
    let mut times = Vec::new();
    let mut len = 0;
    for _ in 0..rounds.max(5) {
        let start = Instant::now();
        let up = diff(&Schema::default(), &schema, &DiffOptions::default()).up_sql();
        times.push(start.elapsed());
        len = up.len();
    }
    let (med, _) = median(times);
    println!(
        "| diff + render Pagila from empty ({len} bytes of SQL) | median {:>7.3} ms |",
        med.as_secs_f64() * 1e3
    );

    // The lint over that script, as `lint` reads a revision: parse every statement, check.
    let up = diff(&Schema::default(), &schema, &DiffOptions::default()).up_sql();
    let lint_options = LintOptions {
        schema: Some(schema.clone()),
        ..LintOptions::default()
    };
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..rounds.max(5) {
        let start = Instant::now();
        found = lint_sql(&up, true, &lint_options).len();
        times.push(start.elapsed());
    }
    let (med, _) = median(times);
    let statements = up.matches(";\n").count();
    println!(
        "| lint Pagila from empty (~{statements} statements, {found} findings) | median {:>7.3} ms |",
        med.as_secs_f64() * 1e3
    );
    Ok(())
}

fn revisions(n: usize) -> Vec<Revision> {
    (0..n)
        .map(|i| {
            let parents: Vec<String> = (i > 0).then(|| id(i - 1)).into_iter().collect();
            let (up, down) = if i % 2 == 0 {
                (
                    format!("CREATE TABLE t{i} (id bigint PRIMARY KEY, name text);\n"),
                    format!("DROP TABLE t{i};\n"),
                )
            } else {
                (
                    format!(
                        "ALTER TABLE t{} ADD COLUMN c{i} integer DEFAULT 0;\n",
                        i - 1
                    ),
                    format!("ALTER TABLE t{} DROP COLUMN c{i};\n", i - 1),
                )
            };
            Revision::new(id(i), &format!("step {i}"))
                .with_parents(parents)
                .with_up(up)
                .with_down(down)
        })
        .collect()
}

fn id(i: usize) -> String {
    format!("2026010100{i:04}")
}

async fn apply(n: usize, rounds: usize) -> Result<(), BoxError> {
    let mut up_times = Vec::new();
    let mut down_times = Vec::new();
    let mut raw_times = Vec::new();
    let mut unlinted_times = Vec::new();
    for _ in 0..rounds {
        let revs = revisions(n);
        let scripts: Vec<String> = revs.iter().map(|r| r.up.clone()).collect();
        let m = Migrator::new(Graph::new(revs)?);
        let t = test_database().await?;
        let start = Instant::now();
        let done = m.upgrade(&t, &Target::Head).await?;
        up_times.push(start.elapsed());
        assert_eq!(done.len(), n);
        let start = Instant::now();
        m.downgrade(&t, &Target::Base).await?;
        down_times.push(start.elapsed());
        // Without the lint (one reflection and a parse of every script before the run).
        let unlinted = Migrator::new(Graph::new(revisions(n))?).lint(false);
        let t = test_database().await?;
        let start = Instant::now();
        unlinted.upgrade(&t, &Target::Head).await?;
        unlinted_times.push(start.elapsed());

        // The floor: the same scripts by hand, one transaction each, one connection.
        let raw = test_database().await?;
        let conn = raw.connection().await?;
        let start = Instant::now();
        for s in &scripts {
            conn.batch_execute(&format!("BEGIN;\n{s}COMMIT;")).await?;
        }
        raw_times.push(start.elapsed());
    }
    let (up, _) = median(up_times);
    let (down, _) = median(down_times);
    let (raw, _) = median(raw_times);
    let (unlinted, _) = median(unlinted_times);
    println!(
        "| upgrade {n} revisions | {:>7.3} s ({:.2} ms each) | by hand {:>7.3} s | ratio {:.2} | target < 5 s |",
        up.as_secs_f64(),
        up.as_secs_f64() * 1e3 / n as f64,
        raw.as_secs_f64(),
        up.as_secs_f64() / raw.as_secs_f64()
    );
    println!(
        "| upgrade {n} revisions, lint off | {:>7.3} s | ratio {:.2} |",
        unlinted.as_secs_f64(),
        unlinted.as_secs_f64() / raw.as_secs_f64()
    );
    println!(
        "| downgrade {n} revisions to base | {:>7.3} s |",
        down.as_secs_f64()
    );
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let quick =
        std::env::var_os("ORM_BENCH_QUICK").is_some() || !std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    println!(
        "orm-bench migrate{}",
        if quick {
            " (quick: no timing claims)"
        } else {
            ""
        }
    );
    runtime.block_on(async {
        pagila(if quick { 1 } else { 21 }).await?;
        if quick {
            apply(20, 1).await
        } else {
            apply(200, 3).await
        }
    })
}
