//! `select`: load 1, 100 and 10,000 rows into structs through the ORM and through hand-written
//! tokio-postgres, and report the ORM's overhead as a ratio.
//!
//! # What is compared
//! - **ORM:** `db.fetch_all(select::<User>().limit(n))` on a `Database` whose pool holds one
//!   connection, so every call checks out the same connection and hits its prepared-statement
//!   cache. Each call builds and compiles the statement, as user code does.
//! - **raw:** `client.query(&stmt, &[&n])` on a `tokio_postgres::Client` of its own, with
//!   `SELECT id, name, hair_color FROM users LIMIT $1` prepared once, then `row.get(0..3)` into
//!   the same struct.
//!
//! Both run on one tokio **current-thread** runtime, against the table `users` (10,000 rows,
//! created fresh by [`orm_bench::setup`]); both sides are checked to return identical rows first.
//!
//! # Method
//! 1. **Placement:** with the local cluster, the bench thread and the two server processes are
//!    pinned to one CPU (`taskset`, Linux). With one connection per side, a query is a
//!    ping-pong between the client and its server process, and its latency depends heavily on
//!    where the scheduler puts that process: unpinned on a 2-CPU VM, one side was 2-4x slower
//!    than the other for a whole run, in either direction, by luck of placement. On one CPU,
//!    both sides see the same placement and the spread of the ratio drops from ±50 % to ±1 %.
//!    `ORM_BENCH_PIN=split` puts the client on CPU 0 and the server on the last CPU instead;
//!    `ORM_BENCH_PIN=off` leaves placement to the scheduler. With `DATABASE_URL` nothing is
//!    pinned (the server's processes are not ours).
//! 2. **Warm-up:** per size, the two sides alternate for ~0.3 s; the time per pair calibrates
//!    `K`, the iterations per round, so one round of one size takes ~`ORM_BENCH_ROUND_MS`
//!    (250 ms) for both sides together.
//! 3. **Rounds** (`ORM_BENCH_ROUNDS`, 15): per round and per size, `K` iterations of each side,
//!    run in chunks of ~`ORM_BENCH_CHUNK_MS` (5 ms) that alternate sides in an A B B A pattern,
//!    the side going first alternating by round and size, so drift in the machine's load (other
//!    builds, CPU frequency) hits both sides alike. `ORM_BENCH_CHUNK_MS=0` runs the `K`
//!    iterations of each side as one block.
//! 4. **Report:** per size, the median over rounds of the time per operation of each side, and
//!    the **median of the per-round ORM/raw ratios** (with its 25th–75th percentile range),
//!    which is robust to rounds disturbed by other processes. The target is at most 1.10x
//!    everywhere. The CPU columns are this process's CPU time per query
//!    (`/proc/thread-self/schedstat`; kernel time included): the ORM's own cost, since the
//!    server does the same work for both sides.
//!
//! The whole run takes ~15 s plus the build and, without `DATABASE_URL`, the start of the local
//! cluster.
//!
//! # Running
//! ```text
//! cargo bench -p orm-bench                   # full run; prints the table
//! ORM_BENCH_QUICK=1 cargo bench -p orm-bench # smoke test: 1 round, few iterations
//! cargo test -p orm-bench --benches          # the same smoke test (cargo passes no `--bench`)
//! ```
//! Quick mode (`--test`, `ORM_BENCH_QUICK=1`, or started without cargo bench's `--bench`) runs
//! one round of a few iterations and never judges timings.
//!
//! Environment variables:
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | local throwaway cluster | the server (its `users` table is replaced!) |
//! | `ORM_BENCH_QUICK` | unset | `1`: quick mode |
//! | `ORM_BENCH_ROUNDS` | 15 | rounds |
//! | `ORM_BENCH_ROUND_MS` | 250 | target time of one round of one size, both sides |
//! | `ORM_BENCH_CHUNK_MS` | 5 | length of the alternating chunks inside a round; 0: none |
//! | `ORM_BENCH_PIN` | `same` (local cluster) | `same`, `split` or `off`, see Method |
//! | `ORM_BENCH_STRICT` | unset | `1`: exit with an error when a ratio is above 1.10 |
//! | `ORM_BENCH_VERBOSE` | unset | `1`: print every round's times to stderr |
//! | `ORM_BENCH_PROFILE` | unset | `orm` or `raw`: only loop that side (for a profiler) |
//! | `ORM_BENCH_SIZE` | 100 | rows per query in profile mode |
//! | `ORM_BENCH_SECONDS` | 10 | duration of profile mode |
//! | `ORM_BENCH_ITERS` | unset | profile mode: run exactly this many queries instead |
//!
//! Profiling one side, e.g. with callgrind (deterministic instruction counts; compare two
//! `ORM_BENCH_ITERS` to cancel the setup):
//! ```text
//! ORM_BENCH_PROFILE=orm ORM_BENCH_SIZE=1 ORM_BENCH_ITERS=5000 \
//!     valgrind --tool=callgrind target/release/deps/select-<hash> --bench
//! ```

use std::hint::black_box;

use orm_bench::harness::{self, Config, Report, Workload};
use orm_bench::{BoxError, Env, orm_select, raw_select};

/// Row counts per query.
const SIZES: [i64; 3] = [1, 100, 10_000];
/// The issue's target for ORM/raw.
const TARGET: f64 = 1.10;

/// The workload: one case per row count.
struct Select<'a>(&'a Env);

impl Workload for Select<'_> {
    type Case = i64;

    async fn run(&self, n: i64, orm: bool, k: u32) -> Result<(), BoxError> {
        if orm {
            for _ in 0..k {
                black_box(orm_select(&self.0.db, black_box(n)).await?);
            }
        } else {
            for _ in 0..k {
                black_box(raw_select(&self.0.raw, black_box(n)).await?);
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), BoxError> {
    let config = Config::from_env(15, 250)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let env = orm_bench::setup().await?;
        for n in SIZES {
            orm_bench::check_same_rows(&env, n).await?;
        }
        let placement = harness::pin(&env.raw.client, env.local, config.pin_request()).await?;
        if let Ok(side) = std::env::var("ORM_BENCH_PROFILE") {
            return profile(&env, &side).await;
        }
        run(&env, &config, &placement).await
    })
}

async fn run(env: &Env, config: &Config, placement: &str) -> Result<(), BoxError> {
    let measured = harness::measure(&Select(env), config, &SIZES, "rows").await?;
    let report = Report {
        title: "orm-bench select: ORM vs hand-written tokio-postgres (prepared statement)",
        server_version: &env.server_version,
        server: env.server,
        placement,
        case_header: "rows",
        op: "query",
        target: TARGET,
    };
    harness::print_report(&report, config, &measured);

    if config.quick {
        println!("quick mode: timings above are not meaningful and are not judged");
        return Ok(());
    }
    let over = measured.over(TARGET);
    if config.strict && !over.is_empty() {
        return Err(format!("ORM/raw above {TARGET:.2}x for sizes {over:?}").into());
    }
    Ok(())
}

/// Loops one side only, for a profiler.
async fn profile(env: &Env, side: &str) -> Result<(), BoxError> {
    let orm = match side {
        "orm" => true,
        "raw" => false,
        other => return Err(format!("ORM_BENCH_PROFILE must be orm or raw, not {other:?}").into()),
    };
    let n: i64 = harness::env_num("ORM_BENCH_SIZE", 100);
    let seconds: f64 = harness::env_num("ORM_BENCH_SECONDS", 10.0);
    let iters: u64 = harness::env_num("ORM_BENCH_ITERS", 0);
    let (ops, per_op) = harness::profile(&Select(env), n, orm, seconds, iters).await?;
    println!(
        "profile {side}: {ops} queries of {n} row(s), {} per query",
        harness::fmt_duration(per_op)
    );
    Ok(())
}
